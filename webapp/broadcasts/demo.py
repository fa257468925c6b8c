"""Demo data of broadcasts: a segment and a draft broadcast for the demo clinic's bot (idempotent).

Runs after the clinic and sandbox demos (``seed_demo`` orders packages so); does nothing when the
demo clinic bot is not there.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa

from webapp.broadcasts.models import Broadcast, Segment
from webapp.broadcasts.services import lifecycle, segments
from webapp.extensions import db
from webapp.telegram.models import Bot, Vertical

DEMO_SEGMENT = "Женщины 18–65 (демо)"
# No health filter (insurance): the demo marketer composes for it, and health filters are the clinic staff's.
DEMO_FILTERS = {"age_min": 18, "age_max": 65, "sex": "F"}
DEMO_TITLE = "Весенний чек-ап (демо)"
DEMO_TEXT = (
    "<b>Весенний чек-ап</b> со скидкой 20%\nЗапишитесь в боте до конца месяца: терапевт, анализы и УЗИ за один визит."
)
DEMO_TEXT_KK = (
    "<b>Көктемгі тексеру</b> 20% жеңілдікпен\n"
    "Ай соңына дейін ботта жазылыңыз: терапевт, талдаулар және УДЗ бір сапарда."
)
DEMO_BUTTONS = [[{"text": "Подробнее / Толығырақ", "url": "https://clinic.example.com/checkup"}]]


def _patients_open_the_bot(bot: Bot) -> Iterator[str]:
    """The demo clinic's patients have a chat with its bot in the sandbox, so the demo segment has an
    audience a broadcast really reaches. Every run: the embedded sandbox starts empty each time."""
    from flask import current_app

    from webapp.clinic.models import Clinic, Patient
    from webapp.core.models import TelegramAccount
    from webapp.core.services import ensure_telegram_account, find_telegram_account
    from webapp.sandbox.store import current_sandbox
    from webapp.telegram.tokens import decrypt_token

    if not (bot.is_sandbox and current_app.config.get("SANDBOX_ENABLED")):
        return
    sandbox = current_sandbox()
    sandbox_bot = sandbox.bot_by_token(decrypt_token(bot))
    if sandbox_bot is None:
        return
    clinic = db.session.scalar(sa.select(Clinic).where(Clinic.bot_id == bot.id))
    if clinic is None:
        return
    people = db.session.execute(
        sa.select(Patient, TelegramAccount.telegram_user_id)
        .join(TelegramAccount, TelegramAccount.user_id == Patient.user_id)
        .where(TelegramAccount.bot_id.is_(None), Patient.organization_id == clinic.organization_id)
        .order_by(Patient.id)
    ).all()
    joined = 0
    for patient, telegram_user_id in people:
        sandbox.ensure_user(
            sandbox_bot,
            telegram_user_id,
            patient.first_name,
            last_name=patient.last_name,
            language_code=patient.language,
        )
        if find_telegram_account(telegram_user_id, bot.id) is None:
            ensure_telegram_account(bot.id, telegram_user_id, first_name=patient.first_name)
            joined += 1
    if joined:
        yield f"{joined} demo patient(s) have a chat with bot {bot.name} in the sandbox"


def seed() -> Iterator[str]:
    bot = db.session.scalar(sa.select(Bot).where(Bot.name == "clinic", Bot.vertical == Vertical.CLINIC.value))
    if bot is None or segments.vertical_models("clinic") is None:
        return
    yield from _patients_open_the_bot(bot)
    segment = db.session.scalar(sa.select(Segment).where(Segment.bot_id == bot.id, Segment.name == DEMO_SEGMENT))
    if segment is None:
        segment = segments.create_segment(None, bot.id, DEMO_SEGMENT, DEMO_FILTERS, "Seed 002's example audience")
        yield f"created demo broadcast segment «{DEMO_SEGMENT}» for bot {bot.name}"
    exists = db.session.scalar(sa.select(Broadcast.id).where(Broadcast.bot_id == bot.id, Broadcast.title == DEMO_TITLE))
    if exists is None:
        lifecycle.create_broadcast(
            None,
            bot_id=bot.id,
            title=DEMO_TITLE,
            text=DEMO_TEXT,
            texts={"kk": DEMO_TEXT_KK},
            buttons=DEMO_BUTTONS,
            segment_id=segment.id,
            source="cli",
        )
        yield f"created demo draft broadcast «{DEMO_TITLE}»"
