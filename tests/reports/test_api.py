"""Seed 004's /api/reports/daily/ and /range/: auth (JWT roles, X-Bot-Token), validation, scoping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

DAILY = "/api/reports/daily/?date=2025-09-28"
RANGE = "/api/reports/range/?date_from=2025-09-27&date_to=2025-09-29"


@pytest.fixture
def events(app, realty, make_user):
    from webapp.extensions import db
    from webapp.realty.models import ModerationEvent

    a, b = realty.agency(), realty.agency()
    owner = make_user("realtor", first_name="Aziz")
    with app.app_context():
        for agency, city, hour in ((a, "Tashkent", 6), (a, "Tashkent", 7), (b, "Almaty", 8)):
            db.session.add(
                ModerationEvent(
                    action="added",
                    city=city,
                    agency_id=agency.id,
                    user_id=owner.id,
                    occurred_at=datetime(2025, 9, 28, hour, tzinfo=UTC),
                )
            )
        db.session.commit()
    return {"a": a, "b": b}


@pytest.fixture
def bot_token(app, make_user):
    from webapp.core.auth.service_tokens import generate_service_token
    from webapp.core.services import get_user
    from webapp.extensions import db

    admin = make_user("superuser")
    with app.app_context():
        plain, _ = generate_service_token(get_user(admin.id), "reports-bot")
        db.session.commit()
    return plain


def test_moderator_gets_the_seed_shape(client, events, make_user, auth_header):
    body = client.get(DAILY, headers=auth_header(make_user("moderator"))).get_json()
    assert set(body) == {
        "date",
        "total_added",
        "total_approved",
        "total_rejected",
        "top_regions",
        "top_districts",
        "top_users",
    }
    assert (body["date"], body["total_added"]) == ("2025-09-28", 3)
    assert body["top_regions"][0] == {"name": "Tashkent", "count": 2, "added": 2, "approved": 0, "rejected": 0}
    ranged = client.get(RANGE, headers=auth_header(make_user("moderator"))).get_json()
    assert (ranged["date_from"], ranged["date_to"], ranged["total_added"]) == ("2025-09-27", "2025-09-29", 3)


def test_bot_token_is_accepted_and_a_wrong_one_refused(client, events, bot_token):
    assert client.get(DAILY, headers={"X-Bot-Token": bot_token}).get_json()["total_added"] == 3
    wrong = client.get(DAILY, headers={"X-Bot-Token": "test_token"})
    assert (wrong.status_code, wrong.get_json()) == (401, {"detail": "Invalid bot token"})


@pytest.mark.parametrize("path", [DAILY, RANGE])
def test_who_may_read(client, events, make_user, auth_header, path):
    anonymous = client.get(path)
    assert anonymous.status_code == 401 and "detail" in anonymous.get_json()
    for role in ("user", "realtor", "helper"):
        response = client.get(path, headers=auth_header(make_user(role)))
        assert response.status_code == 403 and "detail" in response.get_json(), role
    for role in ("moderator", "admin", "superuser"):
        assert client.get(path, headers=auth_header(make_user(role))).status_code == 200, role


def test_agency_admin_sees_only_their_agency(client, events, realty, auth_header):
    admin_b = realty.admin(events["b"])
    body = client.get(DAILY, headers=auth_header(admin_b)).get_json()
    assert body["total_added"] == 1 and [i["name"] for i in body["top_regions"]] == ["Almaty"]
    admin_a = realty.admin(events["a"])
    body = client.get(DAILY, headers=auth_header(admin_a)).get_json()
    assert body["total_added"] == 2 and [i["name"] for i in body["top_regions"]] == ["Tashkent"]


@pytest.mark.parametrize("path", [DAILY, RANGE])
def test_admin_of_an_organization_that_is_no_agency_reads_nothing(client, events, make_user, auth_header, path):
    """The attack: a clinic's admin (an admin, but of no agency) reads the marketplace's figures."""
    body = client.get(path, headers=auth_header(make_user("admin"))).get_json()
    assert (body["total_added"], body["top_regions"], body["top_users"]) == (0, [], [])


@pytest.mark.parametrize(
    "path,field",
    [
        ("/api/reports/daily/?date=2025-13-01", "date"),
        ("/api/reports/daily/?date=2025-02-30", "date"),
        ("/api/reports/daily/?date=yesterday", "date"),
        ("/api/reports/daily/?date=28.09.2025", "date"),
        ("/api/reports/range/?date_from=2025-09-01", "date_to"),
        ("/api/reports/range/?date_to=2025-09-01", "date_from"),
        ("/api/reports/range/?date_from=2025-09-10&date_to=2025-09-01", "date_from"),
        ("/api/reports/range/?date_from=2024-01-01&date_to=2025-01-01", "date_to"),
    ],
)
def test_bad_dates_are_422_with_the_field(client, make_user, auth_header, path, field):
    response = client.get(path, headers=auth_header(make_user("moderator")))
    assert response.status_code == 422, response.text
    error = response.get_json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and field in [d["field"] for d in error["details"]]


def test_daily_defaults_to_today_in_the_platform_zone(client, make_user, auth_header):
    from zoneinfo import ZoneInfo

    body = client.get("/api/reports/daily/", headers=auth_header(make_user("moderator"))).get_json()
    assert body["date"] == datetime.now(ZoneInfo("Asia/Tashkent")).date().isoformat()
    assert body["total_added"] == 0 and body["top_users"] == []


def test_documented_in_openapi(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"get"} <= set(paths["/api/reports/daily/"]) and {"get"} <= set(paths["/api/reports/range/"])


def test_a_bot_token_an_agency_admin_issued_reads_only_their_agency(app, client, events, realty):
    """The attack: agency B's admin issues themselves an X-Bot-Token and reads the whole marketplace
    with it. The service credential is the platform's: a token reads what its issuer may read."""
    from webapp.core.auth.service_tokens import generate_service_token
    from webapp.core.services import get_user
    from webapp.extensions import db

    admin_b = realty.admin(events["b"])
    with app.app_context():
        plain, _ = generate_service_token(get_user(admin_b.id), "my-own")
        db.session.commit()
    body = client.get(DAILY, headers={"X-Bot-Token": plain}).get_json()
    assert body["total_added"] == 1 and [i["name"] for i in body["top_regions"]] == ["Almaty"]
