"""💳 Payments: the balance, unpaid invoices with a demo "pay" button, the outcome of each payment."""

from __future__ import annotations

from telebot import TeleBot, types

from botworker.clinic import texts
from botworker.clinic.base import (
    answer_stale,
    callback_parts,
    current_patient,
    inline,
    is_button,
    refuse,
    require_patient,
    tr,
)
from webapp.clinic.models import Invoice, InvoiceStatus
from webapp.clinic.services import payments
from webapp.clinic.services.render import money
from webapp.core.services import ServiceError
from webapp.extensions import db

SHOWN = 10


def register(bot: TeleBot) -> None:
    @bot.message_handler(func=lambda m: is_button(m, texts.MENU_PAYMENTS), content_types=["text"])
    def payments_menu(message: types.Message) -> None:
        patient = require_patient(bot, message.chat.id)
        if patient is None:
            return
        bot.delete_state(message.from_user.id, message.chat.id)
        figures = payments.patient_balance(patient)
        unpaid = db.session.scalars(
            db.select(Invoice)
            .where(Invoice.patient_id == patient.id, Invoice.status == InvoiceStatus.PENDING.value)
            .order_by(Invoice.id)
            .limit(SHOWN)
        ).all()
        text = tr("Your balance: %(balance)s", balance=money(figures["balance"]))
        if not unpaid:
            bot.send_message(message.chat.id, text + "\n\n" + tr("You have no unpaid invoices."))
            return
        rows = [
            [
                (
                    tr("💳 Pay %(number)s — %(amount)s (demo)", number=i.number, amount=money(i.amount, i.currency)),
                    f"cl:pay:{i.id}",
                )
            ]
            for i in unpaid
        ]
        bot.send_message(message.chat.id, text + "\n\n" + tr("Unpaid invoices:"), reply_markup=inline(rows))

    @bot.callback_query_handler(func=lambda c: (c.data or "").startswith("cl:pay:"))
    def pay(call: types.CallbackQuery) -> None:
        patient = current_patient()
        try:
            invoice = db.session.get(Invoice, int(callback_parts(call, "cl:pay:")[0]))
        except (IndexError, ValueError):
            invoice = None
        if patient is None or invoice is None or invoice.patient_id != patient.id:
            answer_stale(bot, call)
            return
        try:
            payments.demo_provider_pay(invoice)
        except ServiceError:
            refuse(bot, call, tr("This payment is no longer possible."))
            return
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
