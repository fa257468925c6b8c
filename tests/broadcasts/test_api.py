"""The broadcast API: seed 002's paths and payloads, roles, the console endpoints, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from webapp.broadcasts.models import Broadcast, BroadcastDelivery, Segment
from webapp.extensions import db

ALLOWED = ("marketer", "admin", "superuser")
REFUSED = ("user", "doctor", "realtor", "helper", "moderator")


@pytest.fixture
def world(app, bc_factory):
    """A clinic bot with five reachable patients (three of them women aged 18-65) and an unrelated bot."""
    from datetime import date

    with app.app_context():
        bot = bc_factory.bot("clinic")
        place = bc_factory.clinic(bot)
        service = bc_factory.service(place)
        accounts = []
        for n, (sex, born) in enumerate(
            [("F", date(1990, 1, 1)), ("F", date(1985, 5, 5)), ("F", date(2000, 2, 2)), ("M", date(1980, 3, 3))]
        ):
            account = bc_factory.account(bot, language="kk" if n % 2 else "ru")
            patient = bc_factory.patient(account, sex=sex, birth_date=born)
            bc_factory.visit(place, patient, service, datetime.now(UTC) - timedelta(days=30 + n))
            accounts.append(account.id)
        old = bc_factory.account(bot)
        bc_factory.patient(old, sex="F", birth_date=date(1940, 1, 1))
        other = bc_factory.bot("finance")
        db.session.commit()
        return SimpleNamespace(bot_id=bot.id, other_bot_id=other.id, service_id=service.id, accounts=accounts)


def marketing_payload(world, **extra):
    """The seed's payload without its health filter (services used): what a marketer may send."""
    return seed_payload(world, **{"segment_filters_json": {"age_min": 18, "age_max": 65, "sex": "F"}, **extra})


@pytest.fixture
def service_header(app):
    return {"Authorization": f"Bearer {app.config['TELEGRAM_BOT_API_SECRET']}"}


@pytest.fixture
def marketer(make_user, auth_header):
    return auth_header(make_user("marketer"))


def seed_payload(world, **extra):
    return {
        "title": "Весенний чек-ап",
        "text_ru": "<b>Скидка 20%</b> на чек-ап",
        "text_kk": "<b>20% жеңілдік</b>",
        "segment_filters_json": {"age_min": 18, "age_max": 65, "sex": "F", "services": [world.service_id]},
        "bot_id": world.bot_id,
        **extra,
    }


def test_seed_flow_with_the_service_secret(app, client, world, service_header):
    created = client.post("/api/bot/broadcast/create/", json=seed_payload(world), headers=service_header)
    assert created.status_code == 201, created.text
    body = created.get_json()
    assert body["status"] == "draft" and body["title"] == "Весенний чек-ап"
    assert body["text"] == "<b>Скидка 20%</b> на чек-ап" and body["text_kk"] == "<b>20% жеңілдік</b>"
    assert body["segment_filters"] == {"age_min": 18, "age_max": 65, "sex": "F", "services": [world.service_id]}
    assert body["total_recipients"] == 0 and body["created_by"] is None

    started = client.post(f"/api/bot/broadcast/{body['id']}/start/", headers=service_header)
    assert started.status_code == 200, started.text
    assert started.get_json()["status"] == "sending" and started.get_json()["total_recipients"] == 3

    stats = client.get(f"/api/bot/broadcast/{body['id']}/stats/", headers=service_header).get_json()
    assert stats["total_recipients"] == 3 and stats["pending_count"] == 3 and stats["sent_count"] == 0
    assert stats["status"] == "sending" and stats["progress_percent"] == 0.0
    for key in ("delivered_count", "failed_count", "blocked_count", "unknown_count", "rate_per_second"):
        assert key in stats

    assert client.post(f"/api/bot/broadcast/{body['id']}/pause/", headers=service_header).get_json()["status"] == (
        "paused"
    )
    again = client.post(f"/api/bot/broadcast/{body['id']}/pause/", headers=service_header)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "CONFLICT"
    assert client.post(f"/api/bot/broadcast/{body['id']}/resume/", headers=service_header).status_code == 200
    cancelled = client.post(f"/api/bot/broadcast/{body['id']}/cancel/", headers=service_header)
    assert cancelled.get_json()["status"] == "cancelled" and cancelled.get_json()["finished_at"]
    assert client.post(f"/api/bot/broadcast/{body['id']}/start/", headers=service_header).status_code == 409


