"""The clinic's directory as its admin keeps it in the console: settings, branches, services, doctors
with their weekly schedules and days off, and the FAQ.

The console writes the form onto the row (Flask-Admin knows the fields); these functions then check
the row as it stands, confine it to what the actor reaches (``webapp.clinic.access``), flush, and
record one specific audit row with what changed. A refusal is a ``ServiceError`` whose message is a
msgid of the clinic catalog; the console's savepoint undoes the form. Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa

from webapp.clinic import access
from webapp.clinic.models import (
    Appointment,
    AppointmentStatus,
    Branch,
    Clinic,
    Doctor,
    DoctorDayOff,
    DoctorSchedule,
    Faq,
    Service,
)
from webapp.clinic.services.common import zone
from webapp.core.models import User
from webapp.core.services import ServiceError, record_audit
from webapp.core.tenancy import organization_id_of, sees_every_organization
from webapp.extensions import db

MAX_PRICE = Decimal("100000000")  # beyond any real visit's price; larger is a typo
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

CLINIC_FIELDS = ("organization_id", "name", "timezone", "currency", "phone", "address", "bot_id")
BRANCH_FIELDS = ("clinic_id", "name", "address", "phone", "is_active")
SERVICE_FIELDS = ("clinic_id", "name", "name_kk", "duration_minutes", "price", "prepayment_amount", "is_active")
# A doctor's name and photo are personal data: the audit names those fields, never their values.
DOCTOR_FIELDS = ("clinic_id", "full_name", "specialty", "photo_url", "user_id", "slot_step_minutes", "is_active")
DOCTOR_PERSONAL = frozenset({"full_name", "photo_url"})
FAQ_FIELDS = ("organization_id", "position", "is_active") + tuple(
    f"{part}_{language}" for language in Faq.LANGUAGES for part in ("question", "answer")
)


def invalid(message: str, field: str | None = None) -> ServiceError:
    return ServiceError(message, 422, "VALIDATION_ERROR", field)


def snapshot(row, fields: tuple[str, ...]) -> dict:
    """The row's values of ``fields`` (an empty dict for a row not yet written): the audit's "before"."""
    if row is None or sa.inspect(row).transient or sa.inspect(row).pending:
        return {}
    return {name: getattr(row, name) for name in fields}


def _changes(before: dict, row, fields: tuple[str, ...], personal=frozenset()) -> tuple[str | None, str]:
    """The audit's old and new text: ``field=value`` for each changed field (personal fields by name)."""
    changed = [name for name in fields if before.get(name) != getattr(row, name) or not before]
    if not before:
        changed = [name for name in fields if getattr(row, name) not in (None, "")]

    def text(values) -> str:
        return ", ".join(name if name in personal else f"{name}={values(name)!s}" for name in changed)

    old = text(lambda name: before.get(name)) if before else None
    return old, text(lambda name: getattr(row, name))


def _audit(actor, action: str, target: str, row, before: dict, fields, source: str, personal=frozenset()) -> None:
    old, new = _changes(before, row, fields, personal)
    if before and old == new == "":
        return  # nothing changed
    record_audit(actor, action, target, row.id, old, new, source)


def _verb(before: dict) -> str:
    return "update" if before else "create"


def _reachable_clinic(actor: User | None, clinic_id: int | None) -> Clinic:
    """The row's clinic, when the actor manages it; otherwise refused (a forged clinic id)."""
    clinic = None
    if clinic_id is not None:
        clinic = db.session.scalar(access.scope(sa.select(Clinic), actor, Clinic).where(Clinic.id == clinic_id))
    if clinic is None:
        raise invalid("Choose a clinic you manage", "clinic")
    return clinic


def _name(value: str | None, field: str = "name") -> str:
    name = " ".join((value or "").split())
    if not name:
        raise invalid("Write the name", field)
    return name


def _unique_name(model, row, message: str) -> None:
    """Names a patient chooses between are unique in their clinic (case aside). Compared here, not in
    SQL: SQLite's lower() folds only ASCII, and a clinic has a handful of branches and services."""
    query = sa.select(model.name).where(model.clinic_id == row.clinic_id)
    if row.id is not None:
        query = query.where(model.id != row.id)
    if row.name.casefold() in {name.casefold() for name in db.session.scalars(query)}:
        raise invalid(message, "name")


def _same_clinic(clinic_id: int, related) -> None:
    if any(row.clinic_id != clinic_id for row in related):
        raise invalid("Choose branches and services of the same clinic", "branches")


