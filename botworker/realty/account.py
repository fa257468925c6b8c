"""``/register`` (phone + e-mail) and ``/link`` (a 6-digit code by e-mail) — seed 001's account
commands; the reports bot registers the same ``/link`` so admins can connect their staff account."""

from __future__ import annotations

from collections.abc import Callable

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


def register_account_commands(bot: TeleBot, menu: Callable[[str], types.ReplyKeyboardMarkup]) -> None:
    """/register and /link; ``menu(language)`` is the keyboard shown when they end."""

    def done(message: types.Message, text: str) -> None:
        bot.delete_state(message.from_user.id, message.chat.id)
        bot.send_message(message.chat.id, text, reply_markup=menu(user_language()))

    @bot.message_handler(commands=["register"])
    def register_start(message: types.Message) -> None:
        user = current_user()
        if user.email and user.phone:
            bot.send_message(message.chat.id, t("You are already registered as %(email)s.", email=user.email))
            return
        bot.set_state(message.from_user.id, RegisterStates.phone, message.chat.id)
        markup = types.ReplyKeyboardMarkup(resize_keyboard=True, one_time_keyboard=True)
        markup.row(types.KeyboardButton(t("📱 Share my phone"), request_contact=True))
        bot.send_message(message.chat.id, t("Registration. Share your phone number or type it:"), reply_markup=markup)

    @bot.message_handler(state=RegisterStates.phone, content_types=["contact", "text"])
    def register_phone(message: types.Message) -> None:
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

    @bot.message_handler(state=RegisterStates.email, content_types=["text"])
    def register_email(message: types.Message) -> None:
        with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
            phone = data.get("phone")
        try:
            register_profile(current_user(), phone, message.text)
        except ServiceError as exc:
            db.session.rollback()
            if exc.field in ("phone", "phone_number"):
                bot.set_state(message.from_user.id, RegisterStates.phone, message.chat.id)
                bot.send_message(message.chat.id, "⚠️ " + t(exc.message) + "\n" + t("Your phone number?"))
            else:
                bot.send_message(message.chat.id, "⚠️ " + t(exc.message) + "\n" + t("Your e-mail?"))
            return
        done(message, t("✅ Registered. A welcome e-mail is on its way."))

    @bot.message_handler(commands=["link"])
    def link_start(message: types.Message) -> None:
        bot.set_state(message.from_user.id, LinkStates.email, message.chat.id)
        bot.send_message(message.chat.id, t("Linking an existing account. Its e-mail?"))

    @bot.message_handler(state=LinkStates.email, content_types=["text"])
    def link_email(message: types.Message) -> None:
        try:
            start_link(current_account(), message.text)
        except ServiceError as exc:
            db.session.rollback()
            bot.send_message(message.chat.id, "⚠️ " + t(exc.message))
            return
        bot.set_state(message.from_user.id, LinkStates.code, message.chat.id)
        bot.send_message(
            message.chat.id, t("We sent a 6-digit code to this e-mail. It is valid for 10 minutes. The code?")
        )

    @bot.message_handler(state=LinkStates.code, content_types=["text"])
    def link_code(message: types.Message) -> None:
        result = confirm_link(current_account(), message.text)
        if result.outcome == LinkOutcome.LINKED:
            done(message, t("✅ Telegram is linked to %(name)s.", name=result.user.display_name))
            return
        if result.outcome == LinkOutcome.WRONG_CODE:
            bot.send_message(message.chat.id, t("Wrong code. Attempts left: %(n)s", n=result.attempts_left))
            return
        texts = {
            LinkOutcome.TOO_MANY_ATTEMPTS: "Too many wrong attempts. Send /link to get a new code.",
            LinkOutcome.EXPIRED: "The code has expired. Send /link to get a new code.",
            LinkOutcome.NO_CODE: "There is no active code. Send /link to get one.",
        }
        done(message, t(texts[result.outcome]))
