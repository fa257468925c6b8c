"""Booking, rescheduling and the appointment state machine.

booked → confirmed → arrived → completed; booked/confirmed → cancelled (only before the start);
booked/confirmed → no_show (only after the start). One function per transition; each refuses an
illegal move with ServiceError(409).

Double booking is refused twice over: the doctor's row is locked (PostgreSQL) before the free
slots are read, and a partial unique index on (doctor_id, starts_at) over slot-holding statuses
rejects a second live booking of one start time whatever happens above it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from webapp.clinic.models import (
    SLOT_FREEING,
    Appointment,
    AppointmentStatus,
    Branch,
    Doctor,
    Patient,
    Service,
)
from webapp.clinic.services import clock
from webapp.clinic.services.common import booking_horizon_days, bot_audit
from webapp.clinic.services.directory import doctor_offers
from webapp.clinic.services.slots import find_slot
from webapp.clinic.services.visits import refresh_visit_summary
from webapp.core.services import ServiceError
from webapp.extensions import db

S = AppointmentStatus
RECENT_PAST = timedelta(days=30)


def _conflict(message: str, code: str, field: str | None = None) -> ServiceError:
    return ServiceError(message, 409, code, field)


def _lock_doctor(doctor_id: int) -> None:
    # Serialises bookings of one doctor on PostgreSQL; SQLite serialises writers by itself.
    db.session.execute(db.select(Doctor.id).where(Doctor.id == doctor_id).with_for_update())


def _check_patient_free(patient: Patient, start: datetime, end: datetime, exclude_id: int | None = None) -> None:
    query = db.select(Appointment.id).where(
        Appointment.patient_id == patient.id,
        Appointment.status.not_in(SLOT_FREEING),
        Appointment.starts_at < end,
        Appointment.ends_at > start,
    )
    if exclude_id is not None:
        query = query.where(Appointment.id != exclude_id)
    if db.session.scalar(query.limit(1)) is not None:
        raise _conflict("You already have an appointment at this time", "PATIENT_BUSY", "time")


def _check_slot(doctor: Doctor, starts_at: datetime, service: Service, branch_id: int, now: datetime, exclude_id=None):
    if starts_at <= now:
        raise _conflict("This time has already passed", "SLOT_IN_PAST", "time")
    if starts_at > now + timedelta(days=booking_horizon_days()):
        raise ServiceError("This date is too far ahead to book", 422, "BEYOND_HORIZON", "date")
    _lock_doctor(doctor.id)
    slot = find_slot(
        doctor, starts_at, service=service, branch_id=branch_id, now=now, exclude_appointment_id=exclude_id
    )
    if slot is None:
        raise _conflict("The doctor does not receive at this time", "NOT_A_SLOT", "time")
    if not slot.available:
        raise _conflict("This time is already taken", "SLOT_TAKEN", "time")
    return slot


def _flush_or_taken() -> None:
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise _conflict("This time is already taken", "SLOT_TAKEN", "time") from exc


def book_appointment(
    patient: Patient,
    doctor: Doctor,
    service: Service,
    branch: Branch,
    starts_at: datetime,
    *,
    notes: str | None = None,
    source: str = "bot",
    telegram_user_id: int | None = None,
    now: datetime | None = None,
) -> Appointment:
    now = clock.resolve(now)
    if doctor.clinic.organization_id != patient.organization_id:  # another organization's patient row
        raise ServiceError("Doctor not found", 404, "NOT_FOUND", "employee_id")
    reason = doctor_offers(doctor, service, branch)
    if reason:
        raise ServiceError(reason, 422, "NOT_OFFERED", "service_id")
    slot = _check_slot(doctor, starts_at, service, branch.id, now)
    _check_patient_free(patient, slot.starts_at, slot.ends_at)
    appointment = Appointment(
        patient=patient,
        doctor=doctor,
        service=service,
        branch=branch,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        status=S.BOOKED.value,
        price=service.price,
        notes=(notes or "").strip() or None,
        source=source,
        booked_at=now,
    )
    db.session.add(appointment)
    _flush_or_taken()
    refresh_visit_summary(appointment)
    bot_audit("appointment.book", patient, telegram_user_id, source, appointment_id=appointment.id)
    return appointment


def reschedule_appointment(
    appointment: Appointment,
    starts_at: datetime,
    *,
    source: str = "bot",
    telegram_user_id: int | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Move to another free slot of the same doctor and branch; the reminders re-arm for the new time."""
    now = clock.resolve(now)
    if appointment.status not in (S.BOOKED.value, S.CONFIRMED.value):
        raise _conflict(f"An appointment in status {appointment.status} cannot be rescheduled", "CANNOT_RESCHEDULE")
    if now >= appointment.starts_at:
        raise _conflict("An appointment cannot be rescheduled after it has started", "CANNOT_RESCHEDULE")
    if starts_at == appointment.starts_at:
        return appointment
    slot = _check_slot(
        appointment.doctor, starts_at, appointment.service, appointment.branch_id, now, exclude_id=appointment.id
    )
    _check_patient_free(appointment.patient, slot.starts_at, slot.ends_at, exclude_id=appointment.id)
    old = appointment.starts_at
    appointment.starts_at, appointment.ends_at = slot.starts_at, slot.ends_at
    appointment.booked_at = now
    appointment.rescheduled_count += 1
    if appointment.status == S.CONFIRMED.value:  # the patient confirmed the old time, not this one
        appointment.status = S.BOOKED.value
        appointment.confirmed_at = None
    _flush_or_taken()
    refresh_visit_summary(appointment)
    bot_audit(
        "appointment.reschedule",
        appointment.patient,
        telegram_user_id,
        source,
        appointment_id=appointment.id,
        old=old.isoformat(),
        new=slot.starts_at.isoformat(),
    )
    return appointment


