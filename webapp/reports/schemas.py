"""Request and response models of seed 004's report endpoints (``webapp.reports.api``)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, field_validator

from webapp.core.limits import DATE_MAX, DATE_MIN, in_date_range
from webapp.core.schemas import StrictModel

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def iso_date(value):
    if value is None or isinstance(value, date):
        return value
    try:
        day = date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError("use a real date in the form YYYY-MM-DD") from exc
    if not in_date_range(day):
        raise ValueError(f"must be between {DATE_MIN} and {DATE_MAX}")
    return day


class DailyQuery(StrictModel):
    date: str | None = Field(None, pattern=DATE_PATTERN, description="YYYY-MM-DD; default: today (local)")

    @field_validator("date")
    @classmethod
    def _real_date(cls, value):
        iso_date(value)  # 2025-02-30 has the right shape but is no date
        return value


class RangeQuery(StrictModel):
    date_from: str = Field(..., pattern=DATE_PATTERN, description="first day, inclusive (YYYY-MM-DD)")
    date_to: str = Field(..., pattern=DATE_PATTERN, description="last day, inclusive (YYYY-MM-DD)")

    _real_date = field_validator("date_from", "date_to")(DailyQuery._real_date.__func__)


class TopItem(BaseModel):
    name: str
    count: int = Field(description="moderation events in the period: added + approved + rejected")
    added: int
    approved: int
    rejected: int


class ReportTotals(BaseModel):
    total_added: int
    total_approved: int
    total_rejected: int
    top_regions: list[TopItem] = Field(description="by city, top 10 by count")
    top_districts: list[TopItem] = Field(description="by district, top 10 by count")
    top_users: list[TopItem] = Field(description="by listing owner (realtor), top 10 by count")


class DailyReportOut(ReportTotals):
    date: str


class RangeReportOut(ReportTotals):
    date_from: str
    date_to: str
