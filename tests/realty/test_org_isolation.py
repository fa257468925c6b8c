"""Issue 12, realty: each test is an attack by one agency (an organization) on another's data, or by
the platform moderator on what is not the marketplace's, followed by the same actor succeeding on
what is theirs. Another organization's object is "not found" (404 in the API, refused or empty in
the console), never merely forbidden."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.conftest import csrf_from
from tests.fixtures.realty import future

V = "/api/v1/realty"


@pytest.fixture
def market(app, realty, make_user):
    """Two agencies with a named admin and realtor each, a paid booking, a reviewed stay and a
    calendar block per agency's listing."""
    from webapp.core.services import get_user
    from webapp.extensions import db
    from webapp.realty.models import Booking, Listing, Review
    from webapp.realty.services.bookings import pay_demo
    from webapp.realty.services.listings import add_block

    a = realty.agency("Alpha Homes")
    b = realty.agency("Beta Rent", city="Almaty", timezone="Asia/Almaty")
    m = SimpleNamespace(
        a=a,
        b=b,
        admin_a=realty.admin(a, first_name="Adminalpha"),
        admin_b=realty.admin(b, first_name="Adminbeta"),
        realtor_a=realty.realtor(a, first_name="Realtoralpha"),
        realtor_b=realty.realtor(b, first_name="Realtorbeta"),
        second_realtor_a=realty.realtor(a, first_name="Secondalpha"),
        guest=make_user("user", first_name="Guestname"),
        moderator=make_user("moderator"),
    )
    m.listing_a = realty.listing(a, m.realtor_a, title="Alpha flat")
    m.listing_b = realty.listing(b, m.realtor_b, title="Beta flat", city="Almaty", district="Medeu")
    m.pending_b = realty.listing(b, m.realtor_b, title="Beta pending", city="Almaty", status="pending")
    m.other_listing_a = realty.listing(a, m.second_realtor_a, title="Second alpha flat")
    for side, listing in (("a", m.listing_a), ("b", m.listing_b)):
        booking = realty.booking(listing, m.guest, future(3), future(5))
        stay = realty.booking(listing, m.guest, future(10), future(11), status="completed")
        with app.app_context():
            payment = pay_demo(get_user(m.guest.id), db.session.get(Booking, booking.id))
            review = Review(
                booking_id=stay.id, listing_id=listing.id, author_id=m.guest.id, rating=5, text=f"REVIEW-{side}"
            )
            db.session.add(review)
            db.session.flush()
            block = add_block(
                get_user((m.realtor_a if side == "a" else m.realtor_b).id),
                db.session.get(Listing, listing.id),
                future(20),
                future(22),
                f"BLOCK-{side}",
            )
            db.session.commit()
            setattr(m, f"booking_{side}", booking)
            setattr(m, f"payment_{side}", payment.id)
            setattr(m, f"review_{side}", review.id)
            setattr(m, f"block_{side}", block.id)
    return m


def _user(app, user_ns):
    from webapp.core.services import get_user

    with app.app_context():
        user = get_user(user_ns.id)
        return SimpleNamespace(role=user.role, is_active=user.is_active)


def _organization_of(user_ns):
    """Inside an app context: the organization the user is a member of, if any."""
    from webapp.core.models import Membership
    from webapp.extensions import db

    member = db.session.get(Membership, user_ns.id)
    return member.organization_id if member else None


# --- agency A's admin on agency B's staff -----------------------------------------------------------


def test_admin_cannot_block_another_agencys_realtor_but_blocks_their_own(app, client, market, auth_header):
    m = market
    admin_a = auth_header(m.admin_a)
    attack = client.post(f"{V}/realtors/{m.realtor_b.id}/active/", json={"is_active": False}, headers=admin_a)
    assert attack.status_code == 404 and _user(app, m.realtor_b).is_active is True
    own = client.post(f"{V}/realtors/{m.realtor_a.id}/active/", json={"is_active": False}, headers=admin_a)
    assert own.status_code == 200 and _user(app, m.realtor_a).is_active is False
    # a blocked realtor is still their agency's: its admin unblocks them
    back = client.post(f"{V}/realtors/{m.realtor_a.id}/active/", json={"is_active": True}, headers=admin_a)
    assert back.status_code == 200 and _user(app, m.realtor_a).is_active is True


