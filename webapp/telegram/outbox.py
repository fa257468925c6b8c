"""The outbox: every message to a user outside a conversation is a row first, then one delivery.

Writing (``write``) is a service: it adds an ``OutboundMessage`` in the caller's transaction, so the
message exists exactly when the change that causes it commits. Its ``dedupe_key`` is unique and the
insert is ``ON CONFLICT DO NOTHING``: a second write of the same key (a retried scan, a double tap,
two racing scans) is a no-op, never an error that would spoil the caller's transaction. Once the
transaction commits, a delivery job for the new row is queued (``on_commit``); the periodic sweep
picks up whatever that job did not (Redis away, a worker crash before the claim).

Delivering (``deliver_next``) claims one row with a single conditional UPDATE — on PostgreSQL its
row is chosen ``FOR UPDATE SKIP LOCKED``, on SQLite the database's one writer makes it atomic — and
the caller commits the claim BEFORE the message leaves; the outcome is recorded and committed right
after the send returns.

At-most-once, deliberately. A row still ``sending`` after ``SENDING_TIMEOUT`` belongs to a delivery
that died between its claim and its record, i.e. (almost always) during the call to Telegram, which
may have delivered the message. The sweep marks it ``unknown`` and never sends it again: a reminder
lost once is logged and visible in the table, a reminder sent twice cannot be taken back. A message
that surely did not reach Telegram (a network error, 429s that outlast the sender's patience) is put
back to ``pending`` with a back-off, up to ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

import importlib
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from webapp.core.db import utcnow
from webapp.core.models import TelegramAccount, User
from webapp.extensions import db
from webapp.jobs.queues import enqueue_after_commit
from webapp.telegram.models import Bot, OutboundMessage, OutboundStatus

log = logging.getLogger(__name__)

S = OutboundStatus
MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(seconds=30)  # then 1, 2, 4 minutes
# Longer than one send can take: the sender waits out rate limits and up to ten 429s.
SENDING_TIMEOUT = timedelta(minutes=15)
DELIVERY_JOB = "webapp.telegram.jobs.deliver_message"  # by dotted path: no import cycle with the jobs
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
ANY_ORGANIZATION: Any = object()


@dataclass(frozen=True)
class Chat:
    bot_id: int
    chat_id: int
    user_id: uuid.UUID | None = None


# --- where to write --------------------------------------------------------------------------------


def chat_for(
    user: User | uuid.UUID,
    bot: Bot | int | None = None,
    *,
    vertical: str | None = None,
    organization_id: int | None = ANY_ORGANIZATION,
) -> Chat | None:
    """The user's reachable chat with ``bot``; failing that (no bot given, never talked to it, blocked
    it, or it is disabled) their most recently seen chat with an enabled bot of ``vertical`` — of
    ``organization_id`` or the platform's when one is given. None: nowhere to write."""
    user_id = user.id if isinstance(user, User) else user
    bot_id = bot.id if isinstance(bot, Bot) else bot
    reachable = (
        sa.select(TelegramAccount.bot_id, TelegramAccount.chat_id)
        .join(Bot, Bot.id == TelegramAccount.bot_id)
        .where(
            TelegramAccount.user_id == user_id,
            TelegramAccount.blocked_bot.is_(False),
            TelegramAccount.chat_id.is_not(None),
            Bot.enabled.is_(True),
        )
        .order_by(TelegramAccount.last_seen.desc().nulls_last(), TelegramAccount.id.desc())
        .limit(1)
    )
    row = None
    if bot_id is not None:
        row = db.session.execute(reachable.where(TelegramAccount.bot_id == bot_id)).first()
    if row is None and vertical is not None:
        query = reachable.where(Bot.vertical == vertical)
        if organization_id is not ANY_ORGANIZATION:
            query = query.where(sa.or_(Bot.organization_id == organization_id, Bot.organization_id.is_(None)))
        row = db.session.execute(query).first()
    return Chat(row.bot_id, row.chat_id, user_id) if row is not None else None


def write(
    dedupe_key: str,
    kind: str,
    chat: Chat,
    text: str | None,
    *,
    organization_id: int | None = None,
    subject: str | None = None,
    reply_markup: dict | None = None,
    parse_mode: str | None = None,
    attachments: list[dict] | None = None,
    now: datetime | None = None,
) -> int | None:
    """Add a message to the outbox in the current transaction; its id, or None when ``dedupe_key``
    was written before (by this caller earlier, or by a concurrent one — the loser of the race waits
    for the winner's commit and inserts nothing). Flushes; the caller commits."""
    now = now or utcnow()
    db.session.flush()
    values = {
        "dedupe_key": dedupe_key,
        "kind": kind,
        "organization_id": organization_id,
        "bot_id": chat.bot_id,
        "chat_id": chat.chat_id,
        "user_id": chat.user_id,
        "subject": subject,
        "text": text,
        "parse_mode": parse_mode,
        "reply_markup": reply_markup,
        "attachments": attachments or None,
        "status": S.PENDING.value,
        "attempts": 0,
        "created_at": now,
        "next_attempt_at": now,
    }
    insert = _INSERTS[db.session.get_bind().dialect.name](OutboundMessage.__table__).values(**values)
    insert = insert.on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(OutboundMessage.id)
    message_id = db.session.execute(insert).scalar()
    if message_id is not None:
        enqueue_after_commit(DELIVERY_JOB, message_id, queue="notifications")
    return message_id


