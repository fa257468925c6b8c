"""Finance periodic jobs (RQ cron): the daily "your debt is due tomorrow" reminder."""

from __future__ import annotations

import logging
from datetime import date

from webapp.core.db import utcnow
from webapp.extensions import db
from webapp.finance.models import Debt
from webapp.finance.services import ledger, reminders
from webapp.jobs.context import with_app_context
from webapp.jobs.schedule import periodic

log = logging.getLogger(__name__)


@with_app_context
def send_debt_reminders(today: str | None = None) -> int:
    """Remind owners of debts due tomorrow (local date); each debt once. Returns how many were sent."""
    from webapp.telegram.send import send_message

    day = date.fromisoformat(today) if today else utcnow().astimezone(ledger.local_zone()).date()
    sent = 0
    for debt_id in reminders.debts_due_tomorrow(day):
        claimed = reminders.claim(debt_id)
        db.session.commit()  # the claim is durable before anything leaves
        if not claimed:
            continue
        debt = db.session.get(Debt, debt_id)
        chat = reminders.finance_chat(debt.user_id)
        if chat is None:
            continue  # nowhere to write: the claim stays, the user sees due debts in the bot's list
        try:
            result = send_message(chat.bot_id, chat.chat_id, reminders.reminder_text(debt))
        except Exception:  # one user's failure must not stop the others' reminders
            log.exception("debt reminder %s could not be sent", debt_id)
            continue
        sent += int(result.ok)
    return sent


# 04:00 UTC is 09:00 in Tashkent, the default time zone of the finance vertical.
periodic("finance.debt_reminders", send_debt_reminders, queue="default", cron="0 4 * * *")
