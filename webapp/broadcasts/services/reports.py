"""What the console and the API show about broadcasts: live stats, list and delivery queries, CSV."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from webapp.broadcasts.models import Broadcast, BroadcastDelivery, BroadcastStatus, DeliveryStatus
from webapp.core.db import iso, utcnow
from webapp.core.export import safe_writer
from webapp.extensions import db

D = DeliveryStatus
RATE_WINDOW = timedelta(seconds=10)
FINAL = (D.SENT.value, D.FAILED.value, D.BLOCKED.value, D.UNKNOWN.value)


def counts_by_status(broadcast_id: int) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(BroadcastDelivery.status, sa.func.count(BroadcastDelivery.id))
        .where(BroadcastDelivery.broadcast_id == broadcast_id)
        .group_by(BroadcastDelivery.status)
    ).all()
    counts = {status.value: 0 for status in DeliveryStatus}
    counts.update({status: n for status, n in rows})
    return counts


def _recent_rate(broadcast: Broadcast) -> float:
    """Messages finished per second over the last few seconds of sending."""
    now = utcnow()
    since = now - RATE_WINDOW
    if broadcast.started_at and broadcast.started_at > since:
        since = broadcast.started_at
    seconds = (now - since).total_seconds()
    if seconds <= 0:
        return 0.0
    done = db.session.scalar(
        sa.select(sa.func.count(BroadcastDelivery.id)).where(
            BroadcastDelivery.broadcast_id == broadcast.id,
            BroadcastDelivery.status.in_(FINAL),
            BroadcastDelivery.finished_at >= since,
        )
    )
    return round(done / seconds, 2)


def _percent(finished: int, total: int, status: str) -> float:
    if total:
        return round(100 * finished / total, 1)
    return 100.0 if status == BroadcastStatus.COMPLETED.value else 0.0  # an empty audience is done at once


def stats(broadcast: Broadcast) -> dict[str, Any]:
    """Live figures from the delivery rows (not the cached counters), for the seed's stats and the bar."""
    counts = counts_by_status(broadcast.id)
    total = sum(counts.values())
    finished = sum(counts[s] for s in FINAL)
    sending = broadcast.status == BroadcastStatus.SENDING.value
    rate = _recent_rate(broadcast) if sending else 0.0
    left = counts[D.PENDING.value] + counts[D.SENDING.value]
    return {
        "id": broadcast.id,
        "status": broadcast.status,
        "total_recipients": total,
        "sent_count": counts[D.SENT.value],
        "delivered_count": counts[D.SENT.value],
        "failed_count": counts[D.FAILED.value],
        "blocked_count": counts[D.BLOCKED.value],
        "unknown_count": counts[D.UNKNOWN.value],
        "pending_count": counts[D.PENDING.value],
        "sending_count": counts[D.SENDING.value],
        "progress_percent": _percent(finished, total, broadcast.status),
        "rate_per_second": rate,
        "eta_seconds": round(left / rate) if sending and rate > 0 else None,
        "scheduled_at": iso(broadcast.scheduled_at),
        "started_at": iso(broadcast.started_at),
        "finished_at": iso(broadcast.finished_at),
    }


def broadcasts_query(*, bot_id: int | None = None, status: str | None = None, search: str | None = None) -> sa.Select:
    query = sa.select(Broadcast).order_by(Broadcast.id.desc())
    if bot_id:
        query = query.where(Broadcast.bot_id == bot_id)
    if status:
        query = query.where(Broadcast.status == status)
    if search:
        query = query.where(sa.func.lower(Broadcast.title).contains(search.lower(), autoescape=True))
    return query


def deliveries_query(broadcast_id: int, status: str | None = None) -> sa.Select:
    query = (
        sa.select(BroadcastDelivery)
        .where(BroadcastDelivery.broadcast_id == broadcast_id)
        .order_by(BroadcastDelivery.id)
    )
    if status:
        query = query.where(BroadcastDelivery.status == status)
    return query


def failures(broadcast_id: int, limit: int = 50) -> list[BroadcastDelivery]:
    """Rows that did not arrive (failed, blocked, unknown) with their reasons, for the broadcast page."""
    return list(
        db.session.scalars(
            deliveries_query(broadcast_id)
            .where(BroadcastDelivery.status.in_((D.FAILED.value, D.BLOCKED.value, D.UNKNOWN.value)))
            .limit(limit)
        )
    )


DELIVERY_CSV_COLUMNS = (
    "id",
    "telegram_account_id",
    "telegram_user_id",
    "username",
    "chat_id",
    "language",
    "status",
    "attempts",
    "telegram_message_id",
    "error",
    "sending_at",
    "finished_at",
)


# Who the recipient is on Telegram: for the organization's admins, never for marketers.
IDENTITY_COLUMNS = frozenset({"telegram_user_id", "username", "chat_id"})


def deliveries_csv(broadcast_id: int, status: str | None = None, with_identities: bool = True) -> Iterator[str]:
    """The broadcast's delivery rows as CSV, streamed in chunks (no 20,000-row list in memory)."""
    from webapp.core.models import TelegramAccount

    buffer = io.StringIO()
    columns = [c for c in DELIVERY_CSV_COLUMNS if with_identities or c not in IDENTITY_COLUMNS]
    writer = safe_writer(buffer)
    writer.writerow(columns)
    query = (
        sa.select(BroadcastDelivery, TelegramAccount.telegram_user_id, TelegramAccount.username)
        .join(TelegramAccount, TelegramAccount.id == BroadcastDelivery.telegram_account_id)
        .where(BroadcastDelivery.broadcast_id == broadcast_id)
        .order_by(BroadcastDelivery.id)
    )
    if status:
        query = query.where(BroadcastDelivery.status == status)
    for n, (row, telegram_user_id, username) in enumerate(db.session.execute(query.execution_options(yield_per=1000))):
        record = dict(
            zip(
                DELIVERY_CSV_COLUMNS,
                [
                    row.id,
                    row.telegram_account_id,
                    telegram_user_id,
                    username or "",
                    row.chat_id,
                    row.language or "",
                    row.status,
                    row.attempts,
                    row.telegram_message_id or "",
                    row.error or "",
                    iso(row.sending_at) or "",
                    iso(row.finished_at) or "",
                ],
                strict=True,
            )
        )
        writer.writerow([record[column] for column in columns])
        if n % 500 == 499:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
