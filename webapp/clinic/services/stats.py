"""Figures for the clinic dashboard: appointments per local day, no-show rate, NPS."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from webapp.clinic.models import Appointment, AppointmentStatus, Feedback
from webapp.clinic.services import clock
from webapp.clinic.services.common import local_midnight_utc, zone
from webapp.extensions import db

# What the caller reaches: ``narrow(query, model)`` (``webapp.clinic.access.scope``); None: everything.
Narrow = Callable | None


def _narrowed(query, model, narrow: Narrow):
    return narrow(query, model) if narrow is not None else query


def appointments_per_day(
    first: date, last: date, timezone: str, doctor_id: int | None = None, narrow: Narrow = None
) -> list[tuple[date, int]]:
    """Live (not cancelled) appointments per local day of the clinic, every day of the range listed."""
    tz = zone(timezone)
    query = db.select(Appointment.starts_at).where(
        Appointment.starts_at >= local_midnight_utc(first, tz),
        Appointment.starts_at < local_midnight_utc(last + timedelta(days=1), tz),
        Appointment.status != AppointmentStatus.CANCELLED.value,
    )
    if doctor_id is not None:
        query = query.where(Appointment.doctor_id == doctor_id)
    query = _narrowed(query, Appointment, narrow)
    counts = Counter(starts.astimezone(tz).date() for starts in db.session.scalars(query))
    return [
        (first + timedelta(days=n), counts.get(first + timedelta(days=n), 0)) for n in range((last - first).days + 1)
    ]


def no_show_rate(since: datetime, until: datetime | None = None, narrow: Narrow = None) -> float | None:
    """No-shows among appointments that should have taken place in [since, until); None without any."""
    until = until or clock.now()
    query = _narrowed(db.select(Appointment.status, db.func.count()), Appointment, narrow)
    rows = db.session.execute(
        query.where(
            Appointment.starts_at >= since,
            Appointment.starts_at < until,
            Appointment.status.in_(
                (AppointmentStatus.ARRIVED.value, AppointmentStatus.COMPLETED.value, AppointmentStatus.NO_SHOW.value)
            ),
        ).group_by(Appointment.status)
    ).all()
    total = sum(count for _, count in rows)
    if not total:
        return None
    return sum(count for status, count in rows if status == AppointmentStatus.NO_SHOW.value) / total


@dataclass(frozen=True)
class Nps:
    score: int | None  # % promoters − % detractors
    answers: int
    distribution: list[int]  # how many answered 0, 1, … 10


def nps(since: datetime | None = None, narrow: Narrow = None) -> Nps:
    query = _narrowed(db.select(Feedback.score, db.func.count()), Feedback, narrow).group_by(Feedback.score)
    if since is not None:
        query = query.where(Feedback.created_at >= since)
    distribution = [0] * 11
    for score, count in db.session.execute(query):
        distribution[score] = count
    answers = sum(distribution)
    if not answers:
        return Nps(None, 0, distribution)
    promoters, detractors = sum(distribution[9:]), sum(distribution[:7])
    return Nps(round(100 * (promoters - detractors) / answers), answers, distribution)
