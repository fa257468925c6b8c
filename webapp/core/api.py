"""Platform endpoints: health (seed 004 shape) and a human-readable API docs page."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, jsonify, render_template

from webapp.core.apispec import spec
from webapp.core.permissions import public
from webapp.core.schemas import HealthOut, responses
from webapp.extensions import db, redis_store

bp = Blueprint("core_api", __name__)


def _check(probe) -> str:
    try:
        probe()
    except Exception as exc:  # a health check reports any failure rather than raising it
        current_app.logger.warning("health probe failed: %s", exc)
        return "error"
    return "ok"


@bp.get("/api/reports/health/")
@public
@spec.validate(resp=responses(HealthOut, HTTP_503=HealthOut), tags=["health"])
def health():
    """Liveness and dependencies: ``{"status","tz","server_time","db","redis"}``; 503 when degraded."""
    tz = current_app.config["DEFAULT_TIMEZONE"]
    db_state = _check(lambda: db.session.execute(db.text("SELECT 1")))
    redis_state = _check(redis_store.client.ping)
    ok = db_state == "ok" and redis_state == "ok"
    body = {
        "status": "ok" if ok else "degraded",
        "tz": tz,
        "server_time": datetime.now(ZoneInfo(tz)).isoformat(),
        "db": db_state,
        "redis": redis_state,
    }
    return jsonify(body), 200 if ok else 503


@bp.get("/api/openapi.json")
@public
def openapi_document():
    """The OpenAPI 3 document of every JSON endpoint."""
    return jsonify(spec.spec)


@bp.get("/api/docs")
@public
def docs_page():
    """Every documented operation, rendered from the OpenAPI document (works offline)."""
    document = spec.spec
    operations = []
    for path, methods in sorted(document["paths"].items()):
        for method, op in methods.items():
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "tags": op.get("tags", []),
                    "security": bool(op.get("security")),
                }
            )
    return render_template("api_docs.html", operations=operations, title=document["info"]["title"])
