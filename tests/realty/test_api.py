"""Realty API: the guest flow, staff flows, and who may do what (every role, agency isolation)."""

from __future__ import annotations

import pytest

from tests.fixtures.realty import future

V = "/api/v1/realty"


def error_of(response, status):
    assert response.status_code == status, response.text
    body = response.get_json()
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_guest_search_book_pay_review(client, app, realty_world, auth_header):
    w = realty_world
    guest = auth_header(w.guest)
    found = client.get(f"{V}/listings/?city=tashkent&check_in={future(3)}&check_out={future(5)}", headers=guest)
    assert found.status_code == 200, found.text
    assert [i["id"] for i in found.get_json()["items"]] == [w.listing_a.id]
    detail = client.get(f"{V}/listings/{w.listing_a.id}/", headers=guest).get_json()
    assert (detail["rating"], detail["reviews_count"], detail["is_favorite"]) == (None, 0, False)
    booked = client.post(
        f"{V}/bookings/",
        json={"listing_id": w.listing_a.id, "check_in": str(future(3)), "check_out": str(future(5)), "guests": 2},
        headers=guest,
    )
    assert booked.status_code == 201, booked.text
    booking = booked.get_json()
    assert (booking["status"], booking["total_price"], booking["nights"]) == ("pending", "200.00", 2)
    again = client.post(
        f"{V}/bookings/",
        json={"listing_id": w.listing_a.id, "check_in": str(future(4)), "check_out": str(future(6))},
        headers=guest,
    )
    assert error_of(again, 409)["code"] == "DATES_TAKEN"
    paid = client.post(f"{V}/bookings/{booking['id']}/pay/", headers=guest)
    assert paid.status_code == 200 and paid.get_json()["booking"]["status"] == "confirmed"
    assert paid.get_json()["payment"]["provider"] == "demo"
    assert error_of(client.post(f"{V}/bookings/{booking['id']}/pay/", headers=guest), 409)["code"] == "ALREADY_PAID"
    calendar = client.get(f"{V}/listings/{w.listing_a.id}/calendar/?start={future(2)}&days=4", headers=guest).get_json()
    assert [d["state"] for d in calendar["days"]] == ["free", "taken", "taken", "free"]
    review = client.post(f"{V}/reviews/", json={"booking_id": booking["id"], "rating": 5}, headers=guest)
    assert error_of(review, 409)["code"] == "NOT_COMPLETED"
    mine = client.get(f"{V}/bookings/", headers=guest).get_json()
    assert [b["id"] for b in mine["items"]] == [booking["id"]]
    realtor_notes = client.get(f"{V}/notifications/?unread=true", headers=auth_header(w.realtor_a)).get_json()
    assert [n["text"][:11] for n in realtor_notes["items"]][0].startswith(("Бронь", "Booking", "Новая", "New"))
    assert realtor_notes["total"] == 2  # new booking + paid
    marked = client.post(f"{V}/notifications/read/", json={}, headers=auth_header(w.realtor_a)).get_json()
    assert marked == {"marked_read": 2}


def test_favorites_are_idempotent(client, realty_world, auth_header):
    guest = auth_header(realty_world.guest)
    for _ in range(2):
        assert (
            client.post(f"{V}/favorites/", json={"listing_id": realty_world.listing_a.id}, headers=guest).status_code
            == 201
        )
    assert client.get(f"{V}/favorites/", headers=guest).get_json()["total"] == 1
    assert client.delete(f"{V}/favorites/{realty_world.listing_a.id}/", headers=guest).status_code == 204
    assert error_of(client.delete(f"{V}/favorites/{realty_world.listing_a.id}/", headers=guest), 404)


@pytest.mark.parametrize(
    "body,field",
    [
        ({"check_in": "2030-01-01", "check_out": "2030-01-05"}, "listing_id"),
        ({"listing_id": 1, "check_in": "01.01.2030", "check_out": "2030-01-05"}, "check_in"),
        ({"listing_id": 1, "check_in": 1893456000, "check_out": "2030-01-05"}, "check_in"),
        ({"listing_id": 1, "check_in": "2030-01-05", "check_out": "2030-01-01"}, "check_out"),
        ({"listing_id": 1, "check_in": "2030-01-01", "check_out": "2030-01-02", "guests": 0}, "guests"),
    ],
)
def test_bad_booking_input_is_422(client, realty_world, auth_header, body, field):
    response = client.post(f"{V}/bookings/", json=body, headers=auth_header(realty_world.guest))
    assert field in [d["field"] for d in error_of(response, 422)["details"]]


