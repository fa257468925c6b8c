"""The reports bot (seed 004's bot): admins and moderators read the moderation report of a day or a
range, and may subscribe to yesterday's report every morning. Staff accounts are connected with
/link (the same command as the realty bot)."""

from __future__ import annotations

from datetime import timedelta

from telebot import TeleBot, types
from telebot.handler_backends import State, StatesGroup

from botworker import common
from botworker.context import current_account, current_bot, current_user, user_language
from botworker.realty.account import register_account_commands
from webapp.core.i18n import Catalog
from webapp.core.services import SUPPORTED_LANGUAGES, ServiceError
from webapp.reports import access, services

catalog = Catalog("reports")

TODAY = "📊 Today"
YESTERDAY = "📅 Yesterday"
RANGE = "🗓 Period"
MORNING = "🔔 Morning report"


class RangeStates(StatesGroup):
    dates = State()


def t(message: str, **params) -> str:
    return catalog.for_language(user_language(), message, **params)


def main_menu(language: str) -> types.ReplyKeyboardMarkup:
    markup = types.ReplyKeyboardMarkup(resize_keyboard=True)
    markup.row(catalog.for_language(language, TODAY), catalog.for_language(language, YESTERDAY))
    markup.row(catalog.for_language(language, RANGE), catalog.for_language(language, MORNING))
    markup.row(common.help_button(language), common.language_button(language))
    return markup


def example_days() -> dict[str, str]:
    """Examples from the clock, not from the year the bot was written: yesterday, and last week."""
    today = services.local_today()
    return {
        "day": (today - timedelta(days=1)).isoformat(),
        "start": (today - timedelta(days=7)).isoformat(),
        "end": (today - timedelta(days=1)).isoformat(),
    }


def help_text(language: str) -> str:
    return catalog.for_language(
        language,
        "Moderation reports: listings added, approved and rejected, top regions, districts and users.\n"
        "/daily — today (or /daily %(day)s)\n/range %(start)s %(end)s — a period\n"
        "/subscribe, /unsubscribe — yesterday's report every morning\n/link — connect your staff account",
        **example_days(),
    )


def on_start(bot: TeleBot, message: types.Message) -> None:
    language = user_language()
    if access.can_read_reports(current_user()):
        text = catalog.for_language(language, "Hello! Choose a report in the menu below.")
    else:
        text = catalog.for_language(
            language, "Reports are for admins and moderators. Connect your staff account with /link."
        )
    bot.send_message(message.chat.id, text, reply_markup=main_menu(language))


def _labels(message: str) -> set[str]:
    return {catalog.for_language(lang, message) for lang in SUPPORTED_LANGUAGES}


# --- handlers --------------------------------------------------------------------------------------


def allowed(bot: TeleBot, message: types.Message) -> bool:
    """True for an admin or moderator; anyone else is told how to connect their staff account."""
    if access.can_read_reports(current_user()):
        return True
    bot.send_message(
        message.chat.id, t("Reports are for admins and moderators. Connect your staff account with /link.")
    )
    return False


def send_report(bot: TeleBot, message: types.Message, date_from, date_to=None) -> None:
    scope = access.report_scope(current_user())
    # A refused range (backwards, too long) propagates: the update's boundary tells the user why.
    report = (
        services.daily_report(date_from, scope) if date_to is None else services.range_report(date_from, date_to, scope)
    )
    bot.send_message(message.chat.id, services.format_report(report, user_language()))


def parse_args(message: types.Message, count: int):
    args = (message.text or "").split()[1:]
    if len(args) != count:
        return None
    return [services.parse_day(a) for a in args]


def daily(message: types.Message, bot: TeleBot) -> None:
    """/daily [day]"""
    if not allowed(bot, message):
        return
    days = parse_args(message, 1)  # a day that is not a date is refused by the update's boundary
    send_report(bot, message, days[0] if days else services.local_today())


def today(message: types.Message, bot: TeleBot) -> None:
    if allowed(bot, message):
        send_report(bot, message, services.local_today())


def yesterday(message: types.Message, bot: TeleBot) -> None:
    if allowed(bot, message):
        send_report(bot, message, services.local_today() - timedelta(days=1))


def range_command(message: types.Message, bot: TeleBot) -> None:
    """/range <first day> <last day>"""
    if not allowed(bot, message):
        return
    days = parse_args(message, 2)  # a day that is not a date is refused by the update's boundary
    if days is None:
        bot.send_message(message.chat.id, t("Send it like this: /range %(start)s %(end)s", **example_days()))
        return
    send_report(bot, message, *days)


def range_button(message: types.Message, bot: TeleBot) -> None:
    if allowed(bot, message):
        bot.set_state(message.from_user.id, RangeStates.dates, message.chat.id)
        bot.send_message(
            message.chat.id, t("Send the first and the last day, e.g. %(start)s %(end)s", **example_days())
        )


def range_dates(message: types.Message, bot: TeleBot) -> None:
    # A refusal keeps the state: the user's next message is another try at the two days.
    parts = (message.text or "").split()
    if len(parts) != 2:
        raise ServiceError("Use dates in the form YYYY-MM-DD", 422)
    date_from, date_to = (services.parse_day(p) for p in parts)
    bot.delete_state(message.from_user.id, message.chat.id)
    send_report(bot, message, date_from, date_to)


def subscribe(bot: TeleBot, message: types.Message) -> None:
    services.subscribe(current_user(), current_bot().id, current_account().chat_id or message.chat.id)
    bot.send_message(
        message.chat.id,
        t("🔔 You will get yesterday's report every morning after %(hour)s:00.", hour=services.morning_hour()),
    )


def unsubscribe(bot: TeleBot, message: types.Message) -> None:
    services.unsubscribe(current_user())
    bot.send_message(message.chat.id, t("🔕 Morning reports are off."))


def subscribe_command(message: types.Message, bot: TeleBot) -> None:
    if allowed(bot, message):
        subscribe(bot, message)


def unsubscribe_command(message: types.Message, bot: TeleBot) -> None:
    unsubscribe(bot, message)


def morning_toggle(message: types.Message, bot: TeleBot) -> None:
    if not allowed(bot, message):
        return
    if services.is_subscribed(current_user()):
        unsubscribe(bot, message)
    else:
        subscribe(bot, message)


def label_is(message: str):
    return lambda m: m.text in _labels(message)


MESSAGES = [
    (daily, {"commands": ["daily"]}),
    (today, {"func": label_is(TODAY)}),
    (yesterday, {"func": label_is(YESTERDAY)}),
    (range_command, {"commands": ["range"]}),
    (range_button, {"func": label_is(RANGE)}),
    (range_dates, {"state": RangeStates.dates, "content_types": ["text"]}),
    (subscribe_command, {"commands": ["subscribe"]}),
    (unsubscribe_command, {"commands": ["unsubscribe"]}),
    (morning_toggle, {"func": label_is(MORNING)}),
]


def register_handlers(bot: TeleBot) -> None:
    for handler, filters in MESSAGES:
        bot.register_message_handler(handler, pass_bot=True, **filters)
    register_account_commands(bot, main_menu)


__all__ = ["help_text", "main_menu", "on_start", "register_handlers"]
