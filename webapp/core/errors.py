"""The one error format of the JSON APIs, and the handlers that make every failure use it.

Generic body (seed 003, and everywhere a seed gives none)::

    {"error": {"code": "VALIDATION_ERROR", "message": "...", "details": [{"field", "message"}]}}

Seeds with their own shapes keep them: seed 004 answers ``{"detail": "..."}`` for its auth
failures, seed 000 answers the SimpleJWT body for a bad or expired token (see ``token_error``).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Conflict, HTTPException

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


class ApiError(Exception):
    """Raise from any API code path; the handler turns it into the JSON error response."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str | None = None,
        details: list[dict[str, str]] | None = None,
        body: dict | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or HTTP_CODES.get(status, "ERROR")
        self.details = details or []
        self.body = body
        self.headers = headers or {}

    def to_response(self) -> Response:
        body = self.body if self.body is not None else error_body(self.code, self.message, self.details)
        response = jsonify(body)
        response.status_code = self.status
        for key, value in self.headers.items():
            response.headers[key] = value
        return response


def error_body(code: str, message: str, details: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or []}}


def validation_error(field: str, message: str, status: int = 422) -> ApiError:
    return ApiError(status, "Invalid data", "VALIDATION_ERROR", [{"field": field, "message": message}])


def not_found(what: str = "Resource") -> ApiError:
    return ApiError(404, f"{what} not found", "NOT_FOUND")


FIELD_PART = re.compile(r"^[\w.]+$")


def pydantic_details(errors: list[dict]) -> list[dict[str, str]]:
    details = []
    for err in errors:
        # Union branches add tags such as "function-after[...]" to the location: no field has such a name.
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query") and FIELD_PART.match(str(p))]
        named = (err.get("ctx") or {}).get("field")  # a model-level rule names its field (limits.field_error)
        if named:
            loc.append(str(named))
        details.append({"field": ".".join(loc) or "body", "message": err.get("msg", "invalid value")})
    return details


# --- seed 000: SimpleJWT's body for a token that is missing, bad or expired -----------------------


def token_error(token_type: str = "access", message: str = "Token is invalid or expired") -> dict:
    token_class = "AccessToken" if token_type == "access" else "RefreshToken"
    return {
        "detail": "Given token not valid for any token type",
        "code": "token_not_valid",
        "messages": [{"token_class": token_class, "token_type": token_type, "message": message}],
    }


def is_json_path(path: str) -> bool:
    return path.startswith(("/api/", "/ws/", "/telegram/", "/sandbox/api/", "/sandbox/bot"))


def seed_004_path(path: str) -> bool:
    return path.startswith(("/api/reports/", "/api/login/", "/api/generate_bot_token/", "/api/bot_tokens/"))


def auth_failure(message: str, token_type: str = "access") -> Response:
    """401 for a missing/invalid/expired/revoked JWT, in the shape the caller's seed expects."""
    path = request.path
    if path.startswith("/api/v1/") or path.startswith("/ws/"):
        body = error_body("UNAUTHORIZED", message)
    elif seed_004_path(path):
        body = {"detail": message}
    else:
        body = token_error(token_type)
    response = jsonify(body)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _page_texts() -> dict[int, tuple[str, str]]:
    from flask_babel import gettext as _

    return {
        403: (_("Access denied"), _("Your account has no access to this page.")),
        404: (_("Page not found"), _("There is no such page, or it is not available to you.")),
    }


def html_error_page(exc: HTTPException):
    """403 and 404 of every HTML route in the console's layout and the reader's language; other
    statuses (redirects, 405, 413 …) keep Werkzeug's response."""
    texts = _page_texts().get(exc.code or 0)
    if texts is None:
        return exc
    admin = current_app.extensions.get("botdesk_admin")
    if admin is None:
        return exc
    title, message = texts
    try:
        body = admin.index_view.render("errors/http.html", code=exc.code, title=title, message=message)
    except Exception:  # the page must never turn a 404 into a 500
        log.exception("error page for %s failed to render", exc.code)
        return exc
    return body, exc.code


def is_unique_violation(exc: IntegrityError) -> bool:
    """PostgreSQL's SQLSTATE 23505, or SQLite's "UNIQUE constraint failed"."""
    orig = exc.orig
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)


def _roll_back() -> None:
    """A request that fails writes nothing (see ``webapp.core.unit_of_work``)."""
    from webapp.extensions import db

    try:
        db.session.rollback()
    except Exception:  # a dead connection must not turn the error answer into another error
        log.exception("rollback after a failed request failed")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        _roll_back()
        return exc.to_response()

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        _roll_back()
        if not is_json_path(request.path):
            return html_error_page(exc)
        status = exc.code or 500
        if status == 429:
            message = "Too many requests"
            retry = getattr(exc, "retry_after", None)
            error = ApiError(429, message, headers={"Retry-After": str(retry)} if retry else None)
            if seed_004_path(request.path):
                error.body = {"detail": "Request was throttled."}
            return error.to_response()
        if seed_004_path(request.path):
            return ApiError(status, exc.description or "", body={"detail": exc.description or exc.name}).to_response()
        return ApiError(status, exc.description or exc.name).to_response()

    @app.errorhandler(IntegrityError)
    def _integrity(exc: IntegrityError):
        # The services check before they insert, but two requests at once can both pass the check
        # (the same username, e-mail or phone registered twice): the unique key decides, and the
        # loser is told so with nothing half-written. Any other integrity failure is a bug: a 500.
        _roll_back()
        if not is_unique_violation(exc):
            return _unexpected(exc)
        log.warning("unique conflict on %s %s", request.method, request.path)
        return _http_error(Conflict("This record was just created by another request; reload and try again."))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        _roll_back()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not is_json_path(request.path):
            return "Internal Server Error", 500
        return ApiError(500, "Internal server error").to_response()
