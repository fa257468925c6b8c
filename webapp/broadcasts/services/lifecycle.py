"""The broadcast state machine: one function per transition, each refusing an illegal move.

    draft ──schedule──▶ scheduled ──(its time)──▶ sending ──pause──▶ paused
      │  ◀─unschedule──    │                        │  ◀──resume──     │
      └───────send now─────┴──────────────▶ sending ──(all done)──▶ completed
    draft / scheduled / sending / paused ──cancel──▶ cancelled

A transition is one conditional UPDATE (``WHERE status = <expected>``), so a pause from the console
and a worker completing the broadcast cannot both win. Services flush; callers commit. Jobs are
enqueued after the commit (``enqueue_after_commit``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from webapp.broadcasts.models import Broadcast, BroadcastDelivery, BroadcastStatus, DeliveryStatus, Segment
from webapp.broadcasts.services import content as contents
from webapp.broadcasts.services.segments import audience_select, get_bot, parse_filters, without_jit
from webapp.broadcasts.services.settings import setting
from webapp.core.db import utcnow
from webapp.core.models import TelegramAccount, User
from webapp.core.services import ServiceError, record_audit
from webapp.extensions import db
from webapp.jobs.queues import enqueue_after_commit, enqueue_at_after_commit

S = BroadcastStatus
EDITABLE = (S.DRAFT.value, S.SCHEDULED.value)
ACTIVE = (S.SENDING.value, S.PAUSED.value)
# verb: (the states it may start from, the state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], BroadcastStatus]] = {
    "schedule": ((S.DRAFT.value,), S.SCHEDULED),
    "unschedule": ((S.SCHEDULED.value,), S.DRAFT),
    "start": ((S.DRAFT.value, S.SCHEDULED.value), S.SENDING),
    "pause": ((S.SENDING.value,), S.PAUSED),
    "resume": ((S.PAUSED.value,), S.SENDING),
    "complete": ((S.SENDING.value,), S.COMPLETED),
    "cancel": ((S.DRAFT.value, S.SCHEDULED.value, S.SENDING.value, S.PAUSED.value), S.CANCELLED),
}
MIN_SCHEDULE_AHEAD = timedelta(seconds=5)


def _move(broadcast: Broadcast, verb: str, **values: Any) -> Broadcast:
    sources, target = TRANSITIONS[verb]
    current = broadcast.status
    if current not in sources:
        raise ServiceError(f"Cannot {verb} a {current} broadcast", 409, "CONFLICT", "status")
    result = db.session.execute(
        sa.update(Broadcast)
        .where(Broadcast.id == broadcast.id, Broadcast.status == current)
        .values(status=target.value, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.refresh(broadcast)
        raise ServiceError(f"Cannot {verb}: the broadcast is now {broadcast.status}", 409, "CONFLICT", "status")
    db.session.refresh(broadcast)
    return broadcast


def _audit(actor: User | None, broadcast: Broadcast, action: str, old: str | None, source: str) -> None:
    record_audit(actor, f"broadcast.{action}", "broadcast", broadcast.id, old, broadcast.status, source)


# --- composing -------------------------------------------------------------------------------------


def _audience(bot, segment_id: int | None, filters: Any) -> tuple[Segment | None, dict]:
    if segment_id is not None and filters:
        raise ServiceError("Give a segment or filters, not both", 422, "VALIDATION_ERROR", "segment_id")
    if segment_id is None:
        return None, parse_filters(filters or {}, bot).as_json()
    segment = db.session.get(Segment, segment_id)
    if segment is None or segment.bot_id != bot.id:
        raise ServiceError("No such segment for this bot", 422, "VALIDATION_ERROR", "segment_id")
    return segment, parse_filters(segment.filters, bot).as_json()


def _check_paid(bot, wanted: bool) -> None:
    if wanted and not bot.paid_broadcast:
        message = "This bot is not enabled for paid broadcasts"
        raise ServiceError(message, 422, "VALIDATION_ERROR", "allow_paid_broadcast")


def _check_content(broadcast: Broadcast) -> None:
    caption = broadcast.photo_name is not None
    contents.check_text(broadcast.text, caption=caption)
    broadcast.texts = contents.check_texts(broadcast.texts, caption=caption)


def create_broadcast(
    actor: User | None,
    *,
    bot_id: int,
    title: str,
    text: str,
    texts: dict[str, str] | None = None,
    buttons: Any = None,
    segment_id: int | None = None,
    filters: Any = None,
    photo: bytes | None = None,
    photo_name: str | None = None,
    allow_paid_broadcast: bool = False,
    source: str = "api",
) -> Broadcast:
    bot = get_bot(bot_id)
    if not title or not title.strip():
        raise ServiceError("Title must not be empty", 422, "VALIDATION_ERROR", "title")
    segment, parsed = _audience(bot, segment_id, filters)
    picture = contents.check_photo(photo, photo_name)
    _check_paid(bot, allow_paid_broadcast)
    broadcast = Broadcast(
        bot_id=bot.id,
        segment_id=segment.id if segment else None,
        filters=parsed,
        title=title.strip()[:200],
        text=text,
        texts=texts or {},
        buttons=contents.check_buttons(buttons),
        photo=picture[0] if picture else None,
        photo_name=picture[1] if picture else None,
        allow_paid_broadcast=allow_paid_broadcast,
        status=S.DRAFT.value,
        created_by_id=actor.id if actor else None,
    )
    _check_content(broadcast)
    db.session.add(broadcast)
    db.session.flush()
    _audit(actor, broadcast, "create", None, source)
    return broadcast


UNSET: Any = object()


def update_broadcast(
    broadcast: Broadcast,
    *,
    title: str | None = None,
    text: str | None = None,
    texts: dict[str, str] | None = None,
    buttons: Any = None,
    segment_id: Any = UNSET,
    filters: Any = None,
    photo: bytes | None = None,
    photo_name: str | None = None,
    remove_photo: bool = False,
    allow_paid_broadcast: bool | None = None,
) -> Broadcast:
    """Edit a draft or a scheduled broadcast (what was sent is never rewritten)."""
    if broadcast.status not in EDITABLE:
        raise ServiceError(f"A {broadcast.status} broadcast cannot be edited", 409, "CONFLICT", "status")
    if title is not None:
        if not title.strip():
            raise ServiceError("Title must not be empty", 422, "VALIDATION_ERROR", "title")
        broadcast.title = title.strip()[:200]
    if text is not None:
        broadcast.text = text
    if texts is not None:
        broadcast.texts = texts
    if buttons is not None:
        broadcast.buttons = contents.check_buttons(buttons)
    if segment_id is not UNSET or filters is not None:
        segment, parsed = _audience(broadcast.bot, None if segment_id is UNSET else segment_id, filters)
        broadcast.segment_id = segment.id if segment else None
        broadcast.filters = parsed
    if remove_photo:
        broadcast.photo, broadcast.photo_name = None, None
    picture = contents.check_photo(photo, photo_name)
    if picture:
        broadcast.photo, broadcast.photo_name = picture[0], picture[1]
    if allow_paid_broadcast is not None:
        _check_paid(broadcast.bot, allow_paid_broadcast)
        broadcast.allow_paid_broadcast = allow_paid_broadcast
    _check_content(broadcast)
    db.session.flush()
    return broadcast


def delete_broadcast(actor: User | None, broadcast: Broadcast, source: str = "api") -> None:
    if broadcast.status != S.DRAFT.value:
        raise ServiceError("Only a draft can be deleted; cancel it instead", 409, "CONFLICT", "status")
    record_audit(actor, "broadcast.delete", "broadcast", broadcast.id, broadcast.status, None, source)
    db.session.delete(broadcast)
    db.session.flush()


# --- transitions -----------------------------------------------------------------------------------


def schedule_broadcast(actor: User | None, broadcast: Broadcast, when: datetime, source: str = "api") -> Broadcast:
    if when.tzinfo is None:
        raise ServiceError("Give the time with its UTC offset", 422, "VALIDATION_ERROR", "scheduled_at")
    when = when.astimezone(UTC)
    if when < utcnow() + MIN_SCHEDULE_AHEAD:
        raise ServiceError("The scheduled time must be in the future", 422, "VALIDATION_ERROR", "scheduled_at")
    old = broadcast.status
    if old == S.SCHEDULED.value:  # moving the time of a scheduled broadcast
        broadcast.scheduled_at = when
        db.session.flush()
    else:
        _move(broadcast, "schedule", scheduled_at=when, last_error=None)
    _audit(actor, broadcast, "schedule", old, source)
    schedule_start(broadcast)
    return broadcast


def unschedule_broadcast(actor: User | None, broadcast: Broadcast, source: str = "api") -> Broadcast:
    _move(broadcast, "unschedule", scheduled_at=None)
    _audit(actor, broadcast, "unschedule", S.SCHEDULED.value, source)
    return broadcast


def materialise_recipients(broadcast: Broadcast) -> int:
    """Snapshot the audience into pending delivery rows (INSERT … SELECT: one statement).

    The unique (broadcast, account) key makes a repeated call add nobody twice.
    """
    bot = broadcast.bot
    filters = parse_filters(broadcast.filters, bot)
    now = utcnow()
    select = audience_select(
        bot,
        filters,
        sa.literal(broadcast.id),
        TelegramAccount.id,
        TelegramAccount.chat_id,
        sa.func.coalesce(TelegramAccount.language, User.language),
        sa.literal(DeliveryStatus.PENDING.value),
        sa.literal(0),
        sa.literal(now, BroadcastDelivery.created_at.type),
    ).where(
        ~sa.exists().where(
            BroadcastDelivery.broadcast_id == broadcast.id,
            BroadcastDelivery.telegram_account_id == TelegramAccount.id,
        )
    )
    columns = ["broadcast_id", "telegram_account_id", "chat_id", "language", "status", "attempts", "created_at"]
    without_jit()
    db.session.execute(sa.insert(BroadcastDelivery).from_select(columns, select))
    return db.session.scalar(
        sa.select(sa.func.count(BroadcastDelivery.id)).where(BroadcastDelivery.broadcast_id == broadcast.id)
    )


def start_broadcast(actor: User | None, broadcast: Broadcast, source: str = "api") -> Broadcast:
    """Send now: freeze the audience, then let the workers go (after the caller's commit)."""
    old = broadcast.status
    if broadcast.segment_id is not None and broadcast.segment is not None:
        # The segment as it is at the start is what this broadcast used, for the record.
        broadcast.filters = parse_filters(broadcast.segment.filters, broadcast.bot).as_json()
    _move(broadcast, "start", started_at=utcnow(), last_error=None, filters=broadcast.filters)
    total = materialise_recipients(broadcast)
    broadcast.total_count = total
    db.session.flush()
    _audit(actor, broadcast, "start", old, source)
    if total == 0:
        _move(broadcast, "complete", finished_at=utcnow())
    else:
        launch_workers(broadcast.id)
    return broadcast


def pause_broadcast(actor: User | None, broadcast: Broadcast, source: str = "api") -> Broadcast:
    _move(broadcast, "pause")
    _audit(actor, broadcast, "pause", S.SENDING.value, source)
    return broadcast


def resume_broadcast(actor: User | None, broadcast: Broadcast, source: str = "api") -> Broadcast:
    _move(broadcast, "resume")
    _audit(actor, broadcast, "resume", S.PAUSED.value, source)
    launch_workers(broadcast.id)
    return broadcast


def cancel_broadcast(actor: User | None, broadcast: Broadcast, source: str = "api") -> Broadcast:
    """Stop for good. Rows not yet sent stay ``pending`` in the record: they were never sent."""
    old = broadcast.status
    _move(broadcast, "cancel", finished_at=utcnow())
    _audit(actor, broadcast, "cancel", old, source)
    return broadcast


def complete_if_done(broadcast_id: int) -> bool:
    """``sending → completed`` once no row is pending or in flight; True when it completed now."""
    open_rows = db.session.scalar(
        sa.select(sa.func.count(BroadcastDelivery.id)).where(
            BroadcastDelivery.broadcast_id == broadcast_id,
            BroadcastDelivery.status.in_((DeliveryStatus.PENDING.value, DeliveryStatus.SENDING.value)),
        )
    )
    if open_rows:
        return False
    result = db.session.execute(
        sa.update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == S.SENDING.value)
        .values(status=S.COMPLETED.value, finished_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def refresh_counters(broadcast_id: int) -> dict[str, int]:
    """Recount the delivery rows into the broadcast's counters; returns the counts by status."""
    rows = db.session.execute(
        sa.select(BroadcastDelivery.status, sa.func.count(BroadcastDelivery.id))
        .where(BroadcastDelivery.broadcast_id == broadcast_id)
        .group_by(BroadcastDelivery.status)
    ).all()
    counts = {status.value: 0 for status in DeliveryStatus}
    counts.update({status: n for status, n in rows})
    db.session.execute(
        sa.update(Broadcast)
        .where(Broadcast.id == broadcast_id)
        .values(
            total_count=sum(counts.values()),
            sent_count=counts["sent"],
            failed_count=counts["failed"],
            blocked_count=counts["blocked"],
            unknown_count=counts["unknown"],
        )
        .execution_options(synchronize_session=False)
    )
    return counts


def start_due_broadcasts(now: datetime | None = None) -> list[int]:
    """Start every scheduled broadcast whose time has come (the database decides, not the queue)."""
    now = now or utcnow()
    due = db.session.scalars(
        sa.select(Broadcast)
        .where(Broadcast.status == S.SCHEDULED.value, Broadcast.scheduled_at <= now)
        .order_by(Broadcast.scheduled_at)
    ).all()
    started = []
    for broadcast in due:
        try:
            with db.session.begin_nested():
                start_broadcast(None, broadcast, source="cron")
            started.append(broadcast.id)
        except ServiceError as exc:
            db.session.refresh(broadcast)
            if broadcast.status == S.SCHEDULED.value:
                # The segment no longer validates (e.g. a vertical was removed): say so, keep it.
                broadcast.status = S.DRAFT.value
                broadcast.last_error = exc.message
        # The cron's boundary, once per broadcast: a started broadcast's delivery jobs go out (on
        # commit) without waiting for the rest of the list. Called only by the cron jobs.
        db.session.commit()
    return started


# --- the delivery jobs this module starts (named by path: the jobs module imports this one) --------

QUEUE = "broadcasts"
DELIVERY_JOB = "webapp.broadcasts.jobs.deliver_broadcast"
START_JOB = "webapp.broadcasts.jobs.start_due_broadcasts"


def job_timeout() -> int:
    return int(setting("BROADCAST_JOB_SLICE_SECONDS")) + 300


def launch_workers(broadcast_id: int) -> None:
    """Enqueue the delivery jobs once the current transaction commits."""
    for _ in range(int(setting("BROADCAST_PARALLEL_JOBS"))):
        enqueue_after_commit(DELIVERY_JOB, broadcast_id, queue=QUEUE, job_timeout=job_timeout())


def schedule_start(broadcast: Broadcast) -> None:
    """Ask RQ's scheduler to start the broadcast at its time (after the commit that scheduled it)."""
    when = broadcast.scheduled_at
    job_id = f"broadcast-start-{broadcast.id}-{int(when.timestamp())}"
    enqueue_at_after_commit(when, START_JOB, queue=QUEUE, job_id=job_id)
