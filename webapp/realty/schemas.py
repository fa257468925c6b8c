"""Request and response models of the realty API (``webapp.realty.api``), and the functions that build
its JSON shapes (shared by the API and the console)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

from webapp.core.db import iso
from webapp.core.limits import BoundedDate
from webapp.core.models import User
from webapp.core.schemas import PageQuery, StrictModel, page_model
from webapp.realty.models import AMENITIES, Booking, Listing, Notification, Review


def _iso_date(value):
    """Only ``YYYY-MM-DD`` strings: pydantic would also take numbers as timestamps."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError("use a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("use a real date in the form YYYY-MM-DD") from exc


def _csv(value):
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


IsoDate = Annotated[BoundedDate, BeforeValidator(_iso_date)]
Amenity = Annotated[str, Field(json_schema_extra={"enum": list(AMENITIES)})]


class SearchQuery(StrictModel):
    city: str | None = Field(None, max_length=100)
    district: str | None = Field(None, max_length=100)
    check_in: IsoDate | None = None
    check_out: IsoDate | None = None
    price_min: Decimal | None = Field(None, ge=0, le=10_000_000_000)
    price_max: Decimal | None = Field(None, ge=0, le=10_000_000_000)
    guests: int | None = Field(None, ge=1, le=50)
    amenities: Annotated[list[Amenity], BeforeValidator(_csv)] = Field(
        default_factory=list, description="comma-separated amenity codes; listings must have all of them"
    )
    sort: str = Field("price_asc", pattern="^(price_asc|price_desc|newest)$")
    page: int = Field(1, ge=1, le=100_000)
    size: int = Field(10, ge=1, le=50)


class CalendarQuery(StrictModel):
    start: IsoDate | None = None
    days: int = Field(30, ge=1, le=366)


class BookingQuery(PageQuery):
    status: str | None = Field(None, pattern="^(pending|confirmed|cancelled|completed)$")
    listing_id: int | None = Field(None, ge=1)


class ListingQuery(PageQuery):
    status: str | None = Field(None, pattern="^(pending|approved|rejected)$")
    mine: bool = False


class NotificationQuery(PageQuery):
    unread: bool = False


class BookingIn(StrictModel):
    listing_id: int = Field(..., ge=1)
    check_in: IsoDate
    check_out: IsoDate
    guests: int = Field(1, ge=1, le=50)


class ReasonIn(StrictModel):
    reason: str | None = Field(None, max_length=500)


class RejectIn(StrictModel):
    reason: str = Field(..., min_length=1, max_length=500)


class FavoriteIn(StrictModel):
    listing_id: int = Field(..., ge=1)


class ReviewIn(StrictModel):
    booking_id: int = Field(..., ge=1)
    rating: int = Field(..., ge=1, le=5, strict=True)
    text: str = Field("", max_length=2000)


class ReadIn(StrictModel):
    ids: list[int] | None = Field(None, description="notification ids; omitted: all unread", max_length=500)


class ListingIn(StrictModel):
    title: str = Field(..., min_length=1, max_length=200)
    city: str = Field(..., min_length=1, max_length=100)
    district: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=300)
    price_per_night: Decimal = Field(..., gt=0, lt=10_000_000_000)
    max_guests: int = Field(..., ge=1, le=50)
    description: str = Field(..., min_length=1, max_length=5000)
    amenities: list[Amenity] = Field(default_factory=list)
    photos: list[str] = Field(default_factory=list, max_length=10)
    agency_id: int | None = Field(None, ge=1, description="superusers only: the agency to add to")
    realtor_id: str | None = Field(None, description="agency admins: the realtor who owns the listing")


class ListingPatch(StrictModel):
    title: str | None = Field(None, min_length=1, max_length=200)
    city: str | None = Field(None, min_length=1, max_length=100)
    district: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=300)
    price_per_night: Decimal | None = Field(None, gt=0, lt=10_000_000_000)
    max_guests: int | None = Field(None, ge=1, le=50)
    description: str | None = Field(None, min_length=1, max_length=5000)
    amenities: list[Amenity] | None = None
    photos: list[str] | None = Field(None, max_length=10)
    is_active: bool | None = None


class BlockIn(StrictModel):
    date_from: IsoDate
    date_to: IsoDate = Field(..., description="exclusive, like a check-out day")
    reason: str | None = Field(None, max_length=300)


class AgencyIn(StrictModel):
    name: str = Field(..., min_length=1, max_length=200)
    city: str = Field(..., min_length=1, max_length=100)
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)
    address: str | None = Field(None, max_length=300)
    timezone: str = Field("Asia/Tashkent", max_length=64)
    currency: str = Field("UZS", min_length=3, max_length=3)


class ActiveIn(StrictModel):
    is_active: bool


class RealtorIn(StrictModel):
    email: str = Field(..., max_length=254)
    phone: str | None = Field(None, max_length=32)
    first_name: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=8, max_length=128)
    agency_id: int | None = Field(None, ge=1, description="superusers only")


# --- output ----------------------------------------------------------------------------------------


def person(user: User | None) -> dict | None:
    return None if user is None else {"id": str(user.id), "name": user.display_name}


def listing_out(listing: Listing, rating: tuple[float | None, int] | None = None) -> dict:
    body = {
        "id": listing.id,
        "title": listing.title,
        "city": listing.city,
        "district": listing.district,
        "address": listing.address,
        "price_per_night": str(listing.price_per_night),
        "currency": listing.agency.currency,
        "max_guests": listing.max_guests,
        "amenities": listing.amenities,
        "description": listing.description,
        "photos": list(listing.photos or []),
        "is_active": listing.is_active,
        "status": listing.status,
        "rejection_reason": listing.rejection_reason,
        "agency": {"id": listing.agency.id, "name": listing.agency.name},
        "realtor": person(listing.realtor),
        "created_at": iso(listing.created_at),
        "updated_at": iso(listing.updated_at),
    }
    if rating is not None:
        body["rating"], body["reviews_count"] = rating
    return body