def test_bad_search_input_is_422(client, realty_world, auth_header):
    guest = auth_header(realty_world.guest)
    for query in ("check_in=2030-01-01", "amenities=wifi,sauna", "price_min=-1", "sort=random", "size=1000"):
        assert client.get(f"{V}/listings/?{query}", headers=guest).status_code == 422, query


def test_realtor_adds_listing_moderator_approves(client, realty_world, auth_header):
    w = realty_world
    created = client.post(
        f"{V}/staff/listings/",
        json={
            "title": "Loft",
            "city": "Tashkent",
            "price_per_night": "80.00",
            "max_guests": 2,
            "description": "Bright loft",
            "amenities": ["wifi"],
        },
        headers=auth_header(w.realtor_a),
    )
    assert created.status_code == 201, created.text
    listing = created.get_json()
    assert (listing["status"], listing["agency"]["id"]) == ("pending", w.a.id)
    # Not searchable, and not visible to guests, until approved.
    assert client.get(f"{V}/listings/{listing['id']}/", headers=auth_header(w.guest)).status_code == 404
    # Moderation is the platform's: an agency's admin cannot approve even their own agency's listing.
    queue = client.get(f"{V}/moderation/", headers=auth_header(w.moderator)).get_json()
    assert [i["id"] for i in queue["items"]] == [listing["id"]]
    for admin in (w.admin_a, w.admin_b):
        assert client.get(f"{V}/moderation/", headers=auth_header(admin)).status_code == 403
        assert client.post(f"{V}/moderation/{listing['id']}/approve/", headers=auth_header(admin)).status_code == 403
    approved = client.post(f"{V}/moderation/{listing['id']}/approve/", headers=auth_header(w.moderator))
    assert approved.get_json()["status"] == "approved"
    assert client.get(f"{V}/listings/{listing['id']}/", headers=auth_header(w.guest)).status_code == 200
    rejected = client.post(
        f"{V}/moderation/{listing['id']}/reject/", json={"reason": "x"}, headers=auth_header(w.moderator)
    )
    assert error_of(rejected, 409)["code"] == "INVALID_TRANSITION"


def test_realtor_confirms_and_blocks(client, realty, realty_world, auth_header):
    w = realty_world
    booking = realty.booking(w.listing_a, w.guest, future(3), future(4))
    assert client.post(f"{V}/staff/bookings/{booking.id}/confirm/", headers=auth_header(w.realtor_b)).status_code == 404
    confirmed = client.post(f"{V}/staff/bookings/{booking.id}/confirm/", headers=auth_header(w.realtor_a))
    assert confirmed.get_json()["status"] == "confirmed"
    block = client.post(
        f"{V}/staff/listings/{w.listing_a.id}/blocks/",
        json={"date_from": str(future(3)), "date_to": str(future(5))},
        headers=auth_header(w.realtor_a),
    )
    assert error_of(block, 409)["code"] == "DATES_TAKEN"
    block = client.post(
        f"{V}/staff/listings/{w.listing_a.id}/blocks/",
        json={"date_from": str(future(4)), "date_to": str(future(5)), "reason": "cleaning"},
        headers=auth_header(w.realtor_a),
    )
    assert block.status_code == 201
    staff_view = client.get(
        f"{V}/listings/{w.listing_a.id}/calendar/?start={future(3)}&days=2", headers=auth_header(w.realtor_a)
    )
    assert [d["state"] for d in staff_view.get_json()["days"]] == ["confirmed", "blocked"]
    assert (
        client.delete(f"{V}/staff/blocks/{block.get_json()['id']}/", headers=auth_header(w.realtor_b)).status_code
        == 404
    )
    assert (
        client.delete(f"{V}/staff/blocks/{block.get_json()['id']}/", headers=auth_header(w.realtor_a)).status_code
        == 204
    )


