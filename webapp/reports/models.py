"""Who gets the daily report every morning, and which mornings they already got it."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import UTCDateTime, utcnow
from webapp.core.models import User
from webapp.extensions import db


class ReportSubscription(db.Model):
    """An admin's opt-in to the morning report, delivered by ``bot_id`` (NULL: the default bot)."""

    __tablename__ = "report_subscriptions"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    bot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    chat_id: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    user: Mapped[User] = relationship()


class ReportDelivery(db.Model):
    """One row per (subscriber, report day): the unique key makes the morning push happen once."""

    __tablename__ = "report_deliveries"
    __table_args__ = (sa.UniqueConstraint("user_id", "report_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    report_date: Mapped[date] = mapped_column(sa.Date, nullable=False)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="pending")  # pending/sent/failed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
