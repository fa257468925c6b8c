"""Messages to a patient outside a conversation (reminders, NPS, payment news), through the one
Telegram send path (``webapp.telegram.send``): its rate limits, retry_after and blocked-user marking."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from webapp.clinic.models import Clinic, Patient
from webapp.core.models import TelegramAccount
from webapp.extensions import db
from webapp.telegram.models import Bot, Vertical


@dataclass(frozen=True)
class Chat:
    bot_id: int
    chat_id: int


def patient_chat(patient: Patient, clinic: Clinic | None = None) -> Chat | None:
    """Where to reach the patient: their chat with the clinic's own bot, else with a clinic bot of the
    patient's organization or of the platform (never another organization's bot).

    None when they have no reachable chat (never talked to a clinic bot, or blocked it).
    """
    if patient.user is None:
        return None
    accounts: list[TelegramAccount] = [
        a for a in patient.user.telegram_accounts if a.bot_id is not None and not a.blocked_bot and a.chat_id
    ]
    if clinic is not None and clinic.bot_id is not None:
        own = [a for a in accounts if a.bot_id == clinic.bot_id]
        if own:
            return Chat(own[0].bot_id, own[0].chat_id)
    ours = sa.or_(Bot.organization_id == patient.organization_id, Bot.organization_id.is_(None))
    clinic_bots = set(
        db.session.scalars(db.select(Bot.id).where(Bot.vertical == Vertical.CLINIC.value, Bot.enabled, ours))
    )
    for account in sorted(accounts, key=lambda a: a.last_seen or a.created_at, reverse=True):
        if account.bot_id in clinic_bots:
            return Chat(account.bot_id, account.chat_id)
    return None


def send_to_patient(patient: Patient, clinic: Clinic | None, text: str, reply_markup: dict | None = None):
    """Send ``text``; returns the SendResult, or None when the patient cannot be reached."""
    from webapp.telegram.send import send_message

    chat = patient_chat(patient, clinic)
    if chat is None:
        return None
    return send_message(chat.bot_id, chat.chat_id, text, reply_markup=reply_markup)
