"""📄 Documents: an appointment ticket, a certificate of visit or the yearly tax certificate, as a PDF
sent into the chat with a signed download link valid 48 hours."""

from __future__ import annotations

import io

from telebot import TeleBot, types

from botworker.clinic import texts
from botworker.clinic.base import (
    DOCUMENT,
    _,
    answer_stale,
    current_patient,
    inline,
    is_button,
    lang,
    refused,
    require_patient,
    tr,
)
from webapp.clinic.models import VISITED, Appointment
from webapp.clinic.services import booking, documents
from webapp.clinic.services.common import default_clinic, zone
from webapp.clinic.services.render import date_text, local_time
from webapp.core.services import ServiceError

RECENT_VISITS = 10
KINDS = {"t": "ticket", "v": "visit", "tax": "tax"}


def _choose_appointment(appointments: list[Appointment], action: str) -> types.InlineKeyboardMarkup:
    rows = []
    for appointment in appointments:
        local = local_time(appointment)
        label = f"#{appointment.id} {date_text(local)} {local:%H:%M} — {appointment.service.display_name(lang())}"
        rows.append([(label[:60], DOCUMENT.new(action, appointment.id))])
    return inline(rows)


def documents_menu(message: types.Message, bot: TeleBot) -> None:
    if require_patient(bot, message.chat.id) is None:
        return
    bot.delete_state(message.from_user.id, message.chat.id)
    rows = [
        [(tr("🎫 Appointment ticket"), DOCUMENT.new("list", "t"))],
        [(tr("📄 Certificate of visit"), DOCUMENT.new("list", "v"))],
        [(tr("🧾 Tax deduction certificate"), DOCUMENT.new("tax"))],
    ]
    # Documents whose 48-hour link is still valid can be fetched again without regenerating them.
    ready = documents.list_documents(current_patient())[:RECENT_VISITS]
    tz = zone(default_clinic().timezone) if ready else None
    rows += [
        [(f"📎 {d.title} · {d.generated_at.astimezone(tz):%d.%m %H:%M}", DOCUMENT.new("get", d.id))] for d in ready
    ]
    bot.send_message(message.chat.id, tr("Choose the type of document:"), reply_markup=inline(rows))


def list_appointments(bot: TeleBot, call: types.CallbackQuery, patient, parts: list[str]) -> None:
    """cl:doc:list:t (upcoming, for a ticket) or cl:doc:list:v (visited, for a certificate)."""
    tickets = parts[1:] == ["t"]
    if tickets:
        choices = booking.patient_appointments(patient, upcoming_only=True)[:RECENT_VISITS]
    else:
        choices = [a for a in booking.patient_appointments(patient) if a.status in VISITED][:RECENT_VISITS]
    bot.answer_callback_query(call.id)
    chat_id = call.message.chat.id
    if not choices:
        bot.send_message(chat_id, tr("There are no suitable appointments."))
        return
    markup = _choose_appointment(choices, "t" if tickets else "v")
    bot.send_message(chat_id, tr("Choose the appointment:"), reply_markup=markup)


def send_document(bot: TeleBot, call: types.CallbackQuery, patient, parts: list[str]) -> None:
    """An earlier document again (cl:doc:get:<id>), or a new one of a kind (ticket, visit, tax)."""
    try:
        if parts[0] == "get":
            document = documents.patient_document(patient, parts[1])
        else:
            kind = KINDS[parts[0]]
            appointment_id = int(parts[1]) if kind != "tax" else None
            document = documents.generate_document(patient, kind, appointment_id=appointment_id)
        link = documents.download_url(document)
    except (KeyError, IndexError, ValueError):
        answer_stale(bot, call)
        return
    except ServiceError as exc:
        if parts[0] == "get":  # not theirs, or gone
            answer_stale(bot, call)
            return
        raise refused(_("This document cannot be prepared for this appointment."), exc) from exc
    bot.answer_callback_query(call.id)
    chat_id = call.message.chat.id
    bot.send_document(
        chat_id,
        types.InputFile(io.BytesIO(documents.read_content(document)), file_name=document.filename),
        caption=document.title,
    )
    timezone = document.appointment.timezone if document.appointment else default_clinic().timezone
    expires = document.expires_at.astimezone(zone(timezone))
    bot.send_message(
        chat_id,
        tr("Download link (valid until %(when)s):\n%(url)s", when=f"{expires:%d.%m.%Y %H:%M}", url=link),
    )


def document_step(call: types.CallbackQuery, bot: TeleBot) -> None:
    patient = current_patient()
    parts = DOCUMENT.parts(call)
    if patient is None or not parts or not parts[0]:
        answer_stale(bot, call)
        return
    step = list_appointments if parts[0] == "list" else send_document
    step(bot, call, patient, parts)


def register(bot: TeleBot) -> None:
    bot.register_message_handler(
        documents_menu, func=lambda m: is_button(m, texts.MENU_DOCUMENTS), content_types=["text"], pass_bot=True
    )
    bot.register_callback_query_handler(document_step, func=DOCUMENT.matches, pass_bot=True)