# --- settings -------------------------------------------------------------------------------------


def save_clinic_settings(actor: User | None, clinic: Clinic, before: dict, source: str = "console") -> Clinic:
    """A clinic's name, zone, currency, contacts and bot. An organization's admin keeps their own
    organization's clinic; only the platform chooses (or moves) its organization."""
    with db.session.no_autoflush:
        if not sees_every_organization(actor):
            clinic.organization_id = organization_id_of(actor)
            if before and before.get("organization_id") != clinic.organization_id:
                raise invalid("Choose a clinic you manage", "organization")
        if clinic.organization_id is None and clinic.organization is None:
            raise invalid("Choose the clinic's organization", "organization")
        organization_id = clinic.organization_id or clinic.organization.id
        clinic.name = _name(clinic.name)
        zone(clinic.timezone)
        clinic.currency = (clinic.currency or "").strip().upper()
        if len(clinic.currency) != 3 or not clinic.currency.isalpha():
            raise invalid("The currency is a three-letter code", "currency")
        if clinic.bot is not None and clinic.bot.organization_id not in (None, organization_id):
            raise invalid("Choose a bot of the clinic's organization", "bot")
    db.session.add(clinic)
    db.session.flush()
    _audit(actor, f"clinic_settings.{_verb(before)}", "clinic", clinic, before, CLINIC_FIELDS, source)
    return clinic


# --- branches and services -------------------------------------------------------------------------


def save_branch(actor: User | None, branch: Branch, before: dict, source: str = "console") -> Branch:
    """A branch of a clinic the actor manages, its name required and unique in the clinic."""
    with db.session.no_autoflush:
        clinic = _reachable_clinic(actor, branch.clinic_id if branch.clinic is None else branch.clinic.id)
        if before and before["clinic_id"] != clinic.id:
            _reachable_clinic(actor, before["clinic_id"])
        branch.clinic_id = clinic.id
        branch.name = _name(branch.name)
        _unique_name(Branch, branch, "This clinic already has a branch with this name")
    db.session.add(branch)
    db.session.flush()
    _audit(actor, f"clinic_branch.{_verb(before)}", "clinic_branch", branch, before, BRANCH_FIELDS, source)
    return branch


def save_service(actor: User | None, service: Service, before: dict, source: str = "console") -> Service:
    """A service of a clinic the actor manages: a unique name, 1 to 720 minutes, a price of 0 to
    ``MAX_PRICE``, a prepayment not above it, branches of the same clinic."""
    with db.session.no_autoflush:
        clinic = _reachable_clinic(actor, service.clinic_id if service.clinic is None else service.clinic.id)
        service.clinic_id = clinic.id
        service.name = _name(service.name)
        service.name_kk = " ".join((service.name_kk or "").split()) or None
        _unique_name(Service, service, "This clinic already has a service with this name")
        if not 0 < (service.duration_minutes or 0) <= 720:
            raise invalid("The duration must be 1 to 720 minutes", "duration_minutes")
        if service.price is None or not 0 <= service.price <= MAX_PRICE:
            raise invalid("The price must be 0 to 100,000,000", "price")
        service.prepayment_amount = service.prepayment_amount or Decimal("0")
        if service.prepayment_amount < 0 or service.prepayment_amount > service.price:
            raise invalid("The prepayment cannot exceed the price", "prepayment_amount")
        _same_clinic(clinic.id, service.branches)
    db.session.add(service)
    db.session.flush()
    _audit(actor, f"clinic_service.{_verb(before)}", "clinic_service", service, before, SERVICE_FIELDS, source)
    return service


# --- doctors --------------------------------------------------------------------------------------


def schedule_text(schedules) -> str:
    """A doctor's week as the audit reads it: "Mon 09:00-13:00 (break 11:00-11:30) @branch 3; ..."."""

    def one(s) -> str:
        pause = f" (break {s.break_start:%H:%M}-{s.break_end:%H:%M})" if s.break_start and s.break_end else ""
        return f"{WEEKDAYS[s.weekday]} {s.start_time:%H:%M}-{s.end_time:%H:%M}{pause} @branch {s.branch_id}"

    ordered = sorted(schedules, key=lambda s: (s.weekday, s.start_time))
    return "; ".join(one(s) for s in ordered)


def doctor_snapshot(doctor: Doctor | None) -> dict:
    """What ``save_doctor`` compares against: the fields, the week, and the days off by id."""
    before = snapshot(doctor, DOCTOR_FIELDS)
    if before:
        before["_schedule"] = schedule_text(doctor.schedules)
        before["_days_off"] = {d.id: d.day for d in doctor.days_off}
    return before


