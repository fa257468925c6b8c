"""A worker killed with SIGKILL in the middle of a broadcast: nobody gets it twice.

Two worker processes deliver 5,000 messages through the sandbox; one is killed mid-way. The other
notices the dead worker's silent heartbeat by itself, marks its in-flight rows ``unknown``, takes
over its claimed rows and completes the broadcast. The sandbox transcripts are the judge; the rows'
own timestamps (the dead worker's last heartbeat, the moment of recovery) show how fast it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import BACKEND, child_process_secrets
from webapp.broadcasts.models import Broadcast, BroadcastDelivery
from webapp.broadcasts.services import delivery, lifecycle
from webapp.core.db import utcnow
from webapp.extensions import db

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 5000
THREADS = delivery.DEFAULTS["BROADCAST_THREADS"] if BACKEND.redis_url else 1
IN_FLIGHT = THREADS * delivery.DEFAULTS["BROADCAST_IN_FLIGHT"]  # the killed worker's in-flight window
RECOVERY_SECONDS = 30


def spawn(live_server, broadcast_id: int) -> subprocess.Popen:
    env = {
        **os.environ,
        **child_process_secrets(),
        "DATABASE_URL": BACKEND.database_url,
        "REDIS_URL": BACKEND.redis_url,
        "SANDBOX_BASE_URL": live_server.sandbox_url,
        "PYTHONPATH": str(ROOT),
    }
    # Its own session, so a leftover never outlives the test run's terminal (see kill_tree for the kill).
    return subprocess.Popen(
        [sys.executable, "-m", "tests.broadcasts.worker_process", str(broadcast_id)],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def kill_tree(process: subprocess.Popen) -> None:
    """SIGKILL the worker and every descendant at once, as when a machine dies. killpg would miss
    RQ's work horse (the one sending): it moves itself into a process group of its own."""
    import psutil

    root = psutil.Process(process.pid)
    for victim in [*root.children(recursive=True), root]:
        try:
            victim.kill()
        except psutil.NoSuchProcess:
            pass


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
        kill_tree(first)
        first.wait(timeout=10)
        killed_at = utcnow()
        at_kill = counts(app, broadcast_id)
        assert at_kill["pending"] > 0, "the kill should land mid-way"
        # Nobody calls recovery here: the surviving worker must notice the silence and take over.
        assert second.wait(timeout=600) == 0, second.stderr.read().decode()[-3000:]
    finally:
        for worker in workers:
            if worker.poll() is None:
                kill_tree(worker)

    with app.app_context():
        recovered = db.session.execute(
            sa.select(BroadcastDelivery.claimed_at, BroadcastDelivery.finished_at).where(
                BroadcastDelivery.broadcast_id == broadcast_id, BroadcastDelivery.status == "unknown"
            )
        ).all()
    assert recovered, f"the kill should catch messages in flight: {at_kill} then {counts(app, broadcast_id)}"
    # finished_at is when recovery marked the row; claimed_at the dead worker's last heartbeat.
    assert max(row.finished_at for row in recovered) - killed_at <= timedelta(seconds=RECOVERY_SECONDS)
    assert max(row.finished_at - row.claimed_at for row in recovered) <= timedelta(seconds=RECOVERY_SECONDS)

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
