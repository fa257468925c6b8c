"""NPS feedback, the FAQ and clinic support tickets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError

from webapp.clinic.access import faq_shown
from webapp.clinic.models import VISITED, Faq, Feedback, Patient, SupportTicket, TicketStatus
from webapp.clinic.services import clock
from webapp.clinic.services.booking import get_patient_appointment
from webapp.clinic.services.common import bot_audit
from webapp.core import tenancy
from webapp.core.models import User
from webapp.core.services import ServiceError, record_audit
from webapp.extensions import db


def record_feedback(
    patient: Patient,
    appointment_id: int,
    score: int,
    comment: str | None = None,
    *,
    source: str = "bot",
    telegram_user_id: int | None = None,
) -> Feedback:
    """One NPS answer (0–10) per visit that took place."""
    if not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 10:
        raise ServiceError("Score must be an integer from 0 to 10", 422, "VALIDATION_ERROR", "score")
    appointment = get_patient_appointment(patient, appointment_id)
    if appointment.status not in VISITED:
        raise ServiceError("Feedback is collected after a visit", 409, "NOT_VISITED", "appointment_id")
    if db.session.scalar(db.select(Feedback.id).filter_by(appointment_id=appointment.id)) is not None:
        raise ServiceError("Feedback for this visit is already recorded", 409, "ALREADY_RATED", "appointment_id")
    feedback = Feedback(
        appointment=appointment, patient=patient, score=score, comment=(comment or "").strip()[:2000] or None
    )
    db.session.add(feedback)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise ServiceError(
            "Feedback for this visit is already recorded", 409, "ALREADY_RATED", "appointment_id"
        ) from exc
    bot_audit("feedback", patient, telegram_user_id, source, appointment_id=appointment.id, score=score)
    return feedback


def add_feedback_comment(feedback: Feedback, comment: str) -> Feedback:
    feedback.comment = (comment or "").strip()[:2000] or None
    return feedback


def list_faq(organization_id: int | None) -> list[Faq]:
    """The FAQ a clinic bot of ``organization_id`` shows: the organization's own entries, then the platform's."""
    return list(db.session.scalars(faq_shown(organization_id)))


def create_ticket(
    patient: Patient | None,
    subject: str,
    message: str,
    *,
    telegram_user_id: int | None = None,
    source: str = "bot",
) -> SupportTicket:
    subject = " ".join((subject or "").split())
    message = (message or "").strip()
    if not subject or len(subject) > 200:
        raise ServiceError("Subject must be 1 to 200 characters", 422, "VALIDATION_ERROR", "subject")
    if not message or len(message) > 4000:
        raise ServiceError("Message must be 1 to 4000 characters", 422, "VALIDATION_ERROR", "message")
    ticket = SupportTicket(patient=patient, telegram_user_id=telegram_user_id, subject=subject, message=message)
    db.session.add(ticket)
    db.session.flush()
    bot_audit("support.ticket", patient, telegram_user_id, source, ticket_id=ticket.id)
    return ticket


def close_ticket(ticket: SupportTicket, now: datetime | None = None) -> SupportTicket:
    if ticket.status == TicketStatus.CLOSED.value:
        raise ServiceError("The ticket is already closed", 409, "INVALID_TRANSITION", "status")
    ticket.status = TicketStatus.CLOSED.value
    ticket.resolved_at = clock.resolve(now)
    return ticket


def patient_feedback(patient: Patient | None, feedback_id: int | None) -> Feedback | None:
    """The patient's own feedback row ``feedback_id`` (None for anyone else's or a missing one)."""
    feedback = db.session.get(Feedback, feedback_id) if feedback_id is not None else None
    if feedback is None or patient is None or feedback.patient_id != patient.id:
        return None
    return feedback


def update_support_ticket(
    actor: User | None,
    ticket: SupportTicket,
    *,
    status: str,
    assigned_to: User | None,
    source: str = "console",
    now: datetime | None = None,
) -> SupportTicket:
    """Staff move a patient's support ticket (open, in progress, closed: closing stamps it resolved,
    reopening clears that) and assign it to a colleague of the patient's organization; audited.
    Flushes only."""
    if status not in {s.value for s in TicketStatus}:
        raise ServiceError("Unknown status", 422, "VALIDATION_ERROR", "status")
    organization_id = ticket.patient.organization_id if ticket.patient is not None else None
    if assigned_to is not None and (
        organization_id is None or tenancy.organization_id_of(assigned_to) != organization_id
    ):
        raise ServiceError("Assign the ticket to a colleague of the clinic", 422, "VALIDATION_ERROR", "assigned_to")
    old, new = [], []
    if status != ticket.status:
        old.append(f"status: {ticket.status}")
        new.append(f"status: {status}")
        ticket.status = status
        ticket.resolved_at = clock.resolve(now) if status == TicketStatus.CLOSED.value else None
    assignee_id = assigned_to.id if assigned_to is not None else None
    if assignee_id != ticket.assigned_to_id:
        old.append(f"assigned_to: {ticket.assigned_to_id or ''}")
        new.append(f"assigned_to: {assignee_id or ''}")
        ticket.assigned_to = assigned_to
    db.session.flush()
    if new:
        record_audit(
            actor, "support_ticket.update", "support_ticket", ticket.id, "; ".join(old), "; ".join(new), source
        )
    return ticket