def test_agency_isolation_over_the_api(client, realty, realty_world, auth_header):
    """Admin of agency A can neither read nor change agency B's listings, bookings or metrics."""
    w = realty_world
    booking_b = realty.booking(w.listing_b, w.guest, future(3), future(4))
    admin_a = auth_header(w.admin_a)
    listed = client.get(f"{V}/staff/listings/", headers=admin_a).get_json()
    assert {i["agency"]["id"] for i in listed["items"]} == {w.a.id}
    assert client.get(f"{V}/staff/bookings/", headers=admin_a).get_json()["total"] == 0
    assert client.get(f"{V}/bookings/{booking_b.id}/", headers=admin_a).status_code == 404
    assert client.post(f"{V}/bookings/{booking_b.id}/cancel/", json={}, headers=admin_a).status_code == 404
    assert (
        client.patch(f"{V}/staff/listings/{w.listing_b.id}/", json={"is_active": False}, headers=admin_a).status_code
        == 404
    )
    assert client.get(f"{V}/agencies/{w.b.id}/metrics/", headers=admin_a).status_code == 404
    assert client.get(f"{V}/agencies/", headers=admin_a).get_json()["total"] == 1
    assert (
        client.post(f"{V}/realtors/{w.realtor_b.id}/active/", json={"is_active": False}, headers=admin_a).status_code
        == 404
    )
    metrics = client.get(f"{V}/agencies/{w.a.id}/metrics/", headers=admin_a).get_json()
    assert metrics["agency"]["id"] == w.a.id
    superuser = auth_header(w.superuser)
    assert client.get(f"{V}/agencies/", headers=superuser).get_json()["total"] == 2
    assert client.get(f"{V}/staff/bookings/", headers=superuser).get_json()["total"] == 1


# Every endpoint, each role: the status a caller gets before any business rule (401/403) or after.
GUEST_ENDPOINTS = [
    ("get", f"{V}/listings/"),
    ("get", f"{V}/bookings/"),
    ("get", f"{V}/favorites/"),
    ("get", f"{V}/notifications/"),
]
STAFF_ENDPOINTS = [("get", f"{V}/staff/listings/"), ("get", f"{V}/staff/bookings/")]
MODERATION_ENDPOINTS = [("get", f"{V}/moderation/")]
AGENCY_ENDPOINTS = [("get", f"{V}/agencies/")]


@pytest.mark.parametrize("role", ["user", "realtor", "helper", "moderator", "admin", "superuser"])
def test_permission_matrix(client, realty, make_user, auth_header, role):
    agency = realty.agency()
    user = make_user(role)
    if role in ("realtor", "admin"):
        realty.join(user, agency)
    headers = auth_header(user)
    for method, path in GUEST_ENDPOINTS + STAFF_ENDPOINTS + MODERATION_ENDPOINTS + AGENCY_ENDPOINTS:
        assert getattr(client, method)(path).status_code == 401, path
    for method, path in GUEST_ENDPOINTS:
        assert getattr(client, method)(path, headers=headers).status_code == 200, (role, path)
    allowed = {
        **dict.fromkeys(STAFF_ENDPOINTS, ("realtor", "admin", "superuser")),
        **dict.fromkeys(MODERATION_ENDPOINTS, ("moderator", "superuser")),
        **dict.fromkeys(AGENCY_ENDPOINTS, ("moderator", "admin", "superuser")),
    }
    for (method, path), roles in allowed.items():
        status = getattr(client, method)(path, headers=headers).status_code
        assert status == (200 if role in roles else 403), (role, path)
    create_agency = client.post(f"{V}/agencies/", json={"name": f"New {role}", "city": "Astana"}, headers=headers)
    assert create_agency.status_code == (201 if role == "superuser" else 403), role
    add_realtor = client.post(
        f"{V}/realtors/",
        json={"email": f"r-{role}@agency.test", "first_name": "R", "password": "long-enough"},
        headers=headers,
    )
    assert add_realtor.status_code == {"admin": 201, "superuser": 422}.get(role, 403), (role, add_realtor.text)
    blocked = make_user(role, active=False)
    assert client.get(f"{V}/bookings/", headers=auth_header(blocked)).status_code == 403


def test_staff_without_agency_is_refused(client, make_user, auth_header):
    lone = make_user("realtor")
    assert error_of(client.get(f"{V}/staff/listings/", headers=auth_header(lone)), 403)


def test_scam_rename_of_an_approved_listing_takes_it_off_the_market(client, realty_world, auth_header):
    w = realty_world
    renamed = client.patch(
        f"{V}/staff/listings/{w.listing_a.id}/", json={"title": "SCAM: pay by wire"}, headers=auth_header(w.realtor_a)
    )
    assert renamed.status_code == 200 and renamed.get_json()["status"] == "pending"
    guest = auth_header(w.guest)
    assert client.get(f"{V}/listings/{w.listing_a.id}/", headers=guest).status_code == 404
    assert w.listing_a.id not in [i["id"] for i in client.get(f"{V}/listings/", headers=guest).get_json()["items"]]
    queue = client.get(f"{V}/moderation/", headers=auth_header(w.moderator)).get_json()
    assert [i["title"] for i in queue["items"]] == ["SCAM: pay by wire"]
