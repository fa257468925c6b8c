"""One unit of work per request: the request's writes commit once, at its end, or not at all.

Services only flush. A view returns its answer and the request commits here; a view that raises (an
``ApiError``, a ``ServiceError``, an ``abort``) is answered by an error handler that rolls the whole
request back first, so a refusal never leaves half its writes behind. ``on_commit`` work (jobs, live
events, file deletions) therefore runs once, after this commit.

This sits on the Flask app rather than on the ``require_role``/``public`` decorators so that console
pages, which have no such decorator, get the same boundary.

A view that must keep a write although it fails (a failed login counts against the account) commits
that write itself, and says why where it does.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, request
from sqlalchemy.exc import IntegrityError, OperationalError

from webapp.core.errors import ApiError, is_json_path, is_unique_violation
from webapp.core.services import ServiceError
from webapp.extensions import db

log = logging.getLogger(__name__)


def refusal(exc: ServiceError) -> ApiError:
    """A business rule's refusal in the API's error format; a refusal that names several fields
    (a segment's filters) carries them all in ``details``."""
    details = getattr(exc, "details", None) or ([{"field": exc.field, "message": exc.message}] if exc.field else None)
    return ApiError(exc.status, exc.message, exc.code, details)


def rollback() -> None:
    db.session.rollback()


def install(app: Flask) -> None:
    @app.after_request
    def _commit(response: Response) -> Response:
        session = db.session()
        # A streamed body (an export) still reads the request's rows after this: keep them loaded.
        expire = session.expire_on_commit
        session.expire_on_commit = expire and not response.is_streamed
        try:
            session.commit()
        except (IntegrityError, OperationalError) as exc:
            # Two requests passed the same check at once (or the database gave up on a lock): the
            # loser is told to retry, with nothing of its request written.
            db.session.rollback()
            log.warning("request %s %s did not commit: %s", request.method, request.path, type(exc).__name__)
            if isinstance(exc, IntegrityError) and not is_unique_violation(exc):
                return _failed(500, "Internal server error")
            return _failed(409, "This record was just changed by another request; reload and try again.")
        finally:
            session.expire_on_commit = expire
        return response

    @app.errorhandler(ServiceError)
    def _refused(exc: ServiceError):
        rollback()
        if is_json_path(request.path):
            return refusal(exc).to_response()
        return exc.message, exc.status


def _failed(status: int, message: str) -> Response:
    if is_json_path(request.path):
        return ApiError(status, message).to_response()
    return Response(message, status=status, mimetype="text/plain")
