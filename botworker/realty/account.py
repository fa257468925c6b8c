"""``/register`` (phone + e-mail) and ``/link`` (a 6-digit code by e-mail) — seed 001's account
commands; the reports bot registers the same ``/link`` so admins can connect their staff account."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from telebot import TeleBot, types
from telebot.handler_backends import State, StatesGroup

from botworker.context import current_account, current_user, user_language
from webapp.core.i18n import Catalog
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.realty.services.accounts import LinkOutcome, confirm_link, register_profile, start_link

catalog = Catalog("realty")


def t(message: str, **params) -> str:
    return catalog.for_language(user_language(), message, **params)


class RegisterStates(StatesGroup):
    phone = State()
    email = State()


class LinkStates(StatesGroup):
    email = State()
    code = State()


Menu = Callable[[str], types.ReplyKeyboardMarkup]  # the keyboard shown when a command ends
LINK_OUTCOMES = {
    LinkOutcome.TOO_MANY_ATTEMPTS: "Too many wrong attempts. Send /link to get a new code.",
    LinkOutcome.EXPIRED: "The code has expired. Send /link to get a new code.",
    LinkOutcome.NO_CODE: "There is no active code. Send /link to get one.",
}


def done(bot: TeleBot, message: types.Message, text: str, menu: Menu) -> None:
    bot.delete_state(message.from_user.id, message.chat.id)
    bot.send_message(message.chat.id, text, reply_markup=menu(user_language()))


def register_start(message: types.Message, bot: TeleBot) -> None:
    user = current_user()
    if user.email and user.phone:
        bot.send_message(message.chat.id, t("You are already registered as %(email)s.", email=user.email))
        return
    bot.set_state(message.from_user.id, RegisterStates.phone, message.chat.id)
    markup = types.ReplyKeyboardMarkup(resize_keyboard=True, one_time_keyboard=True)
    markup.row(types.KeyboardButton(t("📱 Share my phone"), request_contact=True))
    bot.send_message(message.chat.id, t("Registration. Share your phone number or type it:"), reply_markup=markup)


def register_phone(message: types.Message, bot: TeleBot) -> None:
    if message.content_type == "contact":
        if message.contact.user_id not in (None, message.from_user.id):
            bot.send_message(message.chat.id, t("Please share your own phone number."))
            return
        phone = message.contact.phone_number
    else:
        phone = message.text
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        data["phone"] = phone
    bot.set_state(message.from_user.id, RegisterStates.email, message.chat.id)
    bot.send_message(message.chat.id, t("Your e-mail?"), reply_markup=types.ReplyKeyboardRemove())


def register_email(message: types.Message, bot: TeleBot, menu: Menu) -> None:
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        phone = data.get("phone")
    try:
        register_profile(current_user(), phone, message.text)
    except ServiceError as exc:
        # The conversation goes back to the step the refusal is about, which the boundary cannot
        # do. Rolled back here because the boundary will commit this update.
        db.session.rollback()
        if exc.field in ("phone", "phone_number"):
            bot.set_state(message.from_user.id, RegisterStates.phone, message.chat.id)
            bot.send_message(message.chat.id, "⚠️ " + t(exc.message) + "\n" + t("Your phone number?"))
        else:
            bot.send_message(message.chat.id, "⚠️ " + t(exc.message) + "\n" + t("Your e-mail?"))
        return
    done(bot, message, t("✅ Registered. A welcome e-mail is on its way."), menu)


def link_start(message: types.Message, bot: TeleBot) -> None:
    bot.set_state(message.from_user.id, LinkStates.email, message.chat.id)
    bot.send_message(message.chat.id, t("Linking an existing account. Its e-mail?"))


def link_email(message: types.Message, bot: TeleBot) -> None:
    start_link(current_account(), message.text)  # refused: the boundary says why; the step stays
    bot.set_state(message.from_user.id, LinkStates.code, message.chat.id)
    bot.send_message(message.chat.id, t("We sent a 6-digit code to this e-mail. It is valid for 10 minutes. The code?"))


def link_code(message: types.Message, bot: TeleBot, menu: Menu) -> None:
    result = confirm_link(current_account(), message.text)
    if result.outcome == LinkOutcome.LINKED:
        done(bot, message, t("✅ Telegram is linked to %(name)s.", name=result.user.display_name), menu)
        return
    if result.outcome == LinkOutcome.WRONG_CODE:
        bot.send_message(message.chat.id, t("Wrong code. Attempts left: %(n)s", n=result.attempts_left))
        return
    done(bot, message, t(LINK_OUTCOMES[result.outcome]), menu)


def register_account_commands(bot: TeleBot, menu: Menu) -> None:
    """/register and /link; ``menu(language)`` is the keyboard shown when they end."""
    bot.register_message_handler(register_start, commands=["register"], pass_bot=True)
    bot.register_message_handler(
        register_phone, state=RegisterStates.phone, content_types=["contact", "text"], pass_bot=True
    )
    bot.register_message_handler(
        partial(register_email, menu=menu), state=RegisterStates.email, content_types=["text"], pass_bot=True
    )
    bot.register_message_handler(link_start, commands=["link"], pass_bot=True)
    bot.register_message_handler(link_email, state=LinkStates.email, content_types=["text"], pass_bot=True)
    bot.register_message_handler(
        partial(link_code, menu=menu), state=LinkStates.code, content_types=["text"], pass_bot=True
    )
