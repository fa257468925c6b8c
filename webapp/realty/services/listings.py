"""Listings: creation and edits, moderation (pending → approved / rejected), calendar blocks, search."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from webapp.core.db import utcnow
from webapp.core.limits import require_date_in_range
from webapp.core.models import User
from webapp.core.pagination import fetch_page
from webapp.core.roles import Role, user_has_role
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.realty import access
from webapp.realty.models import (
    AMENITIES,
    Agency,
    AvailabilityBlock,
    Booking,
    BookingStatus,
    Listing,
    ListingAmenity,
    ModerationAction,
    ModerationEvent,
    ModerationStatus,
    OccupiedNight,
)
from webapp.realty.services.notify import notify

MAX_STAY_NIGHTS = 90
MAX_BLOCK_NIGHTS = 366
MAX_PHOTOS = 10
EDITABLE_FIELDS = (
    "title",
    "city",
    "district",
    "address",
    "price_per_night",
    "max_guests",
    "description",
    "amenities",
    "photos",
)
# What guests read and decide on: a changed title, text, price, place or photo is a new offer that a
# moderator has not seen ("SCAM: pay by wire"). Guest capacity and taking a listing down are not.
MODERATED_FIELDS = frozenset(
    {"title", "description", "price_per_night", "city", "district", "address", "photos", "amenities"}
)


def invalid(field_name: str, message: str) -> ServiceError:
    return ServiceError(message, 422, "VALIDATION_ERROR", field_name)


def normalize_city(value: str | None) -> str:
    """One spelling per city ("  tashkent " → "Tashkent"), so search can match it exactly on an index."""
    return " ".join((value or "").split()).title()


def agency_today(agency: Agency, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(agency.timezone)).date()


def nights_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days)]


# --- fields ----------------------------------------------------------------------------------------


def _clean_text(fields: dict, name: str, max_len: int, required: bool) -> None:
    if name not in fields:
        if required:
            raise invalid(name, "This field is required")
        return
    value = " ".join(str(fields[name] or "").split()) if name != "description" else str(fields[name] or "").strip()
    if required and not value:
        raise invalid(name, "This field is required")
    if len(value) > max_len:
        raise invalid(name, f"At most {max_len} characters")
    fields[name] = value if (value or required) else None


def clean_listing_fields(fields: dict, creating: bool) -> dict:
    """Validate and normalise listing fields; ServiceError(422, field) on the first bad one."""
    fields = {k: v for k, v in fields.items() if k in EDITABLE_FIELDS}
    _clean_text(fields, "title", 200, creating)
    _clean_text(fields, "city", 100, creating)
    _clean_text(fields, "district", 100, False)
    _clean_text(fields, "address", 300, False)
    _clean_text(fields, "description", 5000, creating)
    if "city" in fields:
        fields["city"] = normalize_city(fields["city"])
    if "district" in fields and fields["district"]:
        fields["district"] = normalize_city(fields["district"])
    if "price_per_night" in fields or creating:
        try:
            price = Decimal(str(fields.get("price_per_night"))).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError) as exc:
            raise invalid("price_per_night", "Enter a price as a number") from exc
        if not price.is_finite() or price <= 0 or price >= Decimal("10000000000"):
            raise invalid("price_per_night", "The price must be a positive number")
        fields["price_per_night"] = price
    if "max_guests" in fields or creating:
        try:
            guests = int(fields.get("max_guests"))
        except (TypeError, ValueError) as exc:
            raise invalid("max_guests", "Enter the number of guests") from exc
        if not 1 <= guests <= 50:
            raise invalid("max_guests", "Guests must be between 1 and 50")
        fields["max_guests"] = guests
    if "amenities" in fields:
        amenities = sorted(set(fields["amenities"] or []))
        unknown = [a for a in amenities if a not in AMENITIES]
        if unknown:
            raise invalid("amenities", f"Unknown amenities: {', '.join(unknown)}")
        fields["amenities"] = amenities
    if "photos" in fields:
        photos = [str(p).strip() for p in fields["photos"] or [] if str(p).strip()]
        if len(photos) > MAX_PHOTOS or any(len(p) > 500 for p in photos):
            raise invalid("photos", f"At most {MAX_PHOTOS} photos")
        fields["photos"] = photos
    return fields


def _apply(listing: Listing, fields: dict) -> None:
    for name, value in fields.items():
        if name == "amenities":
            listing.amenity_rows = [ListingAmenity(amenity=a) for a in value]
        else:
            setattr(listing, name, value)


def _record(listing: Listing, action: ModerationAction, actor: User | None, reason=None, now=None) -> None:
    db.session.add(
        ModerationEvent(
            listing_id=listing.id,
            agency_id=listing.agency_id,
            action=action.value,
            city=listing.city,
            district=listing.district,
            user_id=listing.realtor_id,
            actor_id=actor.id if actor else None,
            reason=reason,
            occurred_at=now or utcnow(),
        )
    )


# --- create / edit ---------------------------------------------------------------------------------


def create_listing(
    actor: User, fields: dict, agency_id: int | None = None, realtor_id=None, source: str = "api"
) -> Listing:
    """A new listing, pending moderation. Realtors and admins add to their own agency; superusers name one."""
    access.require(user_has_role(actor, Role.REALTOR), "Only realtors and agency staff can add listings")
    own_agency = access.agency_id_of(actor)
    if access.is_superuser(actor) and agency_id is not None:
        agency = db.session.get(Agency, agency_id)
    else:
        agency = db.session.get(Agency, own_agency) if own_agency else None
        access.require(agency_id in (None, own_agency), "You can add listings only to your own agency")
    if agency is None:
        raise invalid("agency_id", "Choose an agency")
    if not agency.is_active:
        raise ServiceError("This agency is deactivated", 409, "AGENCY_INACTIVE", "agency_id")
    realtor = actor
    if realtor_id is not None and realtor_id != actor.id:
        access.require(access.is_agency_manager(actor, agency.id), "Only agency admins can assign listings")
        realtor = db.session.get(User, access.parse_uuid(realtor_id)) if access.parse_uuid(realtor_id) else None
        if realtor is None or access.agency_id_of(realtor) != agency.id:
            raise invalid("realtor_id", "This realtor is not a member of the agency")
    fields = clean_listing_fields(fields, creating=True)
    listing = Listing(agency=agency, realtor_id=realtor.id, status=ModerationStatus.PENDING.value)
    _apply(listing, fields)
    db.session.add(listing)
    db.session.flush()
    _record(listing, ModerationAction.ADDED, actor)
    return listing


def _current(listing: Listing, name: str):
    if name == "amenities":
        return sorted(row.amenity for row in listing.amenity_rows)
    return getattr(listing, name)


def update_listing(actor: User, listing: Listing, fields: dict) -> Listing:
    """Edit a listing. A rejected listing goes back to pending for review; so does an approved one
    when someone who cannot moderate it changes what guests read and trust (MODERATED_FIELDS).
    Until it is approved again guests see nothing of it: there is no stored "last approved" copy."""
    access.require(access.can_edit_listing(actor, listing))
    fields = clean_listing_fields(fields, creating=False)
    changed = {name for name, value in fields.items() if _current(listing, name) != value}
    _apply(listing, fields)
    if listing.status == ModerationStatus.REJECTED.value:
        listing.status = ModerationStatus.PENDING.value
        listing.rejection_reason = None
    elif (
        listing.status == ModerationStatus.APPROVED.value
        and changed & MODERATED_FIELDS
        and not access.can_moderate(actor)
    ):
        listing.status = ModerationStatus.PENDING.value
    db.session.flush()
    return listing


def set_listing_active(actor: User, listing: Listing, active: bool) -> Listing:
    """The seed's "Активировать/Снять": hide a listing from search without deleting it."""
    access.require(access.can_edit_listing(actor, listing))
    listing.is_active = active
    return listing


