"""Issue 12 attacks on broadcasts: another organization's marketer or admin cannot see, preview, edit or
send organization A's segments and broadcasts, nor use A's bot; platform bots are the superuser's;
health filters are the clinic's own staff's. A's own staff still can."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_from
from webapp.broadcasts.models import Broadcast, Segment
from webapp.extensions import db


@pytest.fixture
def two(app, bc_factory, make_organization, make_user, auth_header):
    """Organization A (the test organization) with a clinic bot, three marketable patients, a segment
    and a sending broadcast; organization B with its own bot; a platform bot; staff of both."""
    from webapp.broadcasts.services import lifecycle, segments

    other = make_organization("Agency B")
    with app.app_context():
        bot_a = bc_factory.bot("clinic", name="clinic-a")
        for n in range(3):
            account = bc_factory.account(bot_a, first_name=f"Pat{n}")
            bc_factory.patient(account, sex="F", birth_date=date(1990, 1, 1), tags=("diabetes",))
        bot_b = bc_factory.bot("realty", name="agency-b", organization=other)
        platform = bc_factory.bot("realty", name="marketplace", organization=None)
        bc_factory.account(platform, first_name="Guest")
        segment = segments.create_segment(None, bot_a.id, "Women A", {"sex": "F"})
        sending = lifecycle.create_broadcast(None, bot_id=bot_a.id, title="A sale", text="A sale", filters={"sex": "F"})
        draft = lifecycle.create_broadcast(None, bot_id=bot_a.id, title="A draft", text="A draft", filters={})
        db.session.flush()
        lifecycle.start_broadcast(None, sending)
        db.session.commit()
        ids = SimpleNamespace(
            bot_a=bot_a.id, bot_b=bot_b.id, platform=platform.id, segment=segment.id, sending=sending.id, draft=draft.id
        )
    users = {
        "marketer_a": make_user("marketer", language="en"),
        "admin_a": make_user("admin", language="en"),
        "marketer_b": make_user("marketer", organization=other, language="en"),
        "admin_b": make_user("admin", organization=other, language="en"),
        "superuser": make_user("superuser", language="en"),
    }
    return SimpleNamespace(**vars(ids), users=users, h={k: auth_header(u) for k, u in users.items()})


def _status(app, broadcast_id) -> str:
    with app.app_context():
        return db.session.get(Broadcast, broadcast_id).status


@pytest.mark.parametrize("attacker", ["marketer_b", "admin_b"])
def test_another_organization_cannot_reach_a_broadcasts_over_the_api(app, client, two, attacker):
    h = two.h[attacker]
    listed = client.get("/api/broadcasts/", headers=h).get_json()
    assert [b["id"] for b in listed["items"]] == [] and listed["total"] == 0
    for path in (
        f"/api/broadcasts/{two.sending}/",
        f"/api/broadcasts/{two.sending}/progress/",
        f"/api/bot/broadcast/{two.sending}/stats/",
        f"/api/broadcasts/{two.sending}/deliveries/",
    ):
        assert client.get(path, headers=h).status_code == 404, path
    for verb in ("pause", "cancel"):
        assert client.post(f"/api/bot/broadcast/{two.sending}/{verb}/", headers=h).status_code == 404
    assert client.post(f"/api/bot/broadcast/{two.draft}/start/", headers=h).status_code == 404
    assert client.post(f"/api/broadcasts/{two.draft}/test/", headers=h).status_code == 404
    assert client.patch(f"/api/broadcasts/{two.draft}/", json={"title": "Hijacked"}, headers=h).status_code == 404
    assert client.delete(f"/api/broadcasts/{two.draft}/", headers=h).status_code == 404
    assert (_status(app, two.sending), _status(app, two.draft)) == ("sending", "draft")
    with app.app_context():
        assert db.session.get(Broadcast, two.draft).title == "A draft"


@pytest.mark.parametrize("attacker", ["marketer_b", "admin_b"])
def test_another_organization_cannot_use_a_segments_or_bot(app, client, two, attacker):
    h = two.h[attacker]
    assert client.get("/api/broadcasts/segments/", headers=h).get_json()["total"] == 0
    segment_url = f"/api/broadcasts/segments/{two.segment}/"
    assert client.get(segment_url, headers=h).status_code == 404
    assert client.get(segment_url + "preview/", headers=h).status_code == 404
    assert client.patch(segment_url, json={"name": "Mine"}, headers=h).status_code == 404
    assert client.delete(segment_url, headers=h).status_code == 404
    # A's bot: no preview of its audience, no segment, no broadcast on it.
    preview = client.post("/api/broadcasts/segments/preview/", json={"bot_id": two.bot_a, "filters": {}}, headers=h)
    assert preview.status_code == 404 and "Pat" not in preview.text
    made = client.post("/api/broadcasts/segments/", json={"bot_id": two.bot_a, "name": "Steal"}, headers=h)
    assert made.status_code == 404
    body = {"bot_id": two.bot_a, "title": "Spam", "text": "Spam"}
    assert client.post("/api/broadcasts/", json=body, headers=h).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Segment.id))) == 1
        assert db.session.scalar(sa.select(sa.func.count(Broadcast.id))) == 2
    # Its own organization's bot it still uses.
    own = client.post("/api/broadcasts/segments/preview/", json={"bot_id": two.bot_b, "filters": {}}, headers=h)
    assert own.status_code == 200 and own.get_json()["count"] == 0


def test_a_own_marketer_still_reaches_everything_of_a(app, client, two):
    h = two.h["marketer_a"]
    assert {b["id"] for b in client.get("/api/broadcasts/", headers=h).get_json()["items"]} == {two.sending, two.draft}
    assert client.get(f"/api/broadcasts/segments/{two.segment}/preview/", headers=h).get_json()["count"] == 3
    assert client.get(f"/api/bot/broadcast/{two.sending}/stats/", headers=h).get_json()["total_recipients"] == 3
    assert client.post(f"/api/bot/broadcast/{two.sending}/pause/", headers=h).status_code == 200
    assert client.post(f"/api/bot/broadcast/{two.draft}/start/", headers=h).status_code == 200


def test_platform_bots_are_the_superusers(client, two):
    body = {"bot_id": two.platform, "filters": {}}
    for who in ("admin_a", "marketer_a"):
        assert client.post("/api/broadcasts/segments/preview/", json=body, headers=two.h[who]).status_code == 404
    shown = client.post("/api/broadcasts/segments/preview/", json=body, headers=two.h["superuser"])
    assert shown.status_code == 200 and shown.get_json()["count"] == 1


def test_health_filters_are_for_the_clinics_own_staff(app, client, two):
    body = {"bot_id": two.bot_a, "filters": {"tags": ["diabetes"]}}
    refused = client.post("/api/broadcasts/segments/preview/", json=body, headers=two.h["marketer_a"])
    assert refused.status_code == 403 and refused.get_json()["error"]["details"][0]["field"] == "tags"
    assert "diabetes" not in str(refused.get_json()["error"]["message"])
    for filters in ({"osms_status": "insured"}, {"services": [1]}):
        answer = client.post(
            "/api/broadcasts/segments/preview/",
            json={"bot_id": two.bot_a, "filters": filters},
            headers=two.h["marketer_a"],
        )
        assert answer.status_code == 403, filters
    saved = client.post(
        "/api/broadcasts/segments/",
        json={"bot_id": two.bot_a, "name": "Diabetics", "filters": body["filters"]},
        headers=two.h["marketer_a"],
    )
    assert saved.status_code == 403
    # The clinic's own admin may; another organization's admin does not even find the bot.
    assert (
        client.post("/api/broadcasts/segments/preview/", json=body, headers=two.h["admin_a"]).get_json()["count"] == 3
    )
    assert client.post("/api/broadcasts/segments/preview/", json=body, headers=two.h["admin_b"]).status_code == 404
    # A segment the admin saved with a health filter is not a way round it for the marketer.
    made = client.post(
        "/api/broadcasts/segments/",
        json={"bot_id": two.bot_a, "name": "Diabetics", "filters": body["filters"]},
        headers=two.h["admin_a"],
    ).get_json()
    assert client.get(f"/api/broadcasts/segments/{made['id']}/preview/", headers=two.h["marketer_a"]).status_code == 403
    use = {"bot_id": two.bot_a, "title": "T", "text": "T", "segment_id": made["id"]}
    assert client.post("/api/broadcasts/", json=use, headers=two.h["marketer_a"]).status_code == 403
    # Nor is the admin's draft on that segment: the marketer neither sends, schedules nor test-sends it.
    draft = client.post("/api/broadcasts/", json=use, headers=two.h["admin_a"]).get_json()["id"]
    when = {"scheduled_at": "2030-01-01T10:00:00+00:00"}
    assert client.post(f"/api/broadcasts/{draft}/send/", headers=two.h["marketer_a"]).status_code == 403
    assert client.post(f"/api/broadcasts/{draft}/schedule/", json=when, headers=two.h["marketer_a"]).status_code == 403
    assert client.post(f"/api/broadcasts/{draft}/test/", headers=two.h["marketer_a"]).status_code == 403
    assert _status(app, draft) == "draft"
    assert client.post(f"/api/broadcasts/{draft}/send/", headers=two.h["admin_a"]).get_json()["total_recipients"] == 3


def test_another_organization_is_refused_in_the_console(app, client, two, console_login):
    console_login(client, SimpleNamespace(**vars(two.users["marketer_b"])))
    listing = client.get("/admin/broadcasts/")
    assert listing.status_code == 200 and "A sale" not in listing.text and "clinic-a" not in listing.text
    assert "A sale" not in client.get("/admin/broadcasts/export.csv").text
    for path in (
        f"/admin/broadcasts/{two.sending}",
        f"/admin/broadcasts/{two.sending}/progress.json",
        f"/admin/broadcasts/{two.sending}/deliveries.csv",
        f"/admin/broadcasts/{two.draft}/edit",
        f"/admin/broadcast_segments/{two.segment}/edit",
    ):
        assert client.get(path).status_code == 404, path
    token = csrf_from(client.get("/admin/broadcasts/new").text)
    assert "clinic-a" not in client.get("/admin/broadcasts/new").text
    for verb in ("send", "test", "pause", "cancel", "delete"):
        target = two.draft if verb in ("send", "test", "delete") else two.sending
        assert client.post(f"/admin/broadcasts/{target}/{verb}", data={"csrf_token": token}).status_code == 404
    counted = client.post(
        "/admin/broadcasts/audience",
        data={"bot_id": str(two.bot_a), "audience": "filters"},
        headers={"X-CSRFToken": token},
    )
    assert counted.status_code == 422 and "count" not in counted.get_json()
    made = client.post(
        "/admin/broadcasts/new", data={"csrf_token": token, "bot_id": str(two.bot_a), "title": "X", "text": "X"}
    )
    assert made.status_code == 422
    assert client.post(f"/admin/broadcast_segments/{two.segment}/delete", data={"csrf_token": token}).status_code == 404
    assert "Women A" not in client.get("/admin/broadcast_segments/").text
    assert (_status(app, two.sending), _status(app, two.draft)) == ("sending", "draft")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Segment.id))) == 1


def test_the_dashboard_card_counts_the_viewers_organization(app, two):
    from webapp.broadcasts.admin import _sending_now
    from webapp.core.services import get_user

    with app.app_context():
        assert _sending_now(get_user(two.users["marketer_a"].id)) == 1
        assert _sending_now(get_user(two.users["marketer_b"].id)) == 0
        assert _sending_now(get_user(two.users["superuser"].id)) == 1
