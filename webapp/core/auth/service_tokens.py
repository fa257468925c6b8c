"""Service tokens for bots calling the API: seed 004's ``X-Bot-Token`` and seed 002's shared secret."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from webapp.core.db import utcnow
from webapp.core.models import ServiceToken, User
from webapp.extensions import db


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def generate_service_token(
    created_by: User | None, name: str = "bot", days: int | None = None
) -> tuple[str, ServiceToken]:
    """Create a token; the plain value is returned once and never stored."""
    plain = "bot_" + secrets.token_hex(20)
    row = ServiceToken(
        name=name,
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


def revoke_service_token(row: ServiceToken) -> None:
    if row.revoked_at is None:
        row.revoked_at = utcnow()


def shared_secret_matches(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
