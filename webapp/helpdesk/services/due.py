"""When a ticket is due its first staff reply, and which tickets are past it.

A ticket is due ``first_response_minutes`` (its desk's, see ``services.desk``) after it was opened,
until the first public staff reply sets ``first_response_at``. A ticket resolved or closed without
a reply is no longer waiting for one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from babel.dates import format_timedelta

from webapp.core.i18n import current_language
from webapp.extensions import db
from webapp.helpdesk.models import DeskSettings, Ticket, TicketStatus
from webapp.helpdesk.services.desk import first_response_minutes, platform_first_response_minutes
from webapp.helpdesk.texts import catalog

DONE = (TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value)


@dataclass(frozen=True)
class Due:
    at: datetime
    left: timedelta  # negative once overdue

    @property
    def overdue(self) -> bool:
        return self.left < timedelta(0)


def first_response_due(ticket: Ticket, *, now: datetime) -> Due | None:
    """The ticket's first-response deadline, or None when it needs none (answered, resolved, closed)."""
    if ticket.first_response_at is not None or ticket.status in DONE:
        return None
    at = ticket.created_at + timedelta(minutes=first_response_minutes(ticket.organization_id))
    return Due(at, at - now)


def span(delta: timedelta, language: str | None = None) -> str:
    """A span as its two largest units in the reader's language ("1 hr 10 min", "2 дн. 3 ч"), whole
    minutes, at least one."""
    locale = language or current_language()
    minutes = max(1, int(abs(delta).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    units = [(days, "days"), (hours, "hours"), (minutes, "minutes")]
    first = next(i for i, (n, _) in enumerate(units) if n)
    parts = [(n, unit) for n, unit in units[first : first + 2] if n]
    # Each part in its own unit: Babel would otherwise round 50 minutes up to "1 hour", 10 days to "1 week".
    return " ".join(
        format_timedelta(timedelta(**{unit: n}), granularity=unit[:-1], threshold=10**9, format="short", locale=locale)
        for n, unit in parts
    )


def due_text(due: Due, language: str | None = None) -> str:
    if due.overdue:
        return catalog.gettext("overdue by %(time)s", time=span(due.left, language))
    return catalog.gettext("due in %(time)s", time=span(due.left, language))


def overdue_condition(*, now: datetime) -> sa.ColumnElement[bool]:
    """Tickets past their first-response deadline, each desk by its own deadline."""
    custom = db.session.execute(
        sa.select(DeskSettings.organization_id, DeskSettings.first_response_minutes).where(
            DeskSettings.first_response_minutes.is_not(None)
        )
    ).all()
    default_cutoff = now - timedelta(minutes=platform_first_response_minutes())
    late = [
        sa.and_(Ticket.organization_id == org, Ticket.created_at < now - timedelta(minutes=minutes))
        for org, minutes in custom
    ]
    late.append(sa.and_(Ticket.organization_id.not_in([org for org, _ in custom]), Ticket.created_at < default_cutoff))
    return sa.and_(Ticket.first_response_at.is_(None), Ticket.status.not_in(DONE), sa.or_(*late))
