"""Moderation reports (seed 004) over the realty moderation event log.

A report covers whole days in the platform time zone (``DEFAULT_TIMEZONE``, Asia/Tashkent by
default): day D is [D 00:00, D+1 00:00) local time, converted to UTC to query the log, so an event
at 23:30 local counts for D even though it is already D+1 in UTC — and the reverse.

Shape (both endpoints; ``date`` for a day, ``date_from``/``date_to`` for a range, inclusive)::

    {"date": "2025-09-28", "total_added": 53, "total_approved": 41, "total_rejected": 12,
     "top_regions": [TopItem, ...], "top_districts": [...], "top_users": [...]}

``TopItem`` is ``{"name", "count", "added", "approved", "rejected"}``: ``count`` is the number of
moderation events (added + approved + rejected) in the period for that region (the listing's city),
district, or user (the listing's owner — the realtor whose listings they are). Lists are ordered by
``count`` descending, then name, and hold at most 10 items.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from webapp.core.db import insert_missing, utcnow
from webapp.core.i18n import Catalog
from webapp.core.limits import in_date_range, require_date_in_range
from webapp.core.models import User
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.realty.models import ModerationAction, ModerationEvent
from webapp.reports.access import can_read_reports
from webapp.reports.models import ReportSubscription
from webapp.telegram import outbox
from webapp.telegram.models import Bot
from webapp.telegram.services import ENV_BOT_NAME

TOP_SIZE = 10
MAX_RANGE_DAYS = 366
ACTIONS = tuple(a.value for a in ModerationAction)
catalog = Catalog("reports")


def report_timezone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])


def local_today() -> date:
    return datetime.now(report_timezone()).date()


def day_start_utc(day: date) -> datetime:
    """Local midnight of ``day`` as an aware UTC datetime (correct across DST changes)."""
    return datetime.combine(day, time.min, tzinfo=report_timezone()).astimezone(UTC)


def check_range(date_from: date, date_to: date) -> None:
    require_date_in_range(date_from, "date_from")
    require_date_in_range(date_to, "date_to")
    if date_from > date_to:
        raise ServiceError("date_from must not be after date_to", 422, "VALIDATION_ERROR", "date_from")
    if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
        raise ServiceError("A range covers at most 366 days", 422, "VALIDATION_ERROR", "date_to")


def _top(counts: dict, names: dict) -> list[dict]:
    items = []
    for key, per_action in counts.items():
        item = {"name": names.get(key, str(key)), "count": sum(per_action.values())}
        item.update({action: per_action.get(action, 0) for action in ACTIONS})
        items.append(item)
    items.sort(key=lambda i: (-i["count"], i["name"]))
    return items[:TOP_SIZE]


def build_report(date_from: date, date_to: date, agency_id: int | None = None) -> dict:
    """Totals and tops of moderation events on the local days ``date_from``..``date_to`` inclusive."""
    check_range(date_from, date_to)
    where = [
        ModerationEvent.occurred_at >= day_start_utc(date_from),
        ModerationEvent.occurred_at < day_start_utc(date_to + timedelta(days=1)),
    ]
    if agency_id is not None:
        where.append(ModerationEvent.agency_id == agency_id)

    def grouped(column) -> dict:
        rows = db.session.execute(
            sa.select(column, ModerationEvent.action, sa.func.count())
            .where(*where, column.is_not(None))
            .group_by(column, ModerationEvent.action)
        ).all()
        counts: dict = defaultdict(dict)
        for key, action, count in rows:
            counts[key][action] = count
        return counts

    totals = dict(
        db.session.execute(
            sa.select(ModerationEvent.action, sa.func.count()).where(*where).group_by(ModerationEvent.action)
        ).all()
    )
    regions = grouped(ModerationEvent.city)
    districts = grouped(ModerationEvent.district)
    users = grouped(ModerationEvent.user_id)
    user_names = {u.id: u.display_name for u in db.session.scalars(sa.select(User).where(User.id.in_(list(users))))}
    return {
        "total_added": totals.get(ModerationAction.ADDED.value, 0),
        "total_approved": totals.get(ModerationAction.APPROVED.value, 0),
        "total_rejected": totals.get(ModerationAction.REJECTED.value, 0),
        "top_regions": _top(regions, {k: k for k in regions}),
        "top_districts": _top(districts, {k: k for k in districts}),
        "top_users": _top(users, user_names),
    }


def daily_report(day: date, agency_id: int | None = None) -> dict:
    return {"date": day.isoformat(), **build_report(day, day, agency_id)}


def range_report(date_from: date, date_to: date, agency_id: int | None = None) -> dict:
    return {
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
        **build_report(date_from, date_to, agency_id),
    }


def daily_series(date_from: date, date_to: date, agency_id: int | None = None) -> list[dict]:
    """Per local day of the range: added, approved and rejected counts (for the console chart and CSV)."""
    check_range(date_from, date_to)
    query = sa.select(ModerationEvent.occurred_at, ModerationEvent.action).where(
        ModerationEvent.occurred_at >= day_start_utc(date_from),
        ModerationEvent.occurred_at < day_start_utc(date_to + timedelta(days=1)),
    )
    if agency_id is not None:
        query = query.where(ModerationEvent.agency_id == agency_id)
    zone = report_timezone()
    days = {date_from + timedelta(days=i): dict.fromkeys(ACTIONS, 0) for i in range((date_to - date_from).days + 1)}
    for occurred_at, action in db.session.execute(query):
        days[occurred_at.astimezone(zone).date()][action] += 1
    return [{"date": day.isoformat(), **counts} for day, counts in sorted(days.items())]


# --- bot rendering ---------------------------------------------------------------------------------


def format_report(report: dict, language: str | None) -> str:
    """The report as a Telegram message in the reader's language."""

    def tr(message: str, **params) -> str:
        return catalog.for_language(language, message, **params)

    if "date" in report:
        lines = [tr("📊 Moderation report for %(date)s", date=report["date"])]
    else:
        lines = [tr("📊 Moderation report %(date_from)s — %(date_to)s", **report)]
    lines += [
        "",
        tr("Added: %(n)s", n=report["total_added"]),
        tr("Approved: %(n)s", n=report["total_approved"]),
        tr("Rejected: %(n)s", n=report["total_rejected"]),
    ]
    for key, title in (
        ("top_regions", tr("Top regions")),
        ("top_districts", tr("Top districts")),
        ("top_users", tr("Top users")),
    ):
        items = report[key][:5]
        if items:
            lines += ["", f"{title}:"]
            lines += [f"{i}. {item['name']} — {item['count']}" for i, item in enumerate(items, 1)]
    if not (report["total_added"] or report["total_approved"] or report["total_rejected"]):
        lines += ["", tr("No moderation activity in this period.")]
    return "\n".join(lines)


