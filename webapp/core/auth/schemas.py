"""Request and response models of the auth endpoints (``webapp.core.auth.api``), with the seeds' field names."""

from __future__ import annotations

from pydantic import BaseModel, Field, RootModel, field_validator

from webapp.core.schemas import StrictModel

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


# --- output ----------------------------------------------------------------------------------------


class UserSeed000(BaseModel):
    """Seed 000's user (``api.user_seed_000``)."""

    id: str
    phone_number: str | None
    language: str | None
    is_active: bool


class UserSeed003(BaseModel):
    """Seed 003's user (``api.user_seed_003``)."""

    id: str
    telegram_id: int | None
    username: str | None
    first_name: str | None
    last_name: str | None
    role: str = Field(description="seed 003's role name: USER, HELPER, ADMIN …")
    is_active: bool
    created_at: str | None
    updated_at: str | None


class TokenPair(BaseModel):
    access: str
    refresh: str


class TelegramTokensOut(TokenPair):
    user: UserSeed000


class TelegramAuthOut(BaseModel):
    authenticated: bool
    user: UserSeed000 | None


class DetailOut(BaseModel):
    detail: str


class WebAppTokensOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    user: UserSeed003


class StaffTokensOut(TokenPair):
    user: UserSeed003


class BotTokenCreatedOut(BaseModel):
    bot_token: str = Field(description="shown once: only its hash is kept")
    expires_at: str | None
    id: int


class BotTokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: str | None
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None


class BotTokenList(RootModel[list[BotTokenOut]]):
    pass


class ServiceWhoamiOut(BaseModel):
    service: str | None = Field(description="the service credential's identity; None for a JWT")
    user: UserSeed003 | None = Field(None, description="present for a JWT")
