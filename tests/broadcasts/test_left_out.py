"""Who the delivery leaves out of a segment and why: counts by reason, next to the audience count
(service, compose's live count, the broadcast page), never who they are."""

from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_from
from webapp.broadcasts.services import lifecycle, segments
from webapp.extensions import db

TELEGRAM_IDS = range(880001, 880008)


def _clinic_audience(bc):
    """Women who match, one reachable; each other one left out for one reason; a man who does not match."""
    bot = bc.bot("clinic", name="clinic-left-out")
    ids = iter(TELEGRAM_IDS)

    def woman(**account):
        return bc.account(bot, telegram_user_id=next(ids), first_name="Aigerim", **account)

    bc.patient(woman(), sex="F")
    bc.patient(woman(), sex="F", marketing=False)
    bc.patient(woman(), sex="F", marketing=False)
    bc.patient(woman(), sex="F", active=False)
    bc.patient(woman(blocked=True), sex="F")
    bc.patient(woman(active=False), sex="F", marketing=False)  # a blocked user counts once, as that
    bc.patient(bc.account(bot, telegram_user_id=next(ids)), sex="M", marketing=False)
    return bot


def test_left_out_by_reason_each_account_once(bc):
    bot = _clinic_audience(bc)
    filters = segments.parse_filters({"sex": "F"}, bot)

    assert segments.audience_count(bot, filters) == 1
    assert segments.left_out(bot, filters) == {
        "user_blocked": 1,
        "blocked_bot": 1,
        "no_chat": 0,
        "patient_inactive": 1,
        "no_marketing_consent": 2,
    }
    # The delivery leaves out exactly those: the snapshot of a started broadcast has one recipient.
    broadcast = lifecycle.create_broadcast(None, bot_id=bot.id, title="T", text="T", filters={"sex": "F"})
    lifecycle.start_broadcast(None, broadcast)
    assert broadcast.total_count == 1


def test_other_verticals_name_the_generic_reasons_only(bc):
    bot = bc.bot("finance")
    bc.account(bot, language="ru")
    bc.account(bot, language="ru", blocked=True)
    bc.account(bot, language="kk", blocked=True)
    filters = segments.parse_filters({"language": "ru"}, bot)
    assert segments.left_out(bot, filters) == {"user_blocked": 0, "blocked_bot": 1, "no_chat": 0}


@pytest.fixture
def clinic_bot(app, bc_factory):
    with app.app_context():
        bot = _clinic_audience(bc_factory)
        db.session.commit()
        return bot.id


def test_compose_shows_counts_in_words_never_who(app, client, make_user, console_login, clinic_bot):
    console_login(client, make_user("marketer", language="ru"))
    page = client.get("/admin/broadcasts/new")
    reply = client.post(
        "/admin/broadcasts/audience",
        data={"bot_id": clinic_bot, "audience": "filters", "sex": "F"},
        headers={"X-CSRFToken": csrf_from(page.text)},
    )
    assert reply.status_code == 200, reply.text
    body = reply.get_json()
    assert body["count"] == 1
    assert body["description"] == "Пол: Женский"
    assert [row["text"] for row in body["left_out_words"]] == [
        "1 аккаунт заблокирован на платформе",
        "1 заблокировал бота",
        "1 карта пациента закрыта",
        "2 без согласия на рассылки",
    ]
    for telegram_id in TELEGRAM_IDS:
        assert str(telegram_id) not in reply.text


def test_broadcast_page_shows_who_is_left_out(app, client, make_user, console_login, clinic_bot):
    with app.app_context():
        broadcast = lifecycle.create_broadcast(None, bot_id=clinic_bot, title="T", text="T", filters={"sex": "F"})
        db.session.commit()
        broadcast_id = broadcast.id
    console_login(client, make_user("marketer", language="en"))
    page = client.get(f"/admin/broadcasts/{broadcast_id}")
    assert page.status_code == 200
    assert re.search(r'id="bd-audience-now">1<', page.text)
    left_out = re.search(r'<p class="small text-muted" id="bd-left-out">(.*?)</p>', page.text, re.S).group(1)
    text = re.sub(r"<[^>]+>", "", left_out)
    assert text == (
        "Left out: 1 account blocked on the platform · 1 blocked the bot · 1 patient record closed · "
        "2 without marketing consent"
    )
    assert 'id="bd-filters-words">Sex: Female<' in page.text
    for telegram_id in TELEGRAM_IDS:
        assert str(telegram_id) not in page.text