def _move(
    appointment: Appointment,
    allowed: tuple[S, ...],
    target: S,
    now: datetime,
    *,
    before_start: bool = False,
    after_start: bool = False,
) -> None:
    if appointment.status not in {s.value for s in allowed}:
        raise _conflict(
            f"An appointment in status {appointment.status} cannot become {target.value}",
            "INVALID_TRANSITION",
            "status",
        )
    if before_start and now >= appointment.starts_at:
        raise _conflict(
            f"An appointment cannot become {target.value} after it has started", "INVALID_TRANSITION", "status"
        )
    if after_start and now < appointment.starts_at:
        raise _conflict(f"An appointment cannot become {target.value} before it starts", "INVALID_TRANSITION", "status")
    appointment.status = target.value
    refresh_visit_summary(appointment)


def confirm_appointment(appointment: Appointment, *, source: str = "bot", now: datetime | None = None) -> Appointment:
    now = clock.resolve(now)
    _move(appointment, (S.BOOKED,), S.CONFIRMED, now, before_start=True)
    appointment.confirmed_at = now
    bot_audit("appointment.confirm", appointment.patient, None, source, appointment_id=appointment.id)
    return appointment


def mark_arrived(appointment: Appointment, *, source: str = "bot", now: datetime | None = None) -> Appointment:
    now = clock.resolve(now)
    _move(appointment, (S.BOOKED, S.CONFIRMED), S.ARRIVED, now)
    appointment.arrived_at = now
    bot_audit("appointment.arrived", appointment.patient, None, source, appointment_id=appointment.id)
    return appointment


def mark_no_show(appointment: Appointment, *, source: str = "bot", now: datetime | None = None) -> Appointment:
    now = clock.resolve(now)
    _move(appointment, (S.BOOKED, S.CONFIRMED), S.NO_SHOW, now, after_start=True)
    appointment.no_show_at = now
    bot_audit("appointment.no_show", appointment.patient, None, source, appointment_id=appointment.id)
    return appointment


def complete_appointment(
    appointment: Appointment, *, source: str = "console", now: datetime | None = None, at: datetime | None = None
) -> Appointment:
    """Mark the visit done; ``at`` is when it ended (default: now)."""
    now = clock.resolve(now)
    _move(appointment, (S.BOOKED, S.CONFIRMED, S.ARRIVED), S.COMPLETED, now, after_start=True)
    appointment.completed_at = at or now
    bot_audit("appointment.complete", appointment.patient, None, source, appointment_id=appointment.id)
    return appointment


def cancel_appointment(
    appointment: Appointment,
    *,
    reason: str | None = None,
    source: str = "bot",
    telegram_user_id: int | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Cancel before the start. A pending prepayment fails, a paid one is refunded."""
    from webapp.clinic.services.payments import settle_cancelled_appointment

    now = clock.resolve(now)
    _move(appointment, (S.BOOKED, S.CONFIRMED), S.CANCELLED, now, before_start=True)
    appointment.cancelled_at = now
    appointment.cancel_reason = (reason or "").strip()[:300] or None
    settle_cancelled_appointment(appointment, now)
    db.session.flush()
    bot_audit("appointment.cancel", appointment.patient, telegram_user_id, source, appointment_id=appointment.id)
    return appointment


def complete_finished_visits(now: datetime | None = None) -> int:
    """Arrived visits whose time is over become completed (at their end time); returns how many."""
    now = clock.resolve(now)
    rows = db.session.scalars(
        db.select(Appointment).where(Appointment.status == S.ARRIVED.value, Appointment.ends_at <= now)
    ).all()
    for appointment in rows:
        complete_appointment(appointment, source="job", now=now, at=appointment.ends_at)
    return len(rows)


def patient_appointments(
    patient: Patient, now: datetime | None = None, upcoming_only: bool = False
) -> list[Appointment]:
    """The patient's appointments from 30 days ago on (seed 002's "my"), newest first; or only upcoming live ones."""
    now = clock.resolve(now)
    query = db.select(Appointment).where(Appointment.patient_id == patient.id)
    if upcoming_only:
        query = query.where(
            Appointment.ends_at > now, Appointment.status.in_((S.BOOKED.value, S.CONFIRMED.value, S.ARRIVED.value))
        ).order_by(Appointment.starts_at)
    else:
        query = query.where(Appointment.starts_at >= now - RECENT_PAST).order_by(Appointment.starts_at.desc())
    return list(db.session.scalars(query))


def get_patient_appointment(patient: Patient, appointment_id: int) -> Appointment:
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None or appointment.patient_id != patient.id:
        raise ServiceError("Appointment not found", 404, "NOT_FOUND", "appointment_id")
    return appointment
