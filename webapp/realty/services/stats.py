"""Figures for the console dashboard, over the listings the viewer reaches (``webapp.realty.access``)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from webapp.extensions import db
from webapp.realty import access
from webapp.realty.models import Agency, Booking, BookingStatus, Listing, ModerationStatus, OccupiedNight

EARNED = (BookingStatus.CONFIRMED.value, BookingStatus.COMPLETED.value)


def _agency(query: sa.Select, actor: access.Actor, rows=Booking) -> sa.Select:
    """``query`` over ``rows`` joined to Listing (or over Listing itself) narrowed to the listings
    ``actor`` reaches. The platform moderator reaches every listing but no booking, payment or
    night of one: a figure over those is empty for them."""
    if access.is_moderator(actor) and rows not in access.MODERATED:
        return query.filter(sa.false())
    return access.scope(query, actor, Listing)


def bookings_per_week(today: date, actor: access.Actor = access.SYSTEM, weeks: int = 8) -> list[tuple[date, int]]:
    """Bookings (any status but cancelled) by the Monday of their check-in week, the last ``weeks`` weeks and
    the next four."""
    start = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    end = start + timedelta(weeks=weeks + 4)
    rows = db.session.execute(
        _agency(
            sa.select(Booking.check_in)
            .join(Listing, Listing.id == Booking.listing_id)
            .where(
                Booking.check_in >= start,
                Booking.check_in < end,
                Booking.status != BookingStatus.CANCELLED.value,
            ),
            actor,
        )
    ).scalars()
    counts: dict[date, int] = {start + timedelta(weeks=i): 0 for i in range(weeks + 4)}
    for check_in in rows:
        monday = check_in - timedelta(days=check_in.weekday())
        counts[monday] = counts.get(monday, 0) + 1
    return sorted(counts.items())


def occupancy(today: date, actor: access.Actor = access.SYSTEM, days: int = 30) -> float | None:
    """Share of the visible listings' nights in the next ``days`` held by bookings (blocks excluded)."""
    listings = db.session.scalar(
        _agency(
            sa.select(sa.func.count(Listing.id)).where(
                Listing.status == ModerationStatus.APPROVED.value, Listing.is_active.is_(True)
            ),
            actor,
        )
    )
    if not listings:
        return None
    booked = db.session.scalar(
        _agency(
            sa.select(sa.func.count())
            .select_from(OccupiedNight)
            .join(Listing, Listing.id == OccupiedNight.listing_id)
            .where(
                OccupiedNight.booking_id.is_not(None),
                OccupiedNight.night >= today,
                OccupiedNight.night < today + timedelta(days=days),
                Listing.status == ModerationStatus.APPROVED.value,
                Listing.is_active.is_(True),
            ),
            actor,
        )
    )
    return round(100 * (booked or 0) / (listings * days), 1)


def revenue(since: date, actor: access.Actor = access.SYSTEM) -> dict[str, Decimal]:
    """Confirmed and completed bookings' totals by check-in since ``since``, per currency: agencies
    price in their own currency (UZS, KZT …), and a sum across currencies means nothing."""
    rows = db.session.execute(
        _agency(
            sa.select(Agency.currency, sa.func.sum(Booking.total_price))
            .select_from(Booking)
            .join(Listing, Listing.id == Booking.listing_id)
            .join(Agency, Agency.id == Listing.agency_id)
            .where(Booking.status.in_(EARNED), Booking.check_in >= since)
            .group_by(Agency.currency)
            .order_by(Agency.currency),
            actor,
        )
    ).all()
    return {currency: total or Decimal("0") for currency, total in rows}


def count_bookings(status: str, actor: access.Actor = access.SYSTEM) -> int:
    return (
        db.session.scalar(
            _agency(
                sa.select(sa.func.count(Booking.id))
                .join(Listing, Listing.id == Booking.listing_id)
                .where(Booking.status == status),
                actor,
            )
        )
        or 0
    )


def count_pending_listings(actor: access.Actor = access.SYSTEM) -> int:
    return (
        db.session.scalar(
            _agency(
                sa.select(sa.func.count(Listing.id)).where(Listing.status == ModerationStatus.PENDING.value),
                actor,
                Listing,
            )
        )
        or 0
    )
