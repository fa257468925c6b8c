"""The per-(patient, clinic) visit summary behind broadcast segments' visit filters.

Every appointment transition calls ``refresh_visit_summary`` in its own transaction. It recounts
the patient's appointments at that clinic rather than adding or subtracting one, so the row is
exact whatever the move was; and it recounts under the summary row's lock, taken before the
counting statement: on PostgreSQL (READ COMMITTED) that statement then sees every appointment
change committed by a transaction that refreshed the same row before us, so two concurrent moves
of one patient's appointments cannot leave a count that misses either. It also copies the patient's
fields a segment filters on (``models.copy_patient_fields``), having first taken the patient row's
shared lock: the same order (patient, then summary) as a change of the patient, whose flush copies
them onto the existing summaries.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from webapp.clinic.models import (
    VISITED,
    Appointment,
    AppointmentStatus,
    Branch,
    Patient,
    VisitSummary,
    copy_patient_fields,
)
from webapp.extensions import db

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def summary_columns() -> list:
    """The summary's figures as aggregates over appointments (also the migration's backfill)."""
    visited = Appointment.status.in_(VISITED)
    return [
        sa.func.count().filter(visited).label("visits"),
        sa.func.min(Appointment.starts_at).filter(visited).label("first_visit_at"),
        sa.func.max(Appointment.starts_at).filter(visited).label("last_visit_at"),
        sa.func.count().filter(Appointment.status == AppointmentStatus.NO_SHOW.value).label("no_shows"),
        sa.func.count().filter(Appointment.status == AppointmentStatus.CANCELLED.value).label("cancellations"),
    ]


def refresh_visit_summary(appointment: Appointment) -> None:
    """Recount ``appointment``'s patient at its clinic (figures and services used) and copy the
    patient's segment fields again; flushes, never commits."""
    db.session.flush()  # the transition's own change must be visible to the recount
    clinic_id = db.session.scalar(sa.select(Branch.clinic_id).where(Branch.id == appointment.branch_id))
    key = {"patient_id": appointment.patient_id, "clinic_id": clinic_id}
    # The patient row first, shared: a change of the patient locks it before its summaries
    # (models._patient_updated), so the copy below waits for a concurrent change and reads it,
    # even on the summary row this call creates, which that change's own copy could not see.
    db.session.execute(sa.select(Patient.id).where(Patient.id == appointment.patient_id).with_for_update(read=True))
    insert = _INSERTS[db.session.get_bind().dialect.name]
    db.session.execute(
        insert(VisitSummary).values(**key, service_ids=[]).on_conflict_do_nothing()
    )  # race-safe get-or-create
    db.session.execute(sa.select(VisitSummary.patient_id).filter_by(**key).with_for_update())
    of_clinic = (
        sa.select()
        .select_from(Appointment)
        .join(Branch, Branch.id == Appointment.branch_id)
        .where(Appointment.patient_id == appointment.patient_id, Branch.clinic_id == clinic_id)
    )
    figures = db.session.execute(of_clinic.add_columns(*summary_columns())).one()
    used = db.session.scalars(
        of_clinic.add_columns(Appointment.service_id)
        .where(Appointment.status.in_(VISITED))
        .distinct()
        .order_by(Appointment.service_id)
    ).all()
    # The patient's fields a segment filters on ride along (models.copy_patient_fields).
    this = sa.and_(*(VisitSummary.__table__.c[name] == value for name, value in key.items()))
    db.session.execute(copy_patient_fields(this).values(**figures._asdict(), service_ids=list(used)))
