"""The models every API shares: the request base, the page query and page body, the error bodies,
health, and ``responses()`` that declares an operation's answers to the OpenAPI document.

The convention: ``webapp/<package>/schemas.py`` sits beside the ``api.py`` it describes and holds
that API's input and output models (this module for ``webapp/core/api.py`` and what all share;
``webapp/core/auth/schemas.py`` for the auth endpoints).

spectree checks a view's answer against the model declared for its status (not only documents
it): an output model must say exactly what the view returns. Output models ignore keys they do not
name (pydantic's default), so a field added to a payload is undocumented until named, never a 500.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel, create_model, field_validator
from spectree import Response

# --- input -----------------------------------------------------------------------------------------

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


# --- pages -----------------------------------------------------------------------------------------


class PageOut(BaseModel):
    """Seed 003's page shape, the one every paginated endpoint answers (webapp.core.pagination)."""

    items: list
    total: int
    page: int
    size: int
    pages: int


def page_model(item: type[BaseModel], name: str | None = None) -> type[PageOut]:
    """A page of ``item``: a named class, so the OpenAPI document gets a plain component name."""
    return create_model(
        name or f"{item.__name__.removesuffix('Out')}Page",
        __base__=PageOut,
        __module__=item.__module__,
        items=(list[item], ...),
    )


# --- errors ----------------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorInfo(BaseModel):
    code: str = Field(description="VALIDATION_ERROR, NOT_FOUND, FORBIDDEN, CONFLICT …")
    message: str
    details: list[ErrorDetail]


class ErrorBody(BaseModel):
    """The platform's error body (``webapp.core.errors.error_body``)."""

    error: ErrorInfo


class DetailBody(BaseModel):
    """Seed 004's error body, and any bad ``X-Bot-Token``: ``{"detail": "..."}``."""

    detail: str


class TokenMessage(BaseModel):
    token_class: str
    token_type: str
    message: str


class TokenErrorBody(BaseModel):
    """Seed 000's answer to a missing, bad or expired JWT (SimpleJWT's body, ``errors.token_error``)."""

    detail: str
    code: str
    messages: list[TokenMessage]


class Unauthorized(RootModel[TokenErrorBody | DetailBody | ErrorBody]):
    """401 outside ``/api/v1/``: SimpleJWT's body for a bad JWT, ``{"detail"}`` for a bad bot token,
    the platform's body for a refused login."""


# The error answers of each family of paths (webapp.core.errors says which body goes where). A 422
# is always the platform's body: request validation raises it before any seed's shape applies.
V1_ERRORS = {401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 422: ErrorBody}
SEED_ERRORS = {401: Unauthorized, 403: ErrorBody, 404: ErrorBody, 422: ErrorBody}
SEED_004_ERRORS = {401: DetailBody, 403: DetailBody, 422: ErrorBody}
PUBLIC_ERRORS = {422: ErrorBody}


def responses(ok: Any, status: int = 200, errors: dict[int, type[BaseModel]] | None = None, **more) -> Response:
    """An operation's answers: ``ok`` for the success ``status`` (None: no body, as for 204; or a
    ``(model, description)`` pair), the family's error bodies, and any other ``HTTP_<code>=Model``."""
    codes: dict[str, Any] = {f"HTTP_{code}": model for code, model in (errors or {}).items()}
    codes[f"HTTP_{status}"] = ok
    codes.update(more)
    return Response(**codes)


# --- platform --------------------------------------------------------------------------------------


class HealthOut(BaseModel):
    status: str
    tz: str
    server_time: str
    db: str
    redis: str
