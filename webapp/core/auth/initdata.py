"""Telegram WebApp ``initData`` verification, per Telegram's "Validating data received via the Mini App".

secret_key = HMAC_SHA256(key="WebAppData", msg=bot_token); the hash is
HMAC_SHA256(key=secret_key, msg=data_check_string) where data_check_string is every field but
``hash`` as ``key=value`` sorted by key and joined by newlines.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterable
from urllib.parse import parse_qsl


class InitDataError(ValueError):
    pass


def sign_init_data(fields: dict[str, str], bot_token: str) -> str:
    """The hash Telegram would put in initData for ``fields`` (used by tests and the sandbox)."""
    check_string = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, check_string.encode(), hashlib.sha256).hexdigest()


def verify_init_data(
    init_data: str,
    bot_tokens: Iterable[str],
    max_age_seconds: int,
    separate_hash: str | None = None,
    now: float | None = None,
) -> tuple[dict, str]:
    """Return (verified fields with ``user`` decoded from JSON, the token that signed them).

    Raises ``InitDataError`` with the reason when the data is malformed, unsigned or stale.
    """
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise InitDataError("initData is not a query string") from exc
    fields = dict(pairs)
    received_hash = fields.pop("hash", None) or separate_hash
    if not received_hash:
        raise InitDataError("initData carries no hash")
    signer = next((t for t in bot_tokens if t and hmac.compare_digest(sign_init_data(fields, t), received_hash)), None)
    if signer is None:
        raise InitDataError("initData signature does not match")
    try:
        auth_date = int(fields.get("auth_date", ""))
    except ValueError as exc:
        raise InitDataError("initData has no valid auth_date") from exc
    now = time.time() if now is None else now
    if now - auth_date > max_age_seconds:
        raise InitDataError("initData is too old")
    if auth_date - now > 300:
        raise InitDataError("initData auth_date is in the future")
    try:
        user = json.loads(fields.get("user", ""))
    except ValueError as exc:
        raise InitDataError("initData has no valid user") from exc
    if not isinstance(user, dict) or not isinstance(user.get("id"), int):
        raise InitDataError("initData has no valid user")
    fields["user"] = user
    return fields, signer
