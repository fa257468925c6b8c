"""Input limits: JSON depth and size, bounded dates naming their field, model rules naming theirs,
and the booking horizons of the clinic and realty services."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.fixtures.clinic import MONDAY, NOW, at, build_patient
from webapp.core.services import ServiceError
from webapp.extensions import db

DEEP = "[" * 1000 + "]" * 1000


def fields_of(response) -> list[str]:
    return [d["field"] for d in response.get_json()["error"]["details"]]


def test_deep_json_is_a_400_in_each_seed_format(client, make_user, auth_header):
    seed_004 = client.post("/api/login/", data=DEEP, content_type="application/json")
    assert seed_004.status_code == 400 and "deeper than" in seed_004.get_json()["detail"]
    headers = auth_header(make_user("superuser"))
    seed_003 = client.post("/api/v1/tickets", data=DEEP, content_type="application/json", headers=headers)
    assert seed_003.status_code == 400 and seed_003.get_json()["error"]["code"] == "BAD_REQUEST"
    # Depth is counted in structure, not in brackets inside strings.
    quoted = json.dumps({"title": "[" * 150, "description": "{" * 5000})
    made = client.post("/api/v1/tickets", data=quoted, content_type="application/json", headers=headers)
    assert made.status_code == 201, made.text


def test_json_limits_come_from_config(app, client, make_user, auth_header):
    headers = auth_header(make_user("superuser"))
    body = json.dumps({"title": "x", "description": "y" * 5000})
    try:
        app.config.update(JSON_MAX_BYTES=4000, JSON_MAX_DEPTH=2)
        big = client.post("/api/v1/tickets", data=body, content_type="application/json", headers=headers)
        assert big.status_code == 413 and big.get_json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        three = client.post(
            "/api/v1/tickets", data='{"title": {"a": [1]}}', content_type="application/json", headers=headers
        )
        assert three.status_code == 400
    finally:
        app.config.update(JSON_MAX_BYTES=2048 * 1024, JSON_MAX_DEPTH=32)


def test_null_status_names_status(client, make_user, auth_header, hd_ticket):
    staff = make_user("superuser")
    ticket = hd_ticket(staff)
    response = client.put(f"/api/v1/tickets/{ticket.id}", json={"status": None}, headers=auth_header(staff))
    assert response.status_code == 422 and fields_of(response) == ["status"]


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "2101-01-01"])
def test_extreme_dates_are_422_naming_the_field(client, make_user, auth_header, clinic_data, bot_headers, day):
    staff = auth_header(make_user("superuser"))
    ids = clinic_data
    slots = client.get(f"/api/bot/slots/?doctor_id={ids.doctor_id}&date={day}", headers=bot_headers)
    assert slots.status_code == 422 and fields_of(slots) == ["date"]
    book = {"telegram_user_id": 1, "employee_id": ids.doctor_id, "service_id": ids.consult_id}
    book |= {"branch_id": ids.central_id, "date": day, "time": "10:00"}
    booked = client.post("/api/bot/appointments/", json=book, headers=bot_headers)
    assert booked.status_code == 422 and fields_of(booked) == ["date"]
    report = client.get(f"/api/reports/daily/?date={day}", headers=staff)
    assert report.status_code == 422 and fields_of(report) == ["date"]
    stats = client.get(f"/api/v1/statistics/tickets?from_date={day}", headers=staff)
    assert stats.status_code == 422 and fields_of(stats) == ["from_date"]
    calendar = client.get(f"/api/v1/realty/listings/1/calendar/?start={day}", headers=staff)
    assert calendar.status_code == 422 and fields_of(calendar) == ["start"]
    for value in (day, f"{day}T12:00:00Z"):  # a date or a date-time: one error, on the field
        transactions = client.get(f"/api/transactions/?date_from={value}", headers=staff)
        assert transactions.status_code == 422 and fields_of(transactions) == ["date_from"], transactions.text


def test_the_bounds_themselves_are_served(client, make_user, auth_header, clinic_data, bot_headers):
    staff = auth_header(make_user("superuser"))
    for day in ("1900-01-01", "2100-12-31"):
        slots = client.get(f"/api/bot/slots/?doctor_id={clinic_data.doctor_id}&date={day}", headers=bot_headers)
        assert slots.status_code == 200, slots.text
        assert client.get(f"/api/reports/daily/?date={day}", headers=staff).status_code == 200
        stats = client.get(f"/api/v1/statistics/tickets?from_date={day}&to_date={day}", headers=staff)
        assert stats.status_code == 200, stats.text


def test_segment_preview_dates_are_bounded(client, make_user, auth_header, bc_factory, app):
    with app.app_context():
        bot_id = bc_factory.bot("clinic").id
        db.session.commit()
    headers = auth_header(make_user("marketer"))
    for filters in ({"last_visit_to": "9999-12-31"}, {"last_visit_to": "2100-12-31", "last_visit_from": "2101-01-01"}):
        response = client.post(
            "/api/broadcasts/segments/preview/", json={"bot_id": bot_id, "filters": filters}, headers=headers
        )
        assert response.status_code == 422, response.text
        assert "last_visit" in fields_of(response)[0]
    edge = client.post(
        "/api/broadcasts/segments/preview/",
        json={"bot_id": bot_id, "filters": {"last_visit_from": "1900-01-01", "last_visit_to": "2100-12-31"}},
        headers=headers,
    )
    assert edge.status_code == 200, edge.text


def test_services_refuse_out_of_range_dates(app_ctx, clinic_data):
    from datetime import date

    from webapp.clinic.models import Doctor
    from webapp.clinic.services.slots import day_slots
    from webapp.reports.services import daily_report, parse_day

    with pytest.raises(ServiceError) as caught:
        day_slots(db.session.get(Doctor, clinic_data.doctor_id), date(9999, 12, 31), now=NOW)
    assert (caught.value.status, caught.value.field) == (422, "date")
    with pytest.raises(ServiceError):
        parse_day("9999-12-31")
    with pytest.raises(ServiceError) as caught:
        daily_report(date(1, 1, 1))
    assert caught.value.field == "date_from"


# --- booking horizons --------------------------------------------------------------------------------


def _clinic_book(ids, starts_at, now):
    from webapp.clinic.models import Branch, Doctor, Patient, Service
    from webapp.clinic.services import booking

    patient = db.session.get(Patient, build_patient().id)
    doctor, service = db.session.get(Doctor, ids.doctor_id), db.session.get(Service, ids.consult_id)
    return booking.book_appointment(
        patient, doctor, service, db.session.get(Branch, ids.central_id), starts_at, now=now
    )


def test_clinic_horizon_refuses_booking_and_rescheduling_beyond_it(app, app_ctx, clinic_data):
    from webapp.clinic.services import booking

    monday_a_year_on = MONDAY + timedelta(weeks=53)  # 371 days after MONDAY, beyond the default 365
    with pytest.raises(ServiceError) as caught:
        _clinic_book(clinic_data, at(monday_a_year_on, 10), now=NOW)
    assert (caught.value.code, caught.value.status, caught.value.field) == ("BEYOND_HORIZON", 422, "date")
    db.session.rollback()

    appointment = _clinic_book(clinic_data, at(MONDAY, 10), now=NOW)
    with pytest.raises(ServiceError) as caught:
        booking.reschedule_appointment(appointment, at(monday_a_year_on, 11), now=NOW)
    assert caught.value.code == "BEYOND_HORIZON"
    db.session.rollback()

    app.config["CLINIC_BOOKING_HORIZON_DAYS"] = 400
    try:
        far = _clinic_book(clinic_data, at(monday_a_year_on, 10), now=NOW)
        assert far.starts_at == at(monday_a_year_on, 10)
    finally:
        app.config["CLINIC_BOOKING_HORIZON_DAYS"] = 365


def test_realty_horizon_counts_from_the_given_now(app, app_ctx, realty_world):
    from datetime import UTC, datetime

    from webapp.core.services import get_user
    from webapp.realty.services import bookings

    now = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
    guest, listing_id = get_user(realty_world.guest.id), realty_world.listing_a.id
    last = now.date() + timedelta(days=365)
    with pytest.raises(ServiceError) as caught:
        bookings.create_booking(guest, listing_id, last + timedelta(days=1), last + timedelta(days=3), now=now)
    assert (caught.value.status, caught.value.field) == (422, "check_in")
    db.session.rollback()
    made = bookings.create_booking(guest, listing_id, last, last + timedelta(days=2), now=now)
    assert made.check_in == last
    app.config["REALTY_BOOKING_HORIZON_DAYS"] = 30
    try:
        with pytest.raises(ServiceError):
            bookings.create_booking(
                guest, listing_id, now.date() + timedelta(days=31), now.date() + timedelta(days=33), now=now
            )
    finally:
        app.config["REALTY_BOOKING_HORIZON_DAYS"] = 365


def test_typed_bot_dates_are_bounded(app_ctx):
    from datetime import date

    from botworker.realty import ui

    with pytest.raises(ServiceError) as caught:
        ui.parse_dates("31.12.9999 01.01.0001")
    assert caught.value.field == "date"
    assert ui.parse_dates("2100-12-30 31.12.2100") == (date(2100, 12, 30), date(2100, 12, 31))


def test_a_sandbox_file_message_may_exceed_the_json_limit(app, sandbox_client):
    """Its body carries the file in base64: the upload limit (MAX_CONTENT_LENGTH) applies to it."""
    bot = sandbox_client.create_bot("big_file_bot")
    user = sandbox_client.create_user(bot["token"], "A")
    content = b"%PDF-1.4\n" + b"0" * (app.config["JSON_MAX_BYTES"] * 3 // 4 + 1024)  # base64 exceeds the limit
    sent = sandbox_client.send_document(bot["token"], user["user_id"], content, "big.pdf")
    assert sent["message_id"] >= 1, sent


def test_invisible_characters_at_the_edges_count_as_blank(client, make_user, auth_header):
    headers = auth_header(make_user("superuser"))
    blank = client.post("/api/v1/tickets", json={"title": " \u200b\ufeff \u2060"}, headers=headers)
    assert blank.status_code == 422 and fields_of(blank) == ["title"]
    title = " \ufeffПринтер\u200b не\u200bпечатает\u200b "
    made = client.post("/api/v1/tickets", json={"title": title}, headers=headers)
    assert made.status_code == 201 and made.get_json()["title"] == "Принтер\u200b не\u200bпечатает"
