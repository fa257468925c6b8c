"""The bots the platform serves."""

from __future__ import annotations

import enum
import uuid
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


class OutboundStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the delivery job (again, after a transient failure)
    SENDING = "sending"  # claimed by one delivery job, which committed the claim before sending
    SENT = "sent"
    FAILED = "failed"  # Telegram refused it, or transient failures ran out of attempts
    BLOCKED = "blocked"  # the user blocked the bot (403); their account is marked too
    UNKNOWN = "unknown"  # a delivery died mid-send: Telegram may or may not have it; never re-sent


class OutboundMessage(db.Model):
    """One message to one chat, written in the same transaction as the change that causes it.

    ``dedupe_key`` (``reminder:<appointment>:<kind>:<start>``, ``ticket-reply:<message>:<recipient>``,
    ``booking-push:…``, ``report:<user>:<day>``, ``debt:<debt>:<due date>``) makes the write
    exactly-once: a second write of the same key is a no-op. Delivery is the one job in
    ``webapp.telegram.outbox``. ``subject`` names what the message is about (``helpdesk_ticket:<id>``),
    so a reply-to in Telegram can find it again by ``telegram_message_id``.
    """

    __tablename__ = "outbound_messages"
    __table_args__ = (
        # The delivery job's claim: the oldest pending rows that are due.
        sa.Index(
            "ix_outbound_messages_pending",
            "next_attempt_at",
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        ),
        sa.Index("ix_outbound_messages_chat_message", "bot_id", "chat_id", "telegram_message_id"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    bot_id: Mapped[int] = mapped_column(sa.ForeignKey("bots.id", ondelete="CASCADE"), nullable=False)
    chat_id: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    subject: Mapped[str | None] = mapped_column(sa.String(80))
    text: Mapped[str | None] = mapped_column(sa.Text)
    parse_mode: Mapped[str | None] = mapped_column(sa.String(16))
    reply_markup: Mapped[dict | None] = mapped_column(sa.JSON)
    # Files sent after the text: [{"source": "<module>:<function>", "ref": "<id>"}]; the function
    # returns (kind "photo"/"document", bytes, filename, mime type), read at delivery time.
    attachments: Mapped[list | None] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(
        sa.Enum(
            *(s.value for s in OutboundStatus),
            name="outbound_status",
            native_enum=False,
            create_constraint=True,
            length=16,
        ),
        default=OutboundStatus.PENDING.value,
        nullable=False,
    )
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    last_error: Mapped[str | None] = mapped_column(sa.String(300))
    telegram_message_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
