"""Helpdesk (seed 003): categories, tickets with their state machine, messages, files, Telegram links."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import Timestamps, UTCDateTime, UUIDPrimaryKey, utcnow
from webapp.core.models import User
from webapp.extensions import db


class TicketStatus(enum.StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    WAITING_RESPONSE = "WAITING_RESPONSE"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"


class TicketPriority(enum.StrEnum):
    LOW = "LOW"
    NORMAL = "NORMAL"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


# The legal moves of a ticket. WAITING_RESPONSE means "waiting for the customer"; RESOLVED may be
# reopened (the customer writes again), CLOSED is final: a new question is a new ticket.
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    TicketStatus.OPEN: frozenset(
        {TicketStatus.IN_PROGRESS, TicketStatus.WAITING_RESPONSE, TicketStatus.RESOLVED, TicketStatus.CLOSED}
    ),
    TicketStatus.IN_PROGRESS: frozenset({TicketStatus.WAITING_RESPONSE, TicketStatus.RESOLVED, TicketStatus.CLOSED}),
    TicketStatus.WAITING_RESPONSE: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED, TicketStatus.CLOSED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.IN_PROGRESS, TicketStatus.CLOSED}),
    TicketStatus.CLOSED: frozenset(),
}


def _enum(values: type[enum.StrEnum], name: str) -> sa.Enum:
    return sa.Enum(*(v.value for v in values), name=name, native_enum=False, create_constraint=True, length=24)


class TicketCategory(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "helpdesk_categories"
    # A name is unique within its organization's desk (the get-or-create relies on this key).
    __table_args__ = (sa.UniqueConstraint("organization_id", "name"),)

    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(sa.Text)
    icon: Mapped[str | None] = mapped_column(sa.String(16))
    color: Mapped[str] = mapped_column(sa.String(7), default="#6c757d", nullable=False)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    sort_order: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)

    def __str__(self) -> str:
        return f"{self.icon} {self.name}" if self.icon else self.name


class Ticket(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "helpdesk_tickets"
    __table_args__ = (
        sa.Index("ix_helpdesk_tickets_status_created", "status", "created_at"),
        sa.Index("ix_helpdesk_tickets_created_at", "created_at"),
    )

    # The desk the ticket belongs to: its bot's organization, or its category's (see access.py).
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), index=True, nullable=False
    )
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    description: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(
        _enum(TicketStatus, "helpdesk_ticket_status"), default=TicketStatus.OPEN.value, nullable=False
    )
    priority: Mapped[str] = mapped_column(
        _enum(TicketPriority, "helpdesk_ticket_priority"),
        default=TicketPriority.NORMAL.value,
        nullable=False,
        index=True,
    )
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("helpdesk_categories.id", ondelete="RESTRICT"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    assigned_to_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # The bot the customer opened the ticket through: replies go back through the same bot.
    bot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bots.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(sa.String(16), default="api", nullable=False)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    category: Mapped[TicketCategory | None] = relationship(lazy="joined")
    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id], lazy="joined")

    @property
    def status_enum(self) -> TicketStatus:
        return TicketStatus(self.status)

    @property
    def ref(self) -> str:
        """A short reference people can read out (the UUID stays the identifier)."""
        return self.id.hex[:8]

    def __str__(self) -> str:
        return f"#{self.ref} {self.title}"


class TicketMessage(UUIDPrimaryKey, db.Model):
    __tablename__ = "helpdesk_messages"
    __table_args__ = (sa.Index("ix_helpdesk_messages_ticket_created", "ticket_id", "created_at"),)

    ticket_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("helpdesk_tickets.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    content: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    is_internal: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    source: Mapped[str] = mapped_column(sa.String(16), default="api", nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    ticket: Mapped[Ticket] = relationship()
    author: Mapped[User | None] = relationship(lazy="joined")
    attachments: Mapped[list[HelpdeskFile]] = relationship(
        back_populates="message", lazy="selectin", order_by="HelpdeskFile.created_at"
    )


class HelpdeskFile(UUIDPrimaryKey, db.Model):
    """An uploaded file; bytes live in the storage under ``storage_key``, never under the given name."""

    __tablename__ = "helpdesk_files"

    filename: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    content_type: Mapped[str] = mapped_column(sa.String(127), nullable=False)
    size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    storage_key: Mapped[str] = mapped_column(sa.String(255), unique=True, nullable=False)
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    message_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("helpdesk_messages.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)

    message: Mapped[TicketMessage | None] = relationship(back_populates="attachments")


class TicketStatusChange(db.Model):
    """Status history: who moved a ticket when (the statistics' resolved/closed per day read it)."""

    __tablename__ = "helpdesk_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("helpdesk_tickets.id", ondelete="CASCADE"), index=True)
    old_status: Mapped[str | None] = mapped_column(sa.String(24))
    new_status: Mapped[str] = mapped_column(sa.String(24), nullable=False)
    changed_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)

    changed_by: Mapped[User | None] = relationship(lazy="joined")


class HelperAlertSubscription(db.Model):
    """A staff member who wants new tickets announced in their own Telegram chat with a bot."""

    __tablename__ = "helpdesk_alert_subscriptions"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    bot_id: Mapped[int] = mapped_column(sa.ForeignKey("bots.id", ondelete="CASCADE"), nullable=False)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    user: Mapped[User] = relationship()


class CannedReply(db.Model):
    """A ready answer of one desk: a helper types ``/<short_code>`` in the reply box to insert it."""

    __tablename__ = "helpdesk_canned_replies"
    # The short code is what a helper types, so it names one reply within its desk.
    __table_args__ = (sa.UniqueConstraint("organization_id", "short_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True, nullable=False
    )
    short_code: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    content: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    def __str__(self) -> str:
        return f"/{self.short_code}"


class DeskSettings(db.Model):
    """A desk's own clock: the zone its times are shown in and how soon a new ticket is due its first
    reply. A desk without a row uses the platform's defaults (``services.desk``)."""

    __tablename__ = "helpdesk_desk_settings"

    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    first_response_minutes: Mapped[int | None] = mapped_column(sa.Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
