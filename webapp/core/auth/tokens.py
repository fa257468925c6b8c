"""JWT issue, refresh rotation and revocation (blocklist in Redis).

A refresh token is single-use: refreshing revokes it and hands out a new pair. Revoked ``jti``s
are kept in Redis until the token would have expired anyway, so the list never grows unbounded.

Every token of one login carries the login's family id (``fam``), rotated descendants included.
Revoking the family ends the session at once: logout does, and so does a replayed refresh token
(someone else holds a copy of it, so nothing issued since that login can be trusted). A client
that sends one refresh twice at once (a double tap, two tabs) is no replay: for a few seconds
after a rotation the same token answers with the pair that rotation issued.
"""

from __future__ import annotations

import json
import time
import uuid

from flask import current_app
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token

from webapp.core.models import User
from webapp.extensions import redis_store

REVOKED_KEY = "jwt:revoked:{jti}"
REVOKED_FAMILY_KEY = "jwt:revoked-family:{family}"
ROTATED_KEY = "jwt:rotated:{jti}"
ROTATED = "rotated"  # the used-token mark of a rotation, as opposed to "1" for a revocation
ROTATION_WAIT_SECONDS = 2.0  # how long a double tap waits for the first request's pair


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


def rotate_refresh(payload: dict, user: User) -> dict[str, str] | None:
    """The next pair of the session for a refresh token, or None when the token was replayed.

    SET NX marks the token used, so concurrent refreshes with one token rotate it once. Its pair is
    kept for ``JWT_REFRESH_REUSE_GRACE_SECONDS``: a concurrent or just-late duplicate gets that same
    pair, until the new refresh token is used in turn. Any other use, or one of a token revoked
    otherwise, is a replay (the caller ends the session).
    """
    client = redis_store.client
    ttl = max(int(payload["exp"] - time.time()), 1)
    used_key, rotated_key = REVOKED_KEY.format(jti=payload["jti"]), ROTATED_KEY.format(jti=payload["jti"])
    grace = current_app.config["JWT_REFRESH_REUSE_GRACE_SECONDS"]
    if client.set(used_key, ROTATED, ex=ttl, nx=True):
        pair = issue_tokens(user, family=family_of(payload))
        if grace > 0:
            client.set(rotated_key, json.dumps(pair), ex=grace)
        return pair
    deadline = time.monotonic() + ROTATION_WAIT_SECONDS
    while grace > 0:
        kept = client.get(rotated_key)
        if kept is not None:
            pair = json.loads(kept)
            # A client that already refreshed with the new pair does not double-tap the old one.
            child_used = client.exists(REVOKED_KEY.format(jti=decode_token(pair["refresh"])["jti"]))
            return None if child_used else pair
        if time.monotonic() >= deadline or _text(client.get(used_key)) != ROTATED:
            break  # rotated too long ago, or revoked (logout), not rotated
        time.sleep(0.05)  # the first request has claimed the token and is issuing its pair
    return None


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def decode_refresh(token: str) -> dict:
    """Decode and check a refresh token; raises jwt exceptions that the caller maps to 401."""
    payload = decode_token(token)
    if payload.get("type") != "refresh":
        from jwt import InvalidTokenError

        raise InvalidTokenError("not a refresh token")
    return payload


def access_expires_in() -> int:
    return int(current_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())
