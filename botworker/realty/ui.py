"""Texts, menus and small helpers of the realty bot (seed 001).

Menu labels are English msgids of the "realty" catalog; the Russian catalog carries the seed's
exact labels («🔍 Поиск», «📦 Мои бронирования», …). A reply-keyboard press is recognised in any
of the four languages, so a user who switches language mid-way is never stuck.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from telebot import types

from botworker import common
from botworker.callbacks import Callback
from botworker.context import current_user, user_language
from webapp.core.db import utcnow
from webapp.core.i18n import Catalog
from webapp.core.limits import in_date_range
from webapp.core.models import User
from webapp.core.pagination import Page, count_pages, fetch_page
from webapp.core.roles import Role, user_has_role
from webapp.core.services import SUPPORTED_LANGUAGES, ServiceError

catalog = Catalog("realty")
CB = "r:"  # prefix of every callback_data of this bot (Telegram allows 64 bytes)
PAGE_SIZE = 5


def page_of(query, number: int) -> Page:
    """Page ``number`` of what ``query`` selects, as every list of this bot shows it."""
    return fetch_page(query, number, PAGE_SIZE, unique=True)


# Guest
SEARCH = "🔍 Search"
MY_BOOKINGS = "📦 My bookings"
FAVORITES = "⭐ Favorites"
REVIEWS = "✍ Reviews"
NOTIFICATIONS = "🔔 Notifications"
# Realtor
MY_LISTINGS = "🏠 My listings"
ADD_LISTING = "➕ Add listing"
BOOKINGS = "📋 Bookings"
# Super Admin (agency admin)
REALTORS = "👥 Realtors"
AGENCY = "🏢 Agency"
MODERATION = "🛡 Moderation"
# Superuser
AGENCIES = "🏢 Agencies"
USER = "👤 User"
USERS = "👥 Users"
ALL_REALTORS = "🧑‍💼 Realtors"

CANCEL = "✖️ Cancel"
SKIP = "⏭ Skip"
DONE = "✅ Done"


def t(message: str, **params) -> str:
    """``message`` in the language of the current update's user."""
    return catalog.for_language(user_language(), message, **params)


def labels(message: str) -> set[str]:
    return {catalog.for_language(lang, message) for lang in SUPPORTED_LANGUAGES}


def is_label(message: str):
    options = None

    def check(m: types.Message) -> bool:
        nonlocal options
        if options is None:
            options = labels(message)
        return m.content_type == "text" and m.text in options

    return check


# --- roles and menus -------------------------------------------------------------------------------


def menu_role(user: User | None) -> str:
    if user_has_role(user, Role.SUPERUSER):
        return "superuser"
    if user_has_role(user, Role.ADMIN):
        return "admin"
    if user_has_role(user, Role.REALTOR):
        return "realtor"
    if user_has_role(user, Role.MODERATOR):
        return "moderator"
    return "guest"


MENUS = {
    "guest": [[SEARCH, MY_BOOKINGS], [FAVORITES, REVIEWS], [NOTIFICATIONS]],
    "realtor": [[MY_LISTINGS, ADD_LISTING], [BOOKINGS, NOTIFICATIONS]],
    "admin": [[REALTORS, AGENCY], [MY_LISTINGS, ADD_LISTING], [BOOKINGS, NOTIFICATIONS]],
    "moderator": [[MODERATION], [SEARCH, NOTIFICATIONS]],
    "superuser": [[AGENCIES, USER], [USERS, ALL_REALTORS], [MODERATION, NOTIFICATIONS]],
}


def menu_for(role: str, language: str) -> types.ReplyKeyboardMarkup:
    markup = types.ReplyKeyboardMarkup(resize_keyboard=True)
    for row in MENUS[role]:
        markup.row(*(catalog.for_language(language, label) for label in row))
    markup.row(common.help_button(language), common.language_button(language))
    return markup


def main_menu(language: str) -> types.ReplyKeyboardMarkup:
    """The menu of the current user's role (the guest menu outside an update)."""
    try:
        user = current_user()
    except RuntimeError:
        user = None
    return menu_for(menu_role(user), language)


def cancel_keyboard() -> types.ReplyKeyboardMarkup:
    markup = types.ReplyKeyboardMarkup(resize_keyboard=True, one_time_keyboard=True)
    markup.row(t(CANCEL))
    return markup


def skip_keyboard() -> types.ReplyKeyboardMarkup:
    markup = types.ReplyKeyboardMarkup(resize_keyboard=True, one_time_keyboard=True)
    markup.row(t(SKIP), t(CANCEL))
    return markup


# --- sending ----------------------------------------------------------------------------------------


def reply(bot, chat_id: int, text: str, markup=None) -> None:
    bot.send_message(chat_id, text, reply_markup=markup)


def to_menu(bot, message: types.Message, text: str) -> None:
    """End any conversation state and show the role's main menu."""
    bot.delete_state(message.from_user.id, message.chat.id)
    reply(bot, message.chat.id, text, main_menu(user_language()))