def visible_listing(listing_id: int) -> Listing:
    """A listing as a guest may see it: approved, active, of an active agency — else 404."""
    listing = db.session.get(Listing, listing_id)
    if listing is None or not listing.is_visible:
        raise ServiceError("Listing not found", 404, "NOT_FOUND")
    return listing


def staff_listings(actor: User, status: str | None = None, mine: bool = False) -> sa.Select:
    access.require_staff(actor)
    query = access.scope(sa.select(Listing), actor)
    if mine:
        query = query.where(Listing.realtor_id == actor.id)
    if status:
        query = query.where(Listing.status == status)
    return query.order_by(Listing.id.desc())


# --- moderation ------------------------------------------------------------------------------------


def _moderate(actor: User, listing: Listing) -> None:
    access.require(access.can_moderate(actor), "Only moderators and superusers moderate listings")
    if listing.status != ModerationStatus.PENDING.value:
        raise ServiceError(f"Listing is {listing.status}, not pending", 409, "INVALID_TRANSITION", "status")


def approve_listing(actor: User, listing: Listing, now: datetime | None = None) -> Listing:
    _moderate(actor, listing)
    listing.status = ModerationStatus.APPROVED.value
    listing.rejection_reason = None
    listing.moderated_by_id = actor.id
    listing.moderated_at = now or utcnow()
    _record(listing, ModerationAction.APPROVED, actor, now=listing.moderated_at)
    if listing.realtor is not None and listing.realtor_id != actor.id:
        notify(
            listing.realtor, "moderation", "Your listing “%(title)s” is approved.", listing=listing, title=listing.title
        )
    return listing


