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

DEMO_SEGMENT = "Женщины 18–65, застрахованные (демо)"
DEMO_FILTERS = {"age_min": 18, "age_max": 65, "sex": "F", "osms_status": "insured"}
DEMO_TITLE = "Весенний чек-ап (демо)"
DEMO_TEXT = (
    "<b>Весенний чек-ап</b> со скидкой 20%\nЗапишитесь в боте до конца месяца: терапевт, анализы и УЗИ за один визит."
)
DEMO_TEXT_KK = (
    "<b>Көктемгі тексеру</b> 20% жеңілдікпен\n"
    "Ай соңына дейін ботта жазылыңыз: терапевт, талдаулар және УДЗ бір сапарда."
)
DEMO_BUTTONS = [[{"text": "Подробнее / Толығырақ", "url": "https://clinic.example.com/checkup"}]]


def seed() -> Iterator[str]:
    bot = db.session.scalar(sa.select(Bot).where(Bot.name == "clinic", Bot.vertical == Vertical.CLINIC.value))
    if bot is None or segments.vertical_models("clinic") is None:
        return
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
