"""Response models of the webhook endpoints (``webapp.telegram.api``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, RootModel

from webapp.core.schemas import ErrorBody


class WebhookAck(RootModel[Literal["OK"]]):
    """Every update Telegram delivers is acknowledged, a malformed one too (it would be re-sent forever)."""


class WebhookStatusOut(BaseModel):
    status: Literal["ok", "no_bot"]
    bot: str | None  # "@username"
    mode: str | None  # polling or webhook


WEBHOOK_ERRORS = {400: ErrorBody, 403: ErrorBody, 404: ErrorBody}
