"""The cron schedule: one list of periodic job definitions, registered with RQ's CronScheduler.

Verticals append their periodic scans with ``periodic(...)`` at import time; names are stable so
a restarted scheduler keeps one entry per job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rq.cron import CronScheduler

from webapp.extensions import redis_store


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    func: Callable
    queue: str = "default"
    interval: int | None = None  # seconds
    cron: str | None = None  # crontab expression, UTC
    timeout: int = 300


SCHEDULE: list[PeriodicJob] = []


def periodic(
    name: str,
    func: Callable,
    queue: str = "default",
    interval: int | None = None,
    cron: str | None = None,
    timeout: int = 300,
) -> None:
    if (interval is None) == (cron is None):
        raise ValueError("give exactly one of interval or cron")
    if any(job.name == name for job in SCHEDULE):
        return
    SCHEDULE.append(PeriodicJob(name, func, queue, interval, cron, timeout))


def build_scheduler() -> CronScheduler:
    scheduler = CronScheduler(connection=redis_store.client, name="botdesk-cron")
    for job in SCHEDULE:
        scheduler.register(
            job.func, job.queue, interval=job.interval, cron=job.cron, job_timeout=job.timeout, name=job.name
        )
    return scheduler
