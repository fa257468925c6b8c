"""Personal finance (seed 000): wallets, categories, transactions, goals, debts, voice command log.

Money is ``Numeric(18, 2)`` read as ``Decimal`` everywhere: sums of many small amounts stay exact.
Balances are not stored; they are the sum of a wallet's transactions, so they cannot drift.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import Timestamps, UTCDateTime, UUIDPrimaryKey, utcnow
from webapp.core.models import User
from webapp.extensions import db

MONEY = sa.Numeric(18, 2)
DEFAULT_CURRENCY = "UZS"


def _enum(values: type[enum.StrEnum], name: str) -> sa.Enum:
    return sa.Enum(*(v.value for v in values), name=name, native_enum=False, create_constraint=True, length=16)


class TxType(enum.StrEnum):
    INCOME = "income"
    EXPENSE = "expense"


class TxSource(enum.StrEnum):
    TEXT = "text"
    VOICE = "voice"
    API = "api"
    CONSOLE = "console"


class GoalStatus(enum.StrEnum):
    ACTIVE = "active"
    ACHIEVED = "achieved"
    CANCELLED = "cancelled"


class DebtDirection(enum.StrEnum):
    I_OWE = "i_owe"
    OWED_TO_ME = "owed_to_me"


class VoiceStatus(enum.StrEnum):
    RECEIVED = "received"
    UNAVAILABLE = "unavailable"  # no speech-to-text engine configured
    FAILED = "failed"  # download, conversion or recognition failed
    EMPTY = "empty"  # recognised, but no words
    UNRECOGNISED = "unrecognised"  # words, but not a command the parser understands
    PARSED = "parsed"  # waiting for the user's confirmation
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class Wallet(db.Model):
    __tablename__ = "finance_wallets"
    __table_args__ = (sa.UniqueConstraint("user_id", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    currency: Mapped[str] = mapped_column(sa.String(3), default=DEFAULT_CURRENCY, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    user: Mapped[User] = relationship()

    def __str__(self) -> str:
        return f"{self.user} · {self.currency}"


class Category(db.Model):
    """A built-in category (``user_id`` NULL, created on first use from the parser's table) or a user's own."""

    __tablename__ = "finance_categories"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "code", "type"),
        sa.Index(
            "uq_finance_categories_builtin_code",
            "code",
            "type",
            unique=True,
            postgresql_where=sa.text("user_id IS NULL"),
            sqlite_where=sa.text("user_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32), nullable=False)
    type: Mapped[str] = mapped_column(_enum(TxType, "finance_tx_type"), nullable=False)
    name_ru: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    name_uz: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    name_en: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    # Space-separated word stems; the parser matches a word that starts with one of them.
    keywords: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)

    def name(self, language: str | None) -> str:
        return {"ru": self.name_ru, "uz": self.name_uz}.get(language or "", self.name_en)

    def __str__(self) -> str:
        """The name in the console reader's language (Kazakh readers get the Russian one)."""
        from flask import has_request_context

        from webapp.core.i18n import current_language

        language = current_language() if has_request_context() else "en"
        return self.name("ru" if language == "kk" else language)


class Transaction(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "finance_transactions"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.Index("ix_finance_transactions_user_occurred", "user_id", "occurred_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    wallet_id: Mapped[int] = mapped_column(sa.ForeignKey("finance_wallets.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(_enum(TxType, "finance_tx_type"), nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    category_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("finance_categories.id", ondelete="SET NULL"), index=True
    )
    description: Mapped[str] = mapped_column(sa.String(500), default="", nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    source: Mapped[str] = mapped_column(_enum(TxSource, "finance_tx_source"), default=TxSource.API.value)

    user: Mapped[User] = relationship()
    wallet: Mapped[Wallet] = relationship(lazy="joined")
    category: Mapped[Category | None] = relationship(lazy="joined")

    @property
    def currency(self) -> str:
        return self.wallet.currency

    def __str__(self) -> str:
        return f"{self.type} {self.amount} {self.currency}"


class Goal(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "finance_goals"
    __table_args__ = (
        sa.CheckConstraint("target_amount > 0", name="target_positive"),
        sa.CheckConstraint("saved_amount >= 0", name="saved_not_negative"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    target_amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    saved_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"), nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), default=DEFAULT_CURRENCY, nullable=False)
    deadline: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(_enum(GoalStatus, "finance_goal_status"), default=GoalStatus.ACTIVE.value)
    source: Mapped[str] = mapped_column(_enum(TxSource, "finance_tx_source"), default=TxSource.API.value)

    user: Mapped[User] = relationship()
    deposits: Mapped[list[GoalDeposit]] = relationship(
        back_populates="goal", cascade="all, delete-orphan", order_by="GoalDeposit.created_at"
    )

    def __str__(self) -> str:
        return self.title


class GoalDeposit(db.Model):
    """One contribution to a goal; ``Goal.saved_amount`` is their sum, kept in step by the ledger."""

    __tablename__ = "finance_goal_deposits"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("finance_goals.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    goal: Mapped[Goal] = relationship(back_populates="deposits")


class Debt(UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "finance_debts"
    __table_args__ = (
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.Index("ix_finance_debts_user_open_due", "user_id", "settled", "due_date"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    counterparty: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    direction: Mapped[str] = mapped_column(_enum(DebtDirection, "finance_debt_direction"), nullable=False)
    amount: Mapped[Decimal] = mapped_column(MONEY, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), default=DEFAULT_CURRENCY, nullable=False)
    description: Mapped[str] = mapped_column(sa.String(500), default="", nullable=False)
    due_date: Mapped[date | None] = mapped_column(sa.Date)
    settled: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the "due tomorrow" reminder is claimed: a debt is reminded of once, whatever runs twice.
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(_enum(TxSource, "finance_tx_source"), default=TxSource.API.value)

    user: Mapped[User] = relationship()

    def __str__(self) -> str:
        return f"{self.counterparty}: {self.amount} {self.currency}"


class VoiceCommandLog(db.Model):
    """Seed 000's VoiceCommandLog: every voice note, what was heard, and what it became."""

    __tablename__ = "finance_voice_logs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    bot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bots.id", ondelete="SET NULL"))
    telegram_file_id: Mapped[str | None] = mapped_column(sa.String(255))
    text: Mapped[str] = mapped_column(sa.Text, default="", nullable=False)
    language: Mapped[str | None] = mapped_column(sa.String(8))
    status: Mapped[str] = mapped_column(_enum(VoiceStatus, "finance_voice_status"), nullable=False, index=True)
    original_audio_duration: Mapped[float | None] = mapped_column(sa.Float)  # seconds
    confidence_score: Mapped[float | None] = mapped_column(sa.Float)  # 0..1, the engine's mean word confidence
    engine: Mapped[str | None] = mapped_column(sa.String(32))
    error: Mapped[str | None] = mapped_column(sa.String(500))
    intent: Mapped[str | None] = mapped_column(sa.String(16))
    # What the confirmed command created: ("transaction" | "goal" | "debt", its id).
    result_type: Mapped[str | None] = mapped_column(sa.String(16))
    result_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)

    user: Mapped[User] = relationship()
