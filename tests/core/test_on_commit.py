"""Work that waits for the transaction (webapp/core/oncommit.py) follows savepoints.

Before it, four hand-written after-commit queues listened to SQLAlchemy's ``after_commit`` and
``after_rollback``, which also fire for a released or rolled-back savepoint: a job queued before a
swallowed IntegrityError was lost although the transaction committed, and a job queued before a
released savepoint was sent before the data it names was committed.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from webapp.core.models import Organization
from webapp.core.oncommit import on_commit, on_rollback
from webapp.extensions import db


def _duplicate_in_a_savepoint(name: str) -> None:
    """The swallowed-savepoint pattern of get-or-create code."""
    try:
        with db.session.begin_nested():
            db.session.add(Organization(name=name))
    except IntegrityError:
        pass


def test_work_queued_before_a_swallowed_savepoint_error_survives_the_commit(app_ctx):
    ran = []
    db.session.add(Organization(name="Taken"))
    db.session.flush()
    on_commit(lambda: ran.append("job"))
    _duplicate_in_a_savepoint("Taken")
    assert ran == []
    db.session.commit()
    assert ran == ["job"]


def test_a_released_savepoint_waits_for_the_outermost_commit(app_ctx):
    ran = []
    with db.session.begin_nested():
        db.session.add(Organization(name="Inner"))
        on_commit(lambda: ran.append("inner"))
    assert ran == []  # the row is not committed yet: a worker could not see it
    db.session.commit()
    assert ran == ["inner"]


def test_only_the_rolled_back_savepoints_work_is_dropped(app_ctx):
    ran, undone = [], []
    on_commit(lambda: ran.append("outer"))
    savepoint = db.session.begin_nested()
    on_commit(lambda: ran.append("inner"))
    on_rollback(lambda: undone.append("inner file"))
    savepoint.rollback()
    assert undone == ["inner file"]
    db.session.commit()
    assert ran == ["outer"] and undone == ["inner file"]


def test_rollback_drops_commit_work_and_runs_rollback_work(app_ctx):
    ran, undone = [], []
    db.session.add(Organization(name="Gone"))
    db.session.flush()
    on_commit(lambda: ran.append("job"))
    on_rollback(lambda: undone.append("file"))
    db.session.rollback()
    db.session.commit()  # a later transaction does not pick up the dropped work
    assert ran == [] and undone == ["file"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Organization)) == 0


def test_a_closed_session_does_not_leak_work_into_the_next_transaction(app_ctx):
    ran = []
    db.session.add(Organization(name="Closed"))
    db.session.flush()
    on_commit(lambda: ran.append("job"))
    db.session.close()
    db.session.add(Organization(name="Next"))
    db.session.commit()
    assert ran == []


def test_failing_work_is_logged_and_the_rest_still_runs(app_ctx, caplog):
    ran = []

    def broken():
        raise RuntimeError("redis away")

    on_commit(broken)
    on_commit(lambda: ran.append("second"))
    db.session.commit()
    assert ran == ["second"]
    assert "work after the transaction failed" in caplog.text


@pytest.mark.parametrize("swallow", [False, True])
def test_enqueued_job_reaches_redis_only_after_the_commit(app_ctx, swallow):
    from webapp.jobs.queues import enqueue_after_commit, get_queue

    queue = get_queue("default")
    queue.empty()
    db.session.add(Organization(name="Queued"))
    db.session.flush()
    enqueue_after_commit("builtins.print", "hello", queue="default")
    if swallow:
        _duplicate_in_a_savepoint("Queued")
    assert queue.count == 0
    db.session.commit()
    assert queue.count == 1
    assert queue.jobs[0].func_name == "builtins.print"


def test_a_job_is_named_by_its_dotted_path(app_ctx):
    from webapp.jobs.queues import enqueue_after_commit

    with pytest.raises(ValueError):
        enqueue_after_commit(print, "hello")  # a function object would tie the caller to the jobs module
    with pytest.raises(ValueError):
        enqueue_after_commit("print", "hello")
