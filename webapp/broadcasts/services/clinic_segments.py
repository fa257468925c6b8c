"""Seed 002's patient filters, compiled onto the accounts query of a clinic bot.

A clinic bot's broadcast is marketing: only the active patients of the bot's organization who gave
it the marketing consent are in any of its segments (the same person's patient row at another
organization, with its consents and tags, is not consulted; the seed's registration asks for exactly
that consent). Visits are the appointments that took place (``clinic.models.VISITED``) at the
clinic this bot serves; their count and last date are columns of the patient's visit summary for
that clinic (kept current by every appointment transition), and so are "services used", the
services of those visits. Every join is one-to-one per patient, so the query stays one statement
that lists an account at most once. A segment that filters visits reads the patient fields from the
summary's copy of them and never the patient row (``_from_summaries``; issue 15's count over 1M
patients).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from webapp.broadcasts.services.segments import SegmentFilters, _range, today_in, years_before
from webapp.clinic import models as clinic
from webapp.clinic.models import Patient, PatientTag, VisitSummary
from webapp.clinic.services.patients import bot_organization_id
from webapp.core.models import User
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.telegram.models import Bot


def _clinic_id(bot: Bot) -> int | None:
    """The clinic this bot serves, or None when no clinic names this bot."""
    return db.session.scalar(sa.select(clinic.Clinic.id).where(clinic.Clinic.bot_id == bot.id))


def _organization_id(bot: Bot) -> int | None:
    """The organization whose patients the bot reaches; None when no clinic exists at all."""
    try:
        return bot_organization_id(bot)
    except ServiceError:
        return None


# Who the clinic's marketing leaves out (segments.reachability): closed records, no consent.
LEFT_OUT = [
    ("patient_inactive", sa.not_(Patient.is_active)),
    ("no_marketing_consent", Patient.consent_marketing_at.is_(None)),
]


def restrict_to_patients(
    query: sa.Select,
    filters: SegmentFilters,
    tz: ZoneInfo,
    bot: Bot,
    reachable: bool = True,
    summary_first: bool = True,
) -> sa.Select:
    clinic_id = _clinic_id(bot)
    by_visits = filters.min_visits is not None or filters.last_visit_from or filters.last_visit_to
    if reachable and summary_first and clinic_id is not None and (by_visits or filters.services):
        return _from_summaries(query, filters, tz, bot, clinic_id)
    # Only the bot's organization's patient rows: another clinic's consents and tags never count.
    query = query.join(Patient, Patient.user_id == User.id).where(Patient.organization_id == _organization_id(bot))
    if reachable:
        # Written as clinic.MARKETABLE_SQL is, for PostgreSQL to use ix_clinic_patients_marketable.
        query = query.where(Patient.is_active, Patient.consent_marketing_at.is_not(None))
    query = query.where(*_patient_clauses(Patient, filters, tz))
    for tag in filters.tags or ():
        query = query.where(sa.exists().where(PatientTag.patient_id == Patient.id, PatientTag.tag == tag))

    if clinic_id is not None:
        if not (by_visits or filters.services):
            return query
        visits = VisitSummary
        query = query.join(visits, sa.and_(visits.patient_id == Patient.id, visits.clinic_id == clinic_id))
        if filters.services:
            query = query.where(_uses_any(visits, filters.services))
    else:  # a clinic bot no clinic names: visits at every clinic
        if filters.services:
            used = sa.exists().where(VisitSummary.patient_id == Patient.id, _uses_any(VisitSummary, filters.services))
            query = query.where(used)
        if not by_visits:
            return query
        every = (
            sa.select(
                VisitSummary.patient_id,
                sa.func.sum(VisitSummary.visits).label("visits"),
                sa.func.max(VisitSummary.last_visit_at).label("last_visit_at"),
            )
            .group_by(VisitSummary.patient_id)
            .subquery("visits")
        )
        query = query.join(every, every.c.patient_id == Patient.id)
        visits = every.c
    if filters.min_visits is not None:
        query = query.where(visits.visits >= filters.min_visits)
    return query.where(*_range(visits.last_visit_at, filters.last_visit_from, filters.last_visit_to, tz))


def _from_summaries(query: sa.Select, filters: SegmentFilters, tz: ZoneInfo, bot: Bot, clinic_id: int) -> sa.Select:
    """The same audience as the patients' join below, when the segment filters visits at the bot's
    clinic: a patient without a summary there cannot match, so the summaries' copies of the patient
    fields stand in for the patient row (same conditions, ``VisitSummary.marketable`` for
    clinic.MARKETABLE_SQL) and the count is one range of ix_clinic_visit_summaries_segment, joined
    to the bot's accounts (one summary per user, organization and clinic: no account twice)."""
    summary, organization_id = VisitSummary, _organization_id(bot)
    if organization_id is None:  # as the patients' join: no organization, no patient
        return query.where(sa.false())
    query = query.join(summary, summary.user_id == User.id).where(
        summary.clinic_id == clinic_id,
        summary.organization_id == organization_id,
        # Plain, as the index's predicate is written, for PostgreSQL to use it.
        summary.marketable,
    )
    query = query.where(*_patient_clauses(summary, filters, tz))
    for tag in filters.tags or ():
        query = query.where(sa.exists().where(PatientTag.patient_id == summary.patient_id, PatientTag.tag == tag))
    if filters.services:
        query = query.where(_uses_any(summary, filters.services))
    if filters.min_visits is not None:
        query = query.where(summary.visits >= filters.min_visits)
    return query.where(*_range(summary.last_visit_at, filters.last_visit_from, filters.last_visit_to, tz))


def _patient_clauses(row, filters: SegmentFilters, tz: ZoneInfo) -> list:
    """Age, sex and OSMS status on ``row`` (the patient, or a summary's copy of its fields)."""
    clauses = []
    today = today_in(tz)
    if filters.age_min is not None:
        clauses.append(row.birth_date <= years_before(today, filters.age_min))
    if filters.age_max is not None:
        # Aged at most N: born after the day the person turning N+1 today was born.
        clauses.append(row.birth_date > years_before(today, filters.age_max + 1))
    if filters.sex:
        clauses.append(row.sex == filters.sex)
    if filters.osms_status:
        clauses.append(row.osms_status == filters.osms_status)
    return clauses


def _uses_any(summary, service_ids: list[int]) -> sa.ColumnElement[bool]:
    """The summary lists one of ``service_ids``: PostgreSQL tests its array in the row it has read
    (no probe into the appointments); SQLite keeps the list as JSON."""
    if db.session.get_bind().dialect.name == "postgresql":
        return summary.service_ids.op("&&")(sa.literal(service_ids, postgresql.ARRAY(sa.Integer)))
    used = sa.func.json_each(summary.service_ids).table_valued("value")
    return sa.exists().select_from(used).where(used.c.value.in_(service_ids))
