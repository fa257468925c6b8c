"""Delivering a broadcast: workers claim batches of delivery rows and send them one by one.

Exactly-once rests on three rules:

1. A worker claims rows atomically (``SELECT … FOR UPDATE SKIP LOCKED`` inside the claiming UPDATE
   on PostgreSQL; on SQLite the UPDATE itself runs under the database's single write lock) and may
   only move rows that carry its claim token.
2. A row becomes ``sending`` in a committed transaction BEFORE the Bot API call (a sender marks a
   small window of rows at once, ``BROADCAST_IN_FLIGHT``, see ``Window``). Only a definite answer
   moves it on: ``sent``, ``blocked``, back to ``pending`` for a retry (Telegram
   said no, so nothing was delivered), or ``failed``.
3. Recovery never re-sends a row that was ``sending``: it marks it ``unknown``. Claimed but untouched
   ``pending`` rows of a dead worker are released for others — they were never sent.

A worker is alive while its heartbeat beats: a thread of each delivery job stamps ``claimed_at`` on
every row its senders hold (claimed or in flight) every ``HEARTBEAT_SECONDS``, whatever the senders
are blocked on. Rows whose stamp is older than ``BROADCAST_STALE_SECONDS`` have no live worker; the
running workers look for them every few seconds and the periodic scan too, so a killed worker's rows
are recovered within about ``BROADCAST_STALE_SECONDS`` + ``COUNTERS_EVERY_SECONDS``. The rows stay
the source of truth: a worker wrongly thought dead loses nothing but its claims (it may only move
rows that carry its token), and its late answers are still recorded.

The bot's rate limit, ``retry_after`` waits and 403 → blocked flagging live in the one send path
(``webapp.telegram.send``), shared by every process through Redis, so any number of workers
together stay under the limit. Workers look at the broadcast's status at least every
``STATUS_CHECK_SECONDS``, so pause and cancel take effect within a second.

This module is the one place a job commits mid-way, by design (issue 13's "claim window"): every
``commit()`` here closes one step of the protocol above — a claim, a window marked ``sending``, a
window's outcomes, claims given back — which must be durable before the next Bot API call, or before
another worker or the recovery scan looks at the rows. Nothing else is written in those transactions.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from webapp import metrics
from webapp.broadcasts.models import Broadcast, BroadcastDelivery, BroadcastStatus, DeliveryStatus
from webapp.broadcasts.services import content as contents
from webapp.broadcasts.services.lifecycle import complete_if_done, refresh_counters
from webapp.broadcasts.services.settings import DEFAULTS, setting  # noqa: F401 - DEFAULTS read by tests
from webapp.core.db import utcnow
from webapp.extensions import db, redis_store
from webapp.telegram.models import Bot

log = logging.getLogger(__name__)

D = DeliveryStatus
STATUS_CHECK_SECONDS = 0.5
COUNTERS_EVERY_SECONDS = 2.0  # recounting a million rows after every batch would cost more than sending
HEARTBEAT_SECONDS = 2.0
SENDS_COUNTED_EVERY = 1.0
GROW_EVERY_SECONDS = 1.0
# The per-message statements go to the table, not the mapped class: an ORM-enabled UPDATE costs
# several times the CPU of a plain Core one, and a sender runs two per message.
DELIVERIES = BroadcastDelivery.__table__
UNKNOWN_REASON = "The worker stopped during the Bot API call; not re-sent (it may or may not have arrived)"


PHOTO_ID_TTL = 7 * 24 * 3600


@dataclass
class Content:
    """What every recipient of one broadcast gets (read once per worker, not once per message).

    The photo is uploaded once: later recipients get it by the ``file_id`` Telegram gave the first
    upload, shared by every sender thread here and, through Redis, by every worker.
    """

    text: str
    texts: dict[str, str]
    markup: dict | None
    photo: bytes | None
    photo_name: str | None
    paid: bool
    bot_id: int | None = None
    photo_file_id: str | None = None
    _upload: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def text_for(self, language: str | None) -> str:
        return self.texts.get(language or "", self.text)

    @property
    def photo_mime(self) -> str:
        return "image/png" if (self.photo_name or "").endswith(".png") else "image/jpeg"

    @property
    def _photo_key(self) -> str:
        # By the bytes and the bot: a file_id belongs to one bot, and a draft's photo may change.
        return f"botdesk:broadcast:photo:{self.bot_id}:{hashlib.sha256(self.photo or b'').hexdigest()}"

    def known_photo_id(self) -> str | None:
        if self.photo_file_id is None and self.bot_id is not None:
            shared = redis_store.client.get(self._photo_key)
            self.photo_file_id = shared.decode() if isinstance(shared, bytes) else shared
        return self.photo_file_id

    def forget_photo_id(self) -> None:
        self.photo_file_id = None
        if self.bot_id is not None:
            redis_store.client.delete(self._photo_key)

    def remember_photo_id(self, file_id: str) -> None:
        self.photo_file_id = file_id
        if self.bot_id is not None:
            redis_store.client.set(self._photo_key, file_id, ex=PHOTO_ID_TTL)


def load_content(broadcast: Broadcast) -> Content:
    return Content(
        text=broadcast.text,
        texts=dict(broadcast.texts or {}),
        markup=contents.reply_markup(broadcast.buttons or []),
        photo=broadcast.photo,
        photo_name=broadcast.photo_name,
        paid=broadcast.allow_paid_broadcast,
        bot_id=broadcast.bot_id,
    )


def send_content(bot: Bot, chat_id: int, language: str | None, content: Content, *, count_sent: bool = True):
    """One recipient's message through the one send path (``webapp.telegram.send``).

    ``count_sent=False``: the ``sends`` metric is left to the caller (the delivery ``Window`` adds a
    window's messages in one step)."""
    from webapp.telegram import send

    text = content.text_for(language)
    if not content.photo:
        return send.send_message(
            bot,
            chat_id,
            text,
            parse_mode="HTML",
            reply_markup=content.markup,
            allow_paid_broadcast=content.paid,
            split=False,
            count_sent=count_sent,
        )

    def photo(upload: bytes | str):
        return send.send_photo(
            bot,
            chat_id,
            upload,
            caption=text,
            reply_markup=content.markup,
            filename=content.photo_name or "photo.jpg",
            mime_type=content.photo_mime,
            parse_mode="HTML",
            allow_paid_broadcast=content.paid,
            count_sent=count_sent,
        )

    def upload():
        result = photo(content.photo)
        if result.ok and result.file_id:
            content.remember_photo_id(result.file_id)
        return result

    if content.known_photo_id() is None:
        with content._upload:  # one thread uploads; the others wait for its file_id
            if content.known_photo_id() is None:
                return upload()
    result = photo(content.photo_file_id)
    if not result.ok and not result.blocked and "file" in (result.error or "").lower():
        # Telegram no longer takes that file_id ("wrong file identifier"): upload the bytes again.
        content.forget_photo_id()
        result = upload()
    return result


def send_counted_by_window(bot: Bot, chat_id: int, language: str | None, content: Content):
    """The workers' sender: ``send_content`` whose sent messages the ``Window`` counts."""
    return send_content(bot, chat_id, language, content, count_sent=False)


Sender = Callable[[Bot, int, "str | None", Content], Any]


# --- claiming --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    id: int
    chat_id: int
    language: str | None


# Built once, like the window's statements below: a claim per batch and its release ran as ORM
# statements rebuilt on every call, a sixth of a sender's bookkeeping CPU. Two statements, not an
# UPDATE over an ``IN (SELECT … LIMIT … SKIP LOCKED)``: PostgreSQL may run such a subquery more than
# once and so claim more rows than asked.
_CLAIMABLE = (
    sa.select(DELIVERIES.c.id)
    .where(
        DELIVERIES.c.broadcast_id == sa.bindparam("of_broadcast"),
        DELIVERIES.c.status == D.PENDING.value,
        DELIVERIES.c.claim_token.is_(None),
        sa.or_(DELIVERIES.c.next_attempt_at.is_(None), DELIVERIES.c.next_attempt_at <= sa.bindparam("now")),
    )
    .order_by(DELIVERIES.c.id)
    .limit(sa.bindparam("size"))
    .with_for_update(skip_locked=True)
)
_CLAIM = (
    sa.update(DELIVERIES)
    .where(
        DELIVERIES.c.id.in_(sa.bindparam("row_ids", expanding=True)),
        DELIVERIES.c.status == D.PENDING.value,
        DELIVERIES.c.claim_token.is_(None),
    )
    .values(claim_token=sa.bindparam("token"), claimed_at=sa.bindparam("now"))
    .returning(DELIVERIES.c.id, DELIVERIES.c.chat_id, DELIVERIES.c.language)
)
_RELEASE = (
    sa.update(DELIVERIES)
    .where(DELIVERIES.c.claim_token == sa.bindparam("token"), DELIVERIES.c.status == D.PENDING.value)
    .values(claim_token=None, claimed_at=None)
)


def claim_batch(broadcast_id: int, token: str, size: int, now: datetime | None = None) -> list[Claimed]:
    """Atomically take up to ``size`` sendable pending rows for the worker holding ``token``.

    PostgreSQL: the candidates are locked with ``FOR UPDATE SKIP LOCKED``, so concurrent workers
    pick disjoint rows. SQLite: the conditional UPDATE (``claim_token IS NULL``) decides, and
    RETURNING says which rows this worker really got.
    """
    now = now or utcnow()
    for _ in range(5):
        connection = db.session.connection()  # the session's, anew after each commit below
        candidates = connection.execute(_CLAIMABLE, {"of_broadcast": broadcast_id, "now": now, "size": size})
        row_ids = candidates.scalars().all()
        if not row_ids:
            db.session.commit()
            return []
        rows = connection.execute(_CLAIM, {"row_ids": row_ids, "token": token, "now": now}).all()
        db.session.commit()
        if rows:
            return sorted((Claimed(r.id, r.chat_id, r.language) for r in rows), key=lambda c: c.id)
        # Another worker took these between our read and our write (SQLite): look again.
    return []


def beat(tokens: list[str], now: datetime | None = None) -> int:
    """The heartbeat: every row these workers hold (claimed or in flight) is stamped alive.

    Rows a sender has locked at this instant are skipped (SKIP LOCKED), not waited for: waiting
    could deadlock with the sender's own multi-row updates, and the next beat stamps them."""
    held = (
        sa.select(BroadcastDelivery.id)
        .where(
            BroadcastDelivery.claim_token.in_(tokens),
            BroadcastDelivery.status.in_([D.PENDING.value, D.SENDING.value]),
        )
        .with_for_update(skip_locked=True)
    )
    result = db.session.execute(
        sa.update(BroadcastDelivery)
        .where(BroadcastDelivery.id.in_(held))
        .values(claimed_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


class Heartbeat:
    """A thread that beats for a delivery job's senders until stopped (a send stuck on a long
    ``retry_after`` must not make its worker look dead)."""

    def __init__(self, tokens: list[str], every: float = HEARTBEAT_SECONDS) -> None:
        self.tokens = list(tokens)
        self.every = every
        self.app = current_app._get_current_object()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="broadcast-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join()

    def add(self, token: str) -> None:
        """A sender that starts later: its rows are stamped from now on."""
        self.tokens = [*self.tokens, token]

    def stop_beating_for(self, token: str) -> None:
        """A sender ended (done or crashed): rows it left in flight must be able to go stale."""
        self.tokens = [t for t in self.tokens if t != token]

    def _run(self) -> None:
        while not self.stopping.wait(self.every):
            tokens = self.tokens
            if not tokens:
                continue
            try:
                with self.app.app_context():
                    beat(tokens)
            except Exception:  # a missed beat is harmless unless they all are; keep beating
                log.exception("broadcast heartbeat failed")


def release_claims(token: str) -> int:
    result = db.session.connection().execute(_RELEASE, {"token": token})
    db.session.commit()
    return result.rowcount


# --- one recipient ---------------------------------------------------------------------------------


_OURS_IN_FLIGHT = sa.and_(
    DELIVERIES.c.id == sa.bindparam("row_id"),
    DELIVERIES.c.claim_token == sa.bindparam("token"),
    # Two comparisons, not IN: an IN list is expanded per execution, which executemany refuses.
    sa.or_(DELIVERIES.c.status == D.SENDING.value, DELIVERIES.c.status == D.UNKNOWN.value),
)


def _window_rows(status: DeliveryStatus) -> sa.ColumnElement[bool]:
    """This worker's rows among ``row_ids`` that are still ``status``."""
    return sa.and_(
        DELIVERIES.c.id.in_(sa.bindparam("row_ids", expanding=True)),
        DELIVERIES.c.status == status.value,
        DELIVERIES.c.claim_token == sa.bindparam("token"),
    )


# Built once: a statement object reused keeps its compiled form and cache key (per message, building
# and keying a fresh one cost more CPU than PostgreSQL spends running it).
_MARK_SENDING = (
    sa.update(DELIVERIES)
    .where(_window_rows(D.PENDING))
    .values(status=D.SENDING.value, sending_at=sa.bindparam("now"), attempts=DELIVERIES.c.attempts + 1)
    .returning(DELIVERIES.c.id, DELIVERIES.c.attempts)
)
# Rows marked but never handed to Telegram (the broadcast was paused or cancelled mid-window).
_UNMARK_UNSENT = (
    sa.update(DELIVERIES)
    .where(_window_rows(D.SENDING))
    .values(status=D.PENDING.value, sending_at=None, attempts=DELIVERIES.c.attempts - 1)
)
_FINISH_SENT = (
    sa.update(DELIVERIES)
    .where(_OURS_IN_FLIGHT)
    .values(
        status=D.SENT.value,
        telegram_message_id=sa.bindparam("message_id"),
        error=None,
        finished_at=sa.bindparam("now"),
    )
)


def _finish(delivery_id: int, token: str, **values: Any) -> None:
    """Record a row's outcome in the current transaction (see ``Window``). A late answer after
    recovery called the row unknown still records what really happened."""
    db.session.execute(
        sa.update(DELIVERIES).where(_OURS_IN_FLIGHT).values(**values), {"row_id": delivery_id, "token": token}
    )


class Window:
    """One sender's in-flight rows: marked ``sending`` together in one committed statement before any
    of them goes to Telegram; their ``sent`` outcomes are kept here and written together with the
    next window's mark. So a message costs a fraction of a commit, and a worker that dies leaves at
    most one window per sender thread ``sending`` (→ ``unknown``, never re-sent). The ``sends``
    metric of the bot grows by the messages sent at most once every ``SENDS_COUNTED_EVERY`` seconds
    and when the sender stops, not by one Redis call per window.
    """

    def __init__(self, token: str, bot_name: str = "") -> None:
        self.token = token
        self.bot_name = bot_name
        self.sent: list[dict[str, Any]] = []
        self.uncounted = 0
        self.counted_at = time.monotonic()

    def flush(self) -> None:
        """Write the kept ``sent`` outcomes into the current transaction (the caller commits)."""
        if self.sent:
            db.session.connection().execute(_FINISH_SENT, self.sent)
            self.uncounted += len(self.sent)
            self.sent = []
            if time.monotonic() - self.counted_at >= SENDS_COUNTED_EVERY:
                self.count_sends()

    def count_sends(self) -> None:
        """Add the messages sent since the last count to the bot's ``sends`` metric (a worker killed
        in between loses at most that second's count: a metric, not a record)."""
        if self.uncounted:
            metrics.count("sends", self.bot_name, self.uncounted, path="jobs")
            self.uncounted = 0
        self.counted_at = time.monotonic()

    def commit(self) -> None:
        self.flush()
        db.session.commit()

    def mark(self, rows: list[Claimed]) -> dict[int, int]:
        """Mark ``rows`` sending (committed, with the previous outcomes); their attempt numbers by id.
        A row missing from the answer is no longer this worker's."""
        self.flush()
        params = {"row_ids": [row.id for row in rows], "token": self.token, "now": utcnow()}
        marked = dict(db.session.connection().execute(_MARK_SENDING, params).tuples().all())
        db.session.commit()
        return marked

    def unmark(self, rows: list[Claimed]) -> None:
        """Give back marked rows that were never sent (safe to send later: Telegram never saw them)."""
        if rows:
            db.session.connection().execute(_UNMARK_UNSENT, {"row_ids": [r.id for r in rows], "token": self.token})
        self.commit()


def send_marked(bot: Bot, claimed: Claimed, attempts: int, window: Window, content: Content, sender: Sender) -> str:
    """Send one row already marked ``sending``; returns its new status. A ``sent`` outcome waits in
    the window for the next commit; any other is committed at once (they are rare, and a blocked
    outcome carries the account's flag the send path flushed)."""
    token = window.token
    try:
        result = sender(bot, claimed.chat_id, claimed.language, content)
    except Exception as exc:  # we cannot know whether Telegram got it, so it must never be re-sent
        db.session.rollback()  # whatever the failed send left half-done; the window's outcomes are kept
        log.exception("broadcast delivery %s: send raised", claimed.id)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        _finish(claimed.id, token, status=D.UNKNOWN.value, error=error, finished_at=utcnow())
        window.commit()
        return D.UNKNOWN.value
    now = utcnow()
    if result.ok:
        window.sent.append({"row_id": claimed.id, "token": token, "message_id": result.message_id, "now": now})
        return D.SENT.value
    outcome = _record_refusal(claimed, attempts, token, result, now)
    window.commit()
    return outcome


def _record_refusal(claimed: Claimed, attempts: int, token: str, result, now: datetime) -> str:
    error = (result.error or "error")[:2000]
    if _rate_limited(result):
        # Telegram said "not now", not "no": wait as asked; this was no attempt of the message's.
        _finish(
            claimed.id,
            token,
            status=D.PENDING.value,
            attempts=attempts - 1,
            claim_token=None,
            claimed_at=None,
            next_attempt_at=now + timedelta(seconds=float(result.retry_after)),
            error=error,
        )
        return "rate_limited"
    if result.blocked:
        # The send path flagged the account (flushed in this session); this commit keeps it.
        _finish(claimed.id, token, status=D.BLOCKED.value, error=error, finished_at=now)
        return D.BLOCKED.value
    if attempts < setting("BROADCAST_MAX_ATTEMPTS"):
        wait = max(float(setting("BROADCAST_RETRY_BACKOFF")) * 2 ** (attempts - 1), float(result.retry_after or 0))
        _finish(
            claimed.id,
            token,
            status=D.PENDING.value,
            claim_token=None,
            claimed_at=None,
            next_attempt_at=now + timedelta(seconds=wait),
            error=error,
        )
        return "retry"
    _finish(claimed.id, token, status=D.FAILED.value, error=error, finished_at=now)
    return D.FAILED.value


def _rate_limited(result) -> bool:
    """The send path gave up on a message after Telegram kept answering 429 (Too Many Requests)."""
    return bool(result.retry_after) and "too many requests" in (result.error or "").lower()


# --- recovery --------------------------------------------------------------------------------------


def recover_stale(broadcast_id: int | None = None, stale_after: float | None = None) -> dict[str, int]:
    """Rows whose worker is gone: in-flight ones become ``unknown``, untouched claims are released."""
    stale_after = setting("BROADCAST_STALE_SECONDS") if stale_after is None else stale_after
    now = utcnow()
    cutoff = now - timedelta(seconds=stale_after)
    scope = [BroadcastDelivery.broadcast_id == broadcast_id] if broadcast_id is not None else []
    # claimed_at is the holder's heartbeat; a recovered in-flight row keeps it, next to finished_at
    # (the moment of recovery), so how long a dead worker went unnoticed stays on record.
    unknown = db.session.execute(
        sa.update(BroadcastDelivery)
        .where(
            *scope,
            BroadcastDelivery.status == D.SENDING.value,
            sa.func.coalesce(BroadcastDelivery.claimed_at, BroadcastDelivery.sending_at) <= cutoff,
        )
        .values(status=D.UNKNOWN.value, error=UNKNOWN_REASON, finished_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    released = db.session.execute(
        sa.update(BroadcastDelivery)
        .where(
            *scope,
            BroadcastDelivery.status == D.PENDING.value,
            BroadcastDelivery.claim_token.is_not(None),
            BroadcastDelivery.claimed_at <= cutoff,
        )
        .values(claim_token=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if unknown or released:
        log.warning("broadcast recovery: %s in-flight row(s) marked unknown, %s claim(s) released", unknown, released)
    return {"unknown": unknown, "released": released}


def has_live_worker(broadcast_id: int, stale_after: float | None = None) -> bool:
    """True when some worker's heartbeat on this broadcast's rows is recent."""
    stale_after = setting("BROADCAST_STALE_SECONDS") if stale_after is None else stale_after
    cutoff = utcnow() - timedelta(seconds=stale_after)
    return (
        db.session.scalar(
            sa.select(BroadcastDelivery.id)
            .where(
                BroadcastDelivery.broadcast_id == broadcast_id,
                BroadcastDelivery.claim_token.is_not(None),
                BroadcastDelivery.claimed_at > cutoff,
            )
            .limit(1)
        )
        is not None
    )


def _seconds_to_next_retry(broadcast_id: int) -> float | None:
    """None when no unclaimed pending row is left; otherwise how long until one may be sent."""
    earliest = db.session.execute(
        sa.select(
            sa.func.count(BroadcastDelivery.id),
            sa.func.min(BroadcastDelivery.next_attempt_at),
        ).where(
            BroadcastDelivery.broadcast_id == broadcast_id,
            BroadcastDelivery.status == D.PENDING.value,
            BroadcastDelivery.claim_token.is_(None),
        )
    ).one()
    if not earliest[0]:
        return None
    if earliest[1] is None:
        return 0.0
    return max((earliest[1] - utcnow()).total_seconds(), 0.0)


# --- the worker loop -------------------------------------------------------------------------------


@dataclass
class WorkerReport:
    token: str
    outcomes: Counter = field(default_factory=Counter)
    finished: bool = False  # the broadcast has nothing left to send
    stopped: str | None = None  # the status that stopped the worker (paused / cancelled / …)
    out_of_time: bool = False


def _counters_due(broadcast_id: int) -> bool:
    """True for one sender among all workers every ``COUNTERS_EVERY_SECONDS``: each recount reads
    every row of the broadcast and updates its one row, so every sender thread recounting on its
    own would queue them all behind that row's lock."""
    ticket = f"botdesk:broadcast:{broadcast_id}:counted"
    return bool(redis_store.client.set(ticket, "1", nx=True, px=int(COUNTERS_EVERY_SECONDS * 1000)))


def _status(broadcast_id: int) -> str | None:
    return db.session.scalar(sa.select(Broadcast.status).where(Broadcast.id == broadcast_id))


@contextmanager
def pinned_connection() -> Iterator[None]:
    """Run the worker loop on ONE database connection: ``db.session`` is, for this app context, a
    session bound to a connection held for the whole loop, so the one-commit-per-message rhythm
    costs no pool checkout and no pre-ping per commit. The caller's own session is put back after.
    """
    previous = db.session.registry()
    connection = db.engine.connect()
    db.session.registry.set(Session(bind=connection, autoflush=True, expire_on_commit=True))
    try:
        yield
    finally:
        try:
            db.session.registry().close()
        finally:
            connection.close()
            db.session.registry.set(previous)


def _detached_bot(bot_id: int) -> Bot:
    # Commits after every send would otherwise expire it and reload it from the database each time.
    bot = db.session.get(Bot, bot_id)
    db.session.expunge(bot)
    return bot


class Demand:
    """Whether a job's senders keep the bot's send schedule full.

    Each window tells whether its first slot came at once (the schedule had a gap). When most windows
    of the last ``GROW_EVERY_SECONDS`` found a gap, the Bot API's round trip, not the bot's limit, is
    what paces the senders, and the job starts one more, up to ``BROADCAST_THREADS``. A sender costs
    CPU beyond its messages (its own claims, windows and connection, and contention with the others),
    so a job runs as few as keep the limit busy: one where Telegram answers fast, more where it
    answers slowly or the limit is high (a paid broadcast).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.windows = 0
        self.free = 0

    def note(self, lane_was_free: bool | None) -> None:
        if lane_was_free is None:  # the window sent nothing, so it reserved nothing
            return
        with self._lock:
            self.windows += 1
            self.free += lane_was_free

    def wants_more(self) -> bool:
        """True when most windows since the last call found a gap (and starts counting anew). A
        sender's first window always finds one, and under a low limit windows are seconds apart:
        one window alone says nothing."""
        with self._lock:
            windows, free = self.windows, self.free
            self.windows = self.free = 0
        return windows >= 2 and free * 2 > windows


def run_worker(
    broadcast_id: int,
    *,
    sender: Sender = send_counted_by_window,
    batch_size: int | None = None,
    max_seconds: float | None = None,
    stale_after: float | None = None,
    threads: int | None = None,
) -> WorkerReport:
    """Send the broadcast's pending rows until none is left, it stops being ``sending``, or time is up.

    Up to ``threads`` senders work side by side in this process (each its own claims and connection,
    as separate workers would): a Bot API round trip takes tens of milliseconds, so one sender alone
    may not keep up with the bot's limit. The job starts with one and adds one while they fall behind
    the limit (see ``Demand``). The shared Redis limiter keeps them all under it.
    """
    if threads is None:
        # The embedded in-process Redis substitute serialises every command anyway, and its Lua
        # runtime (the send path's limiter) is not made for many threads at once: one sender there.
        threads = int(setting("BROADCAST_THREADS")) if current_app.config.get("REDIS_URL") else 1
    args = (broadcast_id, sender, batch_size, max_seconds, stale_after)
    if threads <= 1:
        token = uuid.uuid4().hex
        with Heartbeat([token]), pinned_connection():
            return _run_worker(token, *args)
    app = current_app._get_current_object()
    reports: list[WorkerReport] = []
    failures: list[BaseException] = []
    demand = Demand()
    ended = threading.Event()

    def sender_thread(token: str) -> None:
        try:
            with app.app_context(), pinned_connection():
                reports.append(_run_worker(token, *args, demand=demand))
        except BaseException as exc:  # re-raised in the job's own thread below
            log.exception("broadcast %s: a sender failed", broadcast_id)
            failures.append(exc)
        finally:
            heartbeat.stop_beating_for(token)
            ended.set()

    pool: list[threading.Thread] = []

    def start_sender() -> None:
        token = uuid.uuid4().hex
        heartbeat.add(token)
        thread = threading.Thread(target=sender_thread, args=(token,), name=f"broadcast-{broadcast_id}-{len(pool)}")
        pool.append(thread)
        thread.start()

    heartbeat = Heartbeat([])
    with heartbeat:
        start_sender()
        # A sender that ends has found nothing left to send (or failed): no more are started then.
        while not ended.wait(GROW_EVERY_SECONDS):
            if len(pool) < threads and demand.wants_more():
                log.info(
                    "broadcast %s: the send schedule has gaps; sender %s of at most %s",
                    broadcast_id,
                    len(pool) + 1,
                    threads,
                )
                start_sender()
        for thread in pool:
            thread.join()
    if failures:
        raise failures[0]
    merged = WorkerReport(token=",".join(r.token for r in reports))
    for report in reports:
        merged.outcomes.update(report.outcomes)
    merged.finished = any(r.finished for r in reports)
    merged.out_of_time = any(r.out_of_time for r in reports) and not merged.finished
    merged.stopped = next((r.stopped for r in reports if r.stopped), None)
    return merged


def _send_batch(
    broadcast_id: int,
    bot: Bot,
    batch: list[Claimed],
    window: Window,
    content: Content,
    sender: Sender,
    report: WorkerReport,
    demand: Demand | None = None,
) -> bool:
    """Send a claimed batch window by window; True when the broadcast stopped being ``sending``."""
    from webapp.telegram.send import slots_reserved

    size = max(int(setting("BROADCAST_IN_FLIGHT")), 1)
    checked = time.monotonic()
    for start in range(0, len(batch), size):
        rows = batch[start : start + size]
        marked = window.mark(rows)
        # The window's send slots under the bot's and each chat's limit, reserved in one step.
        chats = [r.chat_id for r in rows if r.id in marked]
        with slots_reserved(bot, chats, allow_paid_broadcast=content.paid) as plan:
            for index, claimed in enumerate(rows):
                if time.monotonic() - checked >= STATUS_CHECK_SECONDS:
                    checked = time.monotonic()
                    if _status(broadcast_id) != BroadcastStatus.SENDING.value:
                        window.unmark([r for r in rows[index:] if r.id in marked])
                        return True
                attempts = marked.get(claimed.id)
                if attempts is None:
                    report.outcomes["skipped"] += 1
                    continue
                report.outcomes[send_marked(bot, claimed, attempts, window, content, sender)] += 1
        if demand is not None:
            demand.note(plan.lane_was_free)
    return False


def _run_worker(
    token: str,
    broadcast_id: int,
    sender: Sender,
    batch_size: int | None,
    max_seconds: float | None,
    stale_after: float | None,
    demand: Demand | None = None,
) -> WorkerReport:
    batch_size = batch_size or setting("BROADCAST_BATCH_SIZE")
    max_seconds = setting("BROADCAST_JOB_SLICE_SECONDS") if max_seconds is None else max_seconds
    report = WorkerReport(token=token)
    deadline = time.monotonic() + max_seconds
    broadcast = db.session.get(Broadcast, broadcast_id)
    if broadcast is None:
        report.stopped = "missing"
        return report
    content = load_content(broadcast)
    bot = _detached_bot(broadcast.bot_id)
    window = Window(report.token, bot.name)
    db.session.commit()
    try:
        while True:
            status = _status(broadcast_id)
            if status != BroadcastStatus.SENDING.value:
                report.stopped = status
                break
            if time.monotonic() >= deadline:
                report.out_of_time = True
                break
            batch = claim_batch(broadcast_id, report.token, batch_size)
            if not batch:
                refresh_counters(broadcast_id)
                if complete_if_done(broadcast_id):
                    db.session.commit()
                    report.finished = True
                    break
                db.session.commit()
                # Rows are held by other workers or waiting for a retry: take over dead workers'
                # rows when they go stale, and wait for the next retry time.
                recover_stale(broadcast_id, stale_after)
                wait = _seconds_to_next_retry(broadcast_id)
                time.sleep(min(wait if wait is not None else STATUS_CHECK_SECONDS, STATUS_CHECK_SECONDS))
                continue
            stopping = _send_batch(broadcast_id, bot, batch, window, content, sender, report, demand)
            window.commit()
            release_claims(report.token)
            if stopping:
                continue  # the loop's status check ends it
            if _counters_due(broadcast_id):  # one worker every few seconds: recount, and look for dead ones
                refresh_counters(broadcast_id)
                db.session.commit()
                recover_stale(broadcast_id, stale_after)
    finally:
        db.session.rollback()
        window.flush()  # outcomes of messages that did go out, whatever stopped the loop
        release_claims(report.token)
        refresh_counters(broadcast_id)
        db.session.commit()
        window.count_sends()
    return report


# --- a test send to the marketer themself ------------------------------------------------------------


def send_test(actor, broadcast: Broadcast) -> dict[str, Any]:
    """Send ``broadcast`` to ``actor``'s own Telegram account on its bot (not recorded as a delivery)."""
    from webapp.core.models import TelegramAccount
    from webapp.core.services import ServiceError, record_audit

    if actor is None:
        raise ServiceError("A test send goes to a signed-in user's own Telegram", 403, "FORBIDDEN")
    account = db.session.scalar(
        sa.select(TelegramAccount)
        .where(TelegramAccount.user_id == actor.id, TelegramAccount.bot_id == broadcast.bot_id)
        .order_by(TelegramAccount.id)
        .limit(1)
    )
    if account is None or account.chat_id is None:
        raise ServiceError(
            f"Your account has no Telegram linked to the bot {broadcast.bot.name}: open the bot, send /start, "
            "then link it to your account",
            409,
            "NO_TELEGRAM_ACCOUNT",
        )
    if account.blocked_bot:
        raise ServiceError("You have blocked this bot in Telegram; unblock it first", 409, "BLOCKED")
    result = send_content(broadcast.bot, account.chat_id, account.language or actor.language, load_content(broadcast))
    record_audit(actor, "broadcast.test", "broadcast", broadcast.id, None, "ok" if result.ok else result.error)
    db.session.commit()  # the message went out (or the account is now flagged blocked): keep the record
    if result.blocked:
        raise ServiceError("You have blocked this bot in Telegram; unblock it first", 409, "BLOCKED")
    if not result.ok:
        raise ServiceError(f"Telegram did not accept the message: {result.error}", 502, "TELEGRAM_ERROR")
    return {"ok": True, "chat_id": account.chat_id, "message_id": result.message_id}
