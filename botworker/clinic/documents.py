"""📄 Documents: an appointment ticket, a certificate of visit or the yearly tax certificate, as a PDF
sent into the chat with a signed download link valid 48 hours."""

from __future__ import annotations

import io
import uuid

from telebot import TeleBot, types

from botworker.clinic import texts
from botworker.clinic.base import (
    answer_stale,
    callback_parts,
    current_patient,
    inline,
    is_button,
    lang,
    refuse,
    require_patient,
    tr,
)
from webapp.clinic.models import VISITED, Appointment, Document
from webapp.clinic.services import booking, documents
from webapp.clinic.services.common import default_clinic, zone
from webapp.clinic.services.render import date_text, local_time
from webapp.core.services import ServiceError
from webapp.extensions import db

RECENT_VISITS = 10


def _choose_appointment(appointments: list[Appointment], action: str) -> types.InlineKeyboardMarkup:
    rows = []
    for appointment in appointments:
        local = local_time(appointment)
        label = f"#{appointment.id} {date_text(local)} {local:%H:%M} — {appointment.service.display_name(lang())}"
        rows.append([(label[:60], f"cl:doc:{action}:{appointment.id}")])
    return inline(rows)


def register(bot: TeleBot) -> None:
    @bot.message_handler(func=lambda m: is_button(m, texts.MENU_DOCUMENTS), content_types=["text"])
    def documents_menu(message: types.Message) -> None:
        if require_patient(bot, message.chat.id) is None:
            return
        bot.delete_state(message.from_user.id, message.chat.id)
        rows = [
            [(tr("🎫 Appointment ticket"), "cl:doc:list:t")],
            [(tr("📄 Certificate of visit"), "cl:doc:list:v")],
            [(tr("🧾 Tax deduction certificate"), "cl:doc:tax")],
        ]
        # Documents whose 48-hour link is still valid can be fetched again without regenerating them.
        ready = documents.list_documents(current_patient())[:RECENT_VISITS]
        tz = zone(default_clinic().timezone) if ready else None
        rows += [[(f"📎 {d.title} · {d.generated_at.astimezone(tz):%d.%m %H:%M}", f"cl:doc:get:{d.id}")] for d in ready]
        bot.send_message(message.chat.id, tr("Choose the type of document:"), reply_markup=inline(rows))

    @bot.callback_query_handler(func=lambda c: (c.data or "").startswith("cl:doc:"))
    def document_step(call: types.CallbackQuery) -> None:
        patient = current_patient()
        parts = callback_parts(call, "cl:doc:")
        if patient is None or not parts:
            answer_stale(bot, call)
            return
        chat_id = call.message.chat.id
        if parts[0] == "list":
            if parts[1:] == ["t"]:
                choices = booking.patient_appointments(patient, upcoming_only=True)[:RECENT_VISITS]
            else:
                choices = [a for a in booking.patient_appointments(patient) if a.status in VISITED][:RECENT_VISITS]
            bot.answer_callback_query(call.id)
            if not choices:
                bot.send_message(chat_id, tr("There are no suitable appointments."))
                return
            action = "t" if parts[1:] == ["t"] else "v"
            bot.send_message(chat_id, tr("Choose the appointment:"), reply_markup=_choose_appointment(choices, action))
            return
        kinds = {"t": "ticket", "v": "visit", "tax": "tax"}
        try:
            if parts[0] == "get":
                document = db.session.get(Document, uuid.UUID(parts[1]))
                if document is None or document.patient_id != patient.id:
                    raise KeyError(parts[1])
            else:
                kind = kinds[parts[0]]
                appointment_id = int(parts[1]) if kind != "tax" else None
                document = documents.generate_document(patient, kind, appointment_id=appointment_id)
            link = documents.download_url(document)
        except (KeyError, IndexError, ValueError):
            answer_stale(bot, call)
            return
        except ServiceError:
            refuse(bot, call, tr("This document cannot be prepared for this appointment."))
            return
        bot.answer_callback_query(call.id)
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
