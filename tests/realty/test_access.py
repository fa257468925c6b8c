"""Realtors, tried as an attacker would: a realtor reaches their own listings and the bookings and
payments of those — in the console exactly as in the API — and never an agency colleague's."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.conftest import csrf_from
from tests.fixtures.realty import future

V = "/api/v1/realty"


@pytest.fixture
def colleagues(app, realty, realty_world):
    """Realtor A and a colleague in the same agency, each with a listing, a booking and a payment."""
    from webapp.core.services import get_user
    from webapp.extensions import db
    from webapp.realty.models import Booking
    from webapp.realty.services.bookings import pay_demo

    w = realty_world
    colleague = realty.realtor(w.a)
    theirs = realty.listing(w.a, colleague, title="Colleague flat")
    own_booking = realty.booking(w.listing_a, w.guest, future(2), future(3))
    their_booking = realty.booking(theirs, w.guest, future(4), future(6))
    paid = realty.booking(theirs, w.guest, future(8), future(9))
    with app.app_context():
        payment = pay_demo(get_user(w.guest.id), db.session.get(Booking, paid.id))
        db.session.commit()
        payment_id = payment.id
    return SimpleNamespace(
        w=w,
        colleague=colleague,
        theirs=theirs,
        own_booking=own_booking,
        their_booking=their_booking,
        paid=paid,
        payment_id=payment_id,
    )


def test_console_shows_a_realtor_only_their_own_bookings_and_payments(app, client, console_login, colleagues):
    c = colleagues
    console_login(client, c.w.realtor_a)
    bookings = client.get("/admin/realty_bookings/").text
    assert "Alpha flat" in bookings and "Colleague flat" not in bookings
    assert "Colleague flat" not in client.get("/admin/realty_bookings/export/csv/").text
    searched = client.get("/admin/realty_bookings/?search=flat&sort=0")  # Flask-Admin joins Listing itself
    assert searched.status_code == 200 and "Alpha flat" in searched.text and "Colleague flat" not in searched.text
    details = client.get(f"/admin/realty_bookings/details/?id={c.their_booking.id}")
    assert details.status_code == 302
    payments = client.get("/admin/realty_payments/")
    assert payments.status_code == 200 and f"/admin/realty_payments/details/?id={c.payment_id}" not in payments.text
    assert client.get(f"/admin/realty_payments/details/?id={c.payment_id}").status_code == 302
    listings = client.get("/admin/realty_listings/").text
    assert "Alpha flat" in listings and "Colleague flat" not in listings
    assert client.get(f"/admin/realty_calendar/?listing_id={c.theirs.id}").status_code == 404


def test_realtor_cannot_confirm_a_colleagues_booking_from_the_console(app, client, console_login, colleagues):
    from webapp.extensions import db
    from webapp.realty.models import Booking

    c = colleagues
    console_login(client, c.w.realtor_a)
    token = csrf_from(client.get("/admin/realty_bookings/").text)
    client.post(
        "/admin/realty_bookings/action/",
        data={"action": "confirm", "rowid": [str(c.own_booking.id), str(c.their_booking.id)], "csrf_token": token},
    )
    with app.app_context():
        assert db.session.get(Booking, c.own_booking.id).status == "confirmed"
        assert db.session.get(Booking, c.their_booking.id).status == "pending"


def test_console_and_api_agree(app, client, console_login, auth_header, colleagues):
    from webapp.core.services import get_user
    from webapp.extensions import db
    from webapp.realty import access
    from webapp.realty.models import Booking, Listing, Payment

    c = colleagues
    api = client.get(f"{V}/staff/bookings/", headers=auth_header(c.w.realtor_a)).get_json()
    assert [b["id"] for b in api["items"]] == [c.own_booking.id]
    assert client.get(f"{V}/bookings/{c.their_booking.id}/", headers=auth_header(c.w.realtor_a)).status_code == 404
    with app.app_context():
        realtor = get_user(c.w.realtor_a.id)
        assert [b.id for b in db.session.scalars(access.scope(db.select(Booking), realtor))] == [c.own_booking.id]
        assert list(db.session.scalars(access.scope(db.select(Payment), realtor))) == []
        assert [x.id for x in db.session.scalars(access.scope(db.select(Listing), realtor))] == [c.w.listing_a.id]
        admin = get_user(c.w.admin_a.id)  # the agency's admin still sees the whole agency
        assert len(db.session.scalars(access.scope(db.select(Booking), admin)).all()) == 3
        assert [p.id for p in db.session.scalars(access.scope(db.select(Payment), admin))] == [c.payment_id]
