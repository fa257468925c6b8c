"""What every clinic handler shares: who the patient is, their language, the main menu, replies."""

from __future__ import annotations

import logging
from functools import cache

from flask import g
from telebot import TeleBot, types

from botworker.callbacks import Callback
from botworker.clinic import texts
from botworker.context import current_bot, current_user, user_language
from webapp.clinic.models import Appointment, AppointmentStatus, Patient
from webapp.clinic.services.common import clinic_language, t
from webapp.clinic.services.patients import bot_organization_id, patient_for_user
from webapp.core.services import ServiceError

log = logging.getLogger("botworker.clinic")
NOOP = "cl:noop"
# The buttons of an appointment, shared by its card, the booking flow and the documents.
RESCHEDULE = Callback("cl:rs")  # cl:rs:<step>:<appointment>[:<day, month or start>]
CANCEL = Callback("cl:ca")  # cl:ca:<ask|ok|no>:<appointment>
DOCUMENT = Callback("cl:doc")  # cl:doc:list:<t|v>, cl:doc:<t|v>:<appointment>, cl:doc:tax, cl:doc:get:<id>


def organization_id() -> int:
    """The clinic organization this bot registers patients for (and books them into)."""
    if "clinic_organization_id" not in g:
        g.clinic_organization_id = bot_organization_id(current_bot())
    return g.clinic_organization_id


def current_patient() -> Patient | None:
    """The registered patient behind this update's Telegram user at this bot's organization (None
    before registration there)."""
    if "clinic_patient" not in g:
        g.clinic_patient = patient_for_user(current_user(), organization_id())
    return g.clinic_patient


def lang() -> str:
    patient = current_patient()
    return patient.language if patient is not None else clinic_language(user_language())


def tr(message: str, **params) -> str:
    return t(lang(), message, **params)


@cache
def button_labels(message: str) -> frozenset[str]:
    return frozenset(texts.labels(message))


def is_button(message: types.Message, label: str) -> bool:
    return message.content_type == "text" and message.text in button_labels(label)


def main_menu(language: str) -> types.ReplyKeyboardMarkup:
    markup = types.ReplyKeyboardMarkup(resize_keyboard=True)
    items = [t(language, label) for label in texts.MENU]
    for index in range(0, len(items), 2):
        markup.row(*items[index : index + 2])
    return markup


def inline(rows: list[list[tuple[str, str]]]) -> types.InlineKeyboardMarkup:
    markup = types.InlineKeyboardMarkup()
    for row in rows:
        markup.row(*(types.InlineKeyboardButton(text, callback_data=data) for text, data in row))
    return markup


def back_keyboard(*extra_rows: list[types.KeyboardButton | str]) -> types.ReplyKeyboardMarkup:
    markup = types.ReplyKeyboardMarkup(resize_keyboard=True)
    for row in extra_rows:
        markup.row(*row)
    markup.row(tr(texts.BACK))
    return markup


def require_patient(bot: TeleBot, chat_id: int) -> Patient | None:
    """The patient, or None after telling an unregistered user to register first."""
    patient = current_patient()
    if patient is None:
        bot.send_message(chat_id, tr("You are not registered. Use /start to register"))
    return patient


def _(message: str) -> str:
    """Marks a clinic msgid for extraction (``refused``'s messages); it is translated where shown."""
    return message


def refused(message: str, exc: ServiceError) -> ServiceError:
    """What the rules refused, in the clinic's words (``message`` is an English msgid of the clinic
    catalog). Raised, the update's boundary rolls back what the handler began and tells the user in
    their language (an alert on a button press)."""
    return ServiceError(message, exc.status, exc.code, exc.field)


def appointment_keyboard(appointment: Appointment) -> types.InlineKeyboardMarkup | None:
    """Reschedule / cancel / ticket buttons of a live appointment (none once it has started or ended)."""
    if appointment.status not in (AppointmentStatus.BOOKED.value, AppointmentStatus.CONFIRMED.value):
        return None
    key = appointment.id
    return inline(
        [
            [(tr("🔁 Reschedule"), RESCHEDULE.new("go", key)), (tr("❌ Cancel appointment"), CANCEL.new("ask", key))],
            [(tr("🎫 Ticket (PDF)"), DOCUMENT.new("t", key))],
        ]
    )


def appointment_action(call: types.CallbackQuery, kind: Callback) -> tuple[str, Appointment, list[str]] | None:
    """``<kind>:<action>:<appointment id>[:more]`` pressed by the appointment's own patient, else None."""
    from webapp.clinic.services.booking import get_patient_appointment
    from webapp.core.services import ServiceError

    parts = kind.parts(call)
    patient = current_patient()
    if patient is None or len(parts) < 2:
        return None
    try:
        return parts[0], get_patient_appointment(patient, int(parts[1])), parts[2:]
    except (ValueError, ServiceError):
        return None


def answer_stale(bot: TeleBot, call: types.CallbackQuery) -> None:
    bot.answer_callback_query(call.id, tr("This button is no longer active."))
