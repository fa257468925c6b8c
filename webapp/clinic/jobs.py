"""Clinic periodic scans (RQ cron). Each scan is idempotent: a message is written into the outbox
with its ReminderLog claim, in the job's one transaction, so overlapping runs and retries never
write it twice; the outbox's job sends it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from webapp.clinic.models import ReminderState
from webapp.clinic.services import clock, documents, reminders
from webapp.clinic.services.booking import complete_finished_visits
from webapp.extensions import db
from webapp.jobs.context import with_app_context
from webapp.jobs.schedule import periodic

log = logging.getLogger(__name__)


def _deliver_due(scan: Callable[[datetime], list[reminders.Due]], now: datetime) -> int:
    """Queue what ``scan`` finds due into the outbox; returns how many messages were written."""
    queued = 0
    for due in scan(now):
        try:
            with db.session.begin_nested():  # one patient's failure must not stop the scan
                entry = reminders.queue(due, now)
        except Exception:
            log.exception("clinic %s for appointment %s failed", due.kind.value, due.appointment_id)
            continue
        queued += entry is not None and entry.state == ReminderState.CLAIMED.value
    return queued


@with_app_context
def send_appointment_reminders(now: datetime | None = None) -> int:
    """D-1 / H-3 / H-1 reminders due now; returns how many were sent."""
    return _deliver_due(reminders.due_reminders, clock.resolve(now))


@with_app_context
def send_arrived_checks(now: datetime | None = None) -> int:
    """ "Вы пришли?" 5 minutes after the start; finished visits of arrived patients become completed."""
    now = clock.resolve(now)
    complete_finished_visits(now)
    return _deliver_due(reminders.due_arrival_checks, now)


@with_app_context
def send_feedback_requests(now: datetime | None = None) -> int:
    """NPS requests 2 hours after the visit."""
    return _deliver_due(reminders.due_feedback_requests, clock.resolve(now))


@with_app_context
def cleanup_expired_documents(now: datetime | None = None) -> int:
    """Delete the files behind document links older than 48 hours."""
    return documents.cleanup_expired_documents(clock.resolve(now))


# The seed's cadences are upper bounds; every minute keeps each message within ~1 minute of its time.
periodic("clinic.reminders", send_appointment_reminders, queue="reminders", interval=60)
periodic("clinic.arrived_checks", send_arrived_checks, queue="reminders", interval=60)
periodic("clinic.feedback_requests", send_feedback_requests, queue="reminders", interval=300)
periodic("clinic.cleanup_documents", cleanup_expired_documents, queue="default", interval=6 * 3600)
