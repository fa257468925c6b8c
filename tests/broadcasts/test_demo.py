"""The broadcasts demo: a segment and a draft for the demo clinic bot, once."""

from __future__ import annotations

import sqlalchemy as sa

from webapp.broadcasts import demo
from webapp.broadcasts.models import Broadcast, Segment
from webapp.extensions import db


def test_demo_is_idempotent_and_needs_the_clinic_bot(bc):
    assert list(demo.seed()) == []  # no demo clinic bot: nothing to do
    bot = bc.bot("clinic", name="clinic")
    first = list(demo.seed())
    db.session.commit()
    assert len(first) == 2
    assert list(demo.seed()) == []
    segment = db.session.scalars(sa.select(Segment)).one()
    broadcast = db.session.scalars(sa.select(Broadcast)).one()
    assert segment.bot_id == bot.id and segment.filters == demo.DEMO_FILTERS
    assert (broadcast.status, broadcast.segment_id, broadcast.texts["kk"]) == ("draft", segment.id, demo.DEMO_TEXT_KK)