def test_the_only_clinic_bot_is_the_default(client, world, service_header):
    payload = seed_payload(world)
    del payload["bot_id"]
    response = client.post("/api/bot/broadcast/create/", json=payload, headers=service_header)
    assert response.status_code == 201 and response.get_json()["bot_id"] == world.bot_id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"segment_filters_json": {"age_min": 18, "colour": "red"}}, "segment_filters.colour"),
        ({"segment_filters_json": {"age_min": "adult"}}, "segment_filters.age_min"),
        ({"segment_filters_json": {"active_days": 3}}, "segment_filters.active_days"),
        ({"text_ru": "<script>x</script>"}, "text"),
        ({"text_ru": "<b>unclosed"}, "text"),
        ({"text_ru": "x" * 4097}, "text"),
        ({"text_kk": "<blink>x</blink>"}, "texts.kk"),
        ({"title": ""}, "title"),
        ({"bot_id": 999999}, "bot_id"),
        ({"buttons": [[{"text": "Go", "url": "javascript:alert(1)"}]]}, "buttons.0.0.url"),
        ({"buttons": [[{"text": "Go"}]]}, "buttons.0.0"),
        ({"buttons": [[{"text": "Go", "callback_data": "x" * 65}]]}, "buttons.0.0.callback_data"),
        ({"scheduled_at": "2020-01-01T10:00:00+00:00"}, "scheduled_at"),
        ({"scheduled_at": "2030-01-01T10:00:00"}, "scheduled_at"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_with_nothing_written(app, client, world, marketer, change, field):
    response = client.post("/api/bot/broadcast/create/", json=marketing_payload(world, **change), headers=marketer)
    assert response.status_code in (404, 422), response.text
    error = response.get_json()["error"]
    if response.status_code == 422:
        assert any(d["field"].startswith(field) for d in error["details"]), error
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Broadcast.id))) == 0


