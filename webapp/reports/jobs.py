"""The morning report: each subscriber gets yesterday's figures once, after the local morning hour."""

from __future__ import annotations

import logging

from webapp.core.db import utcnow
from webapp.extensions import db
from webapp.jobs.context import with_app_context
from webapp.jobs.schedule import periodic

log = logging.getLogger(__name__)


@with_app_context
def send_morning_reports() -> int:
    """Claim today's deliveries (committed first), then send them; returns how many were sent."""
    from webapp.reports.access import report_scope
    from webapp.reports.services import claim_morning_deliveries, daily_report, format_report
    from webapp.telegram.send import send_message

    claimed = claim_morning_deliveries()
    db.session.commit()
    sent = 0
    for delivery, sub in claimed:
        report = daily_report(delivery.report_date, report_scope(sub.user))
        result = send_message(sub.bot_id, sub.chat_id, format_report(report, sub.user.language))
        delivery.status = "sent" if result.ok else "failed"
        delivery.sent_at = utcnow() if result.ok else None
        if not result.ok:
            log.warning("morning report for %s not delivered: %s", sub.user_id, result.error)
        db.session.commit()
        sent += bool(result.ok)
    return sent


# Hourly: the claim only hands out deliveries once the morning hour has come in the report zone.
periodic("reports.morning", send_morning_reports, queue="notifications", cron="5 * * * *")
