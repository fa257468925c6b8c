"""Every job runs in a fresh app context of its own, in the worker process the CLI starts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from redis import Redis
from rq import Queue

from tests.core.job_probe import PROBE_KEY, note_context
from webapp.jobs import context


def test_each_job_opens_its_own_context(app):
    """Outside any context (the worker's state), two jobs in one process do not share ``g``."""
    context.serve_jobs_of(app)
    try:
        note_context("first")
        note_context("second")
        with app.app_context():
            from webapp.extensions import redis_store

            notes = [json.loads(n) for n in redis_store.client.lrange(PROBE_KEY, 0, -1)]
    finally:
        context.serve_jobs_of(None)
    assert [n["label"] for n in notes] == ["first", "second"]
    assert [n["inherited"] for n in notes] == [None, None]


@pytest.mark.slow
def test_the_cli_worker_runs_jobs_outside_the_commands_context(process_env, process_redis_url):
    """``flask rq-worker`` runs outside an app context; its jobs each open their own."""
    connection = Redis.from_url(process_redis_url)
    connection.delete(PROBE_KEY)
    queue = Queue("default", connection=connection)
    for label in ("one", "two"):
        queue.enqueue("tests.core.job_probe.note_context", label)
    finished = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "rq-worker", "--burst", "default"],
        env=process_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]
    notes = [json.loads(n) for n in connection.lrange(PROBE_KEY, 0, -1)]
    assert sorted(n["label"] for n in notes) == ["one", "two"]
    assert all(n["inherited"] is None and n["app"] == "webapp" for n in notes), notes