def parse_day(text: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ServiceError("Use dates in the form YYYY-MM-DD", 422, "VALIDATION_ERROR", "date") from exc
    if not in_date_range(day):
        raise ServiceError("Use dates in the form YYYY-MM-DD", 422, "VALIDATION_ERROR", "date")
    return day


# --- morning subscriptions -------------------------------------------------------------------------


def subscribe(user: User, bot_id: int | None, chat_id: int) -> ReportSubscription:
    if not can_read_reports(user):
        raise ServiceError("Only admins and moderators receive reports", 403, "FORBIDDEN")
    row = db.session.get(ReportSubscription, user.id)
    if row is None:
        insert_missing(ReportSubscription, {"user_id": user.id, "bot_id": bot_id, "chat_id": chat_id}, ("user_id",))
        row = db.session.get(ReportSubscription, user.id)
    row.bot_id, row.chat_id = bot_id, chat_id
    db.session.flush()
    return row


def unsubscribe(user: User) -> bool:
    return bool(db.session.execute(sa.delete(ReportSubscription).where(ReportSubscription.user_id == user.id)).rowcount)


def is_subscribed(user: User) -> bool:
    return db.session.get(ReportSubscription, user.id) is not None


def morning_hour() -> int:
    return int(current_app.config.get("REPORTS_MORNING_HOUR", 8))


def report_key(user_id: uuid.UUID, day: date) -> str:
    """The outbox dedupe key of one reader's report for ``day``: the once-only guarantee."""
    return f"report:{user_id.hex}:{day.isoformat()}"


def morning_reports_due(now: datetime | None = None) -> list[tuple[ReportSubscription, date]]:
    """Yesterday's report owed to each subscriber (who may read reports) once the local morning hour
    has come, and not yet written to the outbox."""
    local_now = (now or utcnow()).astimezone(report_timezone())
    if local_now.hour < morning_hour():
        return []
    report_day = local_now.date() - timedelta(days=1)
    subscriptions = db.session.scalars(sa.select(ReportSubscription).order_by(ReportSubscription.created_at)).all()
    readers = [sub for sub in subscriptions if can_read_reports(sub.user)]
    done = outbox.written(report_key(sub.user_id, report_day) for sub in readers)
    return [(sub, report_day) for sub in readers if report_key(sub.user_id, report_day) not in done]


def queue_morning_reports(now: datetime | None = None) -> int:
    """Write each owed morning report into the outbox (its dedupe key makes it once per reader and
    day, however many runs race); returns how many were written."""
    from webapp.reports.access import report_scope

    queued = 0
    for sub, day in morning_reports_due(now):
        bot_id = sub.bot_id or db.session.scalar(sa.select(Bot.id).where(Bot.name == ENV_BOT_NAME))
        if bot_id is None:
            continue  # subscribed through the environment's bot, which this deployment does not have
        text = format_report(daily_report(day, report_scope(sub.user)), sub.user.language)
        chat = outbox.Chat(bot_id, sub.chat_id, sub.user_id)
        queued += outbox.write(report_key(sub.user_id, day), "report", chat, text) is not None
    return queued
