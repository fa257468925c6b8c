"""Service tokens for bots calling the API: seed 004's ``X-Bot-Token`` and seed 002's shared secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from webapp.core.db import utcnow
from webapp.core.models import ServiceToken, User
from webapp.extensions import db


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_service_token(
    created_by: User | None, name: str = "bot", days: int | None = None
) -> tuple[str, ServiceToken]:
    """Create a token; the plain value is returned once and never stored. The token calls for its
    creator's organization (a superuser's: a platform token)."""
    from webapp.core.tenancy import organization_id_of

    plain = "bot_" + secrets.token_hex(20)
    row = ServiceToken(
        name=name,
        organization_id=organization_id_of(created_by),
        token_hash=_digest(plain),
        prefix=plain[:10],
        created_by=created_by,
        expires_at=utcnow() + timedelta(days=days) if days else None,
    )
    db.session.add(row)
    db.session.flush()
    return plain, row


def find_service_token(plain: str, now: datetime | None = None) -> ServiceToken | None:
    if not plain or len(plain) > 200:
        return None
    row = db.session.scalar(db.select(ServiceToken).filter_by(token_hash=_digest(plain)))
    if row is None or not row.is_valid(now or utcnow()):
        return None
    return row


def service_tokens_query(actor) -> sa.Select:
    """The tokens ``actor`` may list and revoke: a superuser every one, an organization admin its
    organization's, anyone else none."""
    from webapp.core.tenancy import organization_rule

    query = sa.select(ServiceToken).order_by(ServiceToken.id.desc())
    rule = organization_rule(actor, ServiceToken.organization_id)
    return query if rule is None else query.where(rule)


def get_service_token(actor, token_id: int) -> ServiceToken | None:
    """The token if ``actor`` reaches it (another organization's is not found)."""
    return db.session.scalar(service_tokens_query(actor).where(ServiceToken.id == token_id))


def revoke_service_token(row: ServiceToken) -> None:
    if row.revoked_at is None:
        row.revoked_at = utcnow()


def shared_secret_matches(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
