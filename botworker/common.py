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
import logging
from functools import cache, partial

from telebot import TeleBot, types, util

from botworker import texts
from botworker.callbacks import Callback
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

# The language keyboard: on first contact (then /start follows) and from /language.
LANG_START = Callback("lang:start")  # lang:start:<code>
LANG_SET = Callback("lang:set")  # lang:set:<code>
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


@cache
def _labels(message: str) -> frozenset[str]:
    """``message`` in every language (first asked inside an update, where the catalogs are bound)."""
    return frozenset(texts.for_language(lang, message) for lang in SUPPORTED_LANGUAGES)


def language_keyboard(kind: Callback) -> types.InlineKeyboardMarkup:
    markup = types.InlineKeyboardMarkup(row_width=2)
    markup.add(
        *(
            types.InlineKeyboardButton(LANGUAGE_NAMES[code], callback_data=kind.new(code))
            for code in SUPPORTED_LANGUAGES
        )
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


# --- handlers: module-level functions; those that need the vertical get it bound with partial ------


def offer_languages(bot: TeleBot, chat_id: int) -> None:
    bot.send_message(chat_id, CHOOSE_LANGUAGE_ALL, reply_markup=language_keyboard(LANG_START))


def show_menu(bot: TeleBot, vertical: VerticalBot, chat_id: int, text: str) -> None:
    bot.send_message(chat_id, text, reply_markup=vertical.main_menu(user_language()))


def start(message: types.Message, bot: TeleBot, vertical: VerticalBot) -> None:
    """/start: a staff link code, the language keyboard on first contact, else the vertical's start."""
    bot.delete_state(message.from_user.id, message.chat.id)
    payload = util.extract_arguments(message.text or "")
    if link_codes.is_staff_code(payload):
        link_staff(bot, message, payload)
        return
    if is_first_contact():
        offer_languages(bot, message.chat.id)
        return
    vertical.on_start(bot, message)


def help_command(message: types.Message, bot: TeleBot, vertical: VerticalBot) -> None:
    bot.send_message(message.chat.id, vertical.help_text(user_language()))


def menu(message: types.Message, bot: TeleBot, vertical: VerticalBot) -> None:
    bot.delete_state(message.from_user.id, message.chat.id)
    show_menu(bot, vertical, message.chat.id, texts.t("Main menu"))


def language_command(message: types.Message, bot: TeleBot) -> None:
    bot.send_message(message.chat.id, texts.t("Choose your language:"), reply_markup=language_keyboard(LANG_SET))


def language_chosen(call: types.CallbackQuery, bot: TeleBot, vertical: VerticalBot) -> None:
    first_time = LANG_START.matches(call)
    code = ((LANG_START if first_time else LANG_SET).parts(call) or [""])[0]
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
        show_menu(bot, vertical, chat_id, texts.t("Main menu"))


def unknown(message: types.Message, bot: TeleBot, vertical: VerticalBot) -> None:
    """Whatever no handler took: a pointer to /menu and /help (the language keyboard on first contact)."""
    if message.chat.type != "private":
        return
    if is_first_contact():
        offer_languages(bot, message.chat.id)
        return
    bot.send_message(
        message.chat.id,
        texts.t("Sorry, I did not understand that. Open the main menu with /menu or see what I can do with /help."),
        reply_markup=vertical.main_menu(user_language()),
    )


def stale_button(call: types.CallbackQuery, bot: TeleBot) -> None:
    bot.answer_callback_query(call.id, texts.t("This button is no longer active."))


def membership_changed(update: types.ChatMemberUpdated, bot: TeleBot) -> None:
    # Telegram tells a bot when a user blocks ("kicked") or unblocks ("member") it.
    if update.chat.type != "private":
        return
    account = current_account()
    blocked = update.new_chat_member.status == "kicked"
    if blocked != account.blocked_bot:
        account.blocked_bot = blocked
        account.blocked_at = utcnow() if blocked else None
        log.info("telegram account %s %s the bot", account.id, "blocked" if blocked else "unblocked")


# --- registration ----------------------------------------------------------------------------------


def register_commands(bot: TeleBot, vertical: VerticalBot) -> None:
    """/start, /help, /menu, /language and the language keyboard (before the vertical's handlers)."""
    bot.register_message_handler(
        partial(start, vertical=vertical), commands=["start"], chat_types=["private"], pass_bot=True
    )
    bot.register_message_handler(partial(help_command, vertical=vertical), commands=["help"], pass_bot=True)
    bot.register_message_handler(partial(menu, vertical=vertical), commands=["menu"], pass_bot=True)
    bot.register_message_handler(language_command, commands=["language"], pass_bot=True)
    bot.register_message_handler(
        partial(help_command, vertical=vertical), func=lambda m: m.text in _labels(HELP_BUTTON), pass_bot=True
    )
    bot.register_message_handler(language_command, func=lambda m: m.text in _labels(LANGUAGE_BUTTON), pass_bot=True)
    bot.register_callback_query_handler(
        partial(language_chosen, vertical=vertical),
        func=lambda c: LANG_START.matches(c) or LANG_SET.matches(c),
        pass_bot=True,
    )


def register_fallbacks(bot: TeleBot, vertical: VerticalBot) -> None:
    """Answers for whatever no handler took: a helpful pointer, a stale button, a block/unblock."""
    bot.register_message_handler(
        partial(unknown, vertical=vertical), func=lambda m: True, content_types=util.content_type_media, pass_bot=True
    )
    bot.register_callback_query_handler(stale_button, func=lambda c: True, pass_bot=True)
    bot.register_my_chat_member_handler(membership_changed, pass_bot=True)
