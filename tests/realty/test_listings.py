"""Listings: creation by role, moderation (pending → approved / rejected) with its event log, blocks."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from tests.fixtures.realty import future
from webapp.core.services import ServiceError, get_user
from webapp.extensions import db
from webapp.realty.models import Listing, ModerationEvent, Notification, OccupiedNight
from webapp.realty.services import listings as svc

FIELDS = {
    "title": "  Sunny   flat ",
    "city": "tashkent",
    "district": "chilanzar",
    "price_per_night": "45.5",
    "max_guests": 3,
    "description": "Two rooms",
    "amenities": ["wifi", "kitchen", "wifi"],
}


def events(listing_id: int) -> list[tuple[str, str | None]]:
    rows = db.session.execute(
        sa.select(ModerationEvent.action, ModerationEvent.city).where(ModerationEvent.listing_id == listing_id)
    ).all()
    return [tuple(r) for r in rows]


def test_realtor_adds_a_pending_listing_to_their_agency(app_ctx, realty_world):
    realtor = get_user(realty_world.realtor_a.id)
    listing = svc.create_listing(realtor, dict(FIELDS))
    db.session.commit()
    assert (listing.agency_id, listing.realtor_id, listing.status) == (realty_world.a.id, realtor.id, "pending")
    assert (listing.title, listing.city, listing.district) == ("Sunny flat", "Tashkent", "Chilanzar")
    assert listing.price_per_night == Decimal("45.50") and listing.amenities == ["kitchen", "wifi"]
    assert events(listing.id) == [("added", "Tashkent")]


def test_realtor_cannot_add_to_another_agency_and_guests_cannot_add(app_ctx, realty_world):
    with pytest.raises(ServiceError) as err:
        svc.create_listing(get_user(realty_world.realtor_a.id), dict(FIELDS), agency_id=realty_world.b.id)
    assert err.value.status == 403
    with pytest.raises(ServiceError) as err:
        svc.create_listing(get_user(realty_world.guest.id), dict(FIELDS))
    assert err.value.status == 403


def test_superuser_names_the_agency(app_ctx, realty_world):
    listing = svc.create_listing(get_user(realty_world.superuser.id), dict(FIELDS), agency_id=realty_world.b.id)
    assert listing.agency_id == realty_world.b.id
    with pytest.raises(ServiceError) as err:
        svc.create_listing(get_user(realty_world.superuser.id), dict(FIELDS))
    assert err.value.field == "agency_id"


@pytest.mark.parametrize(
    "change,field",
    [
        ({"title": "  "}, "title"),
        ({"price_per_night": "-5"}, "price_per_night"),
        ({"price_per_night": "abc"}, "price_per_night"),
        ({"price_per_night": "NaN"}, "price_per_night"),
        ({"max_guests": 0}, "max_guests"),
        ({"max_guests": "x"}, "max_guests"),
        ({"amenities": ["sauna"]}, "amenities"),
        ({"title": "x" * 201}, "title"),
    ],
)
def test_bad_fields_are_refused(app_ctx, realty_world, change, field):
    with pytest.raises(ServiceError) as err:
        svc.create_listing(get_user(realty_world.realtor_a.id), {**FIELDS, **change})
    assert (err.value.status, err.value.field) == (422, field)


def test_moderation_by_platform_moderators_or_superusers_only(app_ctx, realty_world):
    w = realty_world
    listing = svc.create_listing(get_user(w.realtor_a.id), dict(FIELDS))
    for outsider in (w.realtor_a, w.admin_a, w.admin_b, w.guest):  # not even the listing's own agency admin
        with pytest.raises(ServiceError) as err:
            svc.approve_listing(get_user(outsider.id), listing)
        assert err.value.status == 403
    svc.approve_listing(get_user(w.moderator.id), listing)
    db.session.commit()
    assert (listing.status, listing.moderated_by_id) == ("approved", w.moderator.id)
    assert events(listing.id) == [("added", "Tashkent"), ("approved", "Tashkent")]
    [note] = db.session.scalars(sa.select(Notification).where(Notification.user_id == w.realtor_a.id)).all()
    assert note.kind == "moderation" and "Sunny flat" in note.text
    with pytest.raises(ServiceError) as err:
        svc.reject_listing(get_user(w.superuser.id), listing, "late")
    assert err.value.code == "INVALID_TRANSITION"


def test_rejection_needs_a_reason_and_an_edit_resubmits(app_ctx, realty_world):
    w = realty_world
    listing = svc.create_listing(get_user(w.realtor_a.id), dict(FIELDS))
    with pytest.raises(ServiceError) as err:
        svc.reject_listing(get_user(w.superuser.id), listing, "   ")
    assert err.value.field == "reason"
    svc.reject_listing(get_user(w.superuser.id), listing, "No photos")
    assert (listing.status, listing.rejection_reason) == ("rejected", "No photos")
    svc.update_listing(get_user(w.realtor_a.id), listing, {"photos": ["file-1"]})
    assert (listing.status, listing.rejection_reason, listing.photos) == ("pending", None, ["file-1"])
    assert [a for a, _ in events(listing.id)] == ["added", "rejected"]


def test_only_the_owner_or_agency_managers_edit(app_ctx, realty, realty_world):
    w = realty_world
    colleague = realty.realtor(w.a)
    listing = db.session.get(Listing, w.listing_a.id)
    for outsider in (colleague, w.realtor_b, w.admin_b, w.guest):
        with pytest.raises(ServiceError):
            svc.set_listing_active(get_user(outsider.id), listing, False)
    svc.set_listing_active(get_user(w.admin_a.id), listing, False)
    assert listing.is_active is False


def test_moderation_queue_is_every_agencys_for_the_platform(app_ctx, realty, realty_world):
    w = realty_world
    pa = realty.listing(w.a, w.realtor_a, status="pending")
    pb = realty.listing(w.b, w.realtor_b, status="pending")
    queue = lambda user: [lst.id for lst in db.session.scalars(svc.moderation_queue(get_user(user.id)))]  # noqa: E731
    assert queue(w.moderator) == queue(w.superuser) == [pa.id, pb.id]
    for staff in (w.realtor_a, w.admin_a, w.admin_b):
        with pytest.raises(ServiceError):
            queue(staff)


def test_blocks_cannot_overlap_bookings_or_each_other(app_ctx, realty, realty_world):
    w = realty_world
    realtor = get_user(w.realtor_a.id)
    listing = db.session.get(Listing, w.listing_a.id)
    realty.booking(w.listing_a, w.guest, future(10), future(12))
    with pytest.raises(ServiceError) as err:
        svc.add_block(realtor, listing, future(11), future(14))
    assert err.value.code == "DATES_TAKEN"
    db.session.rollback()
    block = svc.add_block(realtor, listing, future(12), future(14), "owner visit")
    db.session.commit()
    with pytest.raises(ServiceError):
        svc.add_block(realtor, listing, future(13), future(15))
    db.session.rollback()
    with pytest.raises(ServiceError):
        svc.add_block(get_user(w.realtor_b.id), listing, future(20), future(21))
    with pytest.raises(ServiceError) as err:
        svc.add_block(realtor, listing, future(-2), future(1))
    assert err.value.field == "date_from"
    days = {d["date"]: d["state"] for d in svc.calendar(listing, future(9), 6)}
    assert list(days.values()) == ["free", "pending", "pending", "blocked", "blocked", "free"]
    svc.remove_block(realtor, block)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).where(OccupiedNight.block_id.is_not(None))) == 0


# --- edits of approved listings go back to moderation ------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"title": "SCAM: pay by wire"},
        {"description": "Pay by wire to account 123 before arrival"},
        {"price_per_night": "1"},
        {"city": "Samarkand"},
        {"district": "Chilanzar"},
        {"address": "Somewhere else 1"},
        {"photos": ["https://example.test/other.jpg"]},
        {"amenities": ["parking"]},
    ],
)
def test_realtor_change_to_a_moderated_field_sends_an_approved_listing_back(app_ctx, realty_world, change):
    w = realty_world
    listing = db.session.get(Listing, w.listing_a.id)
    assert listing.status == "approved" and listing.is_visible
    svc.update_listing(get_user(w.realtor_a.id), listing, change)
    assert listing.status == "pending" and not listing.is_visible
    assert listing.id in [row.id for row in db.session.scalars(svc.moderation_queue(get_user(w.moderator.id)))]
    assert listing.id not in [row.id for row in svc.search(svc.SearchFilters())["items"]]


def test_unmoderated_or_unchanged_fields_keep_the_listing_approved(app_ctx, realty_world):
    w = realty_world
    listing = db.session.get(Listing, w.listing_a.id)
    realtor = get_user(w.realtor_a.id)
    svc.update_listing(realtor, listing, {"max_guests": 2})
    svc.update_listing(realtor, listing, {"title": listing.title, "city": listing.city})
    svc.set_listing_active(realtor, listing, False)
    svc.set_listing_active(realtor, listing, True)
    assert listing.status == "approved"


def test_an_agency_admins_edit_goes_back_to_moderation_and_a_superusers_does_not(app_ctx, realty_world):
    w = realty_world
    listing = db.session.get(Listing, w.listing_a.id)
    svc.update_listing(get_user(w.admin_a.id), listing, {"title": "SCAM: pay by wire"})
    assert listing.status == "pending" and not listing.is_visible  # an agency does not approve its own
    svc.approve_listing(get_user(w.moderator.id), listing)
    svc.update_listing(get_user(w.superuser.id), listing, {"title": "Alpha flat, renovated"})
    assert listing.status == "approved"
