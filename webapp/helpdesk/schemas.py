"""Request bodies and query strings of seed 003's ``/api/v1`` endpoints."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field, StrictBool, model_validator
from spectree.model_adapter.pydantic_adapter import BaseFile

from webapp.core.limits import BoundedDate, field_error
from webapp.core.schemas import PageQuery, StrictModel
from webapp.helpdesk.models import TicketPriority, TicketStatus

# Seed 003's four roles first, then the platform's others (shown as themselves, see core.roles).
SeedRole = Literal["USER", "HELPER", "MODERATOR", "ADMIN", "SUPERUSER", "REALTOR", "DOCTOR", "MARKETER"]
COLOR = r"^#[0-9a-fA-F]{6}$"


class TicketQuery(PageQuery):
    status: TicketStatus | None = None
    category_id: uuid.UUID | None = None
    priority: TicketPriority | None = None
    assigned_to: uuid.UUID | None = None


class MessagesQuery(PageQuery):
    size: int = Field(50, ge=1, le=100)


class TicketIn(StrictModel):
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=10_000)
    category_id: uuid.UUID | None = None
    priority: TicketPriority = TicketPriority.NORMAL


class TicketUpdate(StrictModel):
    """Only the fields sent are changed; ``assigned_to: null`` unassigns."""

    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=10_000)
    status: TicketStatus | None = None
    priority: TicketPriority | None = None
    category_id: uuid.UUID | None = None
    assigned_to: uuid.UUID | None = None

    @model_validator(mode="after")
    def _no_null_for_required(self):
        for name in ("title", "status", "priority"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise field_error(name, f"{name} cannot be null")
        return self


class MessageIn(StrictModel):
    content: str = Field("", max_length=10_000)
    is_internal: StrictBool = False
    attachments: list[uuid.UUID] = Field(default_factory=list, max_length=10)


class UploadForm(StrictModel):
    file: BaseFile


class CategoryIn(StrictModel):
    name: str = Field(..., min_length=1, max_length=100)
    description: str | None = Field(None, max_length=1000)
    icon: str | None = Field(None, max_length=16)
    color: str = Field("#6c757d", pattern=COLOR)
    is_active: StrictBool = True
    sort_order: int = Field(0, ge=0, le=100_000)
    # The desk the category is for: a desk admin's own (may be left out); a superuser chooses.
    organization_id: int | None = Field(None, ge=1)


class CategoryUpdate(StrictModel):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=1000)
    icon: str | None = Field(None, max_length=16)
    color: str | None = Field(None, pattern=COLOR)
    is_active: StrictBool | None = None
    sort_order: int | None = Field(None, ge=0, le=100_000)


class UsersQuery(PageQuery):
    role: SeedRole | None = None
    is_active: bool | None = None
    search: str | None = Field(None, max_length=100)


class RoleIn(StrictModel):
    role: SeedRole


class StatusIn(StrictModel):
    is_active: StrictBool


class StatisticsQuery(StrictModel):
    from_date: BoundedDate | None = None
    to_date: BoundedDate | None = None
    category_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _ordered(self):
        if self.from_date and self.to_date and self.from_date > self.to_date:
            raise field_error("to_date", "from_date is after to_date")
        return self
