"""JWT issue, refresh rotation and revocation (blocklist in Redis).

A refresh token is single-use: refreshing revokes it and hands out a new pair. Revoked ``jti``s
are kept in Redis until the token would have expired anyway, so the list never grows unbounded.
"""

from __future__ import annotations

import time

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token

from webapp.core.models import User
from webapp.extensions import redis_store

REVOKED_KEY = "jwt:revoked:{jti}"


def issue_tokens(user: User) -> dict[str, str]:
    claims = {"role": user.role}
    return {
        "access": create_access_token(identity=str(user.id), additional_claims=claims),
        "refresh": create_refresh_token(identity=str(user.id), additional_claims=claims),
    }


def revoke_jti(jti: str, expires_at: int) -> None:
    ttl = max(int(expires_at - time.time()), 1)
    redis_store.client.set(REVOKED_KEY.format(jti=jti), "1", ex=ttl)


def revoke_token(payload: dict) -> None:
    revoke_jti(payload["jti"], payload["exp"])


def is_revoked(jti: str) -> bool:
    return bool(redis_store.client.exists(REVOKED_KEY.format(jti=jti)))


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