def edit(bot, call: types.CallbackQuery, text: str, markup) -> None:
    bot.edit_message_text(text, call.message.chat.id, call.message.message_id, reply_markup=markup)


def stale(bot, call: types.CallbackQuery) -> None:
    """The answer to a button that no longer means anything (old, malformed or not the user's)."""
    bot.answer_callback_query(call.id, t("This button is no longer active."))


# --- inline keyboards ------------------------------------------------------------------------------


def callback(name: str) -> Callback:
    """A kind of button of this bot: ``r:<name>:<part>…``."""
    return Callback(CB + name)


def button(text: str, data: str) -> types.InlineKeyboardButton:
    """``data`` built by a ``callback(...)`` (it starts with ``r:``), or a bare name to prefix."""
    data = data if data.startswith(CB) else CB + data
    assert len(data.encode()) <= 64, data
    return types.InlineKeyboardButton(text, callback_data=data)


def inline(*rows: list[tuple[str, str]]) -> types.InlineKeyboardMarkup:
    markup = types.InlineKeyboardMarkup()
    for row in rows:
        if row:
            markup.row(*(button(text, data) for text, data in row))
    return markup


def pages(total: int, size: int = PAGE_SIZE) -> int:
    return count_pages(total, size, "console")  # an empty list is still one page


def nav_row(prefix: str | Callback, page: int, total: int) -> list[tuple[str, str]]:
    """◀ / ▶ buttons for a paginated list (``prefix`` + page number)."""
    count = pages(total)
    data = prefix.new if isinstance(prefix, Callback) else lambda n: f"{prefix}{n}"
    row = []
    if page > 1:
        row.append(("◀", data(page - 1)))
    if count > 1:
        row.append((f"{page}/{count}", data(page)))
    if page < count:
        row.append(("▶", data(page + 1)))
    return row


# --- parsing ---------------------------------------------------------------------------------------


def local_today() -> date:
    """Today where the platform's agencies are by default (DEFAULT_TIMEZONE), by the injected clock."""
    return utcnow().astimezone(ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])).date()


def example_stay(today: date | None = None) -> tuple[date, date]:
    """A stay to show as an example: three nights from a week ahead (never a date in the past)."""
    check_in = (today or local_today()) + timedelta(days=7)
    return check_in, check_in + timedelta(days=3)


def example_dates(today: date | None = None) -> str:
    check_in, check_out = example_stay(today)
    return f"{check_in.isoformat()} {check_out.isoformat()}"


def parse_date(text: str) -> date:
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            day = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if in_date_range(day):  # 9999-12-31 would overflow the nights after it
            return day
    example = example_stay()[0]
    raise ServiceError(
        t("Use dates like %(iso)s or %(dotted)s", iso=example.isoformat(), dotted=f"{example:%d.%m.%Y}"),
        422,
        "VALIDATION_ERROR",
        "date",
    )


def parse_compact_date(text: str) -> date:
    """20301007 → 2030-10-07 (dates in callback data); ValueError when it is not one."""
    if len(text) != 8 or not text.isdigit():
        raise ValueError(text)
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


def parse_dates(text: str) -> tuple[date, date]:
    parts = text.replace("—", " ").replace(" - ", " ").split()
    if len(parts) != 2:
        raise ServiceError(t("Send two dates: check-in and check-out, e.g. %(example)s", example=example_dates()), 422)
    return parse_date(parts[0]), parse_date(parts[1])


def money(amount, currency: str) -> str:
    value = f"{amount:,.2f}".replace(",", " ")
    if value.endswith(".00"):
        value = value[:-3]
    return f"{value} {currency}"


def error_text(exc: ServiceError) -> str:
    """A refusal in the user's language (service messages are English msgids of this catalog)."""
    return "⚠️ " + t(exc.message)


STATUS_TEXTS = {
    "pending": "⏳ pending",
    "confirmed": "✅ confirmed",
    "cancelled": "✖️ cancelled",
    "completed": "🏁 completed",
    "approved": "✅ approved",
    "rejected": "⛔ rejected",
}


def status_text(status: str) -> str:
    return t(STATUS_TEXTS.get(status, status))


AMENITY_LABELS = {
    "wifi": "Wi-Fi",
    "kitchen": "Kitchen",
    "parking": "Parking",
    "air_conditioning": "Air conditioning",
    "washer": "Washer",
    "tv": "TV",
    "balcony": "Balcony",
    "pool": "Pool",
    "workspace": "Workspace",
    "pets_allowed": "Pets allowed",
}


def amenity_text(code: str) -> str:
    return t(AMENITY_LABELS.get(code, code))


def amenities_keyboard(prefix: str, chosen: list[str]) -> types.InlineKeyboardMarkup:
    """Toggle buttons for amenities (✅ when chosen) and a Done button."""
    rows, row = [], []
    for code in AMENITY_LABELS:
        mark = "✅ " if code in chosen else ""
        row.append((mark + amenity_text(code), f"{prefix}{code}"))
        if len(row) == 2:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    rows.append([(t(DONE), f"{prefix}=")])
    return inline(*rows)