def reject_listing(actor: User, listing: Listing, reason: str, now: datetime | None = None) -> Listing:
    reason = " ".join((reason or "").split())
    if not reason:
        raise invalid("reason", "Give a reason for the rejection")
    if len(reason) > 500:
        raise invalid("reason", "At most 500 characters")
    _moderate(actor, listing)
    listing.status = ModerationStatus.REJECTED.value
    listing.rejection_reason = reason
    listing.moderated_by_id = actor.id
    listing.moderated_at = now or utcnow()
    _record(listing, ModerationAction.REJECTED, actor, reason, now=listing.moderated_at)
    if listing.realtor is not None and listing.realtor_id != actor.id:
        notify(
            listing.realtor,
            "moderation",
            "Your listing “%(title)s” is rejected: %(reason)s",
            listing=listing,
            title=listing.title,
            reason=reason,
        )
    return listing


def moderation_queue(actor: User) -> sa.Select:
    """Every agency's pending listings, oldest first: the platform's moderators' queue."""
    access.require(access.can_moderate(actor), "Only moderators and superusers moderate listings")
    query = sa.select(Listing).where(Listing.status == ModerationStatus.PENDING.value)
    return query.order_by(Listing.created_at, Listing.id)


# --- calendar --------------------------------------------------------------------------------------


def occupy(listing_id: int, start: date, end: date, *, booking_id: int | None = None, block_id: int | None = None):
    """Take every night of [start, end) or fail with 409: the primary key refuses a taken night."""
    db.session.add_all(
        OccupiedNight(listing_id=listing_id, night=n, booking_id=booking_id, block_id=block_id)
        for n in nights_between(start, end)
    )
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise ServiceError("These dates are not available", 409, "DATES_TAKEN", "check_in") from exc


def first_taken_night(listing_id: int, start: date, end: date) -> date | None:
    return db.session.scalar(
        sa.select(sa.func.min(OccupiedNight.night)).where(
            OccupiedNight.listing_id == listing_id, OccupiedNight.night >= start, OccupiedNight.night < end
        )
    )


def check_range(start: date, end: date, max_nights: int, fields: tuple[str, str] = ("check_in", "check_out")) -> None:
    if end <= start:
        raise invalid(fields[1], "The end date must be after the start date")
    if (end - start).days > max_nights:
        raise invalid(fields[0], f"At most {max_nights} nights")


def add_block(actor: User, listing: Listing, date_from: date, date_to: date, reason: str | None = None):
    """Close [date_from, date_to) by hand; 409 when a booking or another block holds any of those nights."""
    access.require(access.can_edit_listing(actor, listing))
    check_range(date_from, date_to, MAX_BLOCK_NIGHTS, ("date_from", "date_to"))
    if date_from < agency_today(listing.agency):
        raise invalid("date_from", "Blocks cannot start in the past")
    lock_listing(listing.id)
    if first_taken_night(listing.id, date_from, date_to) is not None:
        raise ServiceError("These dates are already taken", 409, "DATES_TAKEN", "date_from")
    block = AvailabilityBlock(
        listing_id=listing.id,
        date_from=date_from,
        date_to=date_to,
        reason=(reason or "").strip()[:300] or None,
        created_by_id=actor.id,
    )
    db.session.add(block)
    db.session.flush()
    occupy(listing.id, date_from, date_to, block_id=block.id)
    return block


