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


def register_handlers(bot: TeleBot) -> None:
    def allowed(message: types.Message) -> bool:
        if access.can_read_reports(current_user()):
            return True
        bot.send_message(
            message.chat.id, t("Reports are for admins and moderators. Connect your staff account with /link.")
        )
        return False

    def send_report(message: types.Message, date_from, date_to=None) -> None:
        scope = access.report_scope(current_user())
        try:
            report = (
                services.daily_report(date_from, scope)
                if date_to is None
                else services.range_report(date_from, date_to, scope)
            )
        except ServiceError as exc:
            bot.send_message(message.chat.id, "⚠️ " + t(exc.message))
            return
        bot.send_message(message.chat.id, services.format_report(report, user_language()))

    def parse_args(message: types.Message, count: int):
        args = (message.text or "").split()[1:]
        if len(args) != count:
            return None
        return [services.parse_day(a) for a in args]

    @bot.message_handler(commands=["daily"])
    def daily(message: types.Message) -> None:
        if not allowed(message):
            return
        try:
            days = parse_args(message, 1)
        except ServiceError as exc:
            bot.send_message(message.chat.id, "⚠️ " + t(exc.message))
            return
        send_report(message, days[0] if days else services.local_today())

    @bot.message_handler(func=lambda m: m.text in _labels(TODAY))
    def today(message: types.Message) -> None:
        if allowed(message):
            send_report(message, services.local_today())

    @bot.message_handler(func=lambda m: m.text in _labels(YESTERDAY))
    def yesterday(message: types.Message) -> None:
        if allowed(message):
            send_report(message, services.local_today() - timedelta(days=1))

    @bot.message_handler(commands=["range"])
    def range_command(message: types.Message) -> None:
        if not allowed(message):
            return
        try:
            days = parse_args(message, 2)
        except ServiceError as exc:
            bot.send_message(message.chat.id, "⚠️ " + t(exc.message))
            return
        if days is None:
            bot.send_message(message.chat.id, t("Send it like this: /range %(start)s %(end)s", **example_days()))
            return
        send_report(message, *days)

    @bot.message_handler(func=lambda m: m.text in _labels(RANGE))
    def range_button(message: types.Message) -> None:
        if allowed(message):
            bot.set_state(message.from_user.id, RangeStates.dates, message.chat.id)
            bot.send_message(
                message.chat.id, t("Send the first and the last day, e.g. %(start)s %(end)s", **example_days())
            )

    @bot.message_handler(state=RangeStates.dates, content_types=["text"])
    def range_dates(message: types.Message) -> None:
        parts = (message.text or "").split()
        try:
            if len(parts) != 2:
                raise ServiceError("Use dates in the form YYYY-MM-DD", 422)
            date_from, date_to = (services.parse_day(p) for p in parts)
        except ServiceError as exc:
            bot.send_message(message.chat.id, "⚠️ " + t(exc.message))
            return
        bot.delete_state(message.from_user.id, message.chat.id)
        send_report(message, date_from, date_to)

    def subscribe(message: types.Message) -> None:
        services.subscribe(current_user(), current_bot().id, current_account().chat_id or message.chat.id)
        bot.send_message(
            message.chat.id,
            t("🔔 You will get yesterday's report every morning after %(hour)s:00.", hour=services.morning_hour()),
        )

    def unsubscribe(message: types.Message) -> None:
        services.unsubscribe(current_user())
        bot.send_message(message.chat.id, t("🔕 Morning reports are off."))

    @bot.message_handler(commands=["subscribe"])
    def subscribe_command(message: types.Message) -> None:
        if allowed(message):
            subscribe(message)

    @bot.message_handler(commands=["unsubscribe"])
    def unsubscribe_command(message: types.Message) -> None:
        unsubscribe(message)

    @bot.message_handler(func=lambda m: m.text in _labels(MORNING))
    def morning_toggle(message: types.Message) -> None:
        if not allowed(message):
            return
        if services.is_subscribed(current_user()):
            unsubscribe(message)
        else:
            subscribe(message)

    register_account_commands(bot, main_menu)


__all__ = ["help_text", "main_menu", "on_start", "register_handlers"]
