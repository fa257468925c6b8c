"""Running a job inside an app context: one context per job, the app built once per worker process,
and one commit per job, at its boundary."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, has_app_context

_worker_app: Flask | None = None


def worker_app() -> Flask:
    global _worker_app
    if _worker_app is None:
        from webapp import create_app

        _worker_app = create_app()
    return _worker_app


def serve_jobs_of(app: Flask | None) -> None:
    """The app this worker process runs jobs for (else the first job builds one)."""
    global _worker_app
    _worker_app = app


def _unit_of_work(func: Callable, args: tuple, kwargs: dict) -> Any:
    """The job's work commits once, here at its boundary; an exception rolls it back (and RQ records
    the failure). Jobs do not commit themselves, except where a claim must stand before a send —
    those say why."""
    from webapp.extensions import db

    try:
        result = func(*args, **kwargs)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def with_app_context(func: Callable) -> Callable:
    """Decorate an RQ job function so it runs in its own app context (or the caller's, in tests) and
    commits once when it returns."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any):
        if has_app_context():
            return _unit_of_work(func, args, kwargs)
        with worker_app().app_context():
            return _unit_of_work(func, args, kwargs)

    return wrapper
