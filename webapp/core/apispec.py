"""The OpenAPI document and request validation shared by every JSON endpoint.

Every API view is decorated with ``spec.validate`` (strict mode: only decorated views are
documented), so ``/api/openapi.json`` describes exactly what is served, and every request body
and query string is checked by a pydantic model before the view runs.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from spectree import SecurityScheme, SecuritySchemeData, SpecTree

from webapp.core.apidocs import PAGE_TEMPLATES
from webapp.core.errors import ApiError, pydantic_details


def _before(req, resp, req_validation_error, instance, model_adapter=None) -> None:
    # Garbage JSON reaches spectree as {}; say so instead of listing every field as missing.
    if req.method not in ("GET", "DELETE", "HEAD") and req.data and req.is_json and req.get_json(silent=True) is None:
        raise ApiError(400, "Request body is not valid JSON", "BAD_REQUEST")
    if req_validation_error is not None:
        raise ApiError(422, "Invalid data", "VALIDATION_ERROR", pydantic_details(req_validation_error.errors()))


spec = SpecTree(
    "flask",
    title="Botdesk API",
    version="1.0",
    # spectree leaves routes under its own path out of the document, so its UI lives at /apidoc and
    # /api/openapi.json is served by webapp.core.api from the same document.
    path="apidoc",
    page_templates=PAGE_TEMPLATES,  # self-hosted bundles: the docs work offline, under our CSP
    mode="strict",
    annotations=True,
    before=_before,
    validation_error_status=422,
    security_schemes=[
        SecurityScheme(name="jwt", data=SecuritySchemeData(type="http", scheme="bearer", bearer_format="JWT")),
        SecurityScheme(name="bot_token", data=SecuritySchemeData(type="apiKey", field_in="header", name="X-Bot-Token")),
        SecurityScheme(
            name="service_secret",
            data=SecuritySchemeData(type="http", scheme="bearer", description="TELEGRAM_BOT_API_SECRET"),
        ),
    ],
)

JWT = [{"jwt": []}]
JWT_OR_BOT_TOKEN = [{"jwt": []}, {"bot_token": []}]


# Whitespace and the invisible: zero-width space, non-joiner and joiner, word joiner, BOM.
INVISIBLE_EDGES = re.compile(r"^[\s\u200b\u200c\u200d\u2060\ufeff]+|[\s\u200b\u200c\u200d\u2060\ufeff]+$")


class StrictModel(BaseModel):
    """Request bodies: unknown keys are ignored, types are checked strictly enough to refuse junk."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")

    @field_validator("*", mode="before")
    @classmethod
    def _strip_invisible_edges(cls, value):
        # A title of zero-width characters looks empty to every reader: they go with the whitespace
        # (before the length checks), so it is refused as empty.
        return INVISIBLE_EDGES.sub("", value) if isinstance(value, str) else value

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_characters(cls, value):
        # PostgreSQL cannot store NUL in text; refuse it here rather than fail at the database.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class PageQuery(StrictModel):
    page: int = Field(1, ge=1, le=100_000)
    size: int = Field(20, ge=1, le=100)


def paginate(query, page: int, size: int, serialize) -> dict[str, Any]:
    """Seed 003's page shape: items, total, page, size, pages."""
    from webapp.extensions import db

    total = db.session.scalar(db.select(db.func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = db.session.scalars(query.limit(size).offset((page - 1) * size)).all()
    return page_of([serialize(row) for row in rows], total, page, size)


def page_of(items: list, total: int, page: int, size: int) -> dict[str, Any]:
    """Seed 003's page shape around items already fetched."""
    pages = math.ceil(total / size) if total else 0
    return {"items": items, "total": total, "page": page, "size": size, "pages": pages}