def _live(rows) -> list:
    """A collection without the rows the form deleted (they leave it at the flush)."""
    return [row for row in rows if row not in db.session.deleted]


def _check_week(clinic_id: int, schedules: list[DoctorSchedule]) -> None:
    for s in schedules:
        if s.weekday not in range(7):
            raise invalid("Choose a weekday", "schedules")
        if s.start_time is None or s.end_time is None or s.start_time >= s.end_time:
            raise invalid("A working interval must start before it ends", "schedules")
        if (s.break_start is None) != (s.break_end is None):
            raise invalid("Give both ends of the break, or neither", "schedules")
        if s.break_start is not None and not (s.start_time <= s.break_start < s.break_end <= s.end_time):
            raise invalid("The break must lie inside the working interval", "schedules")
        if s.branch is None and s.branch_id is None:
            raise invalid("Choose branches and services of the same clinic", "schedules")
    _same_clinic(clinic_id, [s.branch for s in schedules if s.branch is not None])
    # A doctor is in one place at a time: intervals of one weekday (any branch) must not overlap.
    ordered = sorted(schedules, key=lambda s: (s.weekday, s.start_time))
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        if earlier.weekday == later.weekday and later.start_time < earlier.end_time:
            raise invalid("Working intervals of one weekday must not overlap", "schedules")


def _check_days_off(clinic: Clinic, days_off: list[DoctorDayOff], before: dict, now: datetime) -> None:
    """A new (or moved) day off is today or later in the clinic's time; past ones stay as they were."""
    today = now.astimezone(zone(clinic.timezone)).date()
    known = before.get("_days_off", {})
    days = [d.day for d in days_off]
    if None in days:
        raise invalid("Choose the day off", "days_off")
    if len(set(days)) != len(days):
        raise invalid("Each day off once", "days_off")
    for day_off in days_off:
        if known.get(day_off.id) != day_off.day and day_off.day < today:
            raise invalid("A day off cannot be in the past", "days_off")


def save_doctor(actor: User | None, doctor: Doctor, before: dict, *, now: datetime, source: str = "console") -> Doctor:
    """A doctor of a clinic the actor manages: a name, a slot step of 5 to 240 minutes, branches and
    services of the same clinic, a week without overlapping intervals, days off not in the past.
    Audited as ``clinic_doctor.create/update`` (personal fields by name only), and the week and the
    days off, when they change, as ``clinic_doctor.schedule`` and ``clinic_doctor.days_off``."""
    with db.session.no_autoflush:
        clinic = _reachable_clinic(actor, doctor.clinic_id if doctor.clinic is None else doctor.clinic.id)
        if before and before["clinic_id"] != clinic.id:
            _reachable_clinic(actor, before["clinic_id"])
        doctor.clinic_id = clinic.id
        doctor.full_name = _name(doctor.full_name, "full_name")
        if not 5 <= (doctor.slot_step_minutes or 0) <= 240:
            raise invalid("The slot step must be 5 to 240 minutes", "slot_step_minutes")
        _same_clinic(clinic.id, [*doctor.branches, *doctor.services])
        schedules, days_off = _live(doctor.schedules), _live(doctor.days_off)
        _check_week(clinic.id, schedules)
        _check_days_off(clinic, days_off, before, now)
    db.session.add(doctor)
    db.session.flush()
    fields_before = {k: v for k, v in before.items() if not k.startswith("_")}
    _audit(
        actor,
        f"clinic_doctor.{_verb(before)}",
        "clinic_doctor",
        doctor,
        fields_before,
        DOCTOR_FIELDS,
        source,
        DOCTOR_PERSONAL,
    )
    week = schedule_text(schedules)
    if week != before.get("_schedule", ""):
        record_audit(actor, "clinic_doctor.schedule", "clinic_doctor", doctor.id, before.get("_schedule"), week, source)
    days = ", ".join(sorted(str(d.day) for d in days_off))  # the dates only: a reason may be personal
    days_before = ", ".join(sorted(str(day) for day in before.get("_days_off", {}).values()))
    if days != days_before:
        record_audit(actor, "clinic_doctor.days_off", "clinic_doctor", doctor.id, days_before or None, days, source)
    return doctor


# --- deleting ------------------------------------------------------------------------------------

