"""RQ queues over the app's Redis, and enqueueing that waits for the database commit.

Jobs take ids, never objects, and are enqueued only once the transaction that created what they
use has committed: a worker can never pick up a job for a row it cannot see yet. A job is named by
its dotted path ("webapp.realty.jobs.deliver_email"), so services that queue work never import the
jobs that call them back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rq import Queue

from webapp.core.oncommit import on_commit
from webapp.extensions import redis_store

QUEUE_NAMES = ("default", "broadcasts", "notifications", "reminders", "email")


def get_queue(name: str = "default") -> Queue:
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=redis_store.client)


def _job_path(job: str) -> str:
    module, _, name = job.rpartition(".") if isinstance(job, str) else ("", "", "")
    if not module or not name.isidentifier():
        raise ValueError(f"a job is named by its dotted path, not {job!r}")
    return job


def enqueue_after_commit(
    job: str, *args: Any, queue: str = "default", job_id: str | None = None, **options: Any
) -> None:
    """Enqueue the job ``job(*args)`` when the current transaction commits; dropped if it rolls back."""
    path = _job_path(job)
    target = get_queue(queue)  # taken now: the commit may happen where no app context is current
    on_commit(lambda: target.enqueue(path, *args, job_id=job_id, **options))


def enqueue_at_after_commit(
    when: datetime, job: str, *args: Any, queue: str = "default", job_id: str | None = None
) -> None:
    """Have RQ's scheduler run ``job(*args)`` at ``when``, once the current transaction commits."""
    path = _job_path(job)
    target = get_queue(queue)
    on_commit(lambda: target.enqueue_at(when, path, *args, job_id=job_id))
