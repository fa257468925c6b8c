"""Bot rows: creating them, checking a token with getMe, webhook registration, the environment's bot.

Plain functions over the session: they flush, the caller commits.
"""

from __future__ import annotations

import re
import secrets

import requests
from flask import current_app
from sqlalchemy.exc import IntegrityError

from webapp.core import tenancy
from webapp.core.db import insert_missing
from webapp.core.models import Organization, User
from webapp.core.roles import Role, user_has_role
from webapp.core.services import ServiceError, record_audit
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


# --- the console's writes ---------------------------------------------------------------------------

BOT_CARD_FIELDS = ("name", "vertical", "enabled", "is_sandbox", "mode", "rate_limit_per_second", "paid_broadcast")
# What an audit row names: never the token, its fingerprint or the webhook secret.
AUDITED_FIELDS = ("name", "vertical", "enabled", "organization_id")
KEEP = object()  # ``update_bot_card``: leave the bot's organization as it is


def _(message: str) -> str:
    """Marks a message id of the console's catalog (the console translates the refusal)."""
    return message


def _may_manage(actor: User, organization_id: int | None) -> bool:
    """An admin manages its own organization's bots; a superuser every bot (and the platform's)."""
    return user_has_role(actor, Role.ADMIN) and tenancy.in_organization(actor, organization_id)


def _check_organization(actor: User, organization_id: int | None) -> int | None:
    """The organization a bot is for: an admin's own; a superuser's choice, which must exist."""
    if not tenancy.is_superuser(actor):
        own = tenancy.organization_id_of(actor)
        if own is None:
            raise ServiceError(_("Your account works for no organization."), 403, "FORBIDDEN")
        return own
    if organization_id is not None and db.session.get(Organization, organization_id) is None:
        raise ServiceError(_("Choose an organization from the list."), 422, "VALIDATION_ERROR", "organization")
    return organization_id


def _clean_card(fields: dict) -> dict:
    values = {name: fields[name] for name in BOT_CARD_FIELDS if name in fields}
    if "name" in values:
        values["name"] = (values["name"] or "").strip()
        if not NAME_RE.match(values["name"]):
            raise ServiceError(_("Use letters, digits, _ and -"), 422, "VALIDATION_ERROR", "name")
    if "vertical" in values and values["vertical"] not in {v.value for v in Vertical}:
        raise ServiceError(_("Choose a value from the list."), 422, "VALIDATION_ERROR", "vertical")
    if "mode" in values and values["mode"] not in {m.value for m in BotMode}:
        raise ServiceError(_("Choose a value from the list."), 422, "VALIDATION_ERROR", "mode")
    return values


def _set_token(bot: Bot, token: str) -> None:
    token = validate_token(token)  # its message is the form's own: "A bot token looks like …"
    with db.session.no_autoflush:  # a new row has no token yet: this read must not flush it
        owner = find_bot_by_token(token)
    if owner is not None and owner is not bot:
        raise ServiceError(_("This token belongs to another bot."), 409, "CONFLICT", "token")
    set_bot_token(bot, token)


def _flush_unique() -> None:
    """Flush in a savepoint: a name or token another save took first is a refusal, not a 500."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise ServiceError(_("A bot with this name or token exists."), 409, "CONFLICT", "name") from exc


def _name_taken(name: str, own_id: int | None) -> bool:
    query = db.select(Bot.id).where(Bot.name == name)
    if own_id is not None:
        query = query.where(Bot.id != own_id)
    return db.session.scalar(query) is not None


def create_bot_card(actor: User, fields: dict, token: str, organization_id: int | None, source: str = "console") -> Bot:
    """A new bot from the console: for the admin's own organization (a superuser's choice), with its
    token validated and stored encrypted. Audited with its name, vertical and state. Flushes only."""
    organization_id = _check_organization(actor, organization_id)
    if not _may_manage(actor, organization_id):
        raise ServiceError(_("Record does not exist."), 404, "NOT_FOUND")
    values = _clean_card(fields)
    if not (token or "").strip():
        raise ServiceError(_("A new bot needs its token."), 422, "VALIDATION_ERROR", "token")
    if _name_taken(values["name"], None):
        raise ServiceError(_("A bot with this name or token exists."), 409, "CONFLICT", "name")
    bot = Bot(**values, organization_id=organization_id)
    _set_token(bot, token)
    ensure_webhook_secret(bot)
    db.session.add(bot)
    _flush_unique()
    card = "; ".join(f"{name}: {getattr(bot, name)}" for name in AUDITED_FIELDS)
    record_audit(actor, "bot.create", "bot", bot.id, None, card, source)
    return bot


def update_bot_card(
    actor: User, bot: Bot, fields: dict, token: str | None = None, organization_id=KEEP, source: str = "console"
) -> Bot:
    """Change a bot's card (another organization's bot is "not found"); only a superuser moves a bot
    between organizations. A new token replaces the old one; an audit row says it was replaced,
    never with what. Each changed name, vertical, state or organization is audited. Flushes only."""
    if not _may_manage(actor, bot.organization_id):
        raise ServiceError(_("Record does not exist."), 404, "NOT_FOUND")
    values = _clean_card(fields)
    if organization_id is not KEEP and tenancy.is_superuser(actor):
        values["organization_id"] = _check_organization(actor, organization_id)
    if "name" in values and values["name"] != bot.name and _name_taken(values["name"], bot.id):
        raise ServiceError(_("A bot with this name or token exists."), 409, "CONFLICT", "name")
    changed = []
    for name, value in values.items():
        old = getattr(bot, name)
        if old != value:
            if name in AUDITED_FIELDS:
                changed.append((name, old, value))
            setattr(bot, name, value)
    if (token or "").strip():
        _set_token(bot, token)
        changed.append(("token", None, None))
    ensure_webhook_secret(bot)
    _flush_unique()
    for name, old, value in changed:
        if name == "token":
            record_audit(actor, "bot.token_change", "bot", bot.id, None, None, source)
        elif name == "enabled":
            record_audit(actor, "bot.enable" if value else "bot.disable", "bot", bot.id, old, value, source)
        else:
            record_audit(actor, "bot.update", "bot", bot.id, f"{name}: {old}", f"{name}: {value}", source)
    return bot
