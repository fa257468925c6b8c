"""Who may see and do what in the clinic: the one place the API, the console, the bot and jobs ask.

Actors:
- ``SYSTEM``: the platform acting for a patient — the clinic bot's service token (seed 002), the bot
  worker's handlers, jobs. It reaches every row, as seed 002 requires.
- a doctor (role ``doctor`` exactly): their own schedule, their own appointments, and their own
  patients — patients with an appointment with them. A doctor account with no doctor record has
  nothing.
- other staff that reach the clinic (admin and, by rank, moderator and superuser): everything.
  The organization filter of issue 12 joins here, in ``_confine``, for every model at once.

``scope(query, actor)`` narrows a select (or a Flask-Admin query) over one of the clinic's models;
``can_read(actor, obj)`` and the ``can_<verb>`` functions answer for one object. Whatever an actor may
not reach is "not found" to them, never "forbidden": ``not_found`` makes that error.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from webapp.clinic.models import (
    Appointment,
    Doctor,
    DoctorDayOff,
    DoctorSchedule,
    Document,
    Feedback,
    Invoice,
    Patient,
    ReminderLog,
    SupportTicket,
)
from webapp.core.actors import SYSTEM, Actor
from webapp.core.models import User
from webapp.core.roles import Role
from webapp.core.services import ServiceError
from webapp.extensions import db

NOWHERE = -1  # a doctor account without a doctor record matches no row

# Rows reached through their patient, and rows reached through their doctor.
BY_PATIENT = (Patient, Invoice, Document, Feedback, SupportTicket)
BY_DOCTOR = (Appointment, Doctor, DoctorSchedule, DoctorDayOff)


def is_doctor(actor: Actor | None) -> bool:
    """Doctors are confined to their own schedule; admins (and higher ranks) are not."""
    return isinstance(actor, User) and actor.role == Role.DOCTOR.value


def own_doctor(actor: Actor | None) -> Doctor | None:
    """The doctor record of a staff account."""
    if not isinstance(actor, User) or actor.id is None:
        return None
    return db.session.scalar(sa.select(Doctor).where(Doctor.user_id == actor.id))


def _own_doctor_id(actor: User) -> int:
    doctor = own_doctor(actor)
    return doctor.id if doctor is not None else NOWHERE


def _patients_of(doctor_id: int):
    """Ids of the doctor's patients: those with an appointment (any status) with them."""
    return sa.select(Appointment.patient_id).where(Appointment.doctor_id == doctor_id)


def _doctor_column(model) -> Any:
    return model.id if model is Doctor else model.doctor_id


def _patient_column(model) -> Any:
    return model.id if model is Patient else model.patient_id


def _confine(query, actor: Actor, model):
    if actor is SYSTEM or not is_doctor(actor):
        return query
    doctor_id = _own_doctor_id(actor)
    if model in BY_DOCTOR:
        return query.filter(_doctor_column(model) == doctor_id)
    if model in BY_PATIENT:
        return query.filter(_patient_column(model).in_(_patients_of(doctor_id)))
    if model is ReminderLog:
        return query.filter(
            ReminderLog.appointment_id.in_(sa.select(Appointment.id).where(Appointment.doctor_id == doctor_id))
        )
    return query  # the directory (clinics, branches, services, FAQ) is what every patient sees


def scope(query, actor: Actor, model=None):
    """``query`` (a select or a Flask-Admin query over one clinic model) narrowed to what ``actor``
    reaches. ``model`` defaults to the query's first entity; a count query names it."""
    return _confine(query, actor, model or query.column_descriptions[0]["entity"])


def can_read(actor: Actor, obj) -> bool:
    """Whether ``actor`` reaches this one clinic object (the same rule as ``scope``)."""
    if obj is None:
        return False
    if actor is SYSTEM or not is_doctor(actor):
        return True
    model = type(obj)
    query = scope(sa.select(model.id).where(model.id == obj.id), actor)
    return bool(db.session.scalar(sa.select(query.exists())))


# Doctors change what they read: their own appointments and their own patients' records.
can_change = can_read


def can_book(actor: Actor, patient: Patient, doctor: Doctor) -> bool:
    """Booking: a doctor books only into their own schedule, and only their own patients (follow-ups)."""
    if actor is SYSTEM or not is_doctor(actor):
        return True
    return doctor.user_id == actor.id and can_read(actor, patient)


def can_register_patients(actor: Actor) -> bool:
    """Creating or rewriting a patient from a Telegram account is the bot's (and the clinic admin's) job."""
    return actor is SYSTEM or not is_doctor(actor)


def not_found(what: str, field: str | None = None) -> ServiceError:
    return ServiceError(f"{what} not found", 404, "NOT_FOUND", field)


def require(allowed: bool, what: str, field: str | None = None) -> None:
    if not allowed:
        raise not_found(what, field)
