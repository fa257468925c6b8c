"""The one place that decides the language of a page, an API message or a bot reply.

Console: the signed-in user's saved language. Bot: the Telegram user's language, set on ``g`` by
the bot middleware. Otherwise the browser's Accept-Language, then the default (ru).
"""

from __future__ import annotations

from pathlib import Path

from flask import current_app, g, has_request_context, request
from flask_babel import force_locale
from flask_login import current_user

TRANSLATIONS_DIR = str(Path(__file__).resolve().parents[2] / "translations")
LANGUAGE_NAMES = {"ru": "Русский", "kk": "Қазақша", "uz": "Oʻzbekcha", "en": "English"}


def select_locale() -> str:
    supported = current_app.config["LANGUAGES"]
    forced = g.get("locale")
    if forced in supported:
        return forced
    if has_request_context():
        try:
            user = current_user
            if user and user.is_authenticated and user.language in supported:
                return user.language
        except Exception:  # no login manager bound (e.g. a bare app in a job)
            pass
        best = request.accept_languages.best_match(supported)
        if best:
            return best
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    from flask_babel import get_locale

    locale = get_locale()
    return locale.language if locale else current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return g.get("timezone") or current_app.config["DEFAULT_TIMEZONE"]


class Catalog:
    """A translation domain of its own per vertical (``translations/<lang>/LC_MESSAGES/<domain>.po``),
    so each vertical keeps its texts in its own files. Bot code asks for a user's language explicitly.
    """

    def __init__(self, domain: str) -> None:
        from flask_babel import Domain

        self.domain = Domain(translation_directories=[TRANSLATIONS_DIR], domain=domain)

    def gettext(self, message: str, **params) -> str:
        return self.domain.gettext(message, **params)

    def lazy_gettext(self, message: str, **params):
        return self.domain.lazy_gettext(message, **params)

    def ngettext(self, singular: str, plural: str, num: int, **params) -> str:
        return self.domain.ngettext(singular, plural, num, **params)

    def for_language(self, language: str | None, message: str, **params) -> str:
        with force_locale(language or current_app.config["BABEL_DEFAULT_LOCALE"]):
            return self.domain.gettext(message, **params)


def format_money(amount, currency: str, language: str | None = None) -> str:
    """An amount with its currency in the reader's locale ("8 000 ₸", "392 000 soʻm", "KZT8,000.50");
    kopecks/tiyin only when there are any."""
    from decimal import Decimal

    from babel import Locale
    from babel.numbers import format_currency

    locale = Locale.parse(language or current_language())
    pattern = locale.currency_formats["standard"].pattern
    value = Decimal(str(amount))
    if value == value.to_integral_value():
        pattern, value = pattern.replace("0.00", "0"), value.to_integral_value()
    return format_currency(value, currency, format=pattern, locale=locale, currency_digits=False)


def format_number(value, language: str | None = None) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale=language or current_language())
