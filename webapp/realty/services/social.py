"""Favourites and reviews (a review only for one's own completed stay, one per booking)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from webapp.core.db import insert_missing
from webapp.core.models import User
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.realty.models import Booking, BookingStatus, Favorite, Listing, Review
from webapp.realty.services.listings import invalid, visible_listing
from webapp.realty.services.notify import listing_staff, notify


def add_favorite(user: User, listing_id: int) -> Favorite:
    """Idempotent: favouriting twice keeps one row."""
    visible_listing(listing_id)
    favorite = db.session.get(Favorite, (user.id, listing_id))
    if favorite is None:
        insert_missing(Favorite, {"user_id": user.id, "listing_id": listing_id}, ("user_id", "listing_id"))
        favorite = db.session.get(Favorite, (user.id, listing_id))
    return favorite


def remove_favorite(user: User, listing_id: int) -> bool:
    result = db.session.execute(
        sa.delete(Favorite).where(Favorite.user_id == user.id, Favorite.listing_id == listing_id)
    )
    return bool(result.rowcount)


def favorites_of(user: User) -> sa.Select:
    return (
        sa.select(Favorite)
        .join(Listing, Listing.id == Favorite.listing_id)
        .where(Favorite.user_id == user.id)
        .order_by(Favorite.created_at.desc(), Favorite.listing_id)
    )


def is_favorite(user: User, listing_id: int) -> bool:
    return db.session.get(Favorite, (user.id, listing_id)) is not None


def add_review(author: User, booking: Booking, rating: int, text: str = "") -> Review:
    if booking.guest_id != author.id:
        raise ServiceError("You can review only your own stays", 403, "FORBIDDEN")
    if booking.status != BookingStatus.COMPLETED.value:
        raise ServiceError("A review can be left only after a completed stay", 409, "NOT_COMPLETED", "booking_id")
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise invalid("rating", "Rating must be from 1 to 5")
    text = (text or "").strip()
    if len(text) > 2000:
        raise invalid("text", "At most 2000 characters")
    if db.session.scalar(sa.select(Review.id).where(Review.booking_id == booking.id)) is not None:
        raise ServiceError("This stay is already reviewed", 409, "ALREADY_REVIEWED", "booking_id")
    review = Review(booking_id=booking.id, listing_id=booking.listing_id, author_id=author.id, rating=rating, text=text)
    db.session.add(review)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise ServiceError("This stay is already reviewed", 409, "ALREADY_REVIEWED", "booking_id") from exc
    for person in listing_staff(booking.listing):
        notify(
            person,
            "review_new",
            "New review of “%(title)s”: %(rating)s/5.",
            booking=booking,
            title=booking.listing.title,
            rating=rating,
        )
    return review


def reviewable_bookings(user: User) -> sa.Select:
    """The user's completed stays that have no review yet."""
    return (
        sa.select(Booking)
        .outerjoin(Review, Review.booking_id == Booking.id)
        .where(Booking.guest_id == user.id, Booking.status == BookingStatus.COMPLETED.value, Review.id.is_(None))
        .order_by(Booking.check_out.desc())
    )


def reviews_of(listing_id: int) -> sa.Select:
    return sa.select(Review).where(Review.listing_id == listing_id).order_by(Review.created_at.desc(), Review.id.desc())


def rating_of(listing_id: int) -> tuple[float | None, int]:
    avg, count = db.session.execute(
        sa.select(sa.func.avg(Review.rating), sa.func.count(Review.id)).where(Review.listing_id == listing_id)
    ).one()
    return (round(float(avg), 2) if avg is not None else None), count


def is_reviewed(booking: Booking) -> bool:
    return db.session.scalar(sa.select(Review.id).where(Review.booking_id == booking.id)) is not None


def awaits_review(booking: Booking) -> bool:
    """A completed stay with no review yet (one of ``reviewable_bookings``)."""
    return booking.status == BookingStatus.COMPLETED.value and not is_reviewed(booking)


def reviewable_stays(user: User, limit: int) -> list[Booking]:
    """The user's latest completed stays that await a review."""
    return list(db.session.scalars(reviewable_bookings(user).limit(limit)).unique())
