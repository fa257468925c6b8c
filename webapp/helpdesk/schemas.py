"""Request and response models of seed 003's ``/api/v1`` endpoints (``webapp.helpdesk.api``); the
response payloads are built in ``webapp.helpdesk.serializers``, shared with the live events."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field, RootModel, StrictBool, model_validator
from spectree.model_adapter.pydantic_adapter import BaseFile

from webapp.core.auth.schemas import UserSeed003
from webapp.core.limits import BoundedDate, field_error
from webapp.core.schemas import PageQuery, StrictModel, page_model
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


# --- output ----------------------------------------------------------------------------------------


class PersonOut(BaseModel):
    """A staff member or author as others see them: no contact details."""

    id: str
    first_name: str | None
    role: str


class CustomerOut(BaseModel):
    id: str
    telegram_id: int | None = Field(description="shown for customers only")
    first_name: str | None
    username: str | None


class CategoryBrief(BaseModel):
    id: str
    name: str
    icon: str | None
    color: str | None


class CategoryOut(BaseModel):
    id: str
    name: str
    description: str | None
    icon: str | None
    color: str | None
    is_active: bool
    sort_order: int


class CategoryList(RootModel[list[CategoryOut]]):
    pass


class FileOut(BaseModel):
    id: str
    filename: str
    size: int
    content_type: str
    url: str
    created_at: str | None


class TicketCreatedOut(BaseModel):
    id: str
    title: str
    description: str
    status: str
    priority: str
    category_id: str | None
    user_id: str
    created_at: str | None


class TicketFields(BaseModel):
    """What a ticket's page and its row in a list both show, in seed 003's order."""

    id: str
    title: str
    description: str
    status: str
    priority: str
    category: CategoryBrief | None
    user: CustomerOut
    assigned_to: PersonOut | None
    created_at: str | None
    updated_at: str | None


class TicketOut(TicketFields):
    closed_at: str | None
    first_response_at: str | None


class TicketListItem(TicketFields):
    messages_count: int = Field(description="the messages the viewer may read")
    last_message_at: str | None


class MessageOut(BaseModel):
    id: str
    ticket_id: str
    content: str
    user: PersonOut | None
    attachments: list[FileOut]
    is_internal: bool
    created_at: str | None


class MessageCreatedOut(BaseModel):
    id: str
    content: str
    user_id: str | None
    ticket_id: str
    is_internal: bool
    attachments: list[FileOut]
    created_at: str | None


class MessageText(BaseModel):
    """Seed 003's confirmation of a deletion."""

    message: str


class UserOut(UserSeed003):
    tickets_count: int
    last_activity: str | None


TicketPage = page_model(TicketListItem, "TicketPage")
MessagePage = page_model(MessageOut)
UserPage = page_model(UserOut)


class TicketCounts(BaseModel):
    total: int
    open: int
    in_progress: int
    waiting_response: int
    resolved: int
    closed: int


class ResponseTime(BaseModel):
    average_hours: float | None
    median_hours: float | None
    responded: int


class CategoryCount(BaseModel):
    id: str | None
    name: str | None
    icon: str | None
    color: str | None
    count: int
    percentage: float


class HelperLoad(BaseModel):
    user: PersonOut
    tickets_handled: int
    avg_response_time: float | None = Field(description="hours")


class DashboardOut(BaseModel):
    tickets: TicketCounts
    response_time: ResponseTime
    categories: list[CategoryCount]
    helpers: list[HelperLoad]
    priorities: dict[str, int] = Field(description="priority → open tickets")


class StatisticsPeriod(BaseModel):
    from_date: str | None
    to_date: str | None
    timezone: str


class DayFigures(BaseModel):
    date: str
    created: int
    by_status: dict[str, int]
    resolved: int
    closed: int
    avg_response_hours: float | None


class TicketStatisticsOut(DashboardOut):
    period: StatisticsPeriod
    daily: list[DayFigures]
