"""What the periodic scans owe patients right now: reminders D-1 / H-3 / H-1, the "did you arrive?"
check 5 minutes after the start, the NPS request 2 hours after the visit.

The database is the source of truth: a scan reads live appointments, works out what is due at
``now`` in the clinic's time zone, and ``queue`` claims a unique ReminderLog row (appointment, kind,
start time) and writes the message into the outbox in the same transaction — so two racing scans or
a retried job write each message once, and the outbox's one job delivers it. The log stays the
scans' memory of what is done (and the console's view of it): ``claimed`` means handed to the outbox.
Cancelled appointments are simply never due; a rescheduled one has a new start time, so its
reminders are due again for that time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from webapp.clinic.models import (
    VISITED,
    Appointment,
    AppointmentStatus,
    Feedback,
    ReminderKind,
    ReminderLog,
    ReminderState,
)
from webapp.clinic.services import clock
from webapp.clinic.services.common import t, zone
from webapp.clinic.services.notify import patient_chat
from webapp.clinic.services.render import local_time, time_text
from webapp.core.db import insert_missing
from webapp.extensions import db
from webapp.telegram import outbox

K = ReminderKind
UPCOMING = (AppointmentStatus.BOOKED.value, AppointmentStatus.CONFIRMED.value)
ARRIVAL_DELAY = timedelta(minutes=5)
NPS_DELAY = timedelta(hours=2)
NPS_MAX_AGE = timedelta(days=3)  # after a long outage, do not ask about a visit a week ago
# Callback data of the buttons these messages carry (the bot's handlers parse them).
ARRIVED_CALLBACK = "cl:arr"
NPS_CALLBACK = "cl:nps"


@dataclass(frozen=True)
class Due:
    appointment_id: int
    kind: ReminderKind
    starts_at: datetime
    due_at: datetime


def reminder_times(appointment: Appointment) -> list[tuple[ReminderKind, datetime]]:
    """When D-1, H-3 and H-1 fall due. D-1 is the same wall-clock time the day before, in the clinic's zone."""
    tz = zone(appointment.timezone)
    local = appointment.starts_at.astimezone(tz).replace(tzinfo=None)
    day_before = (local - timedelta(days=1)).replace(tzinfo=tz).astimezone(UTC)
    return [
        (K.DAY_BEFORE, day_before),
        (K.THREE_HOURS, appointment.starts_at - timedelta(hours=3)),
        (K.ONE_HOUR, appointment.starts_at - timedelta(hours=1)),
    ]


def _logged(appointment_ids: list[int], kinds: tuple[ReminderKind, ...]) -> set[tuple[int, str, datetime]]:
    if not appointment_ids:
        return set()
    rows = db.session.execute(
        db.select(ReminderLog.appointment_id, ReminderLog.kind, ReminderLog.starts_at).where(
            ReminderLog.appointment_id.in_(appointment_ids), ReminderLog.kind.in_([k.value for k in kinds])
        )
    ).tuples()
    return {(a, k, s) for a, k, s in rows}


def due_reminders(now: datetime | None = None) -> list[Due]:
    """Reminders to send now. Only the latest one due is sent: a booking made 2 hours ahead gets
    H-1, not a late D-1 and H-3; reminders due before the time was booked are never sent."""
    now = clock.resolve(now)
    appointments = db.session.scalars(
        db.select(Appointment).where(
            Appointment.status.in_(UPCOMING),
            Appointment.starts_at > now,
            # D-1 by wall clock can be up to a day plus a DST shift ahead.
            Appointment.starts_at <= now + timedelta(days=1, hours=3),
        )
    ).all()
    logged = _logged([a.id for a in appointments], (K.DAY_BEFORE, K.THREE_HOURS, K.ONE_HOUR))
    found = []
    for appointment in appointments:
        eligible = [(due, kind) for kind, due in reminder_times(appointment) if appointment.booked_at <= due <= now]
        if not eligible:
            continue
        due_at, kind = max(eligible)
        if (appointment.id, kind.value, appointment.starts_at) not in logged:
            found.append(Due(appointment.id, kind, appointment.starts_at, due_at))
    return found


def due_arrival_checks(now: datetime | None = None) -> list[Due]:
    """ "Вы пришли?" for appointments started 5+ minutes ago, not marked arrived, not yet over."""
    now = clock.resolve(now)
    appointments = db.session.scalars(
        db.select(Appointment).where(
            Appointment.status.in_(UPCOMING),
            Appointment.starts_at <= now - ARRIVAL_DELAY,
            Appointment.starts_at > now - timedelta(days=1),
            Appointment.ends_at > now,
        )
    ).all()
    logged = _logged([a.id for a in appointments], (K.ARRIVED_CHECK,))
    return [
        Due(a.id, K.ARRIVED_CHECK, a.starts_at, a.starts_at + ARRIVAL_DELAY)
        for a in appointments
        if (a.id, K.ARRIVED_CHECK.value, a.starts_at) not in logged
    ]


