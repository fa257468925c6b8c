"""Prometheus metrics, served at ``/metrics`` (see ``webapp.metrics.views`` for who may read them).

Botdesk runs as several processes — gunicorn workers, RQ workers (which fork a process per job),
the bot worker, possibly on different hosts — so each figure is kept where every process can reach
it and where it survives the process that made it:

- Request latency per endpoint is a prometheus_client histogram in the web process. With
  ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn: one directory per web host, emptied at start),
  prometheus_client keeps it in that directory and ``/metrics`` adds up every worker's files.
- Open live sockets are a gauge of the same kind (``livesum``: only live processes count; the
  gunicorn hook in ``webapp.metrics.gunicorn`` forgets a dead worker's sockets).
- Counts made by every kind of process — updates handled, messages sent and 429s met, per bot —
  are counters in one Redis hash (``HINCRBY``), read at scrape time: no per-process files (an RQ
  worker's process per job would leave one each), no host affinity, nothing lost when a process
  dies. A Redis failure never fails the update or the send it counts.
- Queue lengths are read from RQ's Redis lists at scrape time.

Labels name a bot by its name (never its token) and an endpoint by its URL rule, not the raw path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import redis
from prometheus_client import Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from webapp.extensions import redis_store

log = logging.getLogger(__name__)

HASH = "botdesk:metrics"
# Counters kept in Redis: name → (help text, label names after "bot").
COUNTERS = {
    "updates": ("Telegram updates handled by the bot worker", ()),
    "sends": ("Messages sent to Telegram (a 429 retried is one message)", ("path",)),
    "rate_limited": ("429 Too Many Requests answers from Telegram", ("path",)),
}

REQUEST_LATENCY = Histogram(
    "botdesk_http_request_duration_seconds",
    "Web request latency by endpoint (the URL rule), method and status",
    ("endpoint", "method", "status"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OPEN_SOCKETS = Gauge("botdesk_live_sockets", "Open helpdesk live WebSockets", ("kind",), multiprocess_mode="livesum")


def count(name: str, bot: str, amount: int = 1, client: redis.Redis | None = None, **labels: str) -> None:
    """Add ``amount`` to the Redis counter ``name`` of ``bot`` (its name); never raises."""
    help_text, label_names = COUNTERS[name]
    field = "|".join([name, bot, *(str(labels[label]) for label in label_names)])
    try:
        (client or redis_store.client).hincrby(HASH, field, amount)
    except (redis.RedisError, RuntimeError) as exc:  # RuntimeError: no app context to find Redis in
        log.warning("metric %s not counted: %s", name, exc.__class__.__name__)


@contextmanager
def open_socket(kind: str) -> Iterator[None]:
    """Count a live socket as open for the duration of the block."""
    gauge = OPEN_SOCKETS.labels(kind=kind)
    gauge.inc()
    try:
        yield
    finally:
        gauge.dec()


class RedisCollector(Collector):
    """Exports the Redis counters and the RQ queue lengths at scrape time (inside an app context)."""

    def collect(self):
        from webapp.jobs.queues import QUEUE_NAMES, get_queue

        client = redis_store.client
        families = {
            name: CounterMetricFamily(f"botdesk_telegram_{name}", help_text, labels=["bot", *label_names])
            for name, (help_text, label_names) in COUNTERS.items()
        }
        for field, value in client.hgetall(HASH).items():
            name, *label_values = field.decode().split("|")
            if name in families:
                families[name].add_metric(label_values, float(value))
        yield from families.values()
        queues = GaugeMetricFamily("botdesk_rq_queue_length", "Jobs waiting in each RQ queue", labels=["queue"])
        for name in QUEUE_NAMES:
            queues.add_metric([name], get_queue(name).count)
        yield queues


REDIS_COLLECTOR = RedisCollector()
