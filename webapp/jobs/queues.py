"""RQ queues over the app's Redis, and enqueueing that waits for the database commit.

Jobs take ids, never objects, and are enqueued only once the transaction that created what they
use has committed: a worker can never pick up a job for a row it cannot see yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rq import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.extensions import db, redis_store

QUEUE_NAMES = ("default", "broadcasts", "notifications", "reminders", "email")
PENDING_KEY = "botdesk_pending_jobs"


def get_queue(name: str = "default") -> Queue:
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=redis_store.client)


def enqueue_after_commit(
    func: Callable, *args: Any, queue: str = "default", job_id: str | None = None, **options: Any
) -> None:
    """Enqueue ``func(*args)`` when the current session commits; dropped if it rolls back."""
    pending = db.session.info.setdefault(PENDING_KEY, [])
    pending.append((get_queue(queue), func, args, job_id, options))


@event.listens_for(Session, "after_commit")
def _flush_pending_jobs(session: Session) -> None:
    for queue, func, args, job_id, options in session.info.pop(PENDING_KEY, []):
        queue.enqueue(func, *args, job_id=job_id, **options)


@event.listens_for(Session, "after_rollback")
def _drop_pending_jobs(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)