def remove_block(actor: User, block: AvailabilityBlock) -> None:
    access.require(access.can_edit_listing(actor, block.listing))
    db.session.execute(sa.delete(OccupiedNight).where(OccupiedNight.block_id == block.id))
    db.session.delete(block)
    db.session.flush()


def lock_listing(listing_id: int) -> Listing | None:
    """Row-lock the listing (PostgreSQL) so concurrent writers of its calendar queue up behind each other.

    SQLite has no row locks (it serialises writers itself); the occupied-nights key is the guarantee
    on both, this lock only turns a constraint violation into an orderly, readable refusal.
    """
    return db.session.scalar(
        sa.select(Listing)
        .where(Listing.id == listing_id)
        .with_for_update(of=Listing)
        .execution_options(populate_existing=True)
    )


def calendar(listing: Listing, start: date, days: int = 30) -> list[dict]:
    """Each day from ``start``: free, blocked, or the status of the booking holding it."""
    require_date_in_range(start, "start")
    end = start + timedelta(days=days)
    rows = db.session.execute(
        sa.select(OccupiedNight.night, OccupiedNight.block_id, Booking.status, Booking.id)
        .outerjoin(Booking, Booking.id == OccupiedNight.booking_id)
        .where(OccupiedNight.listing_id == listing.id, OccupiedNight.night >= start, OccupiedNight.night < end)
    ).all()
    taken = {
        night: {"state": "blocked", "block_id": block_id} if block_id else {"state": status, "booking_id": booking_id}
        for night, block_id, status, booking_id in rows
    }
    return [{"date": d.isoformat(), **taken.get(d, {"state": "free"})} for d in nights_between(start, end)]


def blocks_of(listing: Listing) -> list[AvailabilityBlock]:
    return list(
        db.session.scalars(
            sa.select(AvailabilityBlock)
            .where(AvailabilityBlock.listing_id == listing.id)
            .order_by(AvailabilityBlock.date_from)
        )
    )


# --- search ----------------------------------------------------------------------------------------

SORTS = {
    "price_asc": (Listing.price_per_night.asc(), Listing.id.asc()),
    "price_desc": (Listing.price_per_night.desc(), Listing.id.asc()),
    "newest": (Listing.created_at.desc(), Listing.id.desc()),
}


@dataclass
class SearchFilters:
    city: str | None = None
    district: str | None = None
    check_in: date | None = None
    check_out: date | None = None
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    guests: int | None = None
    amenities: list[str] = field(default_factory=list)
    sort: str = "price_asc"

    def validate(self) -> SearchFilters:
        if (self.check_in is None) != (self.check_out is None):
            raise invalid("check_out" if self.check_in else "check_in", "Give both check-in and check-out dates")
        if self.check_in is not None:
            check_range(self.check_in, self.check_out, MAX_STAY_NIGHTS)
        if self.price_min is not None and self.price_max is not None and self.price_min > self.price_max:
            raise invalid("price_min", "The minimum price is above the maximum")
        unknown = [a for a in self.amenities if a not in AMENITIES]
        if unknown:
            raise invalid("amenities", f"Unknown amenities: {', '.join(unknown)}")
        if self.sort not in SORTS:
            raise invalid("sort", f"Sort by one of: {', '.join(SORTS)}")
        return self


