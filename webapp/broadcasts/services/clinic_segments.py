"""Seed 002's patient filters, compiled onto the accounts query of a clinic bot.

A clinic bot's broadcast is marketing: only active patients who gave the marketing consent are in
any of its segments (the seed's registration asks for exactly that consent). Visits are the
appointments that took place (``clinic.models.VISITED``) at the clinic this bot serves. Every join is
one-to-one per patient, so the query stays one statement that lists an account at most once.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa

from webapp.broadcasts.services.segments import SegmentFilters, _range, today_in, years_before
from webapp.clinic import models as clinic
from webapp.clinic.models import Appointment, Patient, PatientTag
from webapp.core.models import User
from webapp.extensions import db
from webapp.telegram.models import Bot


def _clinic_branch_ids(bot: Bot) -> list[int] | None:
    """The branches of the clinic this bot serves, or None when no clinic names this bot."""
    clinic_id = db.session.scalar(sa.select(clinic.Clinic.id).where(clinic.Clinic.bot_id == bot.id))
    if clinic_id is None:
        return None
    return list(db.session.scalars(sa.select(clinic.Branch.id).where(clinic.Branch.clinic_id == clinic_id)))


def restrict_to_patients(query: sa.Select, filters: SegmentFilters, tz: ZoneInfo, bot: Bot) -> sa.Select:
    query = query.join(Patient, Patient.user_id == User.id).where(
        Patient.is_active.is_(True), Patient.consent_marketing_at.is_not(None)
    )
    today = today_in(tz)
    if filters.age_min is not None:
        query = query.where(Patient.birth_date <= years_before(today, filters.age_min))
    if filters.age_max is not None:
        # Aged at most N: born after the day the person turning N+1 today was born.
        query = query.where(Patient.birth_date > years_before(today, filters.age_max + 1))
    if filters.sex:
        query = query.where(Patient.sex == filters.sex)
    if filters.osms_status:
        query = query.where(Patient.osms_status == filters.osms_status)
    for tag in filters.tags or ():
        query = query.where(sa.exists().where(PatientTag.patient_id == Patient.id, PatientTag.tag == tag))

    visited = [Appointment.status.in_(clinic.VISITED)]
    branches = _clinic_branch_ids(bot)
    if branches is not None:
        visited.append(Appointment.branch_id.in_(branches))
    if not (filters.services or filters.min_visits is not None or filters.last_visit_from or filters.last_visit_to):
        return query
    if db.engine.dialect.name == "postgresql":
        return _visits_lateral(query, filters, tz, visited)
    return _visits_grouped(query, filters, tz, visited)


def _visits_lateral(query: sa.Select, filters: SegmentFilters, tz: ZoneInfo, visited: list) -> sa.Select:
    """PostgreSQL: one index-only range scan of each candidate patient's visits (the
    (patient_id, starts_at) index covers status, branch and service) gives the count, the last
    visit and whether a wanted service was used — after the cheap patient filters have cut the
    candidates down, instead of aggregating every appointment."""
    columns = [
        sa.func.count().label("visits"),  # count(*), not of a column: the index alone can answer it
        sa.func.max(Appointment.starts_at).label("last_visit"),
    ]
    if filters.services:
        columns.append(sa.func.bool_or(Appointment.service_id.in_(filters.services)).label("used"))
    visits = sa.select(*columns).where(Appointment.patient_id == Patient.id, *visited).lateral("visits")
    query = query.join(visits, sa.true())
    if filters.services:
        query = query.where(visits.c.used.is_(True))
    if filters.min_visits is not None:
        query = query.where(visits.c.visits >= filters.min_visits)
    return query.where(*_range(visits.c.last_visit, filters.last_visit_from, filters.last_visit_to, tz))


def _visits_grouped(query: sa.Select, filters: SegmentFilters, tz: ZoneInfo, visited: list) -> sa.Select:
    """Other databases (SQLite has no LATERAL): EXISTS for services, a grouped sub-query joined
    one-to-one per patient for counts and the last visit."""
    if filters.services:
        query = query.where(
            sa.exists().where(
                Appointment.patient_id == Patient.id, Appointment.service_id.in_(filters.services), *visited
            )
        )
    if filters.min_visits is not None or filters.last_visit_from or filters.last_visit_to:
        visits = (
            sa.select(
                Appointment.patient_id.label("patient_id"),
                sa.func.count(Appointment.id).label("visits"),
                sa.func.max(Appointment.starts_at).label("last_visit"),
            )
            .where(*visited)
            .group_by(Appointment.patient_id)
            .subquery("visits")
        )
        query = query.join(visits, visits.c.patient_id == Patient.id)
        if filters.min_visits is not None:
            query = query.where(visits.c.visits >= filters.min_visits)
        query = query.where(*_range(visits.c.last_visit, filters.last_visit_from, filters.last_visit_to, tz))
    return query
