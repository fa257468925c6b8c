"""The morning report: each subscriber gets yesterday's figures once, after the local morning hour."""

from __future__ import annotations

from webapp.jobs.context import with_app_context
from webapp.jobs.schedule import periodic
from webapp.reports.services import queue_morning_reports


@with_app_context
def send_morning_reports() -> int:
    """Write the owed morning reports into the outbox (delivered by its job); returns how many."""
    return queue_morning_reports()


# Hourly: the reports are only owed once the morning hour has come in the report zone.
periodic("reports.morning", send_morning_reports, queue="notifications", cron="5 * * * *")
