"""Redis-backed rate limits that are not one view's: the bot API (seed 002) and bot updates per
Telegram user. Both use Flask-Limiter's storage (REDIS_URL), so every web and bot process counts
in one place. Limits are strings like "120 per minute" from config.py.
"""

from __future__ import annotations

import hashlib
import logging
import time

from flask import Flask, current_app, request
from flask_limiter.util import get_remote_address
from limits import parse

from webapp.core.errors import ApiError
from webapp.extensions import limiter

log = logging.getLogger(__name__)
BOT_API_PREFIX = "/api/bot/"


def _caller() -> str:
    """Who is calling: the credential (a bot backend's X-Bot-Token or Bearer) or, without one, the address."""
    credential = request.headers.get("X-Bot-Token") or request.headers.get("Authorization")
    if credential:
        return "credential:" + hashlib.sha256(credential.encode()).hexdigest()[:32]
    return "address:" + get_remote_address()


def _limit_bot_api() -> None:
    if not request.path.startswith(BOT_API_PREFIX) or not limiter.enabled:
        return
    item = parse(current_app.config["BOT_API_RATE_LIMIT"])
    caller = _caller()
    if not limiter.limiter.hit(item, "bot-api", caller):
        reset_at, _ = limiter.limiter.get_window_stats(item, "bot-api", caller)
        retry = max(1, int(reset_at - time.time()))
        raise ApiError(429, "Too many requests", headers={"Retry-After": str(retry)})


def init_app(app: Flask) -> None:
    app.before_request(_limit_bot_api)


def allow_update(bot_id: int, telegram_user_id: int) -> tuple[bool, bool]:
    """(handle it?, tell the user?) for one update of a Telegram user to a bot.

    Over the limit, the user is told once per window, not once per message: answering a flood
    message by message would spend the bot's own Telegram quota. A storage failure lets the
    update through: a limiter must never stop a bot.
    """
    if not limiter.enabled:
        return True, False
    item = parse(current_app.config["BOT_UPDATE_RATE_LIMIT"])
    who = f"{bot_id}:{telegram_user_id}"
    try:
        if limiter.limiter.hit(item, "bot-update", who):
            return True, False
        return False, limiter.limiter.hit(parse(f"1 per {_window(item)} second"), "bot-update-notice", who)
    except Exception:
        log.warning("bot update rate limit unavailable; letting the update through", exc_info=True)
        return True, False


def _window(item) -> int:
    return int(item.get_expiry())
