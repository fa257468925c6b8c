"""Accounts shared by staff and Telegram users, audit trail, e-mail link codes, service tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.core.db import Timestamps, UTCDateTime, UUIDPrimaryKey, utcnow
from webapp.core.roles import Role
from webapp.extensions import db

ROLE_VALUES = tuple(r.value for r in Role)


class User(UserMixin, UUIDPrimaryKey, Timestamps, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        # Segments probe it per candidate account: index-only, no heap fetch for the flag.
        sa.Index(
            "ix_users_active_id",
            "id",
            postgresql_where=sa.text("is_active"),
            sqlite_where=sa.text("is_active"),
        ),
    )

    username: Mapped[str | None] = mapped_column(sa.String(150), unique=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    first_name: Mapped[str | None] = mapped_column(sa.String(150))
    last_name: Mapped[str | None] = mapped_column(sa.String(150))
    language: Mapped[str] = mapped_column(sa.String(8), default="ru", nullable=False)
    role: Mapped[str] = mapped_column(
        sa.Enum(*ROLE_VALUES, name="user_role", native_enum=False, create_constraint=True, length=16),
        default=Role.USER.value,
        nullable=False,
        index=True,
    )
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    telegram_accounts: Mapped[list[TelegramAccount]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def display_name(self) -> str:
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        return full or self.username or self.email or self.phone or str(self.id)

    @property
    def primary_telegram(self) -> TelegramAccount | None:
        return self.telegram_accounts[0] if self.telegram_accounts else None

    def __str__(self) -> str:
        return self.display_name


class Organization(db.Model):
    """One business on the platform: a clinic, a rental agency, a support desk, a finance service.

    It owns its bots, its vertical data, its segments and broadcasts and its staff memberships; the
    access layer of each vertical (``webapp/<vertical>/access.py``) confines staff to their own."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True, nullable=False)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    def __str__(self) -> str:
        return self.name


class Membership(db.Model):
    """A staff account's organization. The account's role (``User.role``) says what it does there:
    an account holds one role, so an organization role (admin, doctor, realtor, helper, marketer)
    needs exactly one membership, and platform roles and customers have none (``user_id`` is the
    primary key)."""

    __tablename__ = "memberships"

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    organization: Mapped[Organization] = relationship(lazy="joined")
    user: Mapped[User] = relationship(lazy="joined")


class TelegramPerson(db.Model):
    """Which User a Telegram user id is. Telegram ids are global, so one person is one User whichever
    bots they talk to; the primary key decides when first contacts on several bots race."""

    __tablename__ = "telegram_people"

    telegram_user_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)


class TelegramAccount(db.Model):
    """A Telegram user as one bot sees them. ``bot_id`` NULL: the platform's default bot."""

    __tablename__ = "telegram_accounts"
    __table_args__ = (
        sa.UniqueConstraint("bot_id", "telegram_user_id"),
        sa.Index(
            "uq_telegram_accounts_default_bot_user",
            "telegram_user_id",
            unique=True,
            postgresql_where=sa.text("bot_id IS NULL"),
            sqlite_where=sa.text("bot_id IS NULL"),
        ),
        # A broadcast segment looks up each candidate user's account on one bot and whether it is
        # reachable; covering those columns answers it from the index (migration 0005).
        sa.Index(
            "ix_telegram_accounts_user_id",
            "user_id",
            "bot_id",
            postgresql_include=["blocked_bot", "chat_id"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    bot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bots.id", ondelete="CASCADE"), index=True)
    telegram_user_id: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    chat_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    username: Mapped[str | None] = mapped_column(sa.String(64))
    first_name: Mapped[str | None] = mapped_column(sa.String(150))
    last_name: Mapped[str | None] = mapped_column(sa.String(150))
    language: Mapped[str | None] = mapped_column(sa.String(8))
    blocked_bot: Mapped[bool] = mapped_column(sa.Boolean, default=False, nullable=False)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Seed 000's BotSession counters live with the account they describe.
    messages_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    voice_messages_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    commands_executed: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)

    user: Mapped[User] = relationship(back_populates="telegram_accounts")

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else str(self.telegram_user_id)


class AuditLog(db.Model):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    target_type: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    target_id: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    old_value: Mapped[str | None] = mapped_column(sa.Text)
    new_value: Mapped[str | None] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.String(16), default="api", nullable=False)  # api/console/bot/cli

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])


class LinkCode(db.Model):
    """A 6-digit code e-mailed to link a Telegram account to a staff account (seed 001 /link)."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    telegram_account_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("telegram_accounts.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(sa.String(128), nullable=False)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class ServiceToken(db.Model):
    """A revocable `X-Bot-Token` (seed 004); only its SHA-256 is stored."""

    __tablename__ = "service_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), nullable=False, default="bot")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    # The organization the token calls for (its creator's); NULL: a platform token (a superuser's).
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_by: Mapped[User | None] = relationship()

    def is_valid(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