def test_admin_cannot_block_demote_or_move_another_agencys_realtor_through_the_services(app_ctx, market):
    """What the realty bot's callbacks call (r:us:, r:ur:, r:px:, r:ps:)."""
    from webapp.core.services import ServiceError, get_user
    from webapp.extensions import db
    from webapp.realty.services import agencies

    m = market
    admin_a = get_user(m.admin_a.id)
    for attack in (
        lambda: agencies.set_realtor_active(admin_a, get_user(m.realtor_b.id), False, "bot"),
        lambda: agencies.set_role(admin_a, get_user(m.realtor_b.id), "user", "bot"),
        lambda: agencies.set_role(admin_a, get_user(m.guest.id), "realtor", "bot"),
    ):
        with pytest.raises(ServiceError) as err:
            attack()
        assert err.value.status == 404
    for attack in (
        lambda: agencies.set_membership(admin_a, get_user(m.realtor_b.id), agencies.get_agency(m.a.id), "bot"),
        lambda: agencies.set_membership(admin_a, get_user(m.realtor_b.id), None, "bot"),
    ):
        with pytest.raises(ServiceError):
            attack()
    db.session.rollback()
    realtor_b = get_user(m.realtor_b.id)
    assert (realtor_b.role, realtor_b.is_active) == ("realtor", True)
    assert _organization_of(m.realtor_b) == m.b.organization_id

    agencies.set_role(admin_a, get_user(m.second_realtor_a.id), "user", "bot")  # own agency: allowed
    agencies.set_realtor_active(admin_a, get_user(m.realtor_a.id), False, "bot")
    db.session.commit()
    assert get_user(m.second_realtor_a.id).role == "user" and get_user(m.realtor_a.id).is_active is False
    assert _organization_of(m.second_realtor_a) is None  # leaving the staff leaves the agency


def test_moving_a_realtor_goes_through_the_audited_membership(app_ctx, market, make_user):
    from webapp.core.models import AuditLog
    from webapp.core.services import get_user
    from webapp.extensions import db
    from webapp.realty import access
    from webapp.realty.services import agencies

    m = market
    superuser = get_user(make_user("superuser").id)
    agencies.set_membership(superuser, get_user(m.realtor_a.id), agencies.get_agency(m.b.id), "bot")
    db.session.commit()
    assert access.agency_id_of(get_user(m.realtor_a.id)) == m.b.id
    entry = db.session.scalar(
        db.select(AuditLog).where(AuditLog.action == "membership.change").order_by(AuditLog.id.desc())
    )
    assert (entry.target_id, entry.old_value, entry.new_value) == (
        str(m.realtor_a.id),
        str(m.a.organization_id),
        str(m.b.organization_id),
    )


def test_admin_cannot_see_another_agencys_realtors(client, console_login, market):
    m = market
    console_login(client, m.admin_a)
    page = client.get("/admin/realty_realtors/")
    assert page.status_code == 200
    assert "Realtoralpha" in page.text and "Secondalpha" in page.text
    assert "Realtorbeta" not in page.text and "Adminbeta" not in page.text
    export = client.get("/admin/realty_realtors/export/csv/")
    assert "Realtoralpha" in export.text and "Realtorbeta" not in export.text
    # the action refuses a hand-typed id of the other agency's realtor
    client.post(
        "/admin/realty_realtors/action/",
        data={"action": "deactivate", "rowid": [str(m.realtor_b.id)], "csrf_token": csrf_from(page.text)},
    )
    from webapp.core.services import get_user

    with client.application.app_context():
        assert get_user(m.realtor_b.id).is_active is True


def test_console_realtors_lists_agency_staff_only_even_for_superusers(client, console_login, market, make_user):
    """Memberships of other organizations (a clinic's doctor, say) are not the agencies' realtors."""
    make_user("doctor", first_name="Doctorname")  # the test organization, which is no agency
    console_login(client, make_user("superuser"))
    page = client.get("/admin/realty_realtors/")
    assert "Realtoralpha" in page.text and "Realtorbeta" in page.text and "Doctorname" not in page.text


# --- agency A's admin on agency B's bookings, payments, reviews, listings, calendar -----------------


