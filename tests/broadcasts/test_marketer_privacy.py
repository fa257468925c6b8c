"""Marketers see audience counts and first names: never Telegram ids, usernames or phones (issue 12)."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_from
from webapp.broadcasts.models import BroadcastDelivery
from webapp.extensions import db

TELEGRAM_IDS = (987650001, 987650002, 987650003)
SECRETS = ("98765000", "+77010000001", "secret_handle")


@pytest.fixture
def audience(app, bc_factory):
    from webapp.core.models import User

    with app.app_context():
        bot = bc_factory.bot("finance", name="shop")
        for n, tg_id in enumerate(TELEGRAM_IDS):
            user = User(first_name=f"Name{n}", language="ru", phone=f"+7701000000{n + 1}")
            db.session.add(user)
            account = bc_factory.account(bot, telegram_user_id=tg_id, user=user, first_name=f"Name{n}")
            account.username = "secret_handle" if n == 0 else None
        db.session.commit()
        return bot.id


def _clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret


def _sending_broadcast(app, client, bot_id) -> int:
    secret = {"Authorization": f"Bearer {app.config['TELEGRAM_BOT_API_SECRET']}"}
    payload = {"title": "Sale", "text_ru": "Sale", "segment_filters_json": {"language": "ru"}, "bot_id": bot_id}
    created = client.post("/api/bot/broadcast/create/", json=payload, headers=secret).get_json()
    assert client.post(f"/api/bot/broadcast/{created['id']}/start/", headers=secret).status_code == 200
    with app.app_context():  # one recipient failed: the broadcast page lists it
        row = db.session.scalars(sa.select(BroadcastDelivery).order_by(BroadcastDelivery.id)).first()
        row.status, row.error = "failed", "Bad Request: chat not found"
        db.session.commit()
    return created["id"]


def test_api_preview_and_deliveries_show_a_marketer_no_identities(app, client, audience, make_user, auth_header):
    marketer = auth_header(make_user("marketer"))
    preview = client.post(
        "/api/broadcasts/segments/preview/", json={"bot_id": audience, "filters": {"language": "ru"}}, headers=marketer
    )
    assert preview.status_code == 200, preview.text
    body = preview.get_json()
    assert body["count"] == 3
    assert sorted(body["sample"], key=lambda r: r["first_name"]) == [{"first_name": f"Name{n}"} for n in range(3)]
    _clean(preview.text)
    broadcast_id = _sending_broadcast(app, client, audience)
    deliveries = client.get(f"/api/broadcasts/{broadcast_id}/deliveries/", headers=marketer)
    assert deliveries.status_code == 200 and len(deliveries.get_json()["items"]) == 3
    _clean(deliveries.text)
    admin = auth_header(make_user("admin"))  # the organization's admin still reaches its recipients
    shown = client.get(f"/api/broadcasts/{broadcast_id}/deliveries/", headers=admin).get_json()["items"]
    assert {row["chat_id"] for row in shown} == set(TELEGRAM_IDS)


def test_console_pages_show_a_marketer_no_identities(app, client, audience, make_user, console_login):
    broadcast_id = _sending_broadcast(app, app.test_client(), audience)
    console_login(client, make_user("marketer", language="en"))
    token = csrf_from(client.get("/admin/broadcasts/new").text)
    counted = client.post(
        "/admin/broadcasts/audience",
        data={"bot_id": str(audience), "audience": "filters", "language": "ru"},
        headers={"X-CSRFToken": token},
    )
    assert counted.get_json()["count"] == 3
    _clean(counted.text)
    page = client.get(f"/admin/broadcasts/{broadcast_id}")
    assert page.status_code == 200 and "chat not found" in page.text
    _clean(page.text)
    exported = client.get(f"/admin/broadcasts/{broadcast_id}/deliveries.csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 3 and "chat_id" not in rows[0] and "telegram_user_id" not in rows[0]
    _clean(exported.text)


def test_staff_telegram_ids_stay_hidden_from_the_users_list(client, make_user, auth_header, hd_ticket):
    make_user("admin", telegram_id=987650009)
    customer = make_user(telegram_id=987650010, password=None)
    hd_ticket(customer)  # a customer of the desk
    # The platform's moderator moderates listings; the desk's users are not theirs to list.
    assert client.get("/api/v1/users", headers=auth_header(make_user("moderator"))).status_code == 403
    listed = client.get("/api/v1/users", headers=auth_header(make_user("admin"))).get_json()["items"]
    assert "987650009" not in str(listed)
    (shown,) = [u for u in listed if u["id"] == str(customer.id)]
    assert shown["telegram_id"] == 987650010  # the desk still reaches its customers


@pytest.fixture
def clinic_audience(app, bc_factory):
    from datetime import date

    with app.app_context():
        bot = bc_factory.bot("clinic", name="clinic-privacy")
        for n in range(2):
            account = bc_factory.account(bot, first_name=f"Pat{n}")
            bc_factory.patient(account, birth_date=date(1990, 1, 1), tags=("hiv",), osms_status="insured")
        db.session.commit()
        return bot.id


def test_a_marketer_cannot_count_patients_by_health(app, client, clinic_audience, make_user, console_login):
    """Counting by a tag, a service used or insurance would tell a marketer about patients' health."""
    console_login(client, make_user("marketer", language="en"))
    token = csrf_from(client.get("/admin/broadcasts/new").text)
    for field, value in (("tags", "hiv"), ("osms_status", "insured"), ("services", "1")):
        counted = client.post(
            "/admin/broadcasts/audience",
            data={"bot_id": str(clinic_audience), "audience": "filters", field: value},
            headers={"X-CSRFToken": token},
        )
        body = counted.get_json()
        assert counted.status_code == 422 and "count" not in body and field in body["error"], field
    plain = client.post(
        "/admin/broadcasts/audience",
        data={"bot_id": str(clinic_audience), "audience": "filters", "sex": "F"},
        headers={"X-CSRFToken": token},
    )
    assert plain.get_json()["count"] == 2 and "hiv" not in plain.text
    # The clinic's own admin segments by health.
    admin = app.test_client()
    console_login(admin, make_user("admin", language="en"))
    counted = admin.post(
        "/admin/broadcasts/audience",
        data={"bot_id": str(clinic_audience), "audience": "filters", "tags": "hiv"},
        headers={"X-CSRFToken": csrf_from(admin.get("/admin/broadcasts/new").text)},
    )
    assert counted.get_json()["count"] == 2


def test_another_organizations_admin_gets_no_recipients(
    app, client, audience, make_user, make_organization, auth_header
):
    broadcast_id = _sending_broadcast(app, app.test_client(), audience)
    stranger = auth_header(make_user("admin", organization=make_organization("Other business")))
    deliveries = client.get(f"/api/broadcasts/{broadcast_id}/deliveries/", headers=stranger)
    assert deliveries.status_code == 404
    _clean(deliveries.text)
