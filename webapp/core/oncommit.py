"""Work that waits for the database transaction: run after it commits, or undo after it rolls back.

The one mechanism behind enqueueing jobs, publishing live events and deleting stored files (issue 13).
It follows savepoints the way Django's ``transaction.on_commit`` does:

- ``on_commit`` work runs once the outermost transaction commits. A savepoint that is released keeps
  its work for the outer commit; a savepoint that rolls back drops only the work registered inside it,
  so a swallowed IntegrityError no longer loses a job queued before the savepoint. (SQLAlchemy calls
  ``after_commit`` for a released savepoint and ``after_rollback`` for a rolled-back one, which is why
  listening to those two alone ran work too early and dropped it wholesale.)
- ``on_rollback`` work runs when the transaction or savepoint it was registered in rolls back, and is
  forgotten when the outermost transaction commits.

Work that fails is logged, not raised: the transaction has already ended, and the caller's answer
must not turn into an error because, say, Redis was briefly away.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from webapp.extensions import db

log = logging.getLogger(__name__)
KEY = "botdesk_transaction_work"
COMMIT, ROLLBACK = "commit", "rollback"


def _current_transaction(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


def _register(kind: str, work: Callable[[], Any], session: Session | None) -> None:
    session = session if session is not None else db.session()
    session.info.setdefault(KEY, []).append((kind, _current_transaction(session), work))


def on_commit(work: Callable[[], Any], session: Session | None = None) -> None:
    """Run ``work()`` after the outermost transaction commits; never if what it belongs to rolls back."""
    _register(COMMIT, work, session)


def on_rollback(work: Callable[[], Any], session: Session | None = None) -> None:
    """Run ``work()`` if the transaction (or savepoint) it is registered in rolls back."""
    _register(ROLLBACK, work, session)


def _inside(transaction: SessionTransaction | None, boundary: SessionTransaction) -> bool:
    """Whether ``transaction`` is ``boundary`` or one of its savepoints (None: the not yet begun root)."""
    if transaction is None:
        return boundary.parent is None
    while transaction is not None:
        if transaction is boundary:
            return True
        transaction = transaction.parent
    return False


def _run(items: list[tuple[str, SessionTransaction | None, Callable]]) -> None:
    for _, _, work in items:
        try:
            work()
        except Exception:
            log.exception("work after the transaction failed: %s", getattr(work, "__qualname__", work))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a released savepoint: its work waits for the outermost commit
    items = session.info.pop(KEY, [])
    _run([item for item in items if item[0] == COMMIT])


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    items = session.info.get(KEY)
    if not items:
        return
    undone = [item for item in items if _inside(item[1], previous_transaction)]
    session.info[KEY] = [item for item in items if not _inside(item[1], previous_transaction)]
    _run([item for item in undone if item[0] == ROLLBACK])


@event.listens_for(Session, "after_transaction_end")
def _after_outermost_end(session: Session, transaction: SessionTransaction) -> None:
    """The outermost transaction is over. After a commit its work has run already; otherwise it was
    rolled back, or closed without a commit, which is a rollback too (SQLAlchemy closes the transaction
    before it announces the rollback, so the outermost case is handled here)."""
    if transaction.parent is None:
        _run([item for item in session.info.pop(KEY, []) if item[0] == ROLLBACK])
