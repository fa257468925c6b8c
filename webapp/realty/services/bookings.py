"""Bookings: pending → confirmed / cancelled, confirmed → completed / cancelled; demo payments.

One function per transition; each refuses an illegal move with ServiceError(409) and notifies the
people concerned (guest, and the listing's realtor or agency admins).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from webapp.core.db import utcnow
from webapp.core.models import User
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.realty import access
from webapp.realty.models import (
    Booking,
    BookingStatus,
    Listing,
    OccupiedNight,
    Payment,
    PaymentStatus,
)
from webapp.realty.services.listings import (
    MAX_STAY_NIGHTS,
    agency_today,
    check_range,
    first_taken_night,
    invalid,
    lock_listing,
    occupy,
    quote,
)
from webapp.realty.services.notify import listing_staff, notify

PENDING = BookingStatus.PENDING.value
CONFIRMED = BookingStatus.CONFIRMED.value
CANCELLED = BookingStatus.CANCELLED.value
COMPLETED = BookingStatus.COMPLETED.value


def _dates(booking: Booking) -> dict:
    return {
        "id": booking.id,
        "title": booking.listing.title,
        "check_in": booking.check_in,
        "check_out": booking.check_out,
    }


def _tell_staff(booking: Booking, kind: str, message: str, except_user: User | None = None, **params) -> None:
    for person in listing_staff(booking.listing):
        if except_user is None or person.id != except_user.id:
            notify(person, kind, message, booking=booking, **_dates(booking), **params)


def _tell_guest(booking: Booking, kind: str, message: str, **params) -> None:
    notify(booking.guest, kind, message, booking=booking, **_dates(booking), **params)


@dataclass(frozen=True)
class BookingQuote:
    """A stay as the guest is asked to confirm it: dates, nights and the total in the listing's currency."""

    listing: Listing
    check_in: date
    check_out: date
    guests: int
    nights: int
    total: Decimal
    currency: str


def quote_booking(
    listing_id: int,
    check_in: date,
    check_out: date,
    guests: int = 1,
    *,
    now: datetime | None = None,
    lock: bool = False,
) -> BookingQuote:
    """What booking these nights would cost, after every check ``create_booking`` makes; writes nothing.

    Check-in is at most REALTY_BOOKING_HORIZON_DAYS after the agency's today. ``lock``: row-lock the
    listing first (the booking itself does, so concurrent bookings of one listing queue up).
    """
    check_range(check_in, check_out, MAX_STAY_NIGHTS)
    if guests < 1:
        raise invalid("guests", "At least one guest")
    listing = lock_listing(listing_id) if lock else db.session.get(Listing, listing_id)
    if listing is None or not listing.is_visible:
        raise ServiceError("Listing not found", 404, "NOT_FOUND")
    today = agency_today(listing.agency, now)
    if check_in < today:
        raise invalid("check_in", "Check-in cannot be in the past")
    if check_in > today + timedelta(days=current_app.config["REALTY_BOOKING_HORIZON_DAYS"]):
        raise invalid("check_in", "Check-in is too far ahead to book")
    if guests > listing.max_guests:
        raise invalid("guests", f"This place hosts at most {listing.max_guests} guests")
    if first_taken_night(listing.id, check_in, check_out) is not None:
        raise ServiceError("These dates are not available", 409, "DATES_TAKEN", "check_in")
    return BookingQuote(
        listing=listing,
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        nights=(check_out - check_in).days,
        total=quote(listing, check_in, check_out),
        currency=listing.agency.currency,
    )


def create_booking(
    guest: User, listing_id: int, check_in: date, check_out: date, guests: int = 1, *, now: datetime | None = None
) -> Booking:
    """A pending booking of every night in [check_in, check_out); 409 when any night is taken.

    The checks are ``quote_booking``'s. Race-safe: the listing row is locked (PostgreSQL) and, on every
    backend, the occupied-nights primary key refuses a night that a concurrent booking took first.
    """
    offer = quote_booking(listing_id, check_in, check_out, guests, now=now, lock=True)
    listing = offer.listing
    booking = Booking(
        listing=listing,
        guest=guest,
        check_in=check_in,
        check_out=check_out,
        guests=guests,
        total_price=offer.total,
        status=PENDING,
    )
    db.session.add(booking)
    db.session.flush()
    occupy(listing.id, check_in, check_out, booking_id=booking.id)
    currency = listing.agency.currency
    _tell_staff(
        booking,
        "booking_new",
        "New booking #%(id)s for “%(title)s”: %(check_in)s — %(check_out)s, "
        "%(guests)s guest(s), %(total)s %(currency)s.",
        guests=guests,
        total=booking.total_price,
        currency=currency,
    )
    _tell_guest(
        booking,
        "booking_created",
        "Booking #%(id)s for “%(title)s” (%(check_in)s — %(check_out)s) is created and awaits confirmation. "
        "Total: %(total)s %(currency)s.",
        total=booking.total_price,
        currency=currency,
    )
    return booking


