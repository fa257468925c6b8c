"""Bodies of the sandbox's test/ops API (``/sandbox/api/...``)."""

from __future__ import annotations

import base64
import binascii

from pydantic import Field, field_validator, model_validator

from webapp.core.limits import field_error
from webapp.core.schemas import StrictModel


class BotIn(StrictModel):
    username: str = Field(min_length=5, max_length=32)
    first_name: str | None = Field(None, min_length=1, max_length=64)
    token: str | None = Field(None, max_length=100)  # register a given token (e.g. TELEGRAM_BOT_TOKEN)


class UserIn(StrictModel):
    first_name: str = Field(min_length=1, max_length=64)
    last_name: str | None = Field(None, max_length=64)
    username: str | None = Field(None, pattern=r"^[A-Za-z][A-Za-z0-9_]{4,31}$")
    language_code: str | None = Field(None, pattern=r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
    phone_number: str | None = Field(None, pattern=r"^\+?[0-9]{5,15}$")
    user_id: int | None = Field(None, ge=1)  # an existing sandbox user opens this bot too


class ContactIn(StrictModel):
    phone_number: str = Field(pattern=r"^\+?[0-9 ()-]{5,20}$")
    first_name: str | None = Field(None, min_length=1, max_length=64)
    last_name: str | None = Field(None, max_length=64)
    user_id: int | None = Field(None, ge=1)  # whose contact it is; default: the sender's own


class FileIn(StrictModel):
    content: str = Field(min_length=1, description="the file's bytes, base64-encoded")
    file_name: str | None = Field(None, min_length=1, max_length=255)
    mime_type: str | None = Field(None, pattern=r"^[\w.+-]+/[\w.+-]+$")

    @field_validator("content")
    @classmethod
    def _base64(cls, value: str) -> str:
        try:
            if not base64.b64decode(value, validate=True):
                raise ValueError("the file is empty")
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"content must be non-empty base64 ({exc})") from None
        return value

    def data(self) -> bytes:
        return base64.b64decode(self.content)


class VoiceIn(FileIn):
    duration: int = Field(1, ge=0, le=24 * 3600)


MESSAGE_KINDS = ("text", "contact", "document", "photo", "voice")


class MessageIn(StrictModel):
    user_id: int
    text: str | None = Field(None, max_length=4096)
    contact: ContactIn | None = None
    document: FileIn | None = None
    photo: FileIn | None = None
    voice: VoiceIn | None = None
    caption: str | None = Field(None, max_length=1024)
    reply_to_message_id: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one_kind(self) -> MessageIn:
        given = [kind for kind in MESSAGE_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            raise field_error(given[1] if len(given) > 1 else "text", f"give exactly one of {', '.join(MESSAGE_KINDS)}")
        if self.text is not None and not self.text.strip():
            raise field_error("text", "text must not be empty")
        return self


class CallbackIn(StrictModel):
    user_id: int
    message_id: int = Field(ge=1)
    data: str = Field(min_length=1, max_length=64)


class LimitsIn(StrictModel):
    per_second: int = Field(ge=1, le=100_000)
    per_chat_per_second: float = Field(gt=0, le=100_000)
    per_chat_burst: int | None = Field(None, ge=1, le=100_000)
