"""The bots the platform serves."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.db import UTCDateTime, utcnow
from webapp.extensions import db


class Vertical(enum.StrEnum):
    CLINIC = "clinic"
    REALTY = "realty"
    REPORTS = "reports"
    HELPDESK = "helpdesk"
    FINANCE = "finance"


class BotMode(enum.StrEnum):
    POLLING = "polling"
    WEBHOOK = "webhook"


class Bot(db.Model):
    __tablename__ = "bots"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    vertical: Mapped[str] = mapped_column(
        sa.Enum(
            *(v.value for v in Vertical), name="bot_vertical", native_enum=False, create_constraint=True, length=16
        ),
        nullable=False,
    )
    # Fernet-encrypted with TOKEN_ENCRYPTION_KEY; never rendered back after creation.
    token_encrypted: Mapped[str] = mapped_column(sa.Text, nullable=False)
    token_fingerprint: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    username: Mapped[str | None] = mapped_column(sa.String(64))
    telegram_bot_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    is_sandbox: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    mode: Mapped[str] = mapped_column(
        sa.Enum(*(m.value for m in BotMode), name="bot_mode", native_enum=False, create_constraint=True, length=16),
        default=BotMode.POLLING.value,
        nullable=False,
    )
    webhook_secret: Mapped[str | None] = mapped_column(sa.String(128))
    rate_limit_per_second: Mapped[int] = mapped_column(sa.Integer, default=30, nullable=False)
    paid_broadcast: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    # The business the bot talks for; NULL: a platform bot (the realty marketplace, reports).
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    def __str__(self) -> str:
        return self.name
