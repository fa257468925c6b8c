"""The staff ticket list's ``total``, remembered in Redis until a ticket changes.

Counting the tickets of a status is an index scan over every one of them (20,000 OPEN tickets of
100,000: more database time than the page itself), and staff ask for the same few counts over and
over. So a staff count is kept in one Redis hash, tagged with the generation it was counted in;
any commit that inserts or deletes a ticket, or changes a column the list filters on (or deletes a
user, whose tickets the database then deletes), bumps the generation after it commits, and a
count tagged with an older generation is counted again. A reader reads the generation and the
count in one round trip *before* counting, so a count taken while a change commits is stored under
the generation it may predate and is never served after the bump. Writes that bypass the ORM
(bulk SQL) are not seen: the hash expires after ``TTL_SECONDS`` whatever happens.

A customer's count is over their own tickets (an index on ``user_id``): never cached.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.core.models import User
from webapp.core.oncommit import on_commit
from webapp.extensions import redis_store
from webapp.helpdesk.models import Ticket

KEY = "helpdesk:ticket-counts"
GENERATION = "generation"
TTL_SECONDS = 300
# The attributes the list filters or scopes on, as columns and as the relationships that set them.
FILTERED = ("status", "priority", "category_id", "assigned_to_id", "user_id", "category", "assigned_to", "user")


def cached_count(filters: dict, count: Callable[[], int]) -> int:
    """``count()``, or the value it gave earlier in the current generation for the same ``filters``."""
    field = "|".join(f"{name}={filters[name]}" for name in sorted(filters))
    generation, cached = redis_store.client.hmget(KEY, GENERATION, field)
    generation = int(generation or 0)
    if cached is not None:
        tag, _, value = cached.decode().partition(":")
        if int(tag) == generation:
            return int(value)
    total = count()
    with redis_store.client.pipeline() as pipe:
        pipe.hset(KEY, field, f"{generation}:{total}")
        pipe.expire(KEY, TTL_SECONDS)
        pipe.execute()
    return total


def _touches_counts(session: Session) -> bool:
    for obj in session.new | session.deleted:
        if isinstance(obj, Ticket) or (isinstance(obj, User) and obj in session.deleted):
            return True
    for obj in session.dirty:
        if isinstance(obj, Ticket):
            attrs = sa.inspect(obj).attrs
            if any(attrs[name].history.has_changes() for name in FILTERED):
                return True
    return False


@event.listens_for(Session, "before_flush")
def _note_ticket_changes(session: Session, _context, _instances) -> None:
    if _touches_counts(session):
        client = redis_store.client  # taken now: the commit may happen where no app context is current
        on_commit(lambda: client.hincrby(KEY, GENERATION, 1), session)
