"""Finance periodic jobs (RQ cron): the daily "your debt is due tomorrow" reminder."""

from __future__ import annotations

from datetime import date

from webapp.core.db import utcnow
from webapp.finance.services import ledger, reminders
from webapp.jobs.context import with_app_context
from webapp.jobs.schedule import periodic


@with_app_context
def send_debt_reminders(today: str | None = None) -> int:
    """Write the reminders of debts due tomorrow (local date) into the outbox, each debt once;
    returns how many were written (the outbox's job sends them)."""
    day = date.fromisoformat(today) if today else utcnow().astimezone(ledger.local_zone()).date()
    return sum(reminders.queue_reminder(debt_id) for debt_id in reminders.debts_due_tomorrow(day))


# 04:00 UTC is 09:00 in Tashkent, the default time zone of the finance vertical.
periodic("finance.debt_reminders", send_debt_reminders, queue="default", cron="0 4 * * *")
