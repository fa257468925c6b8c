"""Who may see and do what in the clinic: the one place the API, the console, the bot and jobs ask.

Actors:
- ``SYSTEM``: the platform acting for a patient — the clinic bot's service token (seed 002), the bot
  worker's handlers, jobs. It reaches every row, as seed 002 requires; so does a superuser.
- an organization's admin: every clinic of their organization (issue 12) and what hangs off it.
- a doctor (role ``doctor`` exactly): inside their organization, their own schedule, their own
  appointments and their own patients — patients with an appointment with them. A doctor account
  with no doctor record has no appointment and no patient.
- anyone else — an organization's helper, realtor or marketer, the platform moderator, a customer,
  an account without a membership — reaches no clinical data at all.

What belongs to an organization (``_confine``): a clinic by its ``organization_id``; branches,
services and doctors through their clinic; schedules and days off through their doctor; an
appointment through its doctor's clinic; a patient by their own ``organization_id`` (a person
registered with two organizations is two patients, each organization's own); invoices,
documents, feedback and support tickets through their appointment's clinic when they name one,
else through their patient; reminder log rows through their appointment; the bot audit and
patient tags through their patient; an FAQ entry by its ``organization_id`` — an organization's
admin manages their organization's own entries, while the platform's general entries (no
organization) are the platform's (SYSTEM, superusers) to manage. What a clinic bot *shows* is wider
than what an admin manages: its organization's entries and then the platform's (``faq_shown``).

``scope(query, actor)`` narrows a select (or a Flask-Admin query) over one of the clinic's models;
``can_read(actor, obj)`` and the ``can_<verb>`` functions answer for one object. Whatever an actor may
not reach is "not found" to them, never "forbidden": ``not_found`` makes that error.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from webapp.clinic.models import (
    Appointment,
    BotAudit,
    Branch,
    Clinic,
    Doctor,
    DoctorDayOff,
    DoctorSchedule,
    Document,
    Faq,
    Feedback,
    Invoice,
    Patient,
    PatientTag,
    ReminderLog,
    Service,
    SupportTicket,
    VisitSummary,
)
from webapp.core.actors import SYSTEM, Actor
from webapp.core.models import Membership, User
from webapp.core.roles import Role
from webapp.core.services import ServiceError
from webapp.core.tenancy import (
    customer_source,
    declare_vertical,
    organization_id_of,
    organization_rule,
    sees_every_organization,
)
from webapp.extensions import db

NOWHERE = -1  # a doctor account without a doctor record matches no row

# The organization roles that work with clinical data; the others (helper, realtor, marketer) do not.
CLINICAL_ROLES = frozenset({Role.ADMIN, Role.DOCTOR})

# Rows reached through their patient, and rows reached through their doctor.
BY_PATIENT = (Patient, Invoice, Document, Feedback, SupportTicket, BotAudit, PatientTag)
BY_DOCTOR = (Appointment, Doctor, DoctorSchedule, DoctorDayOff)
# Rows that name an appointment (nullable): reached through it when set, else through their patient.
BY_APPOINTMENT = (Invoice, Document, Feedback)
# Rows an organization owns by their own ``organization_id`` column (a NULL one: the platform's).
OWN_ORGANIZATION = (Patient, Faq)


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


# --- the organization ------------------------------------------------------------------------------


def _clinical(actor: Actor | None) -> bool:
    """Whether the actor's role works with clinical data at all (inside some organization)."""
    if not isinstance(actor, User) or not actor.is_active:
        return False
    try:
        return Role.parse(actor.role) in CLINICAL_ROLES
    except ValueError:
        return False


def _clinic_rule(actor: Actor) -> sa.ColumnElement[bool]:
    """The condition on ``Clinic`` that keeps a (non-platform) actor inside their organization."""
    if not _clinical(actor):
        return sa.false()
    return organization_rule(actor, Clinic.organization_id)


def clinic_ids(actor: Actor):
    """A select of the ids of the clinics ``actor`` reaches (every clinic for the platform)."""
    query = sa.select(Clinic.id)
    return query if sees_every_organization(actor) else query.where(_clinic_rule(actor))


def _doctor_ids(clinics):
    return sa.select(Doctor.id).where(Doctor.clinic_id.in_(clinics))


def _appointment_ids(clinics):
    return sa.select(Appointment.id).where(Appointment.doctor_id.in_(_doctor_ids(clinics)))


def _owner_rule(actor: Actor, model) -> sa.ColumnElement[bool]:
    """The condition on a model of ``OWN_ORGANIZATION`` that keeps a (non-platform) actor inside
    their organization (a NULL organization — the platform's row — never matches)."""
    if not _clinical(actor):
        return sa.false()
    return organization_rule(actor, model.organization_id)


def _patient_rule(actor: Actor) -> sa.ColumnElement[bool]:
    return _owner_rule(actor, Patient)


def _patient_ids(actor: Actor):
    return sa.select(Patient.id).where(_patient_rule(actor))


