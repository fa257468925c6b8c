"""Realty jobs: e-mail delivery, Telegram pushes of notifications, completing finished stays."""

from __future__ import annotations

import logging

from webapp.extensions import db
from webapp.jobs.context import with_app_context
from webapp.jobs.schedule import periodic

log = logging.getLogger(__name__)


@with_app_context
def deliver_email(outbox_id: int) -> str | None:
    from webapp.realty.models import OutboxEmail
    from webapp.realty.services.mail import deliver

    row = db.session.get(OutboxEmail, outbox_id)
    if row is None:
        return None
    deliver(row)
    db.session.commit()
    return row.status


@with_app_context
def push_notification(notification_id: int) -> bool:
    """Send a stored notification to the recipient's realty chat, at most once."""
    from webapp.realty.services.notify import claim_push, realty_chat
    from webapp.telegram.send import send_message

    notification = claim_push(notification_id)
    if notification is None:
        return False
    account = realty_chat(notification.user_id)
    db.session.commit()  # the claim is durable before the message leaves
    if account is None:
        return False
    result = send_message(account.bot_id, account.chat_id, notification.text)
    db.session.commit()  # a 403 marked the account as having blocked the bot
    if not result.ok:
        log.warning("notification %s not delivered: %s", notification_id, result.error)
    return bool(result.ok)


@with_app_context
def complete_finished_bookings() -> int:
    from webapp.realty.services.bookings import complete_finished_bookings as complete
    from webapp.realty.services.bookings import expire_unconfirmed_bookings

    done = complete() + expire_unconfirmed_bookings()
    db.session.commit()
    return done


periodic("realty.complete_bookings", complete_finished_bookings, queue="default", interval=15 * 60)
