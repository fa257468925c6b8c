"""❓ Support: the FAQ, and a message to the clinic's operators (a support ticket)."""

from __future__ import annotations

from telebot import TeleBot, types
from telebot.handler_backends import State, StatesGroup

from botworker.clinic import texts
from botworker.clinic.base import (
    _,
    current_patient,
    inline,
    is_button,
    lang,
    main_menu,
    organization_id,
    refused,
    require_patient,
    tr,
)
from webapp.clinic.services import support
from webapp.core.services import ServiceError

SUBJECT_LENGTH = 60
FAQ = "cl:sup:faq"
OPERATOR = "cl:sup:op"


class SupportStates(StatesGroup):
    message = State()


def support_menu(message: types.Message, bot: TeleBot) -> None:
    if require_patient(bot, message.chat.id) is None:
        return
    bot.delete_state(message.from_user.id, message.chat.id)
    markup = inline(
        [
            [(tr("❓ Frequently asked questions"), FAQ)],
            [(tr("💬 Contact an operator"), OPERATOR)],
        ]
    )
    bot.send_message(message.chat.id, tr("How can we help?"), reply_markup=markup)


def support_choice(call: types.CallbackQuery, bot: TeleBot) -> None:
    bot.answer_callback_query(call.id)
    chat_id = call.message.chat.id
    if call.data == FAQ:
        items = [row.localized(lang()) for row in support.list_faq(organization_id())]
        if not items:
            bot.send_message(chat_id, tr("The FAQ is empty for now."))
            return
        body = "\n\n".join(f"❓ {question}\n{answer}" for question, answer in items)
        bot.send_message(chat_id, tr("Frequently asked questions") + "\n\n" + body)
        return
    bot.set_state(call.from_user.id, SupportStates.message, chat_id)
    bot.send_message(chat_id, tr("Describe your question in one message:"))


def ticket_message(message: types.Message, bot: TeleBot) -> None:
    user_id, chat_id = message.from_user.id, message.chat.id
    text = (message.text or "").strip()
    subject = " ".join(text.split())[:SUBJECT_LENGTH]
    try:
        ticket = support.create_ticket(current_patient(), subject, text, telegram_user_id=user_id, source="bot")
    except ServiceError as exc:  # the boundary rolls back and says this; the state stays, for another try
        raise refused(_("Please describe your question in up to 4000 characters."), exc) from exc
    bot.delete_state(user_id, chat_id)
    bot.send_message(
        chat_id,
        tr("Request #%(id)s created. We will contact you shortly.", id=ticket.id),
        reply_markup=main_menu(lang()),
    )


def register(bot: TeleBot) -> None:
    bot.register_message_handler(
        support_menu, func=lambda m: is_button(m, texts.MENU_SUPPORT), content_types=["text"], pass_bot=True
    )
    bot.register_callback_query_handler(support_choice, func=lambda c: c.data in (FAQ, OPERATOR), pass_bot=True)
    bot.register_message_handler(ticket_message, state=SupportStates.message, content_types=["text"], pass_bot=True)
