"""The clinic's notion of "now": one function, so tests can move time for every rule at once."""

from __future__ import annotations

from datetime import datetime

from webapp.core.db import utcnow


def now() -> datetime:
    return utcnow()


def resolve(value: datetime | None) -> datetime:
    """``value`` when given (it must be aware), else the current time."""
    if value is None:
        return now()
    if value.tzinfo is None:
        raise ValueError("naive datetime given; pass aware UTC")
    return value
