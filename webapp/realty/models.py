"""Short-term rental agencies (seed 001): agencies (each one organization's storefront; its staff are
the organization's members), listings, calendar, bookings.

Overlap rule: every night a listing is taken (by a pending/confirmed booking or by a block) is a
row of ``realty_occupied_nights`` whose primary key is (listing, night). Two bookings — or a
booking and a block — sharing a night therefore cannot both exist, on PostgreSQL and SQLite alike,
whatever the isolation level: the database refuses the second insert. The same table answers
"free for the whole range?" with one index range probe, which keeps search fast.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import Timestamps, UTCDateTime, utcnow
from webapp.core.models import Organization, User
from webapp.extensions import db


def _enum(values: type[enum.Enum], name: str) -> sa.Enum:
    return sa.Enum(*(v.value for v in values), name=name, native_enum=False, create_constraint=True, length=16)


class ModerationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class BookingStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ModerationAction(enum.StrEnum):
    ADDED = "added"
    APPROVED = "approved"
    REJECTED = "rejected"


# The amenity vocabulary: stable codes stored in the database, labels translated for display.
AMENITIES = (
    "wifi",
    "kitchen",
    "parking",
    "air_conditioning",
    "washer",
    "tv",
    "balcony",
    "pool",
    "workspace",
    "pets_allowed",
)


class Agency(Timestamps, db.Model):
    __tablename__ = "realty_agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False, unique=True)
    city: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    address: Mapped[str | None] = mapped_column(sa.String(300))
    timezone: Mapped[str] = mapped_column(sa.String(64), nullable=False, default="Asia/Tashkent")
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False, default="UZS")
    is_active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)

    # The organization whose storefront this agency is: its staff are the organization's members.
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, unique=True
    )

    organization: Mapped[Organization] = relationship()

    def __str__(self) -> str:
        return f"{self.name} ({self.city})"


class Listing(Timestamps, db.Model):
    __tablename__ = "realty_listings"
    __table_args__ = (
        sa.CheckConstraint("price_per_night > 0", name="price_positive"),
        sa.CheckConstraint("max_guests >= 1", name="guests_positive"),
        # Search walks visible listings of a city ordered by price; on PostgreSQL the included
        # columns let the count of matches run as an index-only scan.
        sa.Index(
            "ix_realty_listings_search",
            "city",
            "status",
            "is_active",
            "price_per_night",
            postgresql_include=["id", "agency_id"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(
        sa.ForeignKey("realty_agencies.id", ondelete="CASCADE"), nullable=False, index=True
    )
    realtor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    city: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    district: Mapped[str | None] = mapped_column(sa.String(100))
    address: Mapped[str | None] = mapped_column(sa.String(300))
    price_per_night: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), nullable=False)
    max_guests: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    photos: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)
    status: Mapped[str] = mapped_column(
        _enum(ModerationStatus, "listing_status"), nullable=False, default=ModerationStatus.PENDING.value
    )
    rejection_reason: Mapped[str | None] = mapped_column(sa.String(500))
    moderated_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency: Mapped[Agency] = relationship(lazy="joined")
    realtor: Mapped[User | None] = relationship(foreign_keys=[realtor_id])
    moderated_by: Mapped[User | None] = relationship(foreign_keys=[moderated_by_id])
    amenity_rows: Mapped[list[ListingAmenity]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ListingAmenity.amenity"
    )

    @property
    def amenities(self) -> list[str]:
        return [row.amenity for row in self.amenity_rows]

    @property
    def is_visible(self) -> bool:
        return self.is_active and self.status == ModerationStatus.APPROVED.value and self.agency.is_active

    def __str__(self) -> str:
        return f"#{self.id} {self.title}"


class ListingAmenity(db.Model):
    """One row per amenity, so "has all of these" is a plain indexed query on every backend."""

    __tablename__ = "realty_listing_amenities"
    __table_args__ = (sa.Index("ix_realty_listing_amenities_amenity", "amenity", "listing_id"),)

    listing_id: Mapped[int] = mapped_column(sa.ForeignKey("realty_listings.id", ondelete="CASCADE"), primary_key=True)
    amenity: Mapped[str] = mapped_column(sa.String(32), primary_key=True)


class AvailabilityBlock(db.Model):
    """Nights a realtor closes by hand: ``date_from`` inclusive, ``date_to`` exclusive (like bookings)."""

    __tablename__ = "realty_availability_blocks"
    __table_args__ = (sa.CheckConstraint("date_to > date_from", name="range_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(
        sa.ForeignKey("realty_listings.id", ondelete="CASCADE"), nullable=False, index=True
    )
    date_from: Mapped[date] = mapped_column(sa.Date, nullable=False)
    date_to: Mapped[date] = mapped_column(sa.Date, nullable=False)
    reason: Mapped[str | None] = mapped_column(sa.String(300))
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    listing: Mapped[Listing] = relationship()


class Booking(Timestamps, db.Model):
    __tablename__ = "realty_bookings"
    __table_args__ = (
        sa.CheckConstraint("check_out > check_in", name="range_valid"),
        sa.CheckConstraint("guests >= 1", name="guests_positive"),
        sa.Index("ix_realty_bookings_status_check_out", "status", "check_out"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(
        sa.ForeignKey("realty_listings.id", ondelete="CASCADE"), nullable=False, index=True
    )
    guest_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    check_in: Mapped[date] = mapped_column(sa.Date, nullable=False)
    check_out: Mapped[date] = mapped_column(sa.Date, nullable=False)
    guests: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    total_price: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), nullable=False)
    status: Mapped[str] = mapped_column(
        _enum(BookingStatus, "booking_status"), nullable=False, default=BookingStatus.PENDING.value, index=True
    )
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(300))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    listing: Mapped[Listing] = relationship(lazy="joined")
    guest: Mapped[User] = relationship(foreign_keys=[guest_id], lazy="joined")
    payments: Mapped[list[Payment]] = relationship(back_populates="booking", order_by="Payment.id")

    @property
    def nights(self) -> int:
        return (self.check_out - self.check_in).days

    @property
    def is_paid(self) -> bool:
        return any(p.status == PaymentStatus.SUCCEEDED.value for p in self.payments)

    def __str__(self) -> str:
        return f"#{self.id} {self.check_in:%Y-%m-%d}→{self.check_out:%Y-%m-%d}"


class OccupiedNight(db.Model):
    """One taken night of a listing; the primary key is the database's no-overlap guarantee."""

    __tablename__ = "realty_occupied_nights"
    __table_args__ = (
        sa.CheckConstraint("(booking_id IS NULL) <> (block_id IS NULL)", name="one_owner"),
        # Nights taken in a date range, with their listing: an index-only scan for search's anti-join.
        sa.Index("ix_realty_occupied_nights_night", "night", "listing_id"),
    )

    listing_id: Mapped[int] = mapped_column(sa.ForeignKey("realty_listings.id", ondelete="CASCADE"), primary_key=True)
    night: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("realty_bookings.id", ondelete="CASCADE"), index=True)
    block_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("realty_availability_blocks.id", ondelete="CASCADE"), index=True
    )


