"""A worker killed with SIGKILL in the middle of a broadcast: nobody gets it twice.

Two worker processes deliver 5,000 messages through the sandbox; one is killed mid-way; recovery
marks its in-flight row ``unknown`` and releases its claimed rows; another worker joins and the
broadcast completes. The sandbox transcripts are the judge.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import BACKEND, child_process_secrets
from webapp.broadcasts.models import Broadcast, BroadcastDelivery
from webapp.broadcasts.services import delivery, lifecycle
from webapp.extensions import db

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 5000
THREADS = delivery.DEFAULTS["BROADCAST_THREADS"] if BACKEND.redis_url else 1
IN_FLIGHT = THREADS * delivery.DEFAULTS["BROADCAST_IN_FLIGHT"]  # the killed worker's in-flight window


def spawn(live_server, broadcast_id: int) -> subprocess.Popen:
    env = {
        **os.environ,
        **child_process_secrets(),
        "DATABASE_URL": BACKEND.database_url,
        "REDIS_URL": BACKEND.redis_url,
        "SANDBOX_BASE_URL": live_server.sandbox_url,
        "PYTHONPATH": str(ROOT),
    }
    # Its own process group: SIGKILL reaches RQ's work horse too, as when a machine dies.
    return subprocess.Popen(
        [sys.executable, "-m", "tests.broadcasts.worker_process", str(broadcast_id)],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def counts(app, broadcast_id: int) -> Counter:
    with app.app_context():
        rows = db.session.execute(
            sa.select(BroadcastDelivery.status, sa.func.count())
            .where(BroadcastDelivery.broadcast_id == broadcast_id)
            .group_by(BroadcastDelivery.status)
        ).all()
        return Counter(dict(rows))


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.real_clock
def test_killed_worker_never_causes_a_second_copy(app, live_server, bc_sandbox):
    bot = bc_sandbox.bot("finance", rate_limit_per_second=1000)
    bc_sandbox.client.set_limits(bot.token, per_second=1000, per_chat_per_second=1)
    people = bc_sandbox.audience(bot, RECIPIENTS)
    with app.app_context():
        broadcast = lifecycle.create_broadcast(None, bot_id=bot.bot_id, title="Crash", text="Once only")
        lifecycle.start_broadcast(None, broadcast)  # enqueues two delivery jobs after the commit
        db.session.commit()
        broadcast_id = broadcast.id

    first, second = spawn(live_server, broadcast_id), spawn(live_server, broadcast_id)
    workers = [first, second]
    try:
        wait_until(lambda: counts(app, broadcast_id)["sent"] >= RECIPIENTS // 4, 300, "a quarter sent")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        at_kill = counts(app, broadcast_id)
        assert at_kill["pending"] > 0, "the kill should land mid-way"

        # The killed worker's rows look alive until they go stale; recovery then takes them over.
        time.sleep(2.5)
        with app.app_context():
            recovered = delivery.recover_stale(broadcast_id, stale_after=2)
            assert recovered["unknown"] <= IN_FLIGHT, "at most one window of rows per sender thread"
            from webapp.broadcasts.jobs import deliver_broadcast
            from webapp.jobs.queues import get_queue

            if BACKEND.redis_url:  # a fresh job for the new worker, as the periodic scan would enqueue
                get_queue("broadcasts").enqueue(deliver_broadcast, broadcast_id, job_timeout=900)
        third = spawn(live_server, broadcast_id)
        workers.append(third)
        for worker in (second, third):
            assert worker.wait(timeout=600) == 0, worker.stderr.read().decode()[-3000:]
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)

    final = counts(app, broadcast_id)
    assert set(final) <= {"sent", "unknown"}, final
    assert final["sent"] + final["unknown"] == RECIPIENTS and final["unknown"] <= IN_FLIGHT
    received = bc_sandbox.bot_messages(bot, people.chat_ids)
    copies = Counter(len(messages) for messages in received.values())
    assert set(copies) <= {0, 1}, f"some chat got the broadcast twice: {copies}"
    with app.app_context():
        statuses = dict(
            db.session.execute(
                sa.select(BroadcastDelivery.chat_id, BroadcastDelivery.status).where(
                    BroadcastDelivery.broadcast_id == broadcast_id
                )
            ).all()
        )
        assert all(len(received[chat]) == 1 for chat, status in statuses.items() if status == "sent")
        broadcast = db.session.get(Broadcast, broadcast_id)
        assert broadcast.status == "completed"
        assert (broadcast.sent_count, broadcast.unknown_count) == (final["sent"], final["unknown"])
