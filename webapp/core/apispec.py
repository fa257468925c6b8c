"""The OpenAPI document and request validation shared by every JSON endpoint.

Every API view is decorated with ``spec.validate`` (strict mode: only decorated views are
documented), so ``/api/openapi.json`` describes exactly what is served, and every request body
and query string is checked by a pydantic model before the view runs. The models live in each
package's ``schemas.py`` (the shared ones in ``webapp.core.schemas``); pages are cut by
``webapp.core.pagination``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from spectree import SecurityScheme, SecuritySchemeData, SpecTree

from webapp.core.apidocs import PAGE_TEMPLATES
from webapp.core.errors import ApiError, pydantic_details
from webapp.core.schemas import ErrorBody


def _before(req, resp, req_validation_error, instance, model_adapter=None) -> None:
    # Garbage JSON reaches spectree as {}; say so instead of listing every field as missing.
    if req.method not in ("GET", "DELETE", "HEAD") and req.data and req.is_json and req.get_json(silent=True) is None:
        raise ApiError(400, "Request body is not valid JSON", "BAD_REQUEST")
    if req_validation_error is not None:
        raise ApiError(422, "Invalid data", "VALIDATION_ERROR", pydantic_details(req_validation_error.errors()))


BYTES_ATTR = "_serves_bytes"


def serves_bytes(media_type: str = "application/octet-stream") -> Callable[[Callable], Callable]:
    """Mark a documented view that answers a file, not JSON: its 200 is documented as binary."""

    def mark(view: Callable) -> Callable:
        setattr(view, BYTES_ATTR, media_type)
        return view

    return mark


class BotdeskSpecTree(SpecTree):
    """SpecTree whose model schemas are built when the document is, not when views are decorated.

    spectree's ``validate`` turns every model of a view into its JSON schema at import time, and
    the same models (ErrorBody on every route) over and over: ~740 pydantic schema generations,
    ~0.6 CPU-s of every process that builds the app (each RQ worker, each test run), for a document
    most processes never serve. Request and response validation use the model classes, not these
    schemas, so ``_add_model`` only records the call here; the first read of ``models`` (building
    the document) replays the calls in their order, generating each (model, mode) once, and keeps
    spectree's last-writer-wins result: the document is the same, byte for byte.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._pending_models: list[tuple[Any, Any]] = []
        self._replaying = False
        # Views may be decorated after the document was built; the lock makes a concurrent reader
        # wait for the replay instead of seeing half the schemas.
        self._models_lock = threading.RLock()
        super().__init__(*args, **kwargs)

    @property
    def models(self) -> dict[str, Any]:
        if self._pending_models or self._replaying:
            self._replay_models()
        return self._models

    @models.setter
    def models(self, value: dict[str, Any]) -> None:
        self._models = value

    def _add_model(self, model: Any, mode: Any = "validation") -> str:
        self._pending_models.append((model, mode))
        return self.naming_strategy(model)

    def _replay_models(self) -> None:
        with self._models_lock:
            if self._replaying:  # spectree's own _add_model below reads self.models
                return
            self._replaying = True
            try:
                while self._pending_models:
                    pending, self._pending_models = self._pending_models, []
                    # One schema per (model, mode) within a replay: the calls it stands for would
                    # have stored equal schemas. Not kept across replays, because building the
                    # document strips "$defs" from the stored schemas.
                    built: dict[tuple[int, Any], Any] = {}
                    for model, mode in pending:
                        key = self.naming_strategy(model)
                        if (id(model), mode) in built:  # pending holds the model, so its id is its own
                            self._models[key] = built[id(model), mode]
                        else:
                            super()._add_model(model=model, mode=mode)
                            built[id(model), mode] = self._models[key]
            finally:
                self._replaying = False

    @property
    def spec(self) -> dict[str, Any]:
        # Built once, on first read: a second build would find the "$defs" the first one stripped.
        with self._models_lock:
            return super().spec

    def _generate_spec(self) -> dict[str, Any]:
        # spectree documents JSON bodies only; a file download gets its binary 200 here.
        document = super()._generate_spec()
        for route in self.backend.find_routes():
            for method, func in self.backend.parse_func(route):
                media_type = getattr(func, BYTES_ATTR, None)
                if media_type is None:
                    continue
                path, _parameters = self.backend.parse_path(route, None)
                operation = document["paths"].get(path, {}).get(method.lower())
                if operation is not None:
                    ok = operation["responses"].setdefault("200", {"description": "OK"})
                    ok["content"] = {media_type: {"schema": {"type": "string", "format": "binary"}}}
        return document


spec = BotdeskSpecTree(
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
    # _before answers a refused request with the platform's error body, so that is what a 422 documents.
    validation_error_model=ErrorBody,
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
