"""Segments, broadcasts and one delivery row per recipient of a broadcast.

The delivery rows are the source of truth for "who got it": they are materialised when a broadcast
starts (a snapshot of the segment), and a row moves ``pending → sending`` in its own committed
transaction before the Bot API call, so a crash can leave a row ``sending`` (→ ``unknown``) but can
never make a second worker send it again.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from webapp.core.db import UTCDateTime, utcnow
from webapp.core.models import TelegramAccount, User
from webapp.extensions import db
from webapp.telegram.models import Bot


class BroadcastStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"


FINAL_DELIVERY_STATUSES = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.BLOCKED, DeliveryStatus.UNKNOWN)


def _enum(values: type[enum.StrEnum], name: str) -> sa.Enum:
    return sa.Enum(*(v.value for v in values), name=name, native_enum=False, create_constraint=True, length=16)


# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a real bigint.
BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Segment(db.Model):
    """A saved audience of one bot: a validated filter definition (see services/segments.py)."""

    __tablename__ = "broadcast_segments"
    __table_args__ = (sa.UniqueConstraint("bot_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(sa.ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(150), nullable=False)
    description: Mapped[str | None] = mapped_column(sa.Text)
    filters: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    bot: Mapped[Bot] = relationship()
    created_by: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return self.name


class Broadcast(db.Model):
    __tablename__ = "broadcasts"
    __table_args__ = (sa.Index("ix_broadcasts_status_scheduled_at", "status", "scheduled_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(sa.ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    segment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("broadcast_segments.id", ondelete="SET NULL"), index=True
    )
    # The audience definition this broadcast uses: a saved segment's filters are copied in when the
    # broadcast starts, so editing the segment afterwards never changes a sent broadcast's record.
    filters: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    text: Mapped[str] = mapped_column(sa.Text, nullable=False)  # Telegram HTML, the default language
    texts: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)  # {"kk": "..."} per language
    buttons: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)  # rows of inline buttons
    photo: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    photo_name: Mapped[str | None] = mapped_column(sa.String(255))
    allow_paid_broadcast: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    status: Mapped[str] = mapped_column(
        _enum(BroadcastStatus, "broadcast_status"), default=BroadcastStatus.DRAFT.value, nullable=False
    )
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    sent_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    failed_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    blocked_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    unknown_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    last_error: Mapped[str | None] = mapped_column(sa.Text)  # why a scheduled start did not happen
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    bot: Mapped[Bot] = relationship()
    segment: Mapped[Segment | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def pending_count(self) -> int:
        return max(self.total_count - self.sent_count - self.failed_count - self.blocked_count - self.unknown_count, 0)

    def __str__(self) -> str:
        return self.title


class BroadcastDelivery(db.Model):
    __tablename__ = "broadcast_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("broadcast_id", "telegram_account_id"),
        sa.Index("ix_broadcast_deliveries_broadcast_status", "broadcast_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(sa.ForeignKey("broadcasts.id", ondelete="CASCADE"), nullable=False)
    telegram_account_id: Mapped[int] = mapped_column(
        sa.ForeignKey("telegram_accounts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    chat_id: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    language: Mapped[str | None] = mapped_column(sa.String(8))
    status: Mapped[str] = mapped_column(
        _enum(DeliveryStatus, "broadcast_delivery_status"), default=DeliveryStatus.PENDING.value, nullable=False
    )
    # Which worker's batch holds the row; a worker may only move rows that carry its own token.
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    telegram_message_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    sending_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    broadcast: Mapped[Broadcast] = relationship()
    telegram_account: Mapped[TelegramAccount] = relationship()
