"""Handlers every bot has, whatever its vertical: /start (language first), /help, /menu, /language,
and the fallbacks that answer anything nobody else handled. ``/start <code>`` from a staff member's
console profile (a deep link) links their Telegram to their staff account on this bot, whatever the
vertical (``webapp.core.link_codes``).

Order of registration (first match wins in pyTelegramBotAPI): the common commands, then the
vertical's handlers, then the fallbacks. /start and /menu also leave any conversation (FSM state)
the user was in, so a stuck user always has a way out.
"""

from __future__ import annotations

import copy
import functools
import logging

from telebot import TeleBot, types, util

from botworker import texts
from botworker.context import (
    current_account,
    current_bot,
    current_update_id,
    is_first_contact,
    set_language,
    use_language,
    user_language,
)
from botworker.registry import VerticalBot
from webapp.core import link_codes
from webapp.core.db import utcnow
from webapp.core.i18n import LANGUAGE_NAMES
from webapp.core.services import SUPPORTED_LANGUAGES

log = logging.getLogger("botworker")

# callback_data of the language keyboard (Telegram allows 64 bytes).
LANG_START = "lang:start:"
LANG_SET = "lang:set:"
# Shown before the user has a language, so in all of them.
CHOOSE_LANGUAGE_ALL = "Выберите язык · Тілді таңдаңыз · Tilni tanlang · Choose your language"

HELP_BUTTON = "❓ Help"
LANGUAGE_BUTTON = "🌐 Language"


def help_button(language: str) -> str:
    """The localized "Help" reply-keyboard button (any vertical may put it in its menu)."""
    return texts.for_language(language, HELP_BUTTON)


def language_button(language: str) -> str:
    """The localized "Language" reply-keyboard button."""
    return texts.for_language(language, LANGUAGE_BUTTON)


@functools.cache
def _labels(message: str) -> frozenset[str]:
    """``message`` in every language (first asked inside an update, where the catalogs are bound)."""
    return frozenset(texts.for_language(lang, message) for lang in SUPPORTED_LANGUAGES)


def language_keyboard(prefix: str) -> types.InlineKeyboardMarkup:
    markup = types.InlineKeyboardMarkup(row_width=2)
    markup.add(
        *(types.InlineKeyboardButton(LANGUAGE_NAMES[code], callback_data=prefix + code) for code in SUPPORTED_LANGUAGES)
    )
    return markup


# --- defaults for a vertical without a bot package -------------------------------------------------


def default_main_menu(language: str) -> types.ReplyKeyboardMarkup:
    markup = types.ReplyKeyboardMarkup(resize_keyboard=True)
    markup.row(help_button(language), language_button(language))
    return markup


def default_help_text(language: str) -> str:
    return texts.for_language(
        language,
        "What I can do:\n/start — start over\n/menu — main menu\n/language — change the language\n/help — this help",
    )


def default_on_language(language: str) -> None:
    """Nothing of a vertical's own to update when the user changes the language."""


def default_on_start(bot: TeleBot, message: types.Message) -> None:
    language = user_language()
    name = message.from_user.first_name if message.from_user else ""
    bot.send_message(
        message.chat.id,
        texts.t("Welcome, %(name)s! Choose an action in the menu below, or send /help.", name=name),
        reply_markup=default_main_menu(language),
    )


# --- a staff member links their Telegram: /start <code> from their console profile's deep link ----

STAFF_LINK_REPLIES = {
    link_codes.StaffLink.INVALID: "This link is not valid: it was used already or a newer one replaced it. "
    "Get a new link in your console profile.",
    link_codes.StaffLink.EXPIRED: "This link has expired. Get a new link in your console profile.",
    link_codes.StaffLink.OTHER_ORGANIZATION: "This link is not for this bot: open the link of a bot of your own "
    "organization from your console profile.",
}


def link_staff(bot: TeleBot, message: types.Message, code: str) -> None:
    outcome, staff = link_codes.redeem_staff_code(current_account(), current_bot(), code)
    if outcome != link_codes.StaffLink.LINKED:
        log.info("update %s: staff link code refused (%s)", current_update_id(), outcome.value)
        bot.send_message(message.chat.id, texts.t(STAFF_LINK_REPLIES[outcome]))
        return
    use_language(staff.language)  # from now on this chat is the staff member's
    log.info("update %s: telegram account %s linked to a staff account", current_update_id(), current_account().id)
    bot.send_message(
        message.chat.id,
        texts.t(
            "Done: this Telegram is linked to %(name)s in the console. Test broadcasts of this bot will come here.",
            name=staff.display_name,
        ),
    )


