"""Delivery rules with a scripted Bot API stand-in: claims, retries, 403, recovery, pause/resume/cancel.

The end-to-end versions through the sandbox and the real send path are in test_delivery_sandbox.py.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from webapp.broadcasts.models import Broadcast, BroadcastDelivery, BroadcastStatus
from webapp.broadcasts.services import delivery, lifecycle, reports
from webapp.core.db import utcnow
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.telegram.send import SendResult


class ScriptedTelegram:
    """Answers like the Bot API would, per chat: a list of results to give in turn (the last repeats)."""

    def __init__(self, script: dict[int, list[SendResult]] | None = None, delay: float = 0.0) -> None:
        self.script = script or {}
        self.delay = delay
        self.calls: list[int] = []
        self.lock = threading.Lock()
        self.next_id = 1000

    def __call__(self, bot, chat_id, language, content):
        with self.lock:
            self.calls.append(chat_id)
            answers = self.script.get(chat_id)
            answer = (answers.pop(0) if len(answers) > 1 else answers[0]) if answers else None
            self.next_id += 1
            message_id = self.next_id
        if self.delay:
            time.sleep(self.delay)
        return answer or SendResult(True, message_id=message_id)


def make_broadcast(bc, accounts: int = 5, **fields):
    bot = bc.bot("finance")
    made = [bc.account(bot, language="ru" if i % 2 else "kk") for i in range(accounts)]
    broadcast = lifecycle.create_broadcast(
        None, bot_id=bot.id, title="Hello", text="<b>Hello</b>", texts={"kk": "<i>Сәлем</i>"}, **fields
    )
    db.session.commit()
    return broadcast, made


def rows(broadcast_id: int) -> list[BroadcastDelivery]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(BroadcastDelivery)
            .where(BroadcastDelivery.broadcast_id == broadcast_id)
            .order_by(BroadcastDelivery.id)
        )
    )


@pytest.fixture
def fast_retries(app):
    saved = dict(app.config)
    app.config.update(BROADCAST_RETRY_BACKOFF=0.0)
    yield
    app.config.clear()
    app.config.update(saved)


def test_start_snapshots_the_audience(bc):
    broadcast, accounts = make_broadcast(bc, accounts=4)
    lifecycle.start_broadcast(None, broadcast)
    db.session.commit()
    assert broadcast.status == "sending" and broadcast.total_count == 4
    assert {r.telegram_account_id for r in rows(broadcast.id)} == {a.id for a in accounts}
    assert {r.status for r in rows(broadcast.id)} == {"pending"}
    assert lifecycle.materialise_recipients(broadcast) == 4  # a repeated call adds nobody twice
    late = bc.account(broadcast.bot)  # joins after the start: not a recipient
    db.session.commit()
    telegram = ScriptedTelegram()
    assert delivery.run_worker(broadcast.id, sender=telegram).finished
    assert sorted(telegram.calls) == sorted(a.chat_id for a in accounts) and late.chat_id not in telegram.calls


def test_worker_sends_each_recipient_once_in_their_language(bc):
    broadcast, accounts = make_broadcast(bc, accounts=7)
    lifecycle.start_broadcast(None, broadcast)
    db.session.commit()
    texts = []
    telegram = ScriptedTelegram()

    def sender(bot, chat_id, language, content):
        texts.append((chat_id, content.text_for(language)))
        return telegram(bot, chat_id, language, content)

    report = delivery.run_worker(broadcast.id, sender=sender, batch_size=3)
    assert report.finished and report.outcomes == Counter({"sent": 7})
    assert sorted(telegram.calls) == sorted(a.chat_id for a in accounts)
    by_chat = dict(texts)
    for account in accounts:
        assert by_chat[account.chat_id] == ("<i>Сәлем</i>" if account.language == "kk" else "<b>Hello</b>")
    db.session.refresh(broadcast)
    assert broadcast.status == "completed" and broadcast.finished_at is not None
    assert (broadcast.sent_count, broadcast.pending_count, broadcast.total_count) == (7, 0, 7)
    assert all(r.telegram_message_id and r.status == "sent" and r.attempts == 1 for r in rows(broadcast.id))
    # Running again sends nothing: the broadcast is complete.
    again = delivery.run_worker(broadcast.id, sender=sender)
    assert again.stopped == "completed" and len(telegram.calls) == 7


def test_blocked_retried_and_failed(bc, fast_retries):
    broadcast, accounts = make_broadcast(bc, accounts=4)
    blocked, flaky, broken, fine = accounts
    telegram = ScriptedTelegram(
        {
            blocked.chat_id: [SendResult(False, blocked=True, error="Forbidden: bot was blocked by the user")],
            flaky.chat_id: [SendResult(False, error="Bad Gateway"), SendResult(True, message_id=77)],
            broken.chat_id: [SendResult(False, error="Bad Request: chat not found")],
        }
    )
    lifecycle.start_broadcast(None, broadcast)
    db.session.commit()
    report = delivery.run_worker(broadcast.id, sender=telegram)
    assert report.finished
    calls = Counter(telegram.calls)
    assert calls == {blocked.chat_id: 1, flaky.chat_id: 2, broken.chat_id: 3, fine.chat_id: 1}
    by_account = {r.telegram_account_id: r for r in rows(broadcast.id)}
    assert by_account[blocked.id].status == "blocked" and "blocked" in by_account[blocked.id].error
    assert (by_account[flaky.id].status, by_account[flaky.id].attempts) == ("sent", 2)
    assert by_account[flaky.id].telegram_message_id == 77
    assert (by_account[broken.id].status, by_account[broken.id].attempts) == ("failed", 3)
    assert by_account[broken.id].error == "Bad Request: chat not found"
    db.session.refresh(broadcast)
    counters = (broadcast.sent_count, broadcast.blocked_count, broadcast.failed_count, broadcast.unknown_count)
    assert counters == (2, 1, 1, 0) and broadcast.status == "completed"


def test_retry_after_delays_the_next_attempt(bc):
    broadcast, (account,) = make_broadcast(bc, accounts=1)
    telegram = ScriptedTelegram({account.chat_id: [SendResult(False, error="Too Many Requests", retry_after=1.5)]})
    lifecycle.start_broadcast(None, broadcast)
    db.session.commit()
    before = utcnow()
    report = delivery.run_worker(broadcast.id, sender=telegram, max_seconds=1.0, threads=1)
    assert report.out_of_time and telegram.calls == [account.chat_id]
    (row,) = rows(broadcast.id)
    assert row.status == "pending" and row.claim_token is None and row.attempts == 0
    assert row.next_attempt_at >= before + timedelta(seconds=1.5)
    # Not before its time: a worker finds nothing to claim yet.
    assert delivery.claim_batch(broadcast.id, "other", 10) == []


def test_rate_limits_never_use_up_the_attempts(bc):
    broadcast, (account,) = make_broadcast(bc, accounts=1)
    too_many = SendResult(False, error="Too Many Requests: retry after 0.05", retry_after=0.05)
    telegram = ScriptedTelegram({account.chat_id: [too_many] * 5 + [SendResult(True, message_id=9)]})
    lifecycle.start_broadcast(None, broadcast)
    db.session.commit()
    report = delivery.run_worker(broadcast.id, sender=telegram, threads=1)
    assert report.finished and report.outcomes == Counter({"rate_limited": 5, "sent": 1})
    (row,) = rows(broadcast.id)
    assert (row.status, row.attempts, row.telegram_message_id) == ("sent", 1, 9)


def test_recovery_marks_in_flight_unknown_and_never_resends(bc):
    broadcast, accounts = make_broadcast(bc, accounts=6)
    lifecycle.start_broadcast(None, broadcast)
    db.session.commit()
    # A worker claimed three rows, marked the first "sending", and died.
    claimed = delivery.claim_batch(broadcast.id, "dead-worker", 3)
    db.session.execute(
        sa.update(BroadcastDelivery)
        .where(BroadcastDelivery.id == claimed[0].id)
        .values(status="sending", sending_at=utcnow(), attempts=1)
    )
    db.session.commit()
    telegram = ScriptedTelegram()
    # Its claims are fresh: a live worker leaves them alone and only sends the unclaimed rows.
    first = delivery.run_worker(broadcast.id, sender=telegram, max_seconds=1.0)
    assert first.outcomes["sent"] == 3 and not first.finished
    assert delivery.recover_stale(broadcast.id) == {"unknown": 0, "released": 0}
    # Later: the claims are stale.
    assert delivery.recover_stale(broadcast.id, stale_after=0) == {"unknown": 1, "released": 2}
    report = delivery.run_worker(broadcast.id, sender=telegram)
    assert report.finished
    states = Counter(r.status for r in rows(broadcast.id))
    assert states == {"sent": 5, "unknown": 1}
    in_flight_chat = next(r.chat_id for r in rows(broadcast.id) if r.id == claimed[0].id)
    assert in_flight_chat not in telegram.calls
    assert Counter(telegram.calls).most_common(1)[0][1] == 1
    db.session.refresh(broadcast)
    assert (broadcast.status, broadcast.unknown_count, broadcast.sent_count) == ("completed", 1, 5)


def test_a_late_answer_after_recovery_is_recorded(bc):
    broadcast, (account,) = make_broadcast(bc, accounts=1)
    lifecycle.start_broadcast(None, broadcast)
    db.session.commit()

    def slow_sender(bot, chat_id, language, content):
        # While the call hangs, recovery gives up on the worker.
        delivery.recover_stale(broadcast.id, stale_after=0)
        assert rows(broadcast.id)[0].status == "unknown"
        return SendResult(True, message_id=5)

    delivery.run_worker(broadcast.id, sender=slow_sender)
    (row,) = rows(broadcast.id)
    assert (row.status, row.telegram_message_id) == ("sent", 5)


def test_an_exception_in_the_send_makes_it_unknown_not_resent(bc):
    broadcast, (account,) = make_broadcast(bc, accounts=1)
    lifecycle.start_broadcast(None, broadcast)
    db.session.commit()
    calls = []

    def exploding(bot, chat_id, language, content):
        calls.append(chat_id)
        raise RuntimeError("connection reset after the request was written")

    report = delivery.run_worker(broadcast.id, sender=exploding)
    assert report.finished and calls == [account.chat_id]
    (row,) = rows(broadcast.id)
    assert row.status == "unknown" and "connection reset" in row.error


def _worker_thread(app, broadcast_id, sender, results):
    def run():
        with app.app_context():
            results.append(delivery.run_worker(broadcast_id, sender=sender, batch_size=5))

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _sent(broadcast_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            BroadcastDelivery.broadcast_id == broadcast_id, BroadcastDelivery.status == "sent"
        )
    )


def test_pause_resume_cancel_take_effect_within_a_second(app, bc):
    broadcast, accounts = make_broadcast(bc, accounts=60)
    lifecycle.start_broadcast(None, broadcast)
    db.session.commit()
    telegram = ScriptedTelegram(delay=0.02)
    results = []
    thread = _worker_thread(app, broadcast.id, telegram, results)
    while _sent(broadcast.id) < 5:
        time.sleep(0.02)
    lifecycle.pause_broadcast(None, db.session.get(Broadcast, broadcast.id))
    db.session.commit()
    paused_at = time.monotonic()
    thread.join(timeout=5)
    assert not thread.is_alive() and time.monotonic() - paused_at < 1.0
    assert results[0].stopped == "paused"
    sent_when_paused = len(telegram.calls)
    time.sleep(0.3)
    assert len(telegram.calls) == sent_when_paused < 60
    assert {r.claim_token for r in rows(broadcast.id) if r.status == "pending"} == {None}
    # Rows marked "sending" in the window but not yet handed to Telegram went back untouched.
    assert {(r.status, r.attempts) for r in rows(broadcast.id) if r.status != "sent"} == {("pending", 0)}

    with pytest.raises(ServiceError):
        lifecycle.pause_broadcast(None, db.session.get(Broadcast, broadcast.id))
    lifecycle.resume_broadcast(None, db.session.get(Broadcast, broadcast.id))
    db.session.commit()
    thread = _worker_thread(app, broadcast.id, telegram, results)
    while _sent(broadcast.id) < sent_when_paused + 5:
        time.sleep(0.02)
    lifecycle.cancel_broadcast(None, db.session.get(Broadcast, broadcast.id))
    db.session.commit()
    cancelled_at = time.monotonic()
    thread.join(timeout=5)
    assert not thread.is_alive() and time.monotonic() - cancelled_at < 1.0
    assert results[1].stopped == "cancelled"
    states = Counter(r.status for r in rows(broadcast.id))
    assert states["sent"] == len(telegram.calls) and states["pending"] == 60 - len(telegram.calls) > 0
    assert Counter(telegram.calls).most_common(1)[0][1] == 1


def test_pause_inside_a_window_gives_back_the_rows_not_yet_sent(app, bc):
    broadcast, accounts = make_broadcast(bc, accounts=20)
    lifecycle.start_broadcast(None, broadcast)
    db.session.commit()
    telegram = ScriptedTelegram(delay=0.07)  # one batch of 20 takes longer than a status check interval
    results = []

    def run():
        with app.app_context():
            results.append(delivery.run_worker(broadcast.id, sender=telegram, batch_size=20, threads=1))

    thread = threading.Thread(target=run)
    thread.start()
    while len(telegram.calls) < 2:
        time.sleep(0.01)
    lifecycle.pause_broadcast(None, db.session.get(Broadcast, broadcast.id))
    db.session.commit()
    thread.join(timeout=5)
    assert results[0].stopped == "paused"
    sent = len(telegram.calls)
    assert 2 <= sent < 20
    states = Counter((r.status, r.attempts) for r in rows(broadcast.id))
    assert states == {("sent", 1): sent, ("pending", 0): 20 - sent}, states


def test_two_workers_never_send_one_row_twice(app, bc):
    broadcast, accounts = make_broadcast(bc, accounts=80)
    lifecycle.start_broadcast(None, broadcast)
    db.session.commit()
    telegram = ScriptedTelegram(delay=0.002)
    results = []
    threads = [_worker_thread(app, broadcast.id, telegram, results) for _ in range(2)]
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(telegram.calls) == sorted(a.chat_id for a in accounts)
    assert sum(r.outcomes["sent"] for r in results) == 80
    assert all(r.outcomes["sent"] > 0 for r in results), "both workers took a share"
    db.session.refresh(broadcast)
    assert (broadcast.status, broadcast.sent_count) == ("completed", 80)


def test_illegal_transitions_are_refused(bc):
    broadcast, _ = make_broadcast(bc, accounts=1)
    for move in (lifecycle.pause_broadcast, lifecycle.resume_broadcast, lifecycle.unschedule_broadcast):
        with pytest.raises(ServiceError) as caught:
            move(None, broadcast)
        assert caught.value.status == 409
    lifecycle.cancel_broadcast(None, broadcast)
    db.session.commit()
    for move in (lifecycle.start_broadcast, lifecycle.cancel_broadcast, lifecycle.resume_broadcast):
        with pytest.raises(ServiceError):
            move(None, broadcast)
    with pytest.raises(ServiceError):
        lifecycle.update_broadcast(broadcast, title="New")
    with pytest.raises(ServiceError):
        lifecycle.delete_broadcast(None, broadcast)
    assert broadcast.status == BroadcastStatus.CANCELLED.value


def test_empty_audience_completes_at_once(bc):
    bot = bc.bot("finance")
    broadcast = lifecycle.create_broadcast(None, bot_id=bot.id, title="T", text="Hi", filters={"language": "uz"})
    assert reports.stats(broadcast)["progress_percent"] == 0.0  # a draft has not started
    lifecycle.start_broadcast(None, broadcast)
    db.session.commit()
    assert (broadcast.status, broadcast.total_count) == ("completed", 0)
    assert reports.stats(broadcast)["progress_percent"] == 100.0


def test_scan_relaunches_workers_only_when_none_is_alive(app, bc):
    from webapp.broadcasts import jobs
    from webapp.jobs.queues import get_queue

    broadcast, _ = make_broadcast(bc, accounts=3)
    lifecycle.start_broadcast(None, broadcast)
    db.session.commit()
    queue = get_queue("broadcasts")
    queue.empty()  # the start's jobs are lost (say Redis was restarted)
    # A worker holds fresh claims: it is alive, nothing is relaunched.
    delivery.claim_batch(broadcast.id, "live-worker", 1)
    assert jobs.scan_broadcasts()["relaunched"] == []
    assert queue.count == 0
    # Its claims go stale (it died): the scan releases them and enqueues new delivery jobs.
    db.session.execute(sa.update(BroadcastDelivery).values(claimed_at=utcnow() - timedelta(seconds=600)))
    db.session.commit()
    assert jobs.scan_broadcasts()["relaunched"] == [broadcast.id]
    assert queue.count == delivery.DEFAULTS["BROADCAST_PARALLEL_JOBS"]
    assert {r.claim_token for r in rows(broadcast.id)} == {None}
    # Jobs already waiting in the queue: not enqueued twice.
    assert jobs.scan_broadcasts()["relaunched"] == []
    # A worker delivers; the broadcast completes.
    telegram = ScriptedTelegram()
    assert delivery.run_worker(broadcast.id, sender=telegram).finished
    db.session.expire_all()
    assert db.session.get(Broadcast, broadcast.id).status == "completed" and len(telegram.calls) == 3


def test_the_heartbeat_keeps_a_live_workers_rows_and_only_those(bc):
    broadcast, accounts = make_broadcast(bc, accounts=4)
    lifecycle.start_broadcast(None, broadcast)
    db.session.commit()
    long_ago = utcnow() - timedelta(minutes=5)
    alive = delivery.claim_batch(broadcast.id, "alive", 2, now=long_ago)
    delivery.claim_batch(broadcast.id, "dead", 2, now=long_ago)
    db.session.execute(
        sa.update(BroadcastDelivery).where(BroadcastDelivery.id == alive[0].id).values(status="sending", attempts=1)
    )
    db.session.commit()

    assert delivery.beat(["alive"]) == 2  # its claimed row and its in-flight one
    assert delivery.recover_stale(broadcast.id, stale_after=60) == {"unknown": 0, "released": 2}
    states = {r.id: (r.status, r.claim_token) for r in rows(broadcast.id)}
    assert states[alive[0].id] == ("sending", "alive") and states[alive[1].id] == ("pending", "alive")
    assert list(states.values()).count(("pending", None)) == 2