def _transition(booking: Booking, allowed_from: tuple[str, ...], to: str) -> None:
    if booking.status not in allowed_from:
        raise ServiceError(f"Booking is {booking.status}; it cannot become {to}", 409, "INVALID_TRANSITION", "status")
    booking.status = to


def confirm_booking(actor: User, booking: Booking) -> Booking:
    """The listing's realtor (or an agency admin) accepts a pending booking."""
    access.require(access.can_handle_booking(actor, booking), "Only the listing's realtor or agency admins confirm")
    _transition(booking, (PENDING,), CONFIRMED)
    booking.confirmed_at = utcnow()
    _tell_guest(booking, "booking_confirmed", "Booking #%(id)s for “%(title)s” is confirmed. See you on %(check_in)s!")
    _tell_staff(booking, "booking_confirmed", "Booking #%(id)s for “%(title)s” is confirmed.", except_user=actor)
    return booking


def cancel_booking(actor: User, booking: Booking, reason: str | None = None) -> Booking:
    """The guest, before check-in, or the listing's staff cancel a pending/confirmed booking; nights free up."""
    is_guest = booking.guest_id == actor.id
    is_staff = access.can_handle_booking(actor, booking)
    access.require(is_guest or is_staff, "You cannot cancel this booking")
    if is_guest and not is_staff and booking.check_in <= agency_today(booking.listing.agency):
        raise ServiceError("A stay that has begun cannot be cancelled by the guest", 409, "TOO_LATE", "status")
    _transition(booking, (PENDING, CONFIRMED), CANCELLED)
    booking.cancelled_at = utcnow()
    booking.cancelled_by_id = actor.id
    booking.cancel_reason = (reason or "").strip()[:300] or None
    db.session.execute(sa.delete(OccupiedNight).where(OccupiedNight.booking_id == booking.id))
    if is_guest:
        _tell_staff(booking, "booking_cancelled", "Booking #%(id)s for “%(title)s” was cancelled by the guest.")
    else:
        _tell_guest(booking, "booking_cancelled", "Booking #%(id)s for “%(title)s” was cancelled by the agency.")
        _tell_staff(booking, "booking_cancelled", "Booking #%(id)s for “%(title)s” was cancelled.", except_user=actor)
    return booking


def complete_booking(booking: Booking, today: date | None = None) -> Booking:
    """A confirmed stay whose check-out day has come (in the agency's time zone) becomes completed."""
    today = today or agency_today(booking.listing.agency)
    if booking.status == CONFIRMED and booking.check_out > today:
        raise ServiceError("The stay has not ended yet", 409, "TOO_EARLY", "status")
    _transition(booking, (CONFIRMED,), COMPLETED)
    booking.completed_at = utcnow()
    _tell_guest(
        booking, "booking_completed", "Your stay at “%(title)s” is over. Thank you! You can now leave a review."
    )
    return booking


def complete_finished_bookings() -> int:
    """The periodic job's body: complete every confirmed booking whose check-out day has come."""
    # Time zones differ by at most a day, so this cheap prefilter never misses a due booking.
    horizon = date.fromordinal(utcnow().date().toordinal() + 1)
    candidates = db.session.scalars(
        sa.select(Booking).where(Booking.status == CONFIRMED, Booking.check_out <= horizon).order_by(Booking.id)
    ).all()
    done = 0
    for booking in candidates:
        if booking.check_out <= agency_today(booking.listing.agency):
            complete_booking(booking)
            done += 1
    return done