def booking_out(booking: Booking) -> dict:
    return {
        "id": booking.id,
        "listing": {"id": booking.listing.id, "title": booking.listing.title, "city": booking.listing.city},
        "guest": person(booking.guest),
        "check_in": booking.check_in.isoformat(),
        "check_out": booking.check_out.isoformat(),
        "nights": booking.nights,
        "guests": booking.guests,
        "total_price": str(booking.total_price),
        "currency": booking.listing.agency.currency,
        "status": booking.status,
        "is_paid": booking.is_paid,
        "cancel_reason": booking.cancel_reason,
        "created_at": iso(booking.created_at),
        "confirmed_at": iso(booking.confirmed_at),
        "cancelled_at": iso(booking.cancelled_at),
        "completed_at": iso(booking.completed_at),
    }


def review_out(review: Review) -> dict:
    return {
        "id": review.id,
        "booking_id": review.booking_id,
        "listing_id": review.listing_id,
        "author": person(review.author),
        "rating": review.rating,
        "text": review.text,
        "created_at": iso(review.created_at),
    }


def notification_out(row: Notification) -> dict:
    return {
        "id": row.id,
        "kind": row.kind,
        "text": row.text,
        "booking_id": row.booking_id,
        "listing_id": row.listing_id,
        "created_at": iso(row.created_at),
        "read_at": iso(row.read_at),
    }


# --- response models (what the functions above and the API build) -------------------------------

Money = Field(description="the agency's currency, as a decimal string")


class PersonOut(BaseModel):
    id: str
    name: str


class AgencyBrief(BaseModel):
    id: int
    name: str


class ListingOut(BaseModel):
    id: int
    title: str
    city: str
    district: str | None
    address: str | None
    price_per_night: str = Money
    currency: str
    max_guests: int
    amenities: list[str]
    description: str
    photos: list[str]
    is_active: bool
    status: str
    rejection_reason: str | None
    agency: AgencyBrief
    realtor: PersonOut | None
    created_at: str | None
    updated_at: str | None


class ListingDetailOut(ListingOut):
    rating: float | None = Field(description="average of its reviews; null without any")
    reviews_count: int
    is_favorite: bool


class CalendarDay(BaseModel):
    date: str
    state: str = Field(description="free, blocked, pending or confirmed (staff); free or taken (guests)")
    booking_id: int | None = Field(None, description="staff only")
    block_id: int | None = Field(None, description="staff only")


class CalendarOut(BaseModel):
    listing_id: int
    days: list[CalendarDay]


class ListingBrief(BaseModel):
    id: int
    title: str
    city: str


class BookingOut(BaseModel):
    id: int
    listing: ListingBrief
    guest: PersonOut | None
    check_in: str
    check_out: str
    nights: int
    guests: int
    total_price: str = Money
    currency: str
    status: str
    is_paid: bool
    cancel_reason: str | None
    created_at: str | None
    confirmed_at: str | None
    cancelled_at: str | None
    completed_at: str | None


class PaymentOut(BaseModel):
    id: int
    amount: str = Money
    currency: str
    provider: str
    status: str


class PaidBookingOut(BaseModel):
    payment: PaymentOut
    booking: BookingOut


class ReviewOut(BaseModel):
    id: int
    booking_id: int
    listing_id: int
    author: PersonOut | None
    rating: int
    text: str | None
    created_at: str | None


class NotificationOut(BaseModel):
    id: int
    kind: str
    text: str
    booking_id: int | None
    listing_id: int | None
    created_at: str | None
    read_at: str | None


class MarkedReadOut(BaseModel):
    marked_read: int


class BlockOut(BaseModel):
    id: int
    listing_id: int
    date_from: str
    date_to: str = Field(description="exclusive, like a check-out day")
    reason: str | None


class BlockList(BaseModel):
    items: list[BlockOut]


class AgencyOut(BaseModel):
    id: int
    name: str
    city: str
    phone: str | None
    email: str | None
    address: str | None
    timezone: str
    currency: str
    is_active: bool


class AgencyCard(BaseModel):
    id: int
    name: str
    city: str
    is_active: bool


class AgencyContacts(BaseModel):
    phone: str | None
    email: str | None
    address: str | None


class TopListing(BaseModel):
    id: int
    title: str
    bookings: int
    revenue: str = Money


class TopRealtor(BaseModel):
    id: str
    name: str
    bookings: int
    revenue: str = Money


class AgencyMetricsOut(BaseModel):
    agency: AgencyCard
    contacts: AgencyContacts
    currency: str
    realtors: int
    listings: dict[str, int] = Field(description="total and per moderation status")
    bookings: dict[str, int] = Field(description="total and per booking status")
    revenue: str = Money
    top_listings: list[TopListing]
    top_realtors: list[TopRealtor]


class RealtorOut(PersonOut):
    email: str | None
    phone: str | None
    is_active: bool


class RealtorActiveOut(PersonOut):
    is_active: bool


ListingPage = page_model(ListingOut)
BookingPage = page_model(BookingOut)
ReviewPage = page_model(ReviewOut)
NotificationPage = page_model(NotificationOut)
AgencyPage = page_model(AgencyOut)