@pytest.mark.parametrize("actor", ["admin_a", "realtor_a"])
def test_staff_cannot_read_another_agencys_bookings_payments_reviews_in_the_console(
    client, console_login, market, actor
):
    m = market
    console_login(client, getattr(m, actor))
    for view in ("realty_bookings", "realty_payments", "realty_reviews"):
        listed = client.get(f"/admin/{view}/")
        assert listed.status_code == 200, view
        export = client.get(f"/admin/{view}/export/csv/")
        assert export.status_code == 200, view
        for body in (listed.text, export.text):
            assert "Beta flat" not in body and "REVIEW-b" not in body, view
    assert "Alpha flat" in client.get("/admin/realty_bookings/").text
    assert "REVIEW-a" in client.get("/admin/realty_reviews/").text
    for view, key in (
        ("realty_bookings", m.booking_b.id),
        ("realty_payments", m.payment_b),
        ("realty_reviews", m.review_b),
    ):
        details = client.get(f"/admin/{view}/details/?id={key}")
        assert details.status_code == 302, view  # "not found": back to the list
        assert "Beta flat" not in client.get(details.headers["Location"]).text
    for view, key in (
        ("realty_bookings", m.booking_a.id),
        ("realty_payments", m.payment_a),
        ("realty_reviews", m.review_a),
    ):
        assert client.get(f"/admin/{view}/details/?id={key}").status_code == 200, view


@pytest.mark.parametrize("actor", ["admin_a", "realtor_a"])
def test_staff_cannot_read_another_agencys_bookings_in_the_api(client, market, auth_header, actor):
    m = market
    headers = auth_header(getattr(m, actor))
    assert client.get(f"{V}/bookings/{m.booking_b.id}/", headers=headers).status_code == 404
    listed = client.get(f"{V}/staff/bookings/", headers=headers).get_json()
    assert {i["listing"]["title"] for i in listed["items"]} == {"Alpha flat"}
    assert client.get(f"{V}/bookings/{m.booking_a.id}/", headers=headers).status_code == 200
    assert client.get(f"{V}/agencies/{m.b.id}/metrics/", headers=headers).status_code in (403, 404)


def test_realtor_sees_only_their_own_listings_in_console_and_api(client, console_login, market, auth_header):
    """The same rule in both: a realtor's own listings, not a colleague's, not another agency's."""
    m = market
    api = client.get(f"{V}/staff/listings/", headers=auth_header(m.realtor_a)).get_json()
    assert {i["title"] for i in api["items"]} == {"Alpha flat"}
    console_login(client, m.realtor_a)
    page = client.get("/admin/realty_listings/")
    assert "Alpha flat" in page.text and "Second alpha flat" not in page.text and "Beta flat" not in page.text


def test_admin_cannot_edit_another_agencys_listings_or_calendar(client, market, auth_header):
    m = market
    admin_a = auth_header(m.admin_a)
    renamed = client.patch(f"{V}/staff/listings/{m.listing_b.id}/", json={"title": "Mine now"}, headers=admin_a)
    assert renamed.status_code == 404
    blocked = client.post(
        f"{V}/staff/listings/{m.listing_b.id}/blocks/",
        json={"date_from": str(future(30)), "date_to": str(future(31))},
        headers=admin_a,
    )
    assert blocked.status_code == 404
    assert client.get(f"{V}/staff/listings/{m.listing_b.id}/blocks/", headers=admin_a).status_code == 404
    assert client.delete(f"{V}/staff/blocks/{m.block_b}/", headers=admin_a).status_code == 404
    # their own agency's listing (a realtor's): allowed, and back to the platform's moderation
    own = client.patch(f"{V}/staff/listings/{m.listing_a.id}/", json={"title": "Alpha flat, renewed"}, headers=admin_a)
    assert own.status_code == 200 and own.get_json()["status"] == "pending"
    assert client.delete(f"{V}/staff/blocks/{m.block_a}/", headers=admin_a).status_code == 204


def test_admin_cannot_edit_another_agencys_listing_in_the_console(app, client, console_login, market):
    from webapp.extensions import db
    from webapp.realty.models import Listing

    m = market
    console_login(client, m.admin_a)
    page = client.get("/admin/realty_listings/")
    client.post(
        "/admin/realty_listings/action/",
        data={
            "action": "hide",
            "rowid": [str(m.listing_b.id), str(m.listing_a.id)],
            "csrf_token": csrf_from(page.text),
        },
    )
    with app.app_context():
        assert db.session.get(Listing, m.listing_b.id).is_active is True
        assert db.session.get(Listing, m.listing_a.id).is_active is False
    calendar = client.get(f"/admin/realty_calendar/?listing_id={m.listing_b.id}")
    assert calendar.status_code == 404


