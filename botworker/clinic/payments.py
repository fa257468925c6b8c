"""💳 Payments: the balance, unpaid invoices with a demo "pay" button, the outcome of each payment."""

from __future__ import annotations

from telebot import TeleBot, types

from botworker.callbacks import Callback
from botworker.clinic import texts
from botworker.clinic.base import (
    _,
    answer_stale,
    current_patient,
    inline,
    is_button,
    refused,
    require_patient,
    tr,
)
from webapp.clinic.services import payments
from webapp.clinic.services.render import money
from webapp.core.services import ServiceError

SHOWN = 10
PAY = Callback("cl:pay")  # cl:pay:<invoice>


def payments_menu(message: types.Message, bot: TeleBot) -> None:
    """💳 The balance and the unpaid invoices, each with a demo "pay" button."""
    patient = require_patient(bot, message.chat.id)
    if patient is None:
        return
    bot.delete_state(message.from_user.id, message.chat.id)
    figures = payments.patient_balance(patient)
    unpaid = payments.unpaid_invoices(patient, SHOWN)
    text = tr("Your balance: %(balance)s", balance=money(figures["balance"]))
    if not unpaid:
        bot.send_message(message.chat.id, text + "\n\n" + tr("You have no unpaid invoices."))
        return
    rows = [
        [
            (
                tr("💳 Pay %(number)s — %(amount)s (demo)", number=i.number, amount=money(i.amount, i.currency)),
                PAY.new(i.id),
            )
        ]
        for i in unpaid
    ]
    bot.send_message(message.chat.id, text + "\n\n" + tr("Unpaid invoices:"), reply_markup=inline(rows))


def pay(call: types.CallbackQuery, bot: TeleBot) -> None:
    patient = current_patient()
    invoice_id = PAY.ints(call, 1)
    try:
        if patient is None or invoice_id is None:
            raise ServiceError("Invoice not found", 404, "NOT_FOUND")
        invoice = payments.patient_invoice(patient, invoice_id[0])
    except ServiceError:
        answer_stale(bot, call)
        return
    try:
        payments.demo_provider_pay(invoice)
    except ServiceError as exc:
        raise refused(_("This payment is no longer possible."), exc) from exc
    bot.answer_callback_query(call.id)
    bot.edit_message_reply_markup(call.message.chat.id, call.message.message_id, reply_markup=None)
    bot.send_message(
        call.message.chat.id,
        tr(
            "✅ Payment %(number)s received: %(amount)s",
            number=invoice.number,
            amount=money(invoice.amount, invoice.currency),
        ),
    )


def register(bot: TeleBot) -> None:
    bot.register_message_handler(
        payments_menu, func=lambda m: is_button(m, texts.MENU_PAYMENTS), content_types=["text"], pass_bot=True
    )
    bot.register_callback_query_handler(pay, func=PAY.matches, pass_bot=True)
