"""RQ queues over the app's Redis, and enqueueing that waits for the database commit.

Jobs take ids, never objects, and are enqueued only once the transaction that created what they
use has committed: a worker can never pick up a job for a row it cannot see yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rq import Queue

from webapp.core.oncommit import on_commit
from webapp.extensions import redis_store

QUEUE_NAMES = ("default", "broadcasts", "notifications", "reminders", "email")


def get_queue(name: str = "default") -> Queue:
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=redis_store.client)


def enqueue_after_commit(
    func: Callable, *args: Any, queue: str = "default", job_id: str | None = None, **options: Any
) -> None:
    """Enqueue ``func(*args)`` when the current transaction commits; dropped if it rolls back."""
    target = get_queue(queue)  # taken now: the commit may happen where no app context is current
    on_commit(lambda: target.enqueue(func, *args, job_id=job_id, **options))
