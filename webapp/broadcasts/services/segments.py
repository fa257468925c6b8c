"""Segments: a filter definition validated by pydantic and compiled into ONE SQL query.

The query selects the bot's Telegram accounts (never blocked ones, never blocked platform users)
joined to the vertical's own data through EXISTS / aggregate sub-queries, so an account appears at
most once whatever it matches. Vertical models are imported lazily: a vertical that does not exist
in this installation makes its fields a 422, not an ImportError.

Fields (all optional; an empty definition means "every reachable account of the bot"):

- generic: ``language`` (code or list), ``last_seen_from``/``last_seen_to``,
  ``registered_from``/``registered_to`` (dates, inclusive, in the platform's time zone),
  ``has_not_blocked`` (``true`` only: blocked accounts are always excluded);
- clinic (seed 002): ``age_min``, ``age_max``, ``sex`` (M/F), ``services`` (service ids used),
  ``tags`` (all of them), ``osms_status``, ``last_visit_from``/``last_visit_to``, ``min_visits``;
- realty: ``cities`` (cities of the user's bookings that were not cancelled), ``roles``;
- finance: ``active_days`` (recorded a transaction in the last N days).
"""

from __future__ import annotations

import importlib
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from webapp.broadcasts.models import Broadcast, Segment
from webapp.core.db import iso
from webapp.core.limits import BoundedDate, field_error
from webapp.core.models import TelegramAccount, User
from webapp.core.roles import Role
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.telegram.models import Bot, Vertical

LANGUAGES = ("ru", "kk", "uz", "en")
SAMPLE_SIZE = 20

GENERIC_FIELDS = frozenset(
    {"language", "last_seen_from", "last_seen_to", "registered_from", "registered_to", "has_not_blocked"}
)
VERTICAL_FIELDS: dict[str, frozenset[str]] = {
    Vertical.CLINIC.value: frozenset(
        {
            "age_min",
            "age_max",
            "sex",
            "services",
            "tags",
            "osms_status",
            "last_visit_from",
            "last_visit_to",
            "min_visits",
        }
    ),
    Vertical.REALTY.value: frozenset({"cities", "roles"}),
    Vertical.FINANCE.value: frozenset({"active_days"}),
}

PositiveId = Annotated[int, Field(ge=1, le=2**62)]
ShortText = Annotated[str, Field(min_length=1, max_length=100)]


class FilterError(ServiceError):
    """422 naming every offending field (``details`` in the API's error format)."""

    def __init__(self, details: list[dict[str, str]]) -> None:
        super().__init__(details[0]["message"], 422, "VALIDATION_ERROR", details[0]["field"])
        self.details = details


