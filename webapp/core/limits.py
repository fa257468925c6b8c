"""Input limits every API shares: bounded dates, JSON depth and size, errors that name their field.

The JSON limits run before any view or validator parses the body, so a body nested a thousand
levels deep is a 400 and an oversized one a 413 instead of a recursion in the parser.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from flask import Flask, current_app, request
from pydantic import AfterValidator, AwareDatetime, ValidationError, WrapValidator
from pydantic_core import PydanticCustomError
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from webapp.core.errors import is_json_path
from webapp.core.services import ServiceError

# Beyond these no business date makes sense, and date arithmetic stays far from year 1 and 9999.
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2100, 12, 31)

MAX_BIGINT = 2**63 - 1
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
JSON_BRACKET = re.compile(rb"[\[\]{}]")


def field_error(field: str, message: str) -> PydanticCustomError:
    """A model-level validation error that still names its field (``details[].field``)."""
    return PydanticCustomError("value_error", message, {"field": field})


def in_date_range(value: date) -> bool:
    day = value.date() if isinstance(value, datetime) else value
    return DATE_MIN <= day <= DATE_MAX


def require_date_in_range(value: date, field: str) -> date:
    """For services called outside the validated APIs (bot text, console): a 422, not an OverflowError."""
    if not in_date_range(value):
        raise ServiceError(f"Dates run from {DATE_MIN} to {DATE_MAX}", 422, "VALIDATION_ERROR", field)
    return value


def _bounded(value: date) -> date:
    if not in_date_range(value):
        raise PydanticCustomError(
            "date_out_of_range",
            "must be between {min} and {max}",
            {"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()},
        )
    return value


BoundedDate = Annotated[date, AfterValidator(_bounded)]
BoundedDatetime = Annotated[AwareDatetime, AfterValidator(_bounded)]


def _one_error(value, handler):
    """A union fails once, on its field, instead of once per branch (tagged with the branch)."""
    try:
        return handler(value)
    except ValidationError as exc:
        bounds = [e for e in exc.errors() if e["type"] == "date_out_of_range"]
        if bounds:
            raise PydanticCustomError("date_out_of_range", bounds[0]["msg"]) from None
        raise PydanticCustomError("date_type", "use a date or a date-time with its time zone") from None


BoundedDateOrDatetime = Annotated[BoundedDatetime | BoundedDate, WrapValidator(_one_error)]


def json_depth(body: bytes, limit: int) -> int:
    """How deep ``body``'s arrays and objects nest, counting no further than ``limit + 1``."""
    depth = deepest = 0
    for bracket in JSON_BRACKET.findall(JSON_STRING.sub(b"", body)):
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth -= 1
    return deepest


def _check_json_body() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS") or request.mimetype in FORM_TYPES:
        return
    if not request.is_json and not is_json_path(request.path):
        return
    view = current_app.view_functions.get(request.endpoint)
    budget = "MAX_CONTENT_LENGTH" if getattr(view, "json_carries_files", False) else "JSON_MAX_BYTES"
    max_bytes, max_depth = current_app.config[budget], current_app.config["JSON_MAX_DEPTH"]
    if (request.content_length or 0) > max_bytes:
        raise RequestEntityTooLarge(f"The JSON body is larger than {max_bytes} bytes")
    body = request.get_data(cache=True)  # chunked bodies have no Content-Length
    if len(body) > max_bytes:
        raise RequestEntityTooLarge(f"The JSON body is larger than {max_bytes} bytes")
    if json_depth(body, max_depth) > max_depth:
        raise BadRequest(f"The JSON body nests deeper than {max_depth} levels")


def carries_files(view):
    """Mark a JSON endpoint whose body holds base64 files: the upload limit applies, not JSON_MAX_BYTES."""
    view.json_carries_files = True
    return view


class BoundedIntConverter(IntegerConverter):
    """``<int:id>`` up to the largest BIGINT: a longer number is no row (404), not a driver overflow."""

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = None, max: int | None = None, **kw) -> None:  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=MAX_BIGINT if max is None else max, **kw)


def register_input_limits(app: Flask) -> None:
    """Before any route is added: bounded ``<int:>`` path parts, the JSON body check."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(_check_json_body)