def test_realtors_edit_of_a_moderated_field_sends_an_approved_listing_back(client, market, auth_header):
    m = market
    renamed = client.patch(
        f"{V}/staff/listings/{m.listing_a.id}/", json={"title": "SCAM: pay by wire"}, headers=auth_header(m.realtor_a)
    )
    assert renamed.status_code == 200 and renamed.get_json()["status"] == "pending"


# --- the platform moderator --------------------------------------------------------------------------


def test_moderator_reads_and_moderates_every_agencys_listings(app, client, market, auth_header):
    m = market
    headers = auth_header(m.moderator)
    for listing in (m.listing_a, m.listing_b, m.pending_b):
        assert client.get(f"{V}/listings/{listing.id}/", headers=headers).status_code == 200
    queue = client.get(f"{V}/moderation/", headers=headers).get_json()
    assert [i["title"] for i in queue["items"]] == ["Beta pending"]
    approved = client.post(f"{V}/moderation/{m.pending_b.id}/approve/", headers=headers)
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    agencies = client.get(f"{V}/agencies/", headers=headers).get_json()
    assert {i["name"] for i in agencies["items"]} == {"Alpha Homes", "Beta Rent"}
    # a moderator reads listings but edits none
    edit = client.patch(f"{V}/staff/listings/{m.listing_b.id}/", json={"title": "x"}, headers=headers)
    assert edit.status_code in (403, 404)


def test_moderator_gets_no_bookings_payments_or_reviews_through_the_api(client, market, auth_header):
    m = market
    headers = auth_header(m.moderator)
    for booking in (m.booking_a, m.booking_b):
        assert client.get(f"{V}/bookings/{booking.id}/", headers=headers).status_code == 404
        assert client.post(f"{V}/bookings/{booking.id}/cancel/", json={}, headers=headers).status_code == 404
        assert client.post(f"{V}/bookings/{booking.id}/pay/", json={}, headers=headers).status_code == 404
    assert client.get(f"{V}/bookings/", headers=headers).get_json()["total"] == 0
    assert client.get(f"{V}/staff/bookings/", headers=headers).status_code in (403, 404)
    for agency in (m.a, m.b):  # agency metrics hold bookings and revenue
        assert client.get(f"{V}/agencies/{agency.id}/metrics/", headers=headers).status_code == 404
    calendar = client.get(f"{V}/listings/{m.listing_a.id}/calendar/?start={future(3)}&days=2", headers=headers)
    assert {d["state"] for d in calendar.get_json()["days"]} == {"taken"}  # not whose, not which booking


def test_moderator_console_has_the_queue_and_no_guest_data(client, console_login, market):
    m = market
    console_login(client, m.moderator)
    home = client.get("/admin/")
    assert home.status_code == 200 and "/admin/realty_moderation/" in home.text
    queue = client.get("/admin/realty_moderation/")
    assert queue.status_code == 200 and "Beta pending" in queue.text
    listings = client.get("/admin/realty_listings/")
    assert listings.status_code == 200 and "Alpha flat" in listings.text and "Beta flat" in listings.text
    agencies = client.get("/admin/realty_agencies/")
    assert agencies.status_code == 200 and "Alpha Homes" in agencies.text and "Beta Rent" in agencies.text
    log = client.get("/admin/realty_moderation_log/")
    assert log.status_code == 200
    for view in ("realty_bookings", "realty_payments", "realty_reviews", "realty_calendar", "realty_dashboard"):
        page = client.get(f"/admin/{view}/")
        assert page.status_code == 403 or (
            "Guestname" not in page.text and "REVIEW-" not in page.text and "BLOCK-" not in page.text
        ), view
    for view, key in (
        ("realty_bookings", m.booking_a.id),
        ("realty_payments", m.payment_a),
        ("realty_reviews", m.review_a),
    ):
        assert client.get(f"/admin/{view}/details/?id={key}").status_code in (302, 403), view
    assert client.get("/admin/realty_realtors/").status_code == 403


def test_moderator_dashboard_figures_hold_no_bookings(app_ctx, market):
    from datetime import date

    from webapp.core.services import get_user
    from webapp.realty.services import stats

    moderator = get_user(market.moderator.id)
    assert stats.count_bookings("confirmed", moderator) == 0  # the paid bookings of both agencies
    assert stats.revenue(date(2000, 1, 1), moderator) == {}
    assert stats.count_pending_listings(moderator) == 1
    admin_a = get_user(market.admin_a.id)
    assert stats.count_bookings("confirmed", admin_a) == 1
