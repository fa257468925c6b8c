"""Seed 004's report endpoints: ``GET /api/reports/daily/`` and ``GET /api/reports/range/``.

Auth: a JWT of the platform's moderator or superuser (every agency's figures) or of an agency's admin
(their own agency's; an admin of an organization that is no agency reads zeros), or an
``X-Bot-Token`` (the platform's service credential: every agency; a token an agency's admin issued
reads only what its issuer may). Dates are local days of ``DEFAULT_TIMEZONE``;
a bad date, ``date_from`` after ``date_to`` or a range over 366 days answers 422 in the API error
format with the offending field. The body shape is documented in ``webapp.reports.services``.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from webapp.core.apispec import JWT_OR_BOT_TOKEN, spec
from webapp.core.permissions import SERVICE_BOT_TOKEN, require_role
from webapp.core.roles import Role
from webapp.core.schemas import SEED_004_ERRORS, responses
from webapp.reports import access, services
from webapp.reports.schemas import DailyQuery, DailyReportOut, RangeQuery, RangeReportOut
from webapp.reports.schemas import iso_date as _iso_date

bp = Blueprint("reports_api", __name__)


def _scope() -> int | None:
    service = g.get("service")
    return access.report_scope(g.user) if service is None else access.service_scope(service)


@bp.get("/api/reports/daily/")
@require_role(Role.MODERATOR, Role.ADMIN, service=SERVICE_BOT_TOKEN)
@spec.validate(
    query=DailyQuery,
    resp=responses(DailyReportOut, errors=SEED_004_ERRORS),
    tags=["reports"],
    security=JWT_OR_BOT_TOKEN,
)
def daily(query: DailyQuery):
    """Moderation figures of one local day: totals added/approved/rejected and top regions/districts/users."""
    day = _iso_date(query.date) or services.local_today()
    return jsonify(services.daily_report(day, _scope()))


@bp.get("/api/reports/range/")
@require_role(Role.MODERATOR, Role.ADMIN, service=SERVICE_BOT_TOKEN)
@spec.validate(
    query=RangeQuery,
    resp=responses(RangeReportOut, errors=SEED_004_ERRORS),
    tags=["reports"],
    security=JWT_OR_BOT_TOKEN,
)
def date_range(query: RangeQuery):
    """Moderation figures of the local days date_from..date_to (inclusive, at most 366 days)."""
    return jsonify(services.range_report(_iso_date(query.date_from), _iso_date(query.date_to), _scope()))
