"""The broadcasts console: who may open it, compose with errors shown, actions, live JSON, CSV exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_from
from webapp.broadcasts.models import Broadcast, Segment
from webapp.extensions import db

PAGES = ("/admin/broadcasts/", "/admin/broadcasts/new", "/admin/broadcast_segments/", "/admin/broadcast_segments/new")


@pytest.fixture
def console_bot(app, bc_factory):
    with app.app_context():
        bot = bc_factory.bot("finance", name="shop")
        for language in ("ru", "ru", "kk"):
            bc_factory.account(bot, language=language)
        db.session.commit()
        return bot.id


@pytest.fixture
def marketer_client(app, client, make_user, console_login):
    console_login(client, make_user("marketer", language="en"))  # the assertions read English texts
    return client


@pytest.mark.parametrize("role", ["marketer", "admin", "superuser"])
def test_marketer_and_up_open_every_page(client, make_user, console_login, role):
    console_login(client, make_user(role))
    for page in PAGES:
        assert client.get(page).status_code == 200, page


@pytest.mark.parametrize("role", ["doctor", "helper", "realtor"])
def test_other_staff_are_refused(client, make_user, console_login, role):
    console_login(client, make_user(role))
    for page in PAGES:
        assert client.get(page).status_code == 403, page


def test_anonymous_is_sent_to_login(client):
    response = client.get("/admin/broadcasts/")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def _compose(client, bot_id, **fields):
    page = client.get("/admin/broadcasts/new")
    data = {
        "csrf_token": csrf_from(page.text),
        "bot_id": str(bot_id),
        "title": "Spring",
        "text": "<b>Spring</b> sale",
        "audience": "filters",
        "language": ["ru"],
        "buttons": "Shop | https://example.com || Later | later",
        **fields,
    }
    return client.post("/admin/broadcasts/new", data=data)


def test_compose_send_pause_resume_cancel(app, marketer_client, console_bot):
    response = _compose(marketer_client, console_bot, text_kk="<i>Көктем</i>")
    assert response.status_code == 302, response.text
    broadcast_url = response.headers["Location"]
    broadcast_id = int(re.search(r"/admin/broadcasts/(\d+)", broadcast_url).group(1))
    with app.app_context():
        broadcast = db.session.get(Broadcast, broadcast_id)
        assert broadcast.filters == {"language": ["ru"]} and broadcast.texts == {"kk": "<i>Көктем</i>"}
        assert broadcast.buttons == [
            [{"text": "Shop", "url": "https://example.com"}, {"text": "Later", "callback_data": "later"}]
        ]
    page = marketer_client.get(broadcast_url)
    assert "<b>Spring</b> sale" in page.text and "Audience now" in page.text
    assert re.search(r'id="bd-audience-now">2<', page.text)

    def act(verb):
        token = csrf_from(marketer_client.get(broadcast_url).text)
        return marketer_client.post(f"{broadcast_url}/{verb}", data={"csrf_token": token})

    assert act("send").status_code == 302
    progress = marketer_client.get(f"{broadcast_url}/progress.json").get_json()
    assert (progress["status"], progress["total_recipients"], progress["pending_count"]) == ("sending", 2, 2)
    assert act("pause").status_code == 302
    assert marketer_client.get(f"{broadcast_url}/progress.json").get_json()["status"] == "paused"
    act("pause")  # illegal now: refused with a message, nothing changes
    assert "Cannot pause a paused broadcast" in marketer_client.get(broadcast_url).text
    act("resume")
    act("cancel")
    assert marketer_client.get(f"{broadcast_url}/progress.json").get_json()["status"] == "cancelled"
    exported = marketer_client.get(f"{broadcast_url}/deliveries.csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert exported.mimetype == "text/csv" and len(rows) == 2 and {r["status"] for r in rows} == {"pending"}


def test_compose_errors_are_shown_and_nothing_saved(app, marketer_client, console_bot):
    response = _compose(marketer_client, console_bot, text="<blink>x</blink>", age_min="5")
    assert response.status_code == 422
    assert "not supported by Telegram" in response.text or "Not available" in response.text
    response = _compose(marketer_client, console_bot, text="<script>alert(1)</script>")
    assert response.status_code == 422 and "<script>alert(1)</script>" not in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Broadcast.id))) == 0


def test_forms_need_the_csrf_token(app, marketer_client, console_bot):
    response = marketer_client.post(
        "/admin/broadcasts/new", data={"bot_id": str(console_bot), "title": "x", "text": "x"}
    )
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Broadcast.id))) == 0


def test_live_audience_and_preview(marketer_client, console_bot):
    token = csrf_from(marketer_client.get("/admin/broadcasts/new").text)
    headers = {"X-CSRFToken": token}
    counted = marketer_client.post(
        "/admin/broadcasts/audience",
        data={"bot_id": str(console_bot), "audience": "filters", "language": "kk"},
        headers=headers,
    )
    assert counted.get_json()["count"] == 1 and len(counted.get_json()["sample"]) == 1
    bad = marketer_client.post(
        "/admin/broadcasts/audience", data={"bot_id": str(console_bot), "age_min": "30"}, headers=headers
    )
    assert bad.status_code == 422 and "age_min" in bad.get_json()["error"]
    text = '<b>Hi</b> <a href="https://x.io">x</a> <img src=x>'
    preview = marketer_client.post("/admin/broadcasts/preview", json={"text": text}, headers=headers).get_json()
    assert preview["error"] and "<img" not in preview["html"]
    ok = marketer_client.post("/admin/broadcasts/preview", json={"text": "<b>Hi</b>\nthere"}, headers=headers)
    assert ok.get_json() == {"html": "<b>Hi</b><br>there", "length": 8, "error": None, "limit": 4096}
    no_token = marketer_client.post("/admin/broadcasts/preview", json={"text": "x"})
    assert no_token.status_code == 400


def test_schedule_from_the_console(app, marketer_client, console_bot):
    broadcast_url = _compose(marketer_client, console_bot).headers["Location"]
    token = csrf_from(marketer_client.get(broadcast_url).text)
    when = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0, second=0)
    local = when.astimezone(tz=None)
    marketer_client.post(f"{broadcast_url}/schedule", data={"csrf_token": token, "scheduled_at": local.isoformat()})
    with app.app_context():
        broadcast = db.session.scalars(sa.select(Broadcast)).one()
        assert broadcast.status == "scheduled" and broadcast.scheduled_at == when


def test_segments_console_and_list_export(app, marketer_client, console_bot):
    page = marketer_client.get("/admin/broadcast_segments/new")
    response = marketer_client.post(
        "/admin/broadcast_segments/new",
        data={"csrf_token": csrf_from(page.text), "bot_id": str(console_bot), "name": "Kazakh", "language": "kk"},
    )
    assert response.status_code == 302
    with app.app_context():
        segment = db.session.scalars(sa.select(Segment)).one()
        assert segment.filters == {"language": ["kk"]}
        segment_id = segment.id
    assert "Kazakh" in marketer_client.get("/admin/broadcast_segments/").text
    _compose(marketer_client, console_bot, audience="segment", segment_id=str(segment_id))
    _compose(marketer_client, console_bot, title="Other")
    listing = marketer_client.get("/admin/broadcasts/?q=spr")
    assert "Spring" in listing.text and "Other" not in listing.text
    exported = marketer_client.get("/admin/broadcasts/export.csv")
    titles = [row["title"] for row in csv.DictReader(io.StringIO(exported.text))]
    assert sorted(titles) == ["Other", "Spring"]
    with app.app_context():
        spring = db.session.scalars(sa.select(Broadcast).where(Broadcast.title == "Spring")).one()
        assert spring.segment_id == segment_id and spring.filters == {"language": ["kk"]}


def test_times_name_their_zone(app, marketer_client, console_bot):
    response = _compose(marketer_client, console_bot)
    detail = marketer_client.get(response.headers["Location"]).text
    # The schedule field takes the browser's time; the page says so (progress.js adds the zone's name).
    assert 'id="bd-schedule-zone"' in detail and "in your time zone" in detail
    listing = marketer_client.get("/admin/broadcasts/").text
    with app.app_context():
        from webapp.admin.base import console_time

        created = db.session.scalars(sa.select(Broadcast.created_at)).one()
        shown = console_time(created)
    assert shown in listing and " UTC<" not in listing  # the platform's zone, named, as every console time
