"""Debt reminders: the day before a debt falls due, its owner hears about it once in the finance bot.

The database decides "once": a reminder is claimed by a conditional UPDATE of ``reminder_sent_at``
(only one run can turn NULL into a time) and committed before anything is sent, so overlapping or
retried runs never send the same reminder twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from webapp.core.db import utcnow
from webapp.core.models import TelegramAccount
from webapp.extensions import db
from webapp.finance.models import Debt, DebtDirection
from webapp.finance.services import ledger
from webapp.finance.services.texts import catalog
from webapp.telegram.models import Bot, Vertical


def _(message: str) -> str:
    """Marks a message id for extraction; it is translated into the debt owner's language when sent."""
    return message


REMINDER = _("⏰ Reminder: tomorrow, %(date)s, is the due date of a debt.\n%(who)s — %(amount)s (%(direction)s).")
DIRECTIONS = {DebtDirection.I_OWE.value: _("you owe"), DebtDirection.OWED_TO_ME.value: _("owed to you")}


@dataclass(frozen=True)
class Chat:
    bot_id: int
    chat_id: int


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
    """True for exactly one caller per debt; the caller commits before sending."""
    result = db.session.execute(
        db.update(Debt)
        .where(Debt.id == debt_id, Debt.reminder_sent_at.is_(None), Debt.settled.is_(False))
        .values(reminder_sent_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def finance_chat(user_id: uuid.UUID) -> Chat | None:
    """Where the user talks to a finance bot: their most recently active, unblocked chat with one."""
    row = db.session.execute(
        db.select(TelegramAccount.bot_id, TelegramAccount.chat_id)
        .join(Bot, Bot.id == TelegramAccount.bot_id)
        .where(
            TelegramAccount.user_id == user_id,
            TelegramAccount.blocked_bot.is_(False),
            TelegramAccount.chat_id.is_not(None),
            Bot.vertical == Vertical.FINANCE.value,
            Bot.enabled.is_(True),
        )
        .order_by(TelegramAccount.last_seen.desc().nulls_last())
        .limit(1)
    ).first()
    return Chat(row.bot_id, row.chat_id) if row else None


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
