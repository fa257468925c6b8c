"""Request bodies of the auth endpoints, with the seeds' field names."""

from __future__ import annotations

from pydantic import Field, field_validator

from webapp.core.apispec import StrictModel

CHAT_ID_PATTERN = r"^-?\d{1,16}$"  # Telegram ids have at most 52 significant bits


class TelegramRegisterIn(StrictModel):
    telegram_chat_id: str = Field(..., pattern=CHAT_ID_PATTERN, description="Telegram chat id (digits)")
    phone_number: str | None = Field(None, max_length=32)
    language: str | None = Field(None, max_length=8)
    first_name: str | None = Field(None, max_length=150)
    last_name: str | None = Field(None, max_length=150)
    username: str | None = Field(None, max_length=64)

    @field_validator("telegram_chat_id", mode="before")
    @classmethod
    def _int_to_str(cls, value):
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class TelegramLoginIn(StrictModel):
    telegram_chat_id: str = Field(..., pattern=CHAT_ID_PATTERN)
    phone_number: str | None = Field(None, max_length=32)

    _int_to_str = field_validator("telegram_chat_id", mode="before")(TelegramRegisterIn._int_to_str.__func__)


class TelegramAuthIn(StrictModel):
    telegram_chat_id: str = Field(..., pattern=CHAT_ID_PATTERN)

    _int_to_str = field_validator("telegram_chat_id", mode="before")(TelegramRegisterIn._int_to_str.__func__)


class RefreshIn(StrictModel):
    refresh: str = Field(..., min_length=10, max_length=4096)


class LogoutIn(StrictModel):
    refresh: str | None = Field(None, min_length=10, max_length=4096)


class WebAppAuthIn(StrictModel):
    initData: str = Field(..., min_length=1, max_length=8192)  # noqa: N815 - seed 003's name
    hash: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$")


class ProfileIn(StrictModel):
    first_name: str | None = Field(None, min_length=1, max_length=150)
    last_name: str | None = Field(None, max_length=150)
    username: str | None = Field(None, min_length=3, max_length=150, pattern=r"^[A-Za-z0-9_.@+-]+$")
    language: str | None = Field(None, pattern=r"^(ru|kk|uz|en)$")


class StaffLoginIn(StrictModel):
    username: str | None = Field(None, min_length=1, max_length=254)
    email: str | None = Field(None, min_length=3, max_length=254)
    password: str = Field(..., min_length=1, max_length=512)


class BotTokenIn(StrictModel):
    name: str = Field("bot", min_length=1, max_length=100)
    expires_in_days: int | None = Field(None, ge=1, le=3650)
