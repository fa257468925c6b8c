"""The common bot texts (gettext domain "bot": translations/<lang>/LC_MESSAGES/bot.po)."""

from __future__ import annotations

from botworker.context import user_language
from webapp.core.i18n import Catalog

catalog = Catalog("bot")


def t(message: str, **params) -> str:
    """``message`` in the language of the user of the current update."""
    return catalog.for_language(user_language(), message, **params)


def for_language(language: str, message: str, **params) -> str:
    return catalog.for_language(language, message, **params)