# --- registration ----------------------------------------------------------------------------------


def register_commands(bot: TeleBot, vertical: VerticalBot) -> None:
    """/start, /help, /menu, /language and the language keyboard (before the vertical's handlers)."""

    def offer_languages(chat_id: int) -> None:
        bot.send_message(chat_id, CHOOSE_LANGUAGE_ALL, reply_markup=language_keyboard(LANG_START))

    def show_menu(chat_id: int, text: str) -> None:
        language = user_language()
        bot.send_message(chat_id, text, reply_markup=vertical.main_menu(language))

    @bot.message_handler(commands=["start"], chat_types=["private"])
    def start(message: types.Message) -> None:
        bot.delete_state(message.from_user.id, message.chat.id)
        payload = util.extract_arguments(message.text or "")
        if link_codes.is_staff_code(payload):
            link_staff(bot, message, payload)
            return
        if is_first_contact():
            offer_languages(message.chat.id)
            return
        vertical.on_start(bot, message)

    @bot.message_handler(commands=["help"])
    def help_command(message: types.Message) -> None:
        bot.send_message(message.chat.id, vertical.help_text(user_language()))

    @bot.message_handler(commands=["menu"])
    def menu(message: types.Message) -> None:
        bot.delete_state(message.from_user.id, message.chat.id)
        show_menu(message.chat.id, texts.t("Main menu"))

    @bot.message_handler(commands=["language"])
    def language_command(message: types.Message) -> None:
        bot.send_message(message.chat.id, texts.t("Choose your language:"), reply_markup=language_keyboard(LANG_SET))

    @bot.message_handler(func=lambda m: m.text in _labels(HELP_BUTTON))
    def help_button_pressed(message: types.Message) -> None:
        help_command(message)

    @bot.message_handler(func=lambda m: m.text in _labels(LANGUAGE_BUTTON))
    def language_button_pressed(message: types.Message) -> None:
        language_command(message)

    @bot.callback_query_handler(func=lambda c: (c.data or "").startswith((LANG_START, LANG_SET)))
    def language_chosen(call: types.CallbackQuery) -> None:
        first_time = call.data.startswith(LANG_START)
        code = call.data.rsplit(":", 1)[-1]
        if code not in SUPPORTED_LANGUAGES:
            bot.answer_callback_query(call.id, texts.t("This button is no longer active."))
            return
        language = set_language(code)
        vertical.on_language(language)  # e.g. the clinic's patient record keeps the language too
        bot.answer_callback_query(call.id)
        chat_id = call.message.chat.id
        confirmation = texts.t("Language: %(choice)s", choice=LANGUAGE_NAMES[language])
        bot.edit_message_text(confirmation, chat_id, call.message.message_id)
        if first_time:
            # on_start reads message.from_user: the user who pressed, not the bot that sent the keyboard.
            start_message = copy.copy(call.message)
            start_message.from_user = call.from_user
            start_message.text = "/start"
            vertical.on_start(bot, start_message)
        else:
            show_menu(chat_id, texts.t("Main menu"))


def register_fallbacks(bot: TeleBot, vertical: VerticalBot) -> None:
    """Answers for whatever no handler took: a helpful pointer, a stale button, a block/unblock."""

    @bot.message_handler(func=lambda m: True, content_types=util.content_type_media)
    def unknown(message: types.Message) -> None:
        if message.chat.type != "private":
            return
        if is_first_contact():
            bot.send_message(message.chat.id, CHOOSE_LANGUAGE_ALL, reply_markup=language_keyboard(LANG_START))
            return
        bot.send_message(
            message.chat.id,
            texts.t("Sorry, I did not understand that. Open the main menu with /menu or see what I can do with /help."),
            reply_markup=vertical.main_menu(user_language()),
        )

    @bot.callback_query_handler(func=lambda c: True)
    def stale_button(call: types.CallbackQuery) -> None:
        bot.answer_callback_query(call.id, texts.t("This button is no longer active."))

    @bot.my_chat_member_handler()
    def membership_changed(update: types.ChatMemberUpdated) -> None:
        # Telegram tells a bot when a user blocks ("kicked") or unblocks ("member") it.
        if update.chat.type != "private":
            return
        account = current_account()
        blocked = update.new_chat_member.status == "kicked"
        if blocked != account.blocked_bot:
            account.blocked_bot = blocked
            account.blocked_at = utcnow() if blocked else None
            log.info("telegram account %s %s the bot", account.id, "blocked" if blocked else "unblocked")
