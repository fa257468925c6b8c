"""What a handler knows about the update it is handling.

The worker runs each update in an app context of its own; the middleware puts the bot, the
Telegram account (created on first contact) and the user's language on ``g`` before the handler
runs, and commits after it returns (rolls back if it raises). Handlers call these helpers instead
of reading ``g`` themselves.
"""

from __future__ import annotations

from flask import current_app, g
from flask_babel import refresh

from webapp.core.models import TelegramAccount, User
from webapp.core.services import normalize_language
from webapp.extensions import db
from webapp.telegram.models import Bot


def current_bot() -> Bot:
    """The Bot row this update came to."""
    bot = g.get("botdesk_bot")
    if bot is None:
        bot_id = g.get("botdesk_bot_id")
        if bot_id is None:
            raise RuntimeError("current_bot() called outside a bot update")
        bot = g.botdesk_bot = db.session.get(Bot, bot_id)
    return bot


def current_account() -> TelegramAccount:
    """The sender's TelegramAccount for this bot (created on first contact)."""
    account = g.get("botdesk_account")
    if account is None:
        raise RuntimeError("this update has no Telegram user (channel post, or outside a bot update)")
    return account


def current_user() -> User:
    """The platform User behind the sender."""
    return current_account().user


def user_language() -> str:
    """The sender's language: "ru", "kk", "uz" or "en"."""
    return g.get("botdesk_language") or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_update_id() -> int | None:
    return g.get("botdesk_update_id")


def is_first_contact() -> bool:
    """True when this update created the sender's account (their first message to this bot)."""
    return bool(g.get("botdesk_first_contact"))


def set_language(language: str) -> str:
    """Save the sender's language choice on their account and user, and use it from now on."""
    language = normalize_language(language, default=user_language())
    account = current_account()
    account.language = language
    account.user.language = language
    use_language(language)
    return language


def use_language(language: str) -> None:
    """Make ``language`` the locale of the rest of this update (Flask-Babel caches it per context)."""
    g.botdesk_language = language
    g.locale = language
    refresh()
