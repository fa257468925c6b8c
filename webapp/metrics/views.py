"""``GET /metrics`` and the request-latency hooks.

Metrics tell an outsider how busy each bot is and which endpoints exist, so the page is not public:
with ``METRICS_TOKEN`` set it answers only ``Authorization: Bearer <METRICS_TOKEN>``; without one,
only a client on this machine (loopback) that did not come through a proxy (no
``X-Forwarded-For``: behind a reverse proxy every client looks local). Anyone else gets 404, as if
there were no such page.
"""

from __future__ import annotations

import hmac
import ipaddress
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from webapp.metrics import REDIS_COLLECTOR, REQUEST_LATENCY

bp = Blueprint("metrics", __name__)
UNMATCHED = "<unmatched>"  # 404s: one label for every unknown path, not one per path tried


def init_metrics(app: Flask) -> None:
    app.register_blueprint(bp)
    app.before_request(_start_timer)
    app.after_request(_observe)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    rule = request.url_rule.rule if request.url_rule is not None else UNMATCHED
    # A socket's "request" lasts as long as the socket: its own gauge counts those.
    if started is not None and not rule.startswith("/ws/"):
        REQUEST_LATENCY.labels(endpoint=rule, method=request.method, status=str(response.status_code)).observe(
            time.perf_counter() - started
        )
    return response


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or ""
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    if request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded"):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def metrics() -> Response:
    if not _allowed():
        abort(404)
    directory = current_app.config.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:  # every gunicorn worker's files, whichever worker answers the scrape
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry = REGISTRY
    shared = CollectorRegistry(auto_describe=False)
    shared.register(REDIS_COLLECTOR)
    return Response(generate_latest(registry) + generate_latest(shared), mimetype=CONTENT_TYPE_LATEST)