def due_feedback_requests(now: datetime | None = None) -> list[Due]:
    """NPS requests 2 hours after a visit that took place and has no feedback yet."""
    now = clock.resolve(now)
    appointments = db.session.scalars(
        db.select(Appointment).where(
            Appointment.status.in_(VISITED),
            Appointment.ends_at <= now - NPS_DELAY,
            # A visit may be marked completed some days after it ended; the due time below decides.
            Appointment.ends_at > now - NPS_MAX_AGE - timedelta(days=7),
            Appointment.id.not_in(db.select(Feedback.appointment_id).where(Feedback.appointment_id.is_not(None))),
        )
    ).all()
    logged = _logged([a.id for a in appointments], (K.NPS,))
    found = []
    for appointment in appointments:
        due_at = max(appointment.ends_at, appointment.completed_at or appointment.ends_at) + NPS_DELAY
        if due_at <= now < due_at + NPS_MAX_AGE and (appointment.id, K.NPS.value, appointment.starts_at) not in logged:
            found.append(Due(appointment.id, K.NPS, appointment.starts_at, due_at))
    return found


def claim(due: Due, now: datetime | None = None) -> ReminderLog | None:
    """Take the right to send ``due``: a new log row, or None when another scan already took it."""
    key = {"appointment_id": due.appointment_id, "kind": due.kind.value, "starts_at": due.starts_at}
    values = {**key, "due_at": due.due_at, "state": ReminderState.CLAIMED.value, "claimed_at": clock.resolve(now)}
    if not insert_missing(ReminderLog, values, tuple(key)):
        return None
    return db.session.scalar(db.select(ReminderLog).filter_by(**key))


def reminder_key(due: Due) -> str:
    """The outbox dedupe key of one scan message."""
    return f"reminder:{due.appointment_id}:{due.kind.value}:{due.starts_at.astimezone(UTC).isoformat()}"


def queue(due: Due, now: datetime | None = None) -> ReminderLog | None:
    """Claim ``due`` and, when the patient has a reachable chat, write its message into the outbox in
    the same transaction (else the log says ``skipped``); None when another scan already claimed it."""
    entry = claim(due, now)
    if entry is None:
        return None
    appointment = db.session.get(Appointment, due.appointment_id)
    clinic = appointment.branch.clinic
    chat = patient_chat(appointment.patient, clinic)
    if chat is None:
        finish(entry, ReminderState.SKIPPED, error="no reachable Telegram chat")
        return entry
    text, markup = message_for(appointment, due.kind, appointment.patient.language)
    outbox.write(
        reminder_key(due),
        "clinic",
        chat,
        text,
        reply_markup=markup,
        organization_id=clinic.organization_id,
        subject=f"clinic_appointment:{appointment.id}",
    )
    return entry


def finish(
    entry: ReminderLog, state: ReminderState, *, message_id: int | None = None, error: str | None = None
) -> None:
    entry.state = state.value
    entry.message_id = message_id
    entry.error = (error or "")[:300] or None
    if state == ReminderState.SENT:
        entry.sent_at = clock.now()


# --- the messages ----------------------------------------------------------------------------------


def _place(appointment: Appointment, language: str) -> dict[str, str]:
    branch = appointment.branch
    return {
        "time": time_text(local_time(appointment)),
        "service": appointment.service.display_name(language),
        "doctor": appointment.doctor.full_name,
        "address": ", ".join(p for p in (branch.name, branch.address) if p),
    }


_PLACE = "\n\n🏥 %(service)s\n👨‍⚕️ %(doctor)s\n📍 %(address)s"
REMINDER_TEXTS = {
    K.DAY_BEFORE: "🔔 Reminder: tomorrow at %(time)s you have an appointment." + _PLACE,
    K.THREE_HOURS: "🔔 Reminder: your appointment is in 3 hours, at %(time)s." + _PLACE,
    K.ONE_HOUR: "🔔 Your appointment is in 1 hour, at %(time)s." + _PLACE,
    K.ARRIVED_CHECK: "Have you arrived? Your appointment with %(doctor)s started at %(time)s.",
    K.NPS: "Rate your visit from 0 to 10:",
}


def _buttons(rows: list[list[tuple[str, str]]]) -> dict:
    return {"inline_keyboard": [[{"text": text, "callback_data": data} for text, data in row] for row in rows]}


def message_for(appointment: Appointment, kind: ReminderKind, language: str) -> tuple[str, dict | None]:
    """The text and inline keyboard (a Bot API dict) of one scan message."""
    text = t(language, REMINDER_TEXTS[kind], **_place(appointment, language))
    if kind == K.ARRIVED_CHECK:
        data = f"{ARRIVED_CALLBACK}:{appointment.id}"
        markup = _buttons(
            [[(t(language, "✅ Yes, I am here"), f"{data}:y"), (t(language, "❌ No, I cannot come"), f"{data}:n")]]
        )
        return text, markup
    if kind == K.NPS:
        data = f"{NPS_CALLBACK}:{appointment.id}"
        scores = [(str(n), f"{data}:{n}") for n in range(11)]
        return text, _buttons([scores[:6], scores[6:]])
    return text, None
