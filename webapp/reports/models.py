"""Who gets the daily report every morning (which mornings they got it: the outbox's dedupe keys)."""

from __future__ import annotations

import uuid
from datetime import datetime

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