class SegmentFilters(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # generic
    language: list[Literal["ru", "kk", "uz", "en"]] | None = Field(None, min_length=1, max_length=4)
    last_seen_from: BoundedDate | None = None
    last_seen_to: BoundedDate | None = None
    registered_from: BoundedDate | None = None
    registered_to: BoundedDate | None = None
    has_not_blocked: Literal[True] | None = None
    # clinic (seed 002)
    age_min: int | None = Field(None, ge=0, le=150)
    age_max: int | None = Field(None, ge=0, le=150)
    sex: Literal["M", "F"] | None = None
    services: list[PositiveId] | None = Field(None, min_length=1, max_length=500)
    tags: list[ShortText] | None = Field(None, min_length=1, max_length=50)
    osms_status: ShortText | None = None
    last_visit_from: BoundedDate | None = None
    last_visit_to: BoundedDate | None = None
    min_visits: int | None = Field(None, ge=1, le=100_000)
    # realty
    cities: list[ShortText] | None = Field(None, min_length=1, max_length=100)
    roles: list[Literal[tuple(r.value for r in Role)]] | None = Field(None, min_length=1, max_length=8)  # type: ignore[misc]
    # finance
    active_days: int | None = Field(None, ge=1, le=3650)

    @field_validator("language", "cities", "tags", "roles", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("sex", mode="before")
    @classmethod
    def _sex_upper(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _ranges(self) -> SegmentFilters:
        for low, high in (
            ("age_min", "age_max"),
            ("last_seen_from", "last_seen_to"),
            ("registered_from", "registered_to"),
            ("last_visit_from", "last_visit_to"),
        ):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                raise field_error(high, f"{high} must not be before {low}")
        return self

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def _details_from(exc: ValidationError) -> list[dict[str, str]]:
    details = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        field = loc[0] if loc else "filters"
        if err.get("type") == "extra_forbidden":
            message = "Unknown filter field"
        elif not loc:  # a cross-field rule names its field (limits.field_error)
            message = err.get("msg", "Invalid value")
            field = (err.get("ctx") or {}).get("field", "filters")
        else:
            message = err.get("msg", "Invalid value")
            if len(loc) > 1:
                field = ".".join(loc)
        details.append({"field": field, "message": message})
    return details


def parse_filters(raw: Any, bot: Bot) -> SegmentFilters:
    """Validate ``raw`` for ``bot``'s vertical, or FilterError (422) naming the fields."""
    if raw is None:
        raw = {}
    if isinstance(raw, SegmentFilters):
        filters = raw
    else:
        if not isinstance(raw, dict):
            raise FilterError([{"field": "filters", "message": "Filters must be a JSON object"}])
        try:
            filters = SegmentFilters.model_validate(raw)
        except ValidationError as exc:
            raise FilterError(_details_from(exc)) from exc
    allowed = GENERIC_FIELDS | VERTICAL_FIELDS.get(bot.vertical, frozenset())
    wrong = [
        {"field": name, "message": f"Not available for a {bot.vertical} bot"}
        for name in filters.model_fields_set
        if name not in allowed and getattr(filters, name) is not None
    ]
    if wrong:
        raise FilterError(sorted(wrong, key=lambda d: d["field"]))
    for name in filters.model_fields_set & VERTICAL_FIELDS.get(bot.vertical, frozenset()):
        if getattr(filters, name) is not None and vertical_models(bot.vertical) is None:
            raise FilterError([{"field": name, "message": f"The {bot.vertical} vertical is not installed"}])
    return filters


# --- compiling -------------------------------------------------------------------------------------


def vertical_models(vertical: str):
    try:
        return importlib.import_module(f"webapp.{vertical}.models")
    except ModuleNotFoundError:
        return None


def _timezone(bot: Bot) -> ZoneInfo:
    key = "CLINIC_DEFAULT_TIMEZONE" if bot.vertical == Vertical.CLINIC.value else "DEFAULT_TIMEZONE"
    return ZoneInfo(current_app.config.get(key) or "UTC")


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def _range(column, start: date | None, end: date | None, tz: ZoneInfo) -> list:
    """``column`` within whole local days ``start``..``end`` (both inclusive)."""
    clauses = []
    if start is not None:
        clauses.append(column >= _day_start(start, tz))
    if end is not None:
        clauses.append(column < _day_start(end + timedelta(days=1), tz))
    return clauses


def today_in(tz: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(tz).date()


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a non-leap year
        return day.replace(year=day.year - years, day=28)


def _generic_clauses(filters: SegmentFilters, tz: ZoneInfo) -> list:
    clauses = []
    if filters.language:
        clauses.append(sa.func.coalesce(TelegramAccount.language, User.language).in_(filters.language))
    clauses += _range(TelegramAccount.last_seen, filters.last_seen_from, filters.last_seen_to, tz)
    clauses += _range(TelegramAccount.created_at, filters.registered_from, filters.registered_to, tz)
    return clauses


def _realty(query: sa.Select, filters: SegmentFilters, tz: ZoneInfo, bot: Bot, reachable: bool) -> sa.Select:
    if filters.cities:
        realty = vertical_models("realty")
        cities = [c.lower() for c in filters.cities]
        query = query.where(
            sa.exists()
            .where(realty.Booking.guest_id == User.id)
            .where(realty.Listing.id == realty.Booking.listing_id)
            .where(realty.Booking.status != realty.BookingStatus.CANCELLED.value)
            .where(sa.func.lower(realty.Listing.city).in_(cities))
        )
    if filters.roles:
        query = query.where(User.role.in_(filters.roles))
    return query


def _finance(query: sa.Select, filters: SegmentFilters, tz: ZoneInfo, bot: Bot, reachable: bool) -> sa.Select:
    if filters.active_days is None:
        return query
    finance = vertical_models("finance")
    since = datetime.now(UTC) - timedelta(days=filters.active_days)
    return query.where(
        sa.exists().where(finance.Transaction.user_id == User.id).where(finance.Transaction.created_at >= since)
    )


def _clinic(query: sa.Select, filters: SegmentFilters, tz: ZoneInfo, bot: Bot, reachable: bool) -> sa.Select:
    from webapp.broadcasts.services.clinic_segments import restrict_to_patients

    return restrict_to_patients(query, filters, tz, bot, reachable)


# Each adds its vertical's joins and conditions to the accounts query.
VERTICAL_COMPILERS = {
    Vertical.CLINIC.value: _clinic,
    Vertical.REALTY.value: _realty,
    Vertical.FINANCE.value: _finance,
}


def reachability(bot: Bot) -> list[tuple[str, sa.ColumnElement[bool]]]:
    """Why a matching account is left out of every broadcast, as (reason, condition that leaves it
    out), in the order the console names them; the vertical's own rules (a clinic's marketing
    consent) come last."""
    reasons = [
        ("user_blocked", sa.not_(User.is_active)),
        ("blocked_bot", TelegramAccount.blocked_bot.is_(True)),
        ("no_chat", TelegramAccount.chat_id.is_(None)),
    ]
    if bot.vertical == Vertical.CLINIC.value and vertical_models(bot.vertical) is not None:
        from webapp.broadcasts.services.clinic_segments import LEFT_OUT

        reasons += LEFT_OUT
    return reasons


def audience_select(bot: Bot, filters: SegmentFilters, *columns, reachable: bool = True) -> sa.Select:
    """The segment as ONE select over the bot's accounts (default column: the account id).

    Every join the verticals add is one-to-one with the account (or an EXISTS), so an account is
    never listed twice. ``reachable=False``: also the accounts every broadcast leaves out
    (``reachability``), for counting who is left out and why.
    """
    tz = _timezone(bot)
    query = (
        sa.select(*(columns or (TelegramAccount.id,)))
        .select_from(TelegramAccount)
        .join(User, User.id == TelegramAccount.user_id)
        .where(TelegramAccount.bot_id == bot.id, *_generic_clauses(filters, tz))
    )
    if reachable:
        query = query.where(
            TelegramAccount.blocked_bot.is_(False),
            TelegramAccount.chat_id.is_not(None),
            # Plain, not IS TRUE: PostgreSQL then probes the partial index ix_users_active_id.
            User.is_active,
        )
    compiler = VERTICAL_COMPILERS.get(bot.vertical)
    if compiler is not None and vertical_models(bot.vertical) is not None:
        query = compiler(query, filters, tz, bot, reachable)
    return query


def left_out(bot: Bot, filters: SegmentFilters) -> dict[str, int]:
    """How many accounts match ``filters`` but no broadcast reaches, by reason. Each account is
    counted once, under the first reason of ``reachability`` that applies, so the counts add up."""
    reasons = reachability(bot)
    reason = sa.case(*((condition, name) for name, condition in reasons), else_=sa.null()).label("reason")
    query = audience_select(bot, filters, reason, sa.func.count(), reachable=False).group_by(reason)
    without_jit()
    counted = {name: count for name, count in db.session.execute(query) if name is not None}
    return {name: counted.get(name, 0) for name, _condition in reasons}


def without_jit() -> None:
    """PostgreSQL's JIT compiler is tuned for long analytics; the segment query's cost estimate (one
    small index scan per candidate patient, times many candidates) trips it and compiling then
    takes longer than running. Off for the current transaction only."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL jit = off"))


def audience_count(bot: Bot, filters: SegmentFilters) -> int:
    # count(*): each row is one account already, and no column to read lets the joins stay index-only.
    query = audience_select(bot, filters, sa.func.count())
    without_jit()
    return db.session.scalar(query) or 0


def audience_sample(bot: Bot, filters: SegmentFilters, size: int = SAMPLE_SIZE) -> list[dict[str, Any]]:
    without_jit()
    rows = db.session.execute(
        audience_select(
            bot,
            filters,
            TelegramAccount.id,
            TelegramAccount.telegram_user_id,
            TelegramAccount.username,
            sa.func.coalesce(TelegramAccount.first_name, User.first_name).label("first_name"),
            sa.func.coalesce(TelegramAccount.last_name, User.last_name).label("last_name"),
            sa.func.coalesce(TelegramAccount.language, User.language).label("language"),
            TelegramAccount.last_seen,
        )
        # Any 20, not the first 20 by id: an ORDER BY would make PostgreSQL walk the accounts in id
        # order and test each until 20 match, which is slow when the early ones mostly do not.
        .limit(size)
    ).all()
    rows = sorted(rows, key=lambda r: r.id)
    return [
        {
            "telegram_account_id": r.id,
            "telegram_user_id": r.telegram_user_id,
            "username": r.username,
            "first_name": r.first_name,
            "last_name": r.last_name,
            "language": r.language,
            "last_seen": iso(r.last_seen),
        }
        for r in rows
    ]


def preview(bot: Bot, raw_filters: Any) -> dict[str, Any]:
    """What the console and the API show before sending: the audience count and a sample.

    The sample is first names only: whoever composes a broadcast (a marketer) learns how big and
    what kind of audience it is, never who is in it on Telegram (ids, usernames, phones); who is
    left out is counts only.
    """
    filters = parse_filters(raw_filters, bot)
    return {
        "bot_id": bot.id,
        "filters": filters.as_json(),
        "count": audience_count(bot, filters),
        "left_out": left_out(bot, filters),
        "sample": [{"first_name": row["first_name"]} for row in audience_sample(bot, filters)],
    }


# --- saved segments --------------------------------------------------------------------------------


def get_bot(bot_id: int) -> Bot:
    bot = db.session.get(Bot, bot_id)
    if bot is None:
        raise ServiceError("Bot not found", 404, "NOT_FOUND", "bot_id")
    return bot


def _unique_name(bot_id: int, name: str, exclude_id: int | None = None) -> None:
    query = sa.select(Segment.id).where(Segment.bot_id == bot_id, Segment.name == name)
    if exclude_id is not None:
        query = query.where(Segment.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise ServiceError("A segment with this name already exists for this bot", 409, "CONFLICT", "name")


def create_segment(actor: User | None, bot_id: int, name: str, filters: Any, description: str | None = None) -> Segment:
    bot = get_bot(bot_id)
    parsed = parse_filters(filters, bot)
    _unique_name(bot.id, name)
    segment = Segment(
        bot_id=bot.id,
        name=name,
        description=description,
        filters=parsed.as_json(),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(segment)
    db.session.flush()
    return segment


def update_segment(segment: Segment, *, name: str | None = None, filters: Any = None, description=None) -> Segment:
    if name is not None and name != segment.name:
        _unique_name(segment.bot_id, name, segment.id)
        segment.name = name
    if filters is not None:
        segment.filters = parse_filters(filters, segment.bot).as_json()
    if description is not None:
        segment.description = description or None
    db.session.flush()
    return segment


def delete_segment(segment: Segment) -> None:
    """Broadcasts keep their own copy of the filters, so deleting a segment rewrites no history."""
    # Explicit rather than ON DELETE SET NULL alone: SQLite may run without foreign key enforcement.
    db.session.execute(
        sa.update(Broadcast)
        .where(Broadcast.segment_id == segment.id)
        .values(segment_id=None)
        .execution_options(synchronize_session="fetch")
    )
    db.session.delete(segment)
    db.session.flush()


def segment_filters(segment: Segment) -> SegmentFilters:
    return parse_filters(segment.filters, segment.bot)