def expire_unconfirmed_bookings() -> int:
    """Pending bookings nobody confirmed or paid before check-in day passed are cancelled; nights free up."""
    horizon = date.fromordinal(utcnow().date().toordinal() + 1)
    candidates = db.session.scalars(
        sa.select(Booking).where(Booking.status == PENDING, Booking.check_in < horizon).order_by(Booking.id)
    ).all()
    expired = 0
    for booking in candidates:
        if booking.check_in < agency_today(booking.listing.agency):
            _transition(booking, (PENDING,), CANCELLED)
            booking.cancelled_at = utcnow()
            booking.cancel_reason = "expired: not confirmed before check-in"
            db.session.execute(sa.delete(OccupiedNight).where(OccupiedNight.booking_id == booking.id))
            _tell_guest(
                booking, "booking_expired", "Booking #%(id)s for “%(title)s” expired: it was not confirmed in time."
            )
            expired += 1
    return expired


def pay_demo(actor: User, booking: Booking) -> Payment:
    """The demo provider: pays the total at once and confirms the booking (seed: «Оплатить (демо)»).

    Paying a booking twice is refused — by the check here and by the unique index on successful
    payments per booking, should two requests race.
    """
    access.require(booking.guest_id == actor.id, "Only the guest pays for a booking")
    if booking.is_paid:
        raise ServiceError("This booking is already paid", 409, "ALREADY_PAID", "booking_id")
    if booking.status not in (PENDING, CONFIRMED):
        raise ServiceError(f"Booking is {booking.status}; it cannot be paid", 409, "INVALID_TRANSITION", "status")
    payment = Payment(
        booking=booking,
        amount=booking.total_price,
        currency=booking.listing.agency.currency,
        provider="demo",
        provider_ref="demo_" + secrets.token_hex(12),
        status=PaymentStatus.SUCCEEDED.value,
        paid_at=utcnow(),
    )
    db.session.add(payment)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise ServiceError("This booking is already paid", 409, "ALREADY_PAID", "booking_id") from exc
    params = {"amount": payment.amount, "currency": payment.currency}
    if booking.status == PENDING:
        booking.status = CONFIRMED
        booking.confirmed_at = utcnow()
        _tell_guest(
            booking,
            "booking_paid",
            "Payment of %(amount)s %(currency)s received. Booking #%(id)s for “%(title)s” is confirmed.",
            **params,
        )
        _tell_staff(
            booking,
            "booking_paid",
            "Booking #%(id)s for “%(title)s” (%(check_in)s — %(check_out)s) is paid (%(amount)s %(currency)s) "
            "and confirmed.",
            **params,
        )
    else:
        _tell_guest(
            booking, "booking_paid", "Payment of %(amount)s %(currency)s received for booking #%(id)s.", **params
        )
        _tell_staff(
            booking, "booking_paid", "Booking #%(id)s for “%(title)s” is paid (%(amount)s %(currency)s).", **params
        )
    return payment


def guest_bookings(guest: User, status: str | None = None) -> sa.Select:
    query = sa.select(Booking).where(Booking.guest_id == guest.id)
    if status:
        query = query.where(Booking.status == status)
    return query.order_by(Booking.check_in.desc(), Booking.id.desc())


def staff_bookings(actor: User, status: str | None = None, listing_id: int | None = None) -> sa.Select:
    access.require_staff(actor)
    query = access.scope(sa.select(Booking).join(Listing, Listing.id == Booking.listing_id), actor)
    if status:
        query = query.where(Booking.status == status)
    if listing_id is not None:
        query = query.where(Booking.listing_id == listing_id)
    return query.order_by(Booking.check_in, Booking.id)


def revenue_of(bookings_query: sa.Select) -> Decimal:
    """Sum of confirmed and completed bookings' totals in a booking select."""
    sub = bookings_query.order_by(None).where(Booking.status.in_((CONFIRMED, COMPLETED))).subquery()
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(sub.c.total_price), 0))) or Decimal("0")


def own_booking(guest: User, booking_id: int) -> Booking:
    """``guest``'s own booking ``booking_id``; anyone else's (or a missing one) is not found."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or booking.guest_id != guest.id:
        raise ServiceError("Booking not found", 404, "NOT_FOUND")
    return booking


def handled_booking(actor: User, booking_id: int) -> Booking:
    """Booking ``booking_id`` if ``actor`` (its listing's staff) may confirm or cancel it; else not found."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or not access.can_handle_booking(actor, booking):
        raise ServiceError("Booking not found", 404, "NOT_FOUND")
    return booking