def search_query(filters: SearchFilters) -> sa.Select:
    """Approved, active listings of active agencies matching the filters and free every night of the stay.

    "Free" is a NOT EXISTS probe on the occupied-nights primary key (listing, night): check-out day
    is never an occupied night of a stay, so it may be the next guest's check-in day.
    """
    filters.validate()
    query = (
        sa.select(Listing)
        .join(Agency, Agency.id == Listing.agency_id)
        .where(
            Listing.status == ModerationStatus.APPROVED.value,
            Listing.is_active.is_(True),
            Agency.is_active.is_(True),
        )
    )
    if filters.city:
        query = query.where(Listing.city == normalize_city(filters.city))
    if filters.district:
        query = query.where(Listing.district == normalize_city(filters.district))
    if filters.price_min is not None:
        query = query.where(Listing.price_per_night >= filters.price_min)
    if filters.price_max is not None:
        query = query.where(Listing.price_per_night <= filters.price_max)
    if filters.guests:
        query = query.where(Listing.max_guests >= filters.guests)
    for amenity in sorted(set(filters.amenities)):
        query = query.where(
            sa.exists().where(ListingAmenity.listing_id == Listing.id, ListingAmenity.amenity == amenity)
        )
    if filters.check_in is not None:
        query = query.where(
            ~sa.exists().where(
                OccupiedNight.listing_id == Listing.id,
                OccupiedNight.night >= filters.check_in,
                OccupiedNight.night < filters.check_out,
            )
        )
    return query.order_by(*SORTS[filters.sort])


def search(filters: SearchFilters, page: int = 1, size: int = 10) -> dict:
    """One page of search results: ``items`` (Listing rows), ``total``, ``page``, ``size``, ``pages``."""
    return fetch_page(search_query(filters), page, size, unique=True).as_dict()


def quote(listing: Listing, check_in: date, check_out: date) -> Decimal:
    return (listing.price_per_night * (check_out - check_in).days).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class PriceExample:
    """A price range to show as the example of the search's price step: it spans the real prices."""

    low: Decimal
    high: Decimal
    currency: str


def _round_to_one_digit(value: Decimal, up: bool) -> Decimal:
    """450 000 → 400 000 (down) or 500 000 (up); 0 stays 0."""
    if value <= 0:
        return Decimal(0)
    step = 10 ** (len(str(int(value))) - 1)
    rounding = math.ceil if up else math.floor
    return Decimal(rounding(value / step) * step)


def price_example(city: str | None = None) -> PriceExample | None:
    """The cheapest and the dearest night of the listings a guest can find (in ``city`` when it has any),
    rounded to one significant digit, in their agencies' most common currency; None when none is listed."""
    visible = search_query(SearchFilters()).order_by(None).subquery()
    query = (
        sa.select(Agency.currency, sa.func.min(visible.c.price_per_night), sa.func.max(visible.c.price_per_night))
        .join(Agency, Agency.id == visible.c.agency_id)
        .group_by(Agency.currency)
        .order_by(sa.func.count().desc(), Agency.currency)
    )
    row = None
    if city:
        row = db.session.execute(query.where(visible.c.city == normalize_city(city)).limit(1)).first()
    row = row or db.session.execute(query.limit(1)).first()
    if row is None:
        return None
    currency, cheapest, dearest = row
    low, high = _round_to_one_digit(Decimal(cheapest), up=False), _round_to_one_digit(Decimal(dearest), up=True)
    if high <= low:
        high = _round_to_one_digit(low * 2, up=True) if low else Decimal(100)
    return PriceExample(low, high, currency)


ACTIVE_BOOKING_STATUSES = (BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value)


def popular_cities(limit: int = 6) -> list[str]:
    """The cities with the most listings a guest can find, most first (the bot's search suggestions)."""
    visible = search_query(SearchFilters()).order_by(None).subquery()
    query = (
        sa.select(visible.c.city).group_by(visible.c.city).order_by(sa.func.count().desc(), visible.c.city).limit(limit)
    )
    return list(db.session.scalars(query))


def listing_today(listing_id: int) -> date | None:
    """Today at the listing's agency (None for a listing that is gone)."""
    listing = db.session.get(Listing, listing_id)
    return agency_today(listing.agency) if listing is not None else None


def editable_listing(actor: User, listing_id: int) -> Listing:
    """Listing ``listing_id`` if ``actor`` may edit it; else (or when missing) not found."""
    listing = db.session.get(Listing, listing_id)
    if listing is None or not access.can_edit_listing(actor, listing):
        raise ServiceError("Listing not found", 404, "NOT_FOUND")
    return listing


def moderatable_listing(actor: User, listing_id: int) -> Listing:
    """Listing ``listing_id`` if ``actor`` moderates listings; else (or when missing) not found."""
    listing = db.session.get(Listing, listing_id)
    if listing is None or not access.can_moderate(actor):
        raise ServiceError("Listing not found", 404, "NOT_FOUND")
    return listing
