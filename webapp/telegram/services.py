"""Bot rows: creating them, checking a token with getMe, webhook registration, the environment's bot.

Plain functions over the session: they flush, the caller commits.
"""

from __future__ import annotations

import re
import secrets

import requests
from flask import current_app

from webapp.core.db import insert_missing
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.telegram import botapi
from webapp.telegram.models import Bot, BotMode, Vertical
from webapp.telegram.tokens import decrypt_token, encrypt_token, find_bot_by_token, fingerprint, set_bot_token

ENV_BOT_NAME = "default"
TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,120}$")
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Telegram's secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -.
WEBHOOK_SECRET_BYTES = 48


def validate_token(token: str) -> str:
    token = (token or "").strip()
    if not TOKEN_RE.match(token):
        raise ServiceError("A bot token looks like 123456789:AA…", 422, "VALIDATION_ERROR", "token")
    return token


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(WEBHOOK_SECRET_BYTES)


def ensure_webhook_secret(bot: Bot) -> None:
    """A webhook bot always has a secret (Telegram echoes it in X-Telegram-Bot-Api-Secret-Token)."""
    if bot.mode == BotMode.WEBHOOK.value and not bot.webhook_secret:
        bot.webhook_secret = new_webhook_secret()


def create_bot(name: str, vertical: str, token: str, **fields) -> Bot:
    if not NAME_RE.match(name or ""):
        raise ServiceError("Use letters, digits, _ and - (at most 64)", 422, "VALIDATION_ERROR", "name")
    if vertical not in {v.value for v in Vertical}:
        raise ServiceError(f"Unknown vertical {vertical!r}", 422, "VALIDATION_ERROR", "vertical")
    token = validate_token(token)
    if db.session.scalar(db.select(Bot.id).filter_by(name=name)) is not None:
        raise ServiceError(f"A bot named {name!r} exists", 409, "CONFLICT", "name")
    if find_bot_by_token(token) is not None:
        raise ServiceError("This token belongs to another bot", 409, "CONFLICT", "token")
    bot = Bot(name=name, vertical=vertical, **fields)
    set_bot_token(bot, token)
    ensure_webhook_secret(bot)
    db.session.add(bot)
    db.session.flush()
    return bot


def get_bot_by_name(name: str) -> Bot | None:
    return db.session.scalar(db.select(Bot).filter_by(name=name))


def api_call(bot: Bot, method: str, data: dict | None = None) -> botapi.ApiReply:
    """A Bot API call for console/CLI work; ServiceError when Telegram cannot be reached."""
    try:
        return botapi.call(botapi.api_url_template(bot.is_sandbox), decrypt_token(bot), method, data, timeout=(5, 15))
    except requests.RequestException as exc:
        raise ServiceError(f"Telegram Bot API unreachable: {exc.__class__.__name__}", 502, "BAD_GATEWAY") from exc


def check_token(bot: Bot) -> Bot:
    """getMe: store the bot's username and Telegram id, or ServiceError with Telegram's reason."""
    reply = api_call(bot, "getMe")
    if not reply.ok or not isinstance(reply.result, dict):
        raise ServiceError(f"getMe failed: {reply.description or reply.status}", 422, "TOKEN_REJECTED", "token")
    bot.username = reply.result.get("username")
    bot.telegram_bot_id = reply.result.get("id")
    db.session.flush()
    return bot


def set_webhook(bot: Bot, url: str) -> Bot:
    """Switch ``bot`` to webhook mode at ``url`` (Telegram will send our secret in a header)."""
    if not url.startswith(("https://", "http://")):
        raise ServiceError("The webhook URL must be http(s)", 422, "VALIDATION_ERROR", "url")
    bot.mode = BotMode.WEBHOOK.value
    ensure_webhook_secret(bot)
    reply = api_call(bot, "setWebhook", {"url": url, "secret_token": bot.webhook_secret})
    if not reply.ok:
        raise ServiceError(f"setWebhook failed: {reply.description or reply.status}", 502, "BAD_GATEWAY")
    db.session.flush()
    return bot


def delete_webhook(bot: Bot) -> Bot:
    """Back to long polling."""
    reply = api_call(bot, "deleteWebhook")
    if not reply.ok:
        raise ServiceError(f"deleteWebhook failed: {reply.description or reply.status}", 502, "BAD_GATEWAY")
    bot.mode = BotMode.POLLING.value
    db.session.flush()
    return bot


def upsert_env_bot() -> Bot | None:
    """``TELEGRAM_BOT_TOKEN`` + ``TELEGRAM_BOT_VERTICAL`` define a bot without the console.

    The row is named "default"; a changed token or vertical in the environment updates it.
    """
    config = current_app.config
    token = (config.get("TELEGRAM_BOT_TOKEN") or "").strip()
    if not token:
        return None
    vertical = (config.get("TELEGRAM_BOT_VERTICAL") or "").strip()
    if vertical not in {v.value for v in Vertical}:
        raise ServiceError(
            f"TELEGRAM_BOT_VERTICAL must be one of {', '.join(v.value for v in Vertical)}", 422, "VALIDATION_ERROR"
        )
    validate_token(token)
    bot = find_bot_by_token(token) or get_bot_by_name(ENV_BOT_NAME)
    if bot is None:  # every process `manage.py demo` starts registers it at once: one insert wins
        secret = {"token_encrypted": encrypt_token(token), "token_fingerprint": fingerprint(token)}
        insert_missing(Bot, {"name": ENV_BOT_NAME, "vertical": vertical, "enabled": True, **secret})
        bot = find_bot_by_token(token) or get_bot_by_name(ENV_BOT_NAME)
    try:
        unchanged = decrypt_token(bot) == token
    except RuntimeError:  # encrypted under an older key: the environment's token replaces it
        unchanged = False
    if not unchanged:
        set_bot_token(bot, token)
    bot.vertical = vertical
    bot.enabled = True
    db.session.flush()
    return bot