def _organization_filter(actor: Actor, model) -> sa.ColumnElement[bool] | None:
    """The organization condition for one model; None: the model has no organization rule (the
    actor reaches every row of it)."""
    clinics = clinic_ids(actor)
    if model is Clinic:
        return _clinic_rule(actor)
    if model in (Branch, Service, Doctor):
        return model.clinic_id.in_(clinics)
    if model in (DoctorSchedule, DoctorDayOff):
        return model.doctor_id.in_(_doctor_ids(clinics))
    if model is Appointment:
        return Appointment.doctor_id.in_(_doctor_ids(clinics))
    if model is ReminderLog:
        return ReminderLog.appointment_id.in_(_appointment_ids(clinics))
    if model is VisitSummary:
        return VisitSummary.clinic_id.in_(clinics)
    if model in OWN_ORGANIZATION:
        return _owner_rule(actor, model)
    if model in BY_APPOINTMENT:
        return sa.or_(
            sa.and_(model.appointment_id.is_not(None), model.appointment_id.in_(_appointment_ids(clinics))),
            sa.and_(model.appointment_id.is_(None), model.patient_id.in_(_patient_ids(actor))),
        )
    if model in BY_PATIENT:
        return model.patient_id.in_(_patient_ids(actor))
    return sa.false()  # any model not named here until it is given a rule


def _confine(query, actor: Actor, model):
    if actor is SYSTEM or sees_every_organization(actor):
        return query
    query = query.filter(_organization_filter(actor, model))
    if not is_doctor(actor):
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
    if model is VisitSummary:
        return query.filter(VisitSummary.patient_id.in_(_patients_of(doctor_id)))
    return query  # the organization's directory (clinics, branches, services) is what its patients see


def scope(query, actor: Actor, model=None):
    """``query`` (a select or a Flask-Admin query over one clinic model) narrowed to what ``actor``
    reaches. ``model`` defaults to the query's first entity; a count query names it."""
    return _confine(query, actor, model or query.column_descriptions[0]["entity"])


def can_read(actor: Actor, obj) -> bool:
    """Whether ``actor`` reaches this one clinic object (the same rule as ``scope``)."""
    if obj is None:
        return False
    if actor is SYSTEM or sees_every_organization(actor):
        return True
    model = type(obj)
    query = scope(sa.select(model.id).where(model.id == obj.id), actor, model)
    return bool(db.session.scalar(sa.select(query.exists())))


# Staff change what they read: an admin their organization's rows, a doctor their own appointments
# and their own patients' records.
can_change = can_read


def can_claim(actor: Actor, patient: Patient) -> bool:
    """Registering (rewriting) a patient, or booking them as an admin: the organization's own patients."""
    if actor is SYSTEM or sees_every_organization(actor):
        return True
    if is_doctor(actor) or not _clinical(actor) or organization_id_of(actor) is None:
        return False
    return can_read(actor, patient)


def can_book(actor: Actor, patient: Patient, doctor: Doctor) -> bool:
    """Booking: a patient only into a doctor of the patient's own organization; staff into a doctor of
    their organization, for a patient they reach; a doctor books only into their own schedule, and
    only their own patients (follow-ups)."""
    if patient.organization_id != doctor.clinic.organization_id:
        return False
    if actor is SYSTEM or sees_every_organization(actor):
        return True
    if not can_read(actor, doctor):
        return False
    if is_doctor(actor):
        return doctor.user_id == actor.id and can_read(actor, patient)
    return can_claim(actor, patient)


def can_register_patients(actor: Actor) -> bool:
    """Creating or rewriting a patient from a Telegram account is the bot's (and the clinic admin's) job."""
    if actor is SYSTEM or sees_every_organization(actor):
        return True
    return _clinical(actor) and not is_doctor(actor) and organization_id_of(actor) is not None


def faq_shown(organization_id: int | None):
    """A select of the FAQ a clinic bot of ``organization_id`` shows: that organization's active
    entries first, then the platform's, each in their own order — never another organization's."""
    own = Faq.organization_id.is_(None) if organization_id is None else Faq.organization_id == organization_id
    return (
        sa.select(Faq)
        .where(Faq.is_active.is_(True), sa.or_(own, Faq.organization_id.is_(None)))
        .order_by(Faq.organization_id.is_(None), Faq.position, Faq.id)
    )


def organization_members(actor: Actor, query, column=User.id):
    """``query`` over staff accounts narrowed to the actor's organization (the platform: everyone)."""
    if sees_every_organization(actor):
        return query
    rule = organization_rule(actor, Membership.organization_id)
    return query.filter(column.in_(sa.select(Membership.user_id).where(rule)))


def not_found(what: str, field: str | None = None) -> ServiceError:
    return ServiceError(f"{what} not found", 404, "NOT_FOUND", field)


def require(allowed: bool, what: str, field: str | None = None) -> None:
    if not allowed:
        raise not_found(what, field)


@customer_source
def _clinic_customers(organization_id: int) -> sa.Select:
    """A clinic's customers: its patients (registered with it)."""
    return sa.select(Patient.user_id).where(Patient.organization_id == organization_id, Patient.user_id.is_not(None))


declare_vertical("clinic", lambda organization: sa.select(Clinic.id).where(Clinic.organization_id == organization))
