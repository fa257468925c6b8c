"""Seed 004's report endpoints: ``GET /api/reports/daily/`` and ``GET /api/reports/range/``.

Auth: a JWT of the platform's moderator or superuser (every agency's figures) or of an agency's admin
(their own agency's; an admin of an organization that is no agency reads zeros), or an
``X-Bot-Token`` (the platform's service credential: every agency; a token an agency's admin issued
reads only what its issuer may). Dates are local days of ``DEFAULT_TIMEZONE``;
a bad date, ``date_from`` after ``date_to`` or a range over 366 days answers 422 in the API error
format with the offending field. The body shape is documented in ``webapp.reports.services``.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, g, jsonify
from pydantic import BaseModel, Field, field_validator
from spectree import Response

from webapp.core.apispec import JWT_OR_BOT_TOKEN, StrictModel, spec
from webapp.core.limits import DATE_MAX, DATE_MIN, in_date_range
from webapp.core.permissions import SERVICE_BOT_TOKEN, require_role
from webapp.core.roles import Role
from webapp.reports import access, services

bp = Blueprint("reports_api", __name__)

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _iso_date(value):
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
        _iso_date(value)  # 2025-02-30 has the right shape but is no date
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


def _scope() -> int | None:
    service = g.get("service")
    return access.report_scope(g.user) if service is None else access.service_scope(service)


@bp.get("/api/reports/daily/")
@require_role(Role.MODERATOR, Role.ADMIN, service=SERVICE_BOT_TOKEN)
@spec.validate(query=DailyQuery, resp=Response(HTTP_200=DailyReportOut), tags=["reports"], security=JWT_OR_BOT_TOKEN)
def daily(query: DailyQuery):
    """Moderation figures of one local day: totals added/approved/rejected and top regions/districts/users."""
    day = _iso_date(query.date) or services.local_today()
    return jsonify(services.daily_report(day, _scope()))


@bp.get("/api/reports/range/")
@require_role(Role.MODERATOR, Role.ADMIN, service=SERVICE_BOT_TOKEN)
@spec.validate(query=RangeQuery, resp=Response(HTTP_200=RangeReportOut), tags=["reports"], security=JWT_OR_BOT_TOKEN)
def date_range(query: RangeQuery):
    """Moderation figures of the local days date_from..date_to (inclusive, at most 366 days)."""
    return jsonify(services.range_report(_iso_date(query.date_from), _iso_date(query.date_to), _scope()))