def written(keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` are in the outbox already (whatever their status)."""
    keys = list(keys)
    if not keys:
        return set()
    return set(db.session.scalars(sa.select(OutboundMessage.dedupe_key).where(OutboundMessage.dedupe_key.in_(keys))))


# --- delivering ------------------------------------------------------------------------------------


def claim(message_id: int | None = None, now: datetime | None = None) -> int | None:
    """Take one due pending row (``message_id``'s, or the oldest): its id, or None when there is none
    or another delivery took it first. The caller commits before sending."""
    now = now or utcnow()
    pick = sa.select(OutboundMessage.id).where(
        OutboundMessage.status == S.PENDING.value, OutboundMessage.next_attempt_at <= now
    )
    if message_id is not None:
        pick = pick.where(OutboundMessage.id == message_id)
    # SKIP LOCKED: a second delivery passes over a row the first is claiming instead of waiting for
    # it (SQLite renders no FOR UPDATE; its single writer serializes the UPDATE).
    pick = pick.order_by(OutboundMessage.id).limit(1).with_for_update(skip_locked=True).scalar_subquery()
    claimed = db.session.execute(
        sa.update(OutboundMessage)
        .where(OutboundMessage.id == pick, OutboundMessage.status == S.PENDING.value)
        .values(status=S.SENDING.value, claimed_at=now, attempts=OutboundMessage.attempts + 1)
        .returning(OutboundMessage.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    return claimed


def _load(attachment: dict) -> tuple[str, bytes, str, str]:
    module, _, name = attachment["source"].partition(":")
    return getattr(importlib.import_module(module), name)(attachment["ref"])


def _send_attachments(row: OutboundMessage) -> None:
    from webapp.telegram.send import send_document, send_photo

    for attachment in row.attachments or []:
        try:
            kind, content, filename, mime_type = _load(attachment)
        except (OSError, LookupError):
            log.exception("outbox message %s: attachment %s is gone", row.id, attachment.get("ref"))
            continue
        if kind == "photo":
            send_photo(row.bot_id, row.chat_id, content, filename=filename, mime_type=mime_type)
        else:
            send_document(row.bot_id, row.chat_id, content, filename, mime_type=mime_type)


def _transient(result: Any) -> bool:
    """Whether Telegram surely did not take the message and a later try may succeed."""
    return (result.error or "").startswith("network error") or result.retry_after is not None


def send_claimed(message_id: int, now: datetime | None = None) -> str:
    """Send a row this caller claimed (and committed) and record the outcome; flushes, returns the status."""
    from webapp.telegram.send import send_message

    row = db.session.get(OutboundMessage, message_id, populate_existing=True)
    try:
        if row.text:
            result = send_message(
                row.bot_id, row.chat_id, row.text, parse_mode=row.parse_mode, reply_markup=row.reply_markup
            )
        else:
            result = None
        if result is None or result.ok:
            _send_attachments(row)
    except Exception as exc:  # a bug or a broken row must not leave it 'sending' for the sweep to lose
        log.exception("outbox message %s could not be sent", message_id)
        row.last_error = f"{exc.__class__.__name__}"[:300]
        row.status = S.PENDING.value if row.attempts < MAX_ATTEMPTS else S.FAILED.value
        row.next_attempt_at = (now or utcnow()) + RETRY_BASE * 2 ** (row.attempts - 1)
        db.session.flush()
        return row.status
    now = now or utcnow()
    if result is None or result.ok:
        row.status = S.SENT.value
        row.sent_at = now
        row.telegram_message_id = result.message_id if result is not None else None
        row.last_error = None
    elif result.blocked:
        row.status = S.BLOCKED.value
        row.last_error = "blocked"
    elif _transient(result) and row.attempts < MAX_ATTEMPTS:
        row.status = S.PENDING.value
        row.next_attempt_at = now + RETRY_BASE * 2 ** (row.attempts - 1)
        row.last_error = (result.error or "")[:300]
    else:
        row.status = S.FAILED.value
        row.last_error = (result.error or "failed")[:300]
    if row.status != S.SENT.value:
        log.warning("outbox message %s (%s): %s", row.id, row.kind, row.status)
    db.session.flush()
    return row.status


def abandon_stuck(now: datetime | None = None) -> int:
    """Rows left ``sending`` by a delivery that died mid-send become ``unknown`` (never re-sent:
    at-most-once, see the module's docstring); returns how many."""
    now = now or utcnow()
    result = db.session.execute(
        sa.update(OutboundMessage)
        .where(OutboundMessage.status == S.SENDING.value, OutboundMessage.claimed_at < now - SENDING_TIMEOUT)
        .values(status=S.UNKNOWN.value, last_error="the delivery stopped during the send")
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        log.warning("outbox: %s message(s) left mid-send are marked unknown", result.rowcount)
    return result.rowcount or 0
