"""📋 My appointments: the upcoming ones, each with reschedule / cancel / ticket buttons."""

from __future__ import annotations

from telebot import TeleBot, types

from botworker.clinic import texts
from botworker.clinic.base import (
    CANCEL,
    answer_stale,
    appointment_action,
    appointment_keyboard,
    inline,
    is_button,
    lang,
    refused,
    require_patient,
    tr,
)
from webapp.clinic.services import booking
from webapp.clinic.services.render import appointment_details
from webapp.core.services import ServiceError

SHOWN = 10


def my_appointments(message: types.Message, bot: TeleBot) -> None:
    """📋 The upcoming appointments, each with its buttons."""
    patient = require_patient(bot, message.chat.id)
    if patient is None:
        return
    bot.delete_state(message.from_user.id, message.chat.id)
    upcoming = booking.patient_appointments(patient, upcoming_only=True)[:SHOWN]
    if not upcoming:
        bot.send_message(message.chat.id, tr("You have no appointments"))
        return
    bot.send_message(message.chat.id, tr("Your appointments:"))
    for appointment in upcoming:
        bot.send_message(
            message.chat.id,
            appointment_details(appointment, lang()),
            reply_markup=appointment_keyboard(appointment),
        )


def cancel(call: types.CallbackQuery, bot: TeleBot) -> None:
    """❌ Cancel: ask, then cancel ("ok") or keep ("no")."""
    found = appointment_action(call, CANCEL)
    if found is None:
        answer_stale(bot, call)
        return
    action, appointment, _ = found
    chat_id, message_id = call.message.chat.id, call.message.message_id
    if action == "ask":
        bot.answer_callback_query(call.id)
        markup = inline(
            [
                [(tr("Yes, cancel it"), CANCEL.new("ok", appointment.id))],
                [(tr("No, keep it"), CANCEL.new("no", appointment.id))],
            ]
        )
        bot.edit_message_text(
            appointment_details(appointment, lang()) + "\n\n" + tr("Cancel this appointment?"),
            chat_id,
            message_id,
            reply_markup=markup,
        )
        return
    if action == "ok":
        try:
            booking.cancel_appointment(appointment, source="bot", telegram_user_id=call.from_user.id)
        except ServiceError as exc:
            raise refused(_("This appointment can no longer be cancelled: it has started or is over."), exc) from exc
        bot.answer_callback_query(call.id)
        bot.edit_message_text(
            appointment_details(appointment, lang()) + "\n\n" + tr("Appointment cancelled"), chat_id, message_id
        )
        return
    bot.answer_callback_query(call.id)
    bot.edit_message_text(
        appointment_details(appointment, lang()),
        chat_id,
        message_id,
        reply_markup=appointment_keyboard(appointment),
    )


def register(bot: TeleBot) -> None:
    bot.register_message_handler(
        my_appointments, func=lambda m: is_button(m, texts.MENU_MY), content_types=["text"], pass_bot=True
    )
    bot.register_callback_query_handler(cancel, func=CANCEL.matches, pass_bot=True)
