"""The queries the realty bot's handlers used to run themselves, now services: each loads only what
the user may reach, anything else is "not found"."""

from __future__ import annotations

import pytest

from tests.fixtures.realty import future


def _user(user_ns):
    from webapp.core.services import get_user

    return get_user(user_ns.id)


def test_own_booking_handled_booking_and_review_state(app, realty, realty_world):
    from webapp.core.services import ServiceError
    from webapp.realty.services import bookings, social

    w = realty_world
    booking = realty.booking(w.listing_a, w.guest, future(10), future(12))
    stay = realty.booking(w.listing_a, w.guest, future(20), future(22), status="completed")
    with app.app_context():
        assert bookings.own_booking(_user(w.guest), booking.id).id == booking.id
        assert bookings.handled_booking(_user(w.realtor_a), booking.id).id == booking.id
        for load, who in ((bookings.own_booking, w.realtor_a), (bookings.handled_booking, w.realtor_b)):
            with pytest.raises(ServiceError) as refused:
                load(_user(who), booking.id)
            assert refused.value.status == 404
        assert not social.awaits_review(bookings.own_booking(_user(w.guest), booking.id))  # not completed
        completed = bookings.own_booking(_user(w.guest), stay.id)
        assert social.awaits_review(completed)
        assert [b.id for b in social.reviewable_stays(_user(w.guest), limit=10)] == [stay.id]
        social.add_review(_user(w.guest), completed, 5, "")
        assert not social.awaits_review(completed) and social.reviewable_stays(_user(w.guest), limit=10) == []


def test_editable_and_moderatable_listings(app, realty_world):
    from webapp.core.services import ServiceError
    from webapp.realty.services import listings

    w = realty_world
    with app.app_context():
        assert listings.editable_listing(_user(w.realtor_a), w.listing_a.id).id == w.listing_a.id
        assert listings.moderatable_listing(_user(w.moderator), w.listing_b.id).id == w.listing_b.id
        for load, who, listing in (
            (listings.editable_listing, w.realtor_b, w.listing_a),
            (listings.editable_listing, w.guest, w.listing_a),
            (listings.moderatable_listing, w.realtor_a, w.listing_a),
            (listings.editable_listing, w.realtor_a, 999_999),
        ):
            with pytest.raises(ServiceError) as refused:
                load(_user(who), getattr(listing, "id", listing))
            assert refused.value.status == 404