class Payment(db.Model):
    __tablename__ = "realty_payments"
    __table_args__ = (
        # At most one successful payment per booking: paying twice is refused by the database.
        sa.Index(
            "uq_realty_payments_booking_succeeded",
            "booking_id",
            unique=True,
            postgresql_where=sa.text("status = 'succeeded'"),
            sqlite_where=sa.text("status = 'succeeded'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        sa.ForeignKey("realty_bookings.id", ondelete="CASCADE"), nullable=False, index=True
    )
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False)
    provider: Mapped[str] = mapped_column(sa.String(32), nullable=False, default="demo")
    provider_ref: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    status: Mapped[str] = mapped_column(
        _enum(PaymentStatus, "payment_status"), nullable=False, default=PaymentStatus.PENDING.value
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    booking: Mapped[Booking] = relationship(back_populates="payments")


class Favorite(db.Model):
    __tablename__ = "realty_favorites"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    listing_id: Mapped[int] = mapped_column(sa.ForeignKey("realty_listings.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    listing: Mapped[Listing] = relationship(lazy="joined")


class Review(db.Model):
    __tablename__ = "realty_reviews"
    __table_args__ = (sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        sa.ForeignKey("realty_bookings.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    listing_id: Mapped[int] = mapped_column(
        sa.ForeignKey("realty_listings.id", ondelete="CASCADE"), nullable=False, index=True
    )
    author_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    rating: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    text: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    listing: Mapped[Listing] = relationship()
    author: Mapped[User] = relationship()
    booking: Mapped[Booking] = relationship()


class Notification(db.Model):
    """In-app notification. Its Telegram push is an outbox row (subject ``realty_notification:<id>``);
    ``telegram_sent_at`` is the push time of notifications from before the outbox (migration 0018)."""

    __tablename__ = "realty_notifications"
    __table_args__ = (sa.Index("ix_realty_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)
    booking_id: Mapped[int | None] = mapped_column(sa.ForeignKey("realty_bookings.id", ondelete="CASCADE"))
    listing_id: Mapped[int | None] = mapped_column(sa.ForeignKey("realty_listings.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    telegram_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class ModerationEvent(db.Model):
    """What the reports (seed 004) count: a listing added, approved or rejected, with where and whose.

    ``city``/``district`` are copied at event time so later edits of a listing do not rewrite history.
    ``user_id`` is the listing's owner (the realtor whose listing it is), ``actor_id`` who acted.
    """

    __tablename__ = "realty_moderation_events"
    __table_args__ = (sa.Index("ix_realty_moderation_events_occurred", "occurred_at", "action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int | None] = mapped_column(sa.ForeignKey("realty_listings.id", ondelete="SET NULL"), index=True)
    agency_id: Mapped[int | None] = mapped_column(sa.ForeignKey("realty_agencies.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(_enum(ModerationAction, "moderation_action"), nullable=False)
    city: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    district: Mapped[str | None] = mapped_column(sa.String(100))
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    listing: Mapped[Listing | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class OutboxEmail(db.Model):
    """Every e-mail the platform sends; with no MAIL_SERVER it stays here, readable in the console."""

    __tablename__ = "email_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(sa.String(254), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="queued")  # queued/sent/failed/kept
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
