"""Column types and mixins every vertical's models share."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every backend.

    SQLite drops the offset, so values are normalised to UTC on the way in and given their
    ``tzinfo`` back on the way out; naive datetimes are refused rather than guessed at.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store times as timezone-aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


def iso(value: datetime | None) -> str | None:
    """ISO-8601 in UTC with a trailing Z, as the seeds show timestamps."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_missing(
    model,
    values: dict,
    conflict: tuple[str, ...] | None = None,
    where: sa.ColumnElement[bool] | None = None,
) -> bool:
    """``INSERT … ON CONFLICT DO NOTHING``: True when this call inserted the row.

    The race-safe half of every get-or-create: the loser of a concurrent first insert waits for the
    winner's commit and then inserts nothing, so its transaction stays usable and the caller simply
    re-reads. Chosen over a savepoint because rolling a savepoint back also drops after-commit work.
    ``conflict`` names the unique columns (``where``: the predicate of a partial unique index); None
    ignores a conflict on any unique key.
    """
    db.session.flush()  # the row may refer to objects still pending in the session
    insert = _INSERTS[db.session.get_bind().dialect.name](model.__table__).values(**values)
    if conflict is None:
        insert = insert.on_conflict_do_nothing()
    else:
        insert = insert.on_conflict_do_nothing(index_elements=list(conflict), index_where=where)
    # RETURNING, not rowcount: drivers disagree on rowcount once a primary key is returned.
    return db.session.execute(insert.returning(*model.__table__.primary_key.columns)).first() is not None


def render_alembic_item(type_, obj, autogen_context):
    """Alembic renders our Python-side column types as the plain SQL types they wrap."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
