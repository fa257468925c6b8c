"""Helpdesk statistics: counts by status, first-response times, per category and per helper.

First-response time of a ticket = its ``first_response_at`` (the first public staff reply) minus its
creation, in hours. Tickets are selected by creation time (``from_date``..``to_date`` inclusive,
whole UTC days) and optionally by category; tickets without a response yet do not count towards
the times. A helper "handles" the tickets assigned to them; their average is over those tickets.
"""

from __future__ import annotations

import statistics
import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from webapp.core.limits import require_date_in_range
from webapp.core.models import User
from webapp.extensions import db
from webapp.helpdesk.access import organization_rule
from webapp.helpdesk.models import Ticket, TicketCategory, TicketPriority, TicketStatus, TicketStatusChange
from webapp.helpdesk.serializers import person


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _filters(from_date: date | None, to_date: date | None, category_id: uuid.UUID | None) -> list:
    conditions = []
    if from_date is not None:
        require_date_in_range(from_date, "from_date")
        conditions.append(Ticket.created_at >= day_start(from_date))
    if to_date is not None:
        require_date_in_range(to_date, "to_date")
        conditions.append(Ticket.created_at < day_start(to_date + timedelta(days=1)))
    if category_id is not None:
        conditions.append(Ticket.category_id == category_id)
    return conditions


def response_times(hours: list[float]) -> dict:
    return {
        "average_hours": _round(statistics.fmean(hours)) if hours else None,
        "median_hours": _round(statistics.median(hours)) if hours else None,
        "responded": len(hours),
    }


def ticket_statistics(
    from_date: date | None = None,
    to_date: date | None = None,
    category_id: uuid.UUID | None = None,
    with_daily: bool = False,
    viewer: User | None = None,
) -> dict:
    """The figures over the tickets ``viewer`` staffs (their desk's; a superuser's: every desk's;
    None: the platform itself, every desk's)."""
    conditions = _filters(from_date, to_date, category_id)
    if viewer is not None:
        rule = organization_rule(viewer, Ticket.organization_id)
        if rule is not None:
            conditions.append(rule)

    by_status = dict(
        db.session.execute(db.select(Ticket.status, sa.func.count()).where(*conditions).group_by(Ticket.status)).all()
    )
    total = sum(by_status.values())
    tickets = {"total": total} | {s.value.lower(): by_status.get(s.value, 0) for s in TicketStatus}

    responded = db.session.execute(
        db.select(Ticket.assigned_to_id, Ticket.created_at, Ticket.first_response_at).where(
            *conditions, Ticket.first_response_at.is_not(None)
        )
    ).all()
    all_hours = [_hours(first - created) for _, created, first in responded]
    hours_by_helper: dict[uuid.UUID, list[float]] = defaultdict(list)
    for helper_id, created, first in responded:
        if helper_id is not None:
            hours_by_helper[helper_id].append(_hours(first - created))

    category_rows = db.session.execute(
        db.select(Ticket.category_id, sa.func.count()).where(*conditions).group_by(Ticket.category_id)
    ).all()
    shown = [cat_id for cat_id, _ in category_rows if cat_id is not None]
    names = {c.id: c for c in db.session.scalars(db.select(TicketCategory).where(TicketCategory.id.in_(shown)))}
    categories = []
    for cat_id, count in sorted(category_rows, key=lambda r: (-r[1], str(r[0]))):
        category = names.get(cat_id)
        categories.append(
            {
                "id": str(cat_id) if cat_id else None,
                "name": category.name if category else None,
                "icon": category.icon if category else None,
                "color": category.color if category else None,
                "count": count,
                "percentage": round(count * 100 / total, 1) if total else 0,
            }
        )

    handled = db.session.execute(
        db.select(Ticket.assigned_to_id, sa.func.count())
        .where(*conditions, Ticket.assigned_to_id.is_not(None))
        .group_by(Ticket.assigned_to_id)
    ).all()
    staff = {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_([h for h, _ in handled])))}
    helpers = []
    for helper_id, count in sorted(handled, key=lambda r: (-r[1], str(r[0]))):
        hours = hours_by_helper.get(helper_id, [])
        helpers.append(
            {
                "user": person(staff.get(helper_id)),
                "tickets_handled": count,
                "avg_response_time": _round(statistics.fmean(hours)) if hours else None,
            }
        )

    priorities = dict(
        db.session.execute(
            db.select(Ticket.priority, sa.func.count()).where(*conditions).group_by(Ticket.priority)
        ).all()
    )
    result = {
        "tickets": tickets,
        "response_time": response_times(all_hours),
        "categories": categories,
        "helpers": helpers,
        "priorities": {p.value: priorities.get(p.value, 0) for p in TicketPriority},
    }
    if with_daily:
        result["daily"] = daily_series(conditions, from_date, to_date)
    return result


def daily_series(conditions: list, from_date: date | None, to_date: date | None) -> list[dict]:
    """Per UTC day: tickets created (split by their current status), tickets resolved / closed, and
    the average first-response time of that day's tickets."""
    created = db.session.execute(
        db.select(Ticket.created_at, Ticket.status, Ticket.first_response_at).where(*conditions)
    ).all()
    moves = db.session.execute(
        db.select(TicketStatusChange.created_at, TicketStatusChange.new_status)
        .join(Ticket, Ticket.id == TicketStatusChange.ticket_id)
        .where(
            *conditions,
            TicketStatusChange.new_status.in_([TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value]),
        )
    ).all()
    if not created and from_date is None:
        return []
    first = from_date or min(c.date() for c, _, _ in created)
    last = to_date or max([c.date() for c, _, _ in created] + [m.date() for m, _ in moves], default=first)
    if (last - first).days > 366:  # a chart of more than a year of days is not readable anyway
        first = last - timedelta(days=366)
    by_day: dict[date, Counter] = defaultdict(Counter)
    hours_by_day: dict[date, list[float]] = defaultdict(list)
    for created_at, status, first_response_at in created:
        by_day[created_at.date()][status] += 1
        if first_response_at is not None:
            hours_by_day[created_at.date()].append(_hours(first_response_at - created_at))
    resolved: Counter = Counter()
    closed: Counter = Counter()
    for moved_at, status in moves:
        (resolved if status == TicketStatus.RESOLVED.value else closed)[moved_at.date()] += 1
    series = []
    day = first
    while day <= last:
        counts = by_day.get(day, Counter())
        series.append(
            {
                "date": day.isoformat(),
                "created": sum(counts.values()),
                "by_status": {s.value: counts.get(s.value, 0) for s in TicketStatus},
                "resolved": resolved.get(day, 0),
                "closed": closed.get(day, 0),
                "avg_response_hours": _round(statistics.fmean(hours_by_day[day])) if hours_by_day.get(day) else None,
            }
        )
        day += timedelta(days=1)
    return series
