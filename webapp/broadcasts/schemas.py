"""Request and response models of the broadcast API (seed 002's ``/api/bot/broadcast/...`` and the
console's ``/api/broadcasts/...``, ``webapp.broadcasts.api``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from webapp.broadcasts.models import BroadcastStatus, DeliveryStatus
from webapp.core.limits import BoundedDatetime
from webapp.core.schemas import PageQuery, StrictModel, page_model

# --- input --------------------------------------------------------------------------------

Title = Field(min_length=1, max_length=200)
Text = Field(None, min_length=1, max_length=20_000)


class ButtonIn(StrictModel):
    text: str = Field(min_length=1, max_length=64)
    url: str | None = Field(None, max_length=2048)
    callback_data: str | None = Field(None, max_length=64)


class BroadcastIn(StrictModel):
    """Seed 002's payload (``title``, ``text_ru``/``text_kk``, ``segment_filters(_json)``, ``scheduled_at``)
    and ours (``text``, ``texts``, ``segment_id``, ``buttons``, ``bot_id``)."""

    bot_id: int | None = Field(None, ge=1)
    title: str = Title
    text: str | None = Text
    text_ru: str | None = Text
    text_kk: str | None = Text
    texts: dict[Literal["ru", "kk", "uz", "en"], str] | None = None
    segment_id: int | None = Field(None, ge=1)
    segment_filters: dict[str, Any] | None = None
    segment_filters_json: dict[str, Any] | None = None
    buttons: list[list[ButtonIn]] | None = Field(None, max_length=10)
    scheduled_at: BoundedDatetime | None = None
    allow_paid_broadcast: bool = False


class BroadcastPatch(StrictModel):
    title: str | None = Field(None, min_length=1, max_length=200)
    text: str | None = Text
    texts: dict[Literal["ru", "kk", "uz", "en"], str] | None = None
    segment_id: int | None = Field(None, ge=1)
    segment_filters: dict[str, Any] | None = None
    buttons: list[list[ButtonIn]] | None = Field(None, max_length=10)
    allow_paid_broadcast: bool | None = None


class ScheduleIn(StrictModel):
    scheduled_at: BoundedDatetime


class SegmentIn(StrictModel):
    bot_id: int = Field(ge=1)
    name: str = Field(min_length=1, max_length=150)
    description: str | None = Field(None, max_length=2000)
    filters: dict[str, Any] = Field(default_factory=dict)


class SegmentPatch(StrictModel):
    name: str | None = Field(None, min_length=1, max_length=150)
    description: str | None = Field(None, max_length=2000)
    filters: dict[str, Any] | None = None


class PreviewIn(StrictModel):
    bot_id: int = Field(ge=1)
    filters: dict[str, Any] = Field(default_factory=dict)


class SegmentQuery(PageQuery):
    bot_id: int | None = Field(None, ge=1)


class BroadcastQuery(PageQuery):
    bot_id: int | None = Field(None, ge=1)
    status: Literal[tuple(s.value for s in BroadcastStatus)] | None = None  # type: ignore[valid-type]
    q: str | None = Field(None, max_length=200)


class DeliveryQuery(PageQuery):
    status: Literal[tuple(s.value for s in DeliveryStatus)] | None = None  # type: ignore[valid-type]


# --- output ----------------------------------------------------------------------------------------


class SegmentOut(BaseModel):
    id: int
    bot_id: int
    name: str
    description: str | None
    filters: dict[str, Any]
    created_by: str | None
    created_at: str | None
    updated_at: str | None


class ButtonOut(BaseModel):
    text: str
    url: str | None = None
    callback_data: str | None = None


class BroadcastOut(BaseModel):
    id: int
    bot_id: int
    bot: str = Field(description="the bot's name")
    title: str
    text: str
    texts: dict[str, str] = Field(description="language → text, besides the main text")
    text_ru: str | None
    text_kk: str | None
    buttons: list[list[ButtonOut]]
    has_photo: bool
    segment_id: int | None
    segment_filters: dict[str, Any] | None
    allow_paid_broadcast: bool
    status: str
    scheduled_at: str | None
    started_at: str | None
    finished_at: str | None
    total_recipients: int
    sent_count: int
    delivered_count: int = Field(description="the same as sent_count (seed 002's name)")
    failed_count: int
    blocked_count: int
    unknown_count: int
    pending_count: int
    last_error: str | None
    created_by: str | None
    created_by_name: str | None
    created_at: str | None
    updated_at: str | None


class BroadcastStatsOut(BaseModel):
    """Live figures counted from the delivery rows."""

    id: int
    status: str
    total_recipients: int
    sent_count: int
    delivered_count: int
    failed_count: int
    blocked_count: int
    unknown_count: int
    pending_count: int
    sending_count: int
    progress_percent: float
    rate_per_second: float
    eta_seconds: int | None
    scheduled_at: str | None
    started_at: str | None
    finished_at: str | None


class DeliveryOut(BaseModel):
    id: int
    telegram_account_id: int | None
    chat_id: int | None = Field(description="null unless the caller may see recipients' identities")
    language: str | None
    status: str
    attempts: int
    telegram_message_id: int | None
    error: str | None
    sending_at: str | None
    finished_at: str | None


SegmentPage = page_model(SegmentOut)
BroadcastPage = page_model(BroadcastOut)
DeliveryPage = page_model(DeliveryOut)


class SampleRecipient(BaseModel):
    first_name: str | None


class PreviewOut(BaseModel):
    """The audience before sending: a count, who is left out and why (counts), first names only."""

    bot_id: int
    filters: dict[str, Any]
    count: int
    left_out: dict[str, int] = Field(description="reason → how many the filters match but cannot be reached")
    sample: list[SampleRecipient]


class SendTestOut(BaseModel):
    ok: bool
    chat_id: int
    message_id: int | None
