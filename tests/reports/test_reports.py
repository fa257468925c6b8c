"""Reports over a hand-made moderation event set: totals, tops, inclusive ranges, local-day edges."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.realty.models import ModerationEvent
from webapp.reports import services as svc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def event_set(app_ctx, make_user, realty):
    """Six events around 2025-09-28 in Asia/Tashkent (UTC+5): local midnight is 19:00 UTC."""
    one = make_user("realtor", first_name="Aziz")
    two = make_user("realtor", first_name="Bobur")
    agency_a, agency_b = realty.agency(), realty.agency()
    rows = [
        # (action, city, district, user, agency, UTC time) — local day in the comment
        ("added", "Tashkent", "Yunusabad", one, agency_a, "2025-09-27T19:00:00"),  # 28th 00:00
        ("added", "Tashkent", "Chilanzar", one, agency_a, "2025-09-28T10:00:00"),  # 28th
        ("approved", "Tashkent", "Yunusabad", one, agency_a, "2025-09-28T18:59:59"),  # 28th 23:59:59
        ("rejected", "Almaty", "Medeu", two, agency_b, "2025-09-28T19:00:00"),  # 29th 00:00
        ("added", "Almaty", "Medeu", two, agency_b, "2025-09-27T18:59:00"),  # 27th 23:59
        ("added", "Samarkand", None, two, agency_b, "2025-09-28T12:00:00"),  # 28th
    ]
    for action, city, district, user, agency, when in rows:
        db.session.add(
            ModerationEvent(
                action=action, city=city, district=district, user_id=user.id, agency_id=agency.id, occurred_at=at(when)
            )
        )
    db.session.commit()
    return {"one": one, "two": two, "a": agency_a, "b": agency_b}


def test_daily_report_counts_the_local_day(event_set):
    report = svc.daily_report(date(2025, 9, 28))
    assert report == {
        "date": "2025-09-28",
        "total_added": 3,
        "total_approved": 1,
        "total_rejected": 0,
        "top_regions": [
            {"name": "Tashkent", "count": 3, "added": 2, "approved": 1, "rejected": 0},
            {"name": "Samarkand", "count": 1, "added": 1, "approved": 0, "rejected": 0},
        ],
        "top_districts": [
            {"name": "Yunusabad", "count": 2, "added": 1, "approved": 1, "rejected": 0},
            {"name": "Chilanzar", "count": 1, "added": 1, "approved": 0, "rejected": 0},
        ],
        "top_users": [
            {"name": "Aziz", "count": 3, "added": 2, "approved": 1, "rejected": 0},
            {"name": "Bobur", "count": 1, "added": 1, "approved": 0, "rejected": 0},
        ],
    }


def test_neighbouring_days_get_the_edge_events(event_set):
    assert svc.daily_report(date(2025, 9, 27))["total_added"] == 1
    day29 = svc.daily_report(date(2025, 9, 29))
    assert (day29["total_added"], day29["total_rejected"]) == (0, 1)
    assert day29["top_regions"] == [{"name": "Almaty", "count": 1, "added": 0, "approved": 0, "rejected": 1}]


def test_range_is_inclusive_on_both_ends(event_set):
    report = svc.range_report(date(2025, 9, 27), date(2025, 9, 29))
    assert (report["date_from"], report["date_to"]) == ("2025-09-27", "2025-09-29")
    assert (report["total_added"], report["total_approved"], report["total_rejected"]) == (4, 1, 1)
    assert [(i["name"], i["count"]) for i in report["top_regions"]] == [
        ("Tashkent", 3),
        ("Almaty", 2),
        ("Samarkand", 1),
    ]
    assert [(i["name"], i["count"]) for i in report["top_users"]] == [("Aziz", 3), ("Bobur", 3)]  # tie: by name
    one_day = svc.range_report(date(2025, 9, 28), date(2025, 9, 28))
    assert {k: v for k, v in one_day.items() if k.startswith(("total", "top"))} == {
        k: v for k, v in svc.daily_report(date(2025, 9, 28)).items() if k != "date"
    }
    assert svc.range_report(date(2025, 9, 30), date(2025, 10, 5))["total_added"] == 0


def test_another_time_zone_moves_the_day_boundary(event_set, app):
    app.config["DEFAULT_TIMEZONE"] = "UTC"
    try:
        report = svc.daily_report(date(2025, 9, 28))
    finally:
        app.config["DEFAULT_TIMEZONE"] = "Asia/Tashkent"
    # In UTC the 28th holds E2, E3, E4 and E6.
    assert (report["total_added"], report["total_approved"], report["total_rejected"]) == (2, 1, 1)


def test_agency_scope(event_set):
    report = svc.range_report(date(2025, 9, 27), date(2025, 9, 29), agency_id=event_set["b"].id)
    assert (report["total_added"], report["total_rejected"]) == (2, 1)
    assert [i["name"] for i in report["top_users"]] == ["Bobur"]


def test_tops_hold_at_most_ten(app_ctx):
    for n in range(12):
        for _ in range(n + 1):
            db.session.add(ModerationEvent(action="added", city=f"City {n:02d}", occurred_at=at("2025-09-28T06:00:00")))
    db.session.commit()
    top = svc.daily_report(date(2025, 9, 28))["top_regions"]
    assert [i["name"] for i in top] == [f"City {n:02d}" for n in range(11, 1, -1)]


@pytest.mark.parametrize(
    "date_from,date_to,field",
    [(date(2025, 9, 2), date(2025, 9, 1), "date_from"), (date(2024, 1, 1), date(2025, 1, 1), "date_to")],
)
def test_bad_ranges(app_ctx, date_from, date_to, field):
    with pytest.raises(ServiceError) as err:
        svc.range_report(date_from, date_to)
    assert (err.value.status, err.value.field) == (422, field)
    svc.range_report(date(2024, 1, 1), date(2024, 12, 31))  # 366 days (leap year) is allowed


def test_report_text_for_the_bot(event_set):
    text = svc.format_report(svc.daily_report(date(2025, 9, 28)), "en")
    assert "2025-09-28" in text and "Added: 3" in text and "1. Tashkent — 3" in text and "1. Aziz — 3" in text
