"""Bookings: no overlaps (also under concurrency), explicit transitions, demo payment, completion, reviews."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from tests.fixtures.realty import future
from webapp.core.services import ServiceError, get_user
from webapp.extensions import db
from webapp.realty.models import Booking, Notification, OccupiedNight, Payment
from webapp.realty.services import bookings as svc
from webapp.realty.services.social import add_review


def booking(booking_id: int) -> Booking:
    return db.session.get(Booking, booking_id)


def notes(user_ns) -> list[Notification]:
    return db.session.scalars(
        sa.select(Notification).where(Notification.user_id == user_ns.id).order_by(Notification.id)
    ).all()


def test_create_prices_the_stay_and_takes_its_nights(app_ctx, realty_world):
    w = realty_world
    made = svc.create_booking(get_user(w.guest.id), w.listing_a.id, future(3), future(6), guests=2)
    db.session.commit()
    assert (made.status, made.total_price, made.nights) == ("pending", Decimal("300.00"), 3)
    nights = db.session.scalars(sa.select(OccupiedNight.night).where(OccupiedNight.booking_id == made.id)).all()
    assert sorted(nights) == [future(3), future(4), future(5)]
    # The realtor hears about it and the guest gets a receipt, in their language.
    assert [n.kind for n in notes(w.realtor_a)] == ["booking_new"]
    assert [n.kind for n in notes(w.guest)] == ["booking_created"]


@pytest.mark.parametrize(
    "days,guests,status,field",
    [
        ((-1, 2), 1, 422, "check_in"),
        ((3, 3), 1, 422, "check_out"),
        ((3, 100), 1, 422, "check_in"),
        ((3, 4), 9, 422, "guests"),
        ((3, 4), 0, 422, "guests"),
    ],
)
def test_bad_requests_write_nothing(app_ctx, realty_world, days, guests, status, field):
    with pytest.raises(ServiceError) as err:
        svc.create_booking(
            get_user(realty_world.guest.id), realty_world.listing_a.id, future(days[0]), future(days[1]), guests
        )
    assert (err.value.status, err.value.field) == (status, field)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 0


def test_invisible_listing_cannot_be_booked(app_ctx, realty, make_user):
    pending = realty.listing(realty.agency(), status="pending")
    with pytest.raises(ServiceError) as err:
        svc.create_booking(get_user(make_user("user").id), pending.id, future(2), future(3))
    assert err.value.status == 404


def test_overlap_is_refused_but_back_to_back_is_fine(app_ctx, realty_world, make_user):
    w = realty_world
    other = make_user("user")
    realty_booking = svc.create_booking(get_user(w.guest.id), w.listing_a.id, future(5), future(8))
    db.session.commit()
    with pytest.raises(ServiceError) as err:
        svc.create_booking(get_user(other.id), w.listing_a.id, future(7), future(9))
    assert err.value.code == "DATES_TAKEN"
    db.session.rollback()
    svc.create_booking(get_user(other.id), w.listing_a.id, future(8), future(9))
    svc.create_booking(get_user(other.id), w.listing_a.id, future(4), future(5))
    db.session.commit()
    assert realty_booking.id


def test_the_database_itself_refuses_a_shared_night(app_ctx, realty_world):
    """Even code that bypasses the service cannot store two owners of one night."""
    w = realty_world
    made = svc.create_booking(get_user(w.guest.id), w.listing_a.id, future(5), future(6))
    db.session.commit()
    db.session.add(OccupiedNight(listing_id=w.listing_a.id, night=future(5), booking_id=made.id))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_concurrent_bookings_exactly_one_wins(app, realty_world, make_user):
    """Two threads book the same nights at once; one gets the booking, the other a clean 409."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL")
    guests = [make_user("user"), make_user("user")]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def book(guest_ns) -> None:
        with app.app_context():
            guest = get_user(guest_ns.id)
            barrier.wait()
            try:
                svc.create_booking(guest, realty_world.listing_a.id, future(10), future(12))
                db.session.commit()
                outcomes.append("won")
            except ServiceError as exc:
                db.session.rollback()
                outcomes.append(exc.code)

    threads = [threading.Thread(target=book, args=(g,)) for g in guests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["DATES_TAKEN", "won"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 1


def test_confirm_and_cancel_transitions(app_ctx, realty_world):
    w = realty_world
    made = svc.create_booking(get_user(w.guest.id), w.listing_a.id, future(5), future(7))
    db.session.commit()
    with pytest.raises(ServiceError) as err:
        svc.confirm_booking(get_user(w.realtor_b.id), made)  # another agency's realtor
    assert err.value.status == 403
    with pytest.raises(ServiceError):
        svc.confirm_booking(get_user(w.guest.id), made)
    svc.confirm_booking(get_user(w.realtor_a.id), made)
    db.session.commit()
    assert made.status == "confirmed" and made.confirmed_at is not None
    assert notes(w.guest)[-1].kind == "booking_confirmed"
    with pytest.raises(ServiceError) as err:
        svc.confirm_booking(get_user(w.realtor_a.id), made)
    assert err.value.code == "INVALID_TRANSITION"
    svc.cancel_booking(get_user(w.guest.id), made, "plans changed")
    db.session.commit()
    assert made.status == "cancelled" and made.cancel_reason == "plans changed"
    assert db.session.scalar(sa.select(sa.func.count()).where(OccupiedNight.booking_id == made.id)) == 0
    assert notes(w.realtor_a)[-1].kind == "booking_cancelled"
    for move in (
        lambda: svc.cancel_booking(get_user(w.guest.id), made),
        lambda: svc.pay_demo(get_user(w.guest.id), made),
    ):
        with pytest.raises(ServiceError) as err:
            move()
        assert err.value.code == "INVALID_TRANSITION"


def test_agency_admin_cancels_and_guest_is_told(app_ctx, realty_world):
    w = realty_world
    made = svc.create_booking(get_user(w.guest.id), w.listing_a.id, future(5), future(7))
    with pytest.raises(ServiceError):
        svc.cancel_booking(get_user(w.admin_b.id), made)
    svc.cancel_booking(get_user(w.admin_a.id), made)
    db.session.commit()
    assert notes(w.guest)[-1].kind == "booking_cancelled"


def test_guest_cannot_cancel_a_stay_that_began(app_ctx, realty_world):
    w = realty_world
    made = svc.create_booking(get_user(w.guest.id), w.listing_a.id, future(0), future(2))
    with pytest.raises(ServiceError) as err:
        svc.cancel_booking(get_user(w.guest.id), made)
    assert err.value.code == "TOO_LATE"
    svc.cancel_booking(get_user(w.realtor_a.id), made)
    assert made.status == "cancelled"


def test_demo_payment_confirms_once(app_ctx, realty_world, make_user):
    w = realty_world
    made = svc.create_booking(get_user(w.guest.id), w.listing_a.id, future(5), future(7))
    db.session.commit()
    with pytest.raises(ServiceError) as err:
        svc.pay_demo(get_user(make_user("user").id), made)
    assert err.value.status == 403
    payment = svc.pay_demo(get_user(w.guest.id), made)
    db.session.commit()
    assert (payment.status, payment.amount, payment.currency, payment.provider) == (
        "succeeded",
        Decimal("200.00"),
        "UZS",
        "demo",
    )
    assert made.status == "confirmed" and made.is_paid
    assert notes(w.realtor_a)[-1].kind == "booking_paid"
    with pytest.raises(ServiceError) as err:
        svc.pay_demo(get_user(w.guest.id), made)
    assert err.value.code == "ALREADY_PAID"
    db.session.rollback()
    # The database backs the rule: a second successful payment row cannot be stored.
    db.session.add(Payment(booking_id=made.id, amount=1, currency="UZS", provider_ref="x", status="succeeded"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_completion_waits_for_check_out_in_the_agency_time_zone(app_ctx, realty, make_user):
    agency = realty.agency()
    listing = realty.listing(agency, realty.realtor(agency))
    guest = make_user("user")
    ended = realty.booking(listing, guest, future(0), future(1), status="confirmed")
    running = realty.booking(listing, guest, future(1), future(3), status="confirmed")
    pending = realty.booking(listing, guest, future(3), future(4))
    # Move the first stay into the past as if time had passed.
    db.session.execute(
        sa.update(Booking).where(Booking.id == ended.id).values(check_in=future(-3), check_out=future(0))
    )
    db.session.execute(sa.update(OccupiedNight).where(OccupiedNight.booking_id == ended.id).values(night=future(-3)))
    db.session.commit()
    assert svc.complete_finished_bookings() == 1
    db.session.commit()
    assert [booking(b.id).status for b in (ended, running, pending)] == ["completed", "confirmed", "pending"]
    assert notes(guest)[-1].kind == "booking_completed"
    assert svc.complete_finished_bookings() == 0  # running it again changes nothing
    with pytest.raises(ServiceError) as err:
        svc.complete_booking(booking(running.id))
    assert err.value.code == "TOO_EARLY"
    # On the check-out day in the agency's zone, the stay is over.
    svc.complete_booking(booking(running.id), today=future(3))
    assert booking(running.id).status == "completed"


def test_review_only_after_a_completed_stay_and_once(app_ctx, realty_world, make_user):
    w = realty_world
    stranger = make_user("user")
    made = svc.create_booking(get_user(w.guest.id), w.listing_a.id, future(5), future(7))
    guest = get_user(w.guest.id)
    with pytest.raises(ServiceError) as err:
        add_review(guest, made, 5, "great")
    assert err.value.code == "NOT_COMPLETED"
    made.status = "completed"
    done = made
    with pytest.raises(ServiceError) as err:
        add_review(get_user(stranger.id), done, 5)
    assert err.value.status == 403
    for bad in (0, 6, True):
        with pytest.raises(ServiceError) as err:
            add_review(guest, done, bad)
        assert err.value.field == "rating"
    review = add_review(guest, done, 4, "nice view")
    db.session.commit()
    assert (review.rating, review.listing_id) == (4, w.listing_a.id)
    assert notes(w.realtor_a)[-1].kind == "review_new"
    with pytest.raises(ServiceError) as err:
        add_review(guest, done, 5)
    assert err.value.code == "ALREADY_REVIEWED"


def test_unconfirmed_bookings_expire_after_check_in_day(app_ctx, realty, make_user):
    agency = realty.agency()
    listing = realty.listing(agency, realty.realtor(agency))
    guest = make_user("user")
    stale = realty.booking(listing, guest, future(0), future(2))
    fresh = realty.booking(listing, guest, future(2), future(3))
    db.session.execute(sa.update(Booking).where(Booking.id == stale.id).values(check_in=future(-1)))
    db.session.commit()
    assert svc.expire_unconfirmed_bookings() == 1
    db.session.commit()
    assert (booking(stale.id).status, booking(fresh.id).status) == ("cancelled", "pending")
    assert db.session.scalar(sa.select(sa.func.count()).where(OccupiedNight.booking_id == stale.id)) == 0
    assert notes(guest)[-1].kind == "booking_expired"
    assert svc.expire_unconfirmed_bookings() == 0


def test_quote_prices_the_stay_in_the_listings_currency_and_writes_nothing(app_ctx, realty, realty_world):
    w = realty_world
    offer = svc.quote_booking(w.listing_a.id, future(3), future(6), guests=2)
    assert (offer.nights, offer.total, offer.currency) == (3, Decimal("300.00"), "UZS")
    assert offer.listing.id == w.listing_a.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0
    assert notes(w.realtor_a) == [] and notes(w.guest) == []
    kzt = realty.agency("Tenge Homes", currency="KZT")
    assert svc.quote_booking(realty.listing(kzt, price="25000.00").id, future(1), future(3)).currency == "KZT"
    # The same checks as the booking itself: taken nights, too many guests.
    svc.create_booking(get_user(w.guest.id), w.listing_a.id, future(4), future(5))
    with pytest.raises(ServiceError) as taken:
        svc.quote_booking(w.listing_a.id, future(3), future(6))
    assert taken.value.code == "DATES_TAKEN"
    with pytest.raises(ServiceError) as crowded:
        svc.quote_booking(w.listing_a.id, future(10), future(11), guests=9)
    assert crowded.value.field == "guests"


def test_price_example_spans_the_real_prices_of_the_city(app_ctx, realty):
    from webapp.realty.services.listings import PriceExample, price_example

    assert price_example("Samarkand") is None  # nothing listed anywhere yet
    uzs = realty.agency("Samarkand Stays")
    realty.listing(uzs, city="Samarkand", price="350000.00")
    realty.listing(uzs, city="Samarkand", price="1200000.00")
    realty.listing(uzs, city="Samarkand", price="90000.00", status="pending")  # a guest cannot find it
    kzt = realty.agency("Tenge Homes", currency="KZT")
    realty.listing(kzt, city="Shymkent", price="25000.00")
    assert price_example("Samarkand") == PriceExample(Decimal(300000), Decimal(2000000), "UZS")
    assert price_example("shymkent") == PriceExample(Decimal(20000), Decimal(30000), "KZT")
    assert price_example("Atlantis").currency == "UZS"  # no listing there: the platform's most common
