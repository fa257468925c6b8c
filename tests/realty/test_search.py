"""Search: only approved, active listings of active agencies, free every night of the stay."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.fixtures.realty import future
from webapp.core.services import ServiceError
from webapp.realty.services.listings import SearchFilters, search


def ids(result) -> list[int]:
    return [listing.id for listing in result["items"]]


def test_only_visible_listings_are_found(app_ctx, realty):
    agency = realty.agency()
    off_agency = realty.agency(active=False)
    shown = realty.listing(agency)
    realty.listing(agency, status="pending")
    realty.listing(agency, status="rejected")
    realty.listing(agency, active=False)
    realty.listing(off_agency)
    assert ids(search(SearchFilters(city="Tashkent"))) == [shown.id]


def test_city_is_matched_whatever_the_spelling(app_ctx, realty):
    agency = realty.agency()
    tashkent = realty.listing(agency, city="Tashkent")
    realty.listing(agency, city="Almaty")
    assert ids(search(SearchFilters(city="  tashKENT "))) == [tashkent.id]


def test_dates_check_out_day_is_free_for_the_next_check_in(app_ctx, realty, make_user):
    agency = realty.agency()
    listing = realty.listing(agency)
    guest = make_user("user")
    realty.booking(listing, guest, future(10), future(13))
    # Overlapping the booked nights 10, 11, 12: not found.
    for start, end in [
        (future(9), future(11)),
        (future(12), future(14)),
        (future(11), future(12)),
        (future(8), future(20)),
    ]:
        assert ids(search(SearchFilters(check_in=start, check_out=end))) == [], (start, end)
    # Touching it: leaving on the 10th or arriving on the 13th (its check-out day) is fine.
    assert ids(search(SearchFilters(check_in=future(8), check_out=future(10)))) == [listing.id]
    assert ids(search(SearchFilters(check_in=future(13), check_out=future(15)))) == [listing.id]


def test_cancelled_booking_frees_the_dates(app_ctx, realty, make_user):
    listing = realty.listing(realty.agency())
    realty.booking(listing, make_user("user"), future(5), future(7), status="cancelled")
    assert ids(search(SearchFilters(check_in=future(5), check_out=future(7)))) == [listing.id]


def test_blocks_hide_a_listing(app_ctx, realty):
    from webapp.core.services import get_user
    from webapp.extensions import db
    from webapp.realty.models import Listing
    from webapp.realty.services.listings import add_block

    agency = realty.agency()
    realtor = realty.realtor(agency)
    listing = realty.listing(agency, realtor)
    add_block(get_user(realtor.id), db.session.get(Listing, listing.id), future(3), future(5), "repairs")
    db.session.commit()
    assert ids(search(SearchFilters(check_in=future(4), check_out=future(6)))) == []
    assert ids(search(SearchFilters(check_in=future(5), check_out=future(6)))) == [listing.id]


def test_price_guests_and_amenities(app_ctx, realty):
    agency = realty.agency()
    cheap = realty.listing(agency, price="50", max_guests=2, amenities=["wifi"])
    mid = realty.listing(agency, price="100", max_guests=4, amenities=["wifi", "kitchen", "parking"])
    dear = realty.listing(agency, price="300", max_guests=8, amenities=["kitchen"])
    assert ids(search(SearchFilters(price_min=Decimal("50"), price_max=Decimal("100")))) == [cheap.id, mid.id]
    assert ids(search(SearchFilters(guests=3))) == [mid.id, dear.id]
    assert ids(search(SearchFilters(amenities=["wifi", "kitchen"]))) == [mid.id]
    assert ids(search(SearchFilters(amenities=["kitchen"], sort="price_desc"))) == [dear.id, mid.id]


def test_pagination_and_sorting(app_ctx, realty):
    agency = realty.agency()
    made = [realty.listing(agency, price=str(p)) for p in (70, 10, 40, 20, 60, 30, 50)]
    expected = [made[i].id for i in (1, 3, 5, 2, 6, 4, 0)]
    first = search(SearchFilters(), page=1, size=3)
    assert (first["total"], first["pages"], ids(first)) == (7, 3, expected[:3])
    assert ids(search(SearchFilters(), page=3, size=3)) == expected[6:]
    assert ids(search(SearchFilters(sort="price_desc"), page=1, size=2)) == expected[::-1][:2]
    assert search(SearchFilters(), page=4, size=3)["items"] == []


@pytest.mark.parametrize(
    "filters,field",
    [
        (SearchFilters(check_in=future(5)), "check_out"),
        (SearchFilters(check_in=future(5), check_out=future(5)), "check_out"),
        (SearchFilters(check_in=future(5), check_out=future(200)), "check_in"),
        (SearchFilters(price_min=Decimal(10), price_max=Decimal(5)), "price_min"),
        (SearchFilters(amenities=["jacuzzi"]), "amenities"),
        (SearchFilters(sort="random"), "sort"),
    ],
)
def test_bad_filters_are_refused(app_ctx, filters, field):
    with pytest.raises(ServiceError) as err:
        search(filters)
    assert (err.value.status, err.value.field) == (422, field)
