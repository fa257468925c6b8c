"""The realty bot's guest handlers registered alone on a sandbox bot (module-level functions), the
queries they moved into services, and buttons forged with another guest's booking or malformed."""

from __future__ import annotations

import pytest

from tests.fixtures.handlers import press_forged
from tests.fixtures.realty import future
from tests.fixtures.telegram import buttons, say

STALE_EN = "This button is no longer active."


@pytest.fixture
def guest_bot(handler_bot):
    from botworker.realty import guest

    return handler_bot("realty", guest.register)


def test_search_start_alone_offers_the_popular_cities_guests_can_find(app, sandbox, guest_bot, tg_user, realty_world):
    user = tg_user(guest_bot, language_code="en")
    say(sandbox, guest_bot, user, "/help")  # first contact: the account speaks English
    popular = say(sandbox, guest_bot, user, "🔍 Search", predicate=lambda m: m.get("text") == "Popular cities:")
    assert buttons(popular) == ["Almaty", "Tashkent"]


def test_popular_cities_leave_out_listings_guests_cannot_find(app, realty, realty_world):
    from webapp.extensions import db
    from webapp.realty.models import Agency
    from webapp.realty.services import listings

    realty.listing(realty_world.a, title="Second Alpha flat")
    realty.listing(realty_world.a, title="Hidden", city="Samarkand", active=False)
    with app.app_context():
        assert listings.popular_cities() == ["Tashkent", "Almaty"]  # most listings first
        db.session.get(Agency, realty_world.b.id).is_active = False
        assert listings.popular_cities() == ["Tashkent"]
        db.session.rollback()


def test_a_forged_pay_button_with_another_guests_booking_is_refused(
    app, sandbox, guest_bot, tg_user, realty, realty_world
):
    from webapp.extensions import db
    from webapp.realty.models import Booking

    booking = realty.booking(realty_world.listing_a, realty_world.guest, future(10), future(12))
    user = tg_user(guest_bot, language_code="en")
    say(sandbox, guest_bot, user, "/help")
    for data in (f"r:pay:{booking.id}", f"r:cb:{booking.id}", f"r:rv:{booking.id}"):
        _, answer = press_forged(sandbox, guest_bot, user, data)
        assert answer["answered"] and answer["text"] == STALE_EN
    with app.app_context():
        stored = db.session.get(Booking, booking.id)
        assert stored.status == "pending" and not stored.is_paid


@pytest.mark.parametrize("data", ["r:sp:x", "r:mb:", "r:rt:1", "r:bk:1:notadate:20300101:1", "r:b:x", "r:zz:1"])
def test_malformed_guest_buttons_get_a_polite_answer(sandbox, guest_bot, tg_user, data):
    user = tg_user(guest_bot, language_code="en")
    say(sandbox, guest_bot, user, "/help")
    _, answer = press_forged(sandbox, guest_bot, user, data)
    assert answer["answered"] and answer["text"] == STALE_EN
