"""Realty jobs: e-mail delivery, completing finished stays. (Telegram pushes are outbox rows.)"""

from __future__ import annotations

import logging

from webapp.extensions import db
from webapp.jobs.context import with_app_context
from webapp.jobs.schedule import periodic
from webapp.realty.models import OutboxEmail
from webapp.realty.services import bookings
from webapp.realty.services.mail import deliver

log = logging.getLogger(__name__)


@with_app_context
def deliver_email(outbox_id: int) -> str | None:
    row = db.session.get(OutboxEmail, outbox_id)
    if row is None:
        return None
    deliver(row)
    return row.status


@with_app_context
def complete_finished_bookings() -> int:
    return bookings.complete_finished_bookings() + bookings.expire_unconfirmed_bookings()


periodic("realty.complete_bookings", complete_finished_bookings, queue="default", interval=15 * 60)