def test_garbage_json_is_400(client, marketer):
    response = client.post(
        "/api/bot/broadcast/create/", data="{not json", headers={**marketer, "Content-Type": "application/json"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("role", ALLOWED + REFUSED)
def test_roles(client, world, make_user, auth_header, role):
    headers = auth_header(make_user(role))
    response = client.post("/api/bot/broadcast/create/", json=marketing_payload(world), headers=headers)
    listing = client.get("/api/broadcasts/", headers=headers)
    if role in ALLOWED:
        assert response.status_code == 201 and listing.status_code == 200
        assert listing.get_json()["total"] == 1
    else:
        assert response.status_code == 403 and listing.status_code == 403


def test_anonymous_and_blocked(client, world, make_user, auth_header, service_header):
    assert client.post("/api/bot/broadcast/create/", json=seed_payload(world)).status_code == 401
    assert client.get("/api/bot/broadcast/1/stats/").status_code == 401
    blocked = auth_header(make_user("marketer", active=False))
    assert client.get("/api/broadcasts/", headers=blocked).status_code == 403
    # The seed's bot secret opens only the seed's endpoints, not the console API.
    assert client.get("/api/broadcasts/segments/", headers=service_header).status_code == 401
    wrong = {"Authorization": "Bearer not-the-secret"}
    assert client.post("/api/bot/broadcast/create/", json=seed_payload(world), headers=wrong).status_code == 401


def test_segments_crud_and_preview(app, client, world, marketer):
    preview = client.post(
        "/api/broadcasts/segments/preview/",
        json={"bot_id": world.bot_id, "filters": {"sex": "F", "age_max": 65}},
        headers=marketer,
    )
    assert preview.status_code == 200, preview.text
    body = preview.get_json()
    assert body["count"] == 3 and len(body["sample"]) == 3
    assert all(set(row) == {"first_name"} for row in body["sample"])
    bad = client.post(
        "/api/broadcasts/segments/preview/", json={"bot_id": world.bot_id, "filters": {"sex": "X"}}, headers=marketer
    )
    assert bad.status_code == 422 and bad.get_json()["error"]["details"][0]["field"] == "filters.sex"

    created = client.post(
        "/api/broadcasts/segments/",
        json={"bot_id": world.bot_id, "name": "Women", "filters": {"sex": "F"}},
        headers=marketer,
    )
    assert created.status_code == 201
    segment_id = created.get_json()["id"]
    duplicate = client.post(
        "/api/broadcasts/segments/", json={"bot_id": world.bot_id, "name": "Women"}, headers=marketer
    )
    assert duplicate.status_code == 409
    listed = client.get(f"/api/broadcasts/segments/?bot_id={world.bot_id}", headers=marketer).get_json()
    assert [s["name"] for s in listed["items"]] == ["Women"]
    assert client.get(f"/api/broadcasts/segments/{segment_id}/preview/", headers=marketer).get_json()["count"] == 4
    patched = client.patch(f"/api/broadcasts/segments/{segment_id}/", json={"filters": {"sex": "M"}}, headers=marketer)
    assert patched.get_json()["filters"] == {"sex": "M"}
    assert client.get(f"/api/broadcasts/segments/{segment_id}/preview/", headers=marketer).get_json()["count"] == 1

    # A broadcast to the saved segment; deleting the segment later keeps the broadcast's filters.
    broadcast = client.post(
        "/api/broadcasts/",
        json={"bot_id": world.bot_id, "title": "Men", "text": "Hi", "segment_id": segment_id},
        headers=marketer,
    ).get_json()
    assert broadcast["segment_id"] == segment_id and broadcast["segment_filters"] == {"sex": "M"}
    assert client.delete(f"/api/broadcasts/segments/{segment_id}/", headers=marketer).status_code == 204
    kept = client.get(f"/api/broadcasts/{broadcast['id']}/", headers=marketer).get_json()
    assert kept["segment_id"] is None and kept["segment_filters"] == {"sex": "M"}
    assert client.get(f"/api/broadcasts/segments/{segment_id}/", headers=marketer).status_code == 404
    foreign = client.post(
        "/api/broadcasts/segments/", json={"bot_id": world.other_bot_id, "name": "X"}, headers=marketer
    ).get_json()
    mismatch = client.post(
        "/api/broadcasts/",
        json={"bot_id": world.bot_id, "title": "T", "text": "Hi", "segment_id": foreign["id"]},
        headers=marketer,
    )
    assert mismatch.status_code == 422 and mismatch.get_json()["error"]["details"][0]["field"] == "segment_id"


def test_edit_schedule_unschedule_delete(app, client, world, marketer):
    created = client.post("/api/broadcasts/", json=marketing_payload(world), headers=marketer).get_json()
    url = f"/api/broadcasts/{created['id']}/"
    edited = client.patch(url, json={"title": "New title", "segment_filters": {"sex": "M"}}, headers=marketer)
    assert edited.get_json()["title"] == "New title" and edited.get_json()["segment_filters"] == {"sex": "M"}
    when = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    scheduled = client.post(url + "schedule/", json={"scheduled_at": when.isoformat()}, headers=marketer)
    assert scheduled.status_code == 200 and scheduled.get_json()["status"] == "scheduled"
    assert scheduled.get_json()["scheduled_at"] == when.isoformat().replace("+00:00", "Z")
    assert client.delete(url, headers=marketer).status_code == 409
    assert client.post(url + "unschedule/", headers=marketer).get_json()["status"] == "draft"
    assert client.delete(url, headers=marketer).status_code == 204
    assert client.get(url, headers=marketer).status_code == 404


def test_send_now_and_deliveries(app, client, world, marketer):
    created = client.post("/api/broadcasts/", json=marketing_payload(world), headers=marketer).get_json()
    sent = client.post(f"/api/broadcasts/{created['id']}/send/", headers=marketer)
    assert sent.get_json()["status"] == "sending"
    with app.app_context():
        row = db.session.scalars(sa.select(BroadcastDelivery).order_by(BroadcastDelivery.id)).first()
        row.status, row.error = "failed", "Bad Request: chat not found"
        db.session.commit()
    failed = client.get(f"/api/broadcasts/{created['id']}/deliveries/?status=failed", headers=marketer).get_json()
    assert failed["total"] == 1 and failed["items"][0]["error"] == "Bad Request: chat not found"
    everyone = client.get(f"/api/broadcasts/{created['id']}/deliveries/", headers=marketer).get_json()
    assert everyone["total"] == 3
    progress = client.get(f"/api/broadcasts/{created['id']}/progress/", headers=marketer).get_json()
    assert (progress["failed_count"], progress["pending_count"], progress["progress_percent"]) == (1, 2, 33.3)
    assert client.patch(f"/api/broadcasts/{created['id']}/", json={"title": "x"}, headers=marketer).status_code == 409


def test_test_send_needs_your_own_telegram(client, world, marketer):
    created = client.post("/api/broadcasts/", json=marketing_payload(world), headers=marketer).get_json()
    response = client.post(f"/api/broadcasts/{created['id']}/test/", headers=marketer)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "NO_TELEGRAM_ACCOUNT"


def test_openapi_lists_the_seed_paths(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in (
        "/api/bot/broadcast/create/",
        "/api/bot/broadcast/{broadcast_id}/start/",
        "/api/bot/broadcast/{broadcast_id}/stats/",
    ):
        assert path in paths


def test_segment_model_is_unique_per_bot(app, world):
    with app.app_context():
        db.session.add_all([Segment(bot_id=world.bot_id, name="A", filters={})])
        db.session.commit()
        db.session.add(Segment(bot_id=world.other_bot_id, name="A", filters={}))
        db.session.commit()
        db.session.add(Segment(bot_id=world.bot_id, name="A", filters={}))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
