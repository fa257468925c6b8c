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


def test_demo_patients_are_the_demo_segments_audience(app_ctx):
    from webapp.broadcasts.services import segments
    from webapp.demo import seed_demo
    from webapp.sandbox.store import current_sandbox
    from webapp.telegram.models import Bot
    from webapp.telegram.tokens import decrypt_token

    first = list(seed_demo())
    db.session.commit()
    assert any("have a chat with bot clinic" in line for line in first), first
    bot = db.session.scalars(sa.select(Bot).where(Bot.name == "clinic")).one()
    segment = db.session.scalars(sa.select(Segment).where(Segment.name == demo.DEMO_SEGMENT)).one()
    filters = segments.parse_filters(segment.filters, bot)
    # Women 18-65 who accepted marketing: of the three demo patients only Айгерім.
    assert segments.audience_count(bot, filters) == 1
    (person,) = segments.audience_sample(bot, filters)
    assert person["first_name"] == "Айгерім"
    sandbox = current_sandbox()
    sandbox_bot = sandbox.bot_by_token(decrypt_token(bot))
    assert sandbox.is_member(sandbox_bot, person["telegram_user_id"])
    again = list(seed_demo())
    db.session.commit()
    assert not any("have a chat" in line for line in again)
    assert segments.audience_count(bot, filters) == 1
