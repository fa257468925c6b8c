"""Debt reminders: the day before a debt falls due, its owner hears about it once in the finance bot.

The database decides "once": a reminder is claimed by a conditional UPDATE of ``reminder_sent_at``
(only one run can turn NULL into a time), and in the same transaction the message is written to the
outbox under ``debt:<debt>:<due date>`` — overlapping or retried runs never write it twice, and the
outbox's one delivery job sends it.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from webapp.core.db import utcnow
from webapp.extensions import db
from webapp.finance.models import Debt, DebtDirection
from webapp.finance.services import ledger
from webapp.finance.services.texts import catalog
from webapp.telegram.models import Vertical
from webapp.telegram.outbox import chat_for, write


def _(message: str) -> str:
    """Marks a message id for extraction; it is translated into the debt owner's language when sent."""
    return message


REMINDER = _("⏰ Reminder: tomorrow, %(date)s, is the due date of a debt.\n%(who)s — %(amount)s (%(direction)s).")
DIRECTIONS = {DebtDirection.I_OWE.value: _("you owe"), DebtDirection.OWED_TO_ME.value: _("owed to you")}


def debts_due_tomorrow(today: date) -> list[uuid.UUID]:
    """Open, not yet reminded debts due the day after ``today`` (the users' local date)."""
    return list(
        db.session.scalars(
            db.select(Debt.id).where(
                Debt.settled.is_(False),
                Debt.reminder_sent_at.is_(None),
                Debt.due_date == today + timedelta(days=1),
            )
        )
    )


def claim(debt_id: uuid.UUID) -> bool:
    """True for exactly one caller per debt (a concurrent one waits for this transaction's end)."""
    result = db.session.execute(
        db.update(Debt)
        .where(Debt.id == debt_id, Debt.reminder_sent_at.is_(None), Debt.settled.is_(False))
        .values(reminder_sent_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def queue_reminder(debt_id: uuid.UUID) -> bool:
    """Claim the debt's reminder and write it into the outbox; True when a message was written. With
    no finance chat the claim stays: the user sees due debts in the bot's list."""
    if not claim(debt_id):
        return False
    debt = db.session.get(Debt, debt_id)
    chat = chat_for(debt.user_id, vertical=Vertical.FINANCE.value)
    if chat is None:
        return False
    key = f"debt:{debt.id.hex}:{debt.due_date.isoformat()}"
    return write(key, "finance", chat, reminder_text(debt)) is not None


def reminder_text(debt: Debt) -> str:
    language = debt.user.language
    return catalog.for_language(
        language,
        REMINDER,
        date=debt.due_date.strftime("%d.%m.%Y"),
        who=debt.counterparty,
        amount=ledger.format_money(debt.amount, debt.currency),
        direction=catalog.for_language(language, DIRECTIONS[debt.direction]),
    )
