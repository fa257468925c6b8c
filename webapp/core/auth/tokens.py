"""JWT issue, refresh rotation and revocation (blocklist in Redis).

A refresh token is single-use: refreshing revokes it and hands out a new pair. Revoked ``jti``s
are kept in Redis until the token would have expired anyway, so the list never grows unbounded.

Every token of one login carries the login's family id (``fam``), rotated descendants included.
Revoking the family ends the session at once: logout does, and so does a replayed refresh token
(someone else holds a copy of it, so nothing issued since that login can be trusted).
"""

from __future__ import annotations

import time
import uuid

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token

from webapp.core.models import User
from webapp.extensions import redis_store

REVOKED_KEY = "jwt:revoked:{jti}"
REVOKED_FAMILY_KEY = "jwt:revoked-family:{family}"


def issue_tokens(user: User, family: str | None = None) -> dict[str, str]:
    """A new access + refresh pair: a new session, or the next pair of ``family`` when rotating."""
    claims = {"role": user.role, "fam": family or uuid.uuid4().hex}
    return {
        "access": create_access_token(identity=str(user.id), additional_claims=claims),
        "refresh": create_refresh_token(identity=str(user.id), additional_claims=claims),
    }


def revoke_jti(jti: str, expires_at: int) -> None:
    ttl = max(int(expires_at - time.time()), 1)
    redis_store.client.set(REVOKED_KEY.format(jti=jti), "1", ex=ttl)


def revoke_token(payload: dict) -> None:
    revoke_jti(payload["jti"], payload["exp"])


def family_of(payload: dict) -> str:
    return payload.get("fam") or payload["jti"]


def revoke_family(payload: dict) -> None:
    """End the session ``payload`` belongs to; kept as long as its longest-lived token could live."""
    ttl = int(current_app.config["JWT_REFRESH_TOKEN_EXPIRES"].total_seconds()) + 60
    redis_store.client.set(REVOKED_FAMILY_KEY.format(family=family_of(payload)), "1", ex=ttl)


def family_revoked(payload: dict) -> bool:
    return bool(redis_store.client.exists(REVOKED_FAMILY_KEY.format(family=family_of(payload))))


def is_revoked(payload: dict) -> bool:
    keys = [REVOKED_KEY.format(jti=payload["jti"]), REVOKED_FAMILY_KEY.format(family=family_of(payload))]
    return bool(redis_store.client.exists(*keys))


def claim_refresh_token(payload: dict) -> bool:
    """Atomically mark a refresh token used; False when it was already used or revoked.

    SET NX makes two concurrent refreshes with one token produce exactly one new pair.
    """
    ttl = max(int(payload["exp"] - time.time()), 1)
    return bool(redis_store.client.set(REVOKED_KEY.format(jti=payload["jti"]), "1", ex=ttl, nx=True))


def decode_refresh(token: str) -> dict:
    """Decode and check a refresh token; raises jwt exceptions that the caller maps to 401."""
    payload = decode_token(token)
    if payload.get("type") != "refresh":
        from jwt import InvalidTokenError

        raise InvalidTokenError("not a refresh token")
    return payload


def access_expires_in() -> int:
    return int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())
