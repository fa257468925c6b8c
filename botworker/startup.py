"""Start quietly: before the first poll, wait for the Bot API servers the bots talk to.

``manage.py demo`` starts the web server (which serves the sandbox) and the bot worker together;
polling at once would log a "Connection refused" warning per bot and back-off step. Instead the
worker says once what it waits for, and waits, bounded, and no longer than it is asked to run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

import requests

from webapp.telegram import botapi

log = logging.getLogger("botworker")

API_WAIT_SECONDS = 60.0
PROBE_INTERVAL = 0.5
PROBE_TIMEOUT = 2.0


def api_origin(template: str) -> str:
    """scheme://host[:port] of a Bot API URL template: no path (where a token goes), no credentials."""
    parts = urlsplit(template)
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def answers(origin: str) -> bool:
    """Whether an HTTP server answers at ``origin`` (any status: it is up)."""
    try:
        botapi.session().get(
            origin, timeout=PROBE_TIMEOUT, allow_redirects=False, proxies=botapi.proxies_for(origin)
        ).close()
    except requests.RequestException:
        return False
    return True


def wait_for_api(
    templates: Iterable[str],
    stopping: threading.Event,
    limit: float = API_WAIT_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Wait until every Bot API server of ``templates`` answers: True then; False when ``limit``
    seconds passed (polling starts anyway and reports its own errors) or ``stopping`` was set."""
    pending = sorted({api_origin(t) for t in templates})
    deadline = clock() + limit
    announced = False
    while True:
        pending = [origin for origin in pending if not answers(origin)]
        if not pending:
            return True
        if not announced:
            log.info("waiting for the Telegram API at %s", ", ".join(pending))
            announced = True
        if stopping.wait(PROBE_INTERVAL):
            return False
        if clock() >= deadline:
            log.warning("the Telegram API at %s did not answer in %ss; polling anyway", ", ".join(pending), limit)
            return False