# Visits still to come: booked or confirmed, or the patient is in the building.
UPCOMING = (AppointmentStatus.BOOKED.value, AppointmentStatus.CONFIRMED.value, AppointmentStatus.ARRIVED.value)


def _refuse_if_visited(column, row_id: int, now: datetime) -> None:
    """A branch, service or doctor with visits is not deleted: visits to come are cancelled or moved
    first; past ones keep what they were booked with (the database restricts it too)."""
    visits = sa.select(Appointment.id).where(column == row_id)
    upcoming = visits.where(Appointment.status.in_(UPCOMING), Appointment.ends_at > now)
    if db.session.scalar(upcoming.limit(1)) is not None:
        raise ServiceError(
            "It has visits booked from now on: cancel or move them first, or deactivate it", 409, "CONFLICT"
        )
    if db.session.scalar(visits.limit(1)) is not None:
        raise ServiceError("It keeps its past visits: deactivate it instead", 409, "CONFLICT")


def _reachable_row(actor: User | None, model, row):
    """The row, when the actor reaches it (a forged id of another organization's row is not found)."""
    found = db.session.scalar(access.scope(sa.select(model), actor, model).where(model.id == row.id))
    if found is None:
        raise access.not_found(model.__name__)
    return found


def delete_branch(actor: User | None, branch: Branch, *, now: datetime, source: str = "console") -> None:
    """A branch without visits and without doctors' intervals there (their weeks are changed first)."""
    branch = _reachable_row(actor, Branch, branch)
    _refuse_if_visited(Appointment.branch_id, branch.id, now)
    if db.session.scalar(sa.select(DoctorSchedule.id).where(DoctorSchedule.branch_id == branch.id).limit(1)):
        raise ServiceError("Doctors work at this branch: change their schedules first", 409, "CONFLICT")
    record_audit(actor, "clinic_branch.delete", "clinic_branch", branch.id, f"name={branch.name}", None, source)
    db.session.delete(branch)
    db.session.flush()


def delete_service(actor: User | None, service: Service, *, now: datetime, source: str = "console") -> None:
    service = _reachable_row(actor, Service, service)
    _refuse_if_visited(Appointment.service_id, service.id, now)
    record_audit(actor, "clinic_service.delete", "clinic_service", service.id, f"name={service.name}", None, source)
    db.session.delete(service)
    db.session.flush()


def delete_doctor(actor: User | None, doctor: Doctor, *, now: datetime, source: str = "console") -> None:
    """A doctor without visits (their week and days off go with them). Audited without their name."""
    doctor = _reachable_row(actor, Doctor, doctor)
    _refuse_if_visited(Appointment.doctor_id, doctor.id, now)
    record_audit(
        actor, "clinic_doctor.delete", "clinic_doctor", doctor.id, schedule_text(doctor.schedules), None, source
    )
    db.session.delete(doctor)
    db.session.flush()


def delete_faq(actor: User | None, faq: Faq, source: str = "console") -> None:
    faq = _reachable_row(actor, Faq, faq)
    record_audit(actor, "clinic_faq.delete", "clinic_faq", faq.id, f"position={faq.position}", None, source)
    db.session.delete(faq)
    db.session.flush()


# --- FAQ ------------------------------------------------------------------------------------------


def save_faq(actor: User | None, faq: Faq, before: dict, source: str = "console") -> Faq:
    """An FAQ entry: an organization's admin writes their organization's own; the platform chooses
    (none: the platform's general entry). Russian at least, and each language whole or empty."""
    with db.session.no_autoflush:
        if not sees_every_organization(actor):
            faq.organization_id = organization_id_of(actor)
            if faq.organization_id is None:
                raise invalid("Choose a clinic you manage", "organization")
        if not (faq.question_ru or "").strip() or not (faq.answer_ru or "").strip():
            raise invalid("Write the question and the answer in Russian at least", "question_ru")
        for language in Faq.LANGUAGES:
            written = [(getattr(faq, f"{part}_{language}") or "").strip() for part in ("question", "answer")]
            if any(written) and not all(written):
                raise invalid("Write both the question and the answer, or neither", f"question_{language}")
    db.session.add(faq)
    db.session.flush()
    # The entries are the clinic's public texts: their languages are named, the texts are not repeated.
    texts = frozenset(name for name in FAQ_FIELDS if name.startswith(("question_", "answer_")))
    _audit(actor, f"clinic_faq.{_verb(before)}", "clinic_faq", faq, before, FAQ_FIELDS, source, texts)
    return faq
