"""Statistics against a hand-made ticket set whose averages and medians are known."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.organizations import default_organization_id
from webapp.core.models import User
from webapp.extensions import db
from webapp.helpdesk.models import Ticket, TicketCategory, TicketStatusChange
from webapp.helpdesk.services import ticket_statistics


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2024, 1, day, hour, tzinfo=UTC)


@pytest.fixture
def ticket_set(app, make_user):
    """Five tickets: first responses after 1, 2, 3 and 10 hours, one unanswered."""
    customer, h1, h2 = make_user("user"), make_user("helper"), make_user("helper", first_name="Second")
    with app.app_context():
        desk = default_organization_id()
        pay = TicketCategory(name="Оплата и подписка", icon="💳", color="#ff6b6b", sort_order=1, organization_id=desk)
        tech = TicketCategory(
            name="Технические проблемы", icon="🔧", color="#4ecdc4", sort_order=2, organization_id=desk
        )
        db.session.add_all([pay, tech])
        rows = [
            # (category, created, hours to first response, assignee, status)
            (pay, at(1), 1, h1, "CLOSED"),
            (pay, at(2), 2, h1, "RESOLVED"),
            (tech, at(3), 3, h2, "IN_PROGRESS"),
            (tech, at(10, 0), 10, h2, "WAITING_RESPONSE"),
            (pay, at(10, 12), None, None, "OPEN"),
        ]
        for n, (category, created, hours, helper, status) in enumerate(rows):
            ticket = Ticket(
                title=f"T{n}",
                category=category,
                organization_id=desk,
                user_id=customer.id,
                assigned_to_id=helper.id if helper else None,
                status=status,
                created_at=created,
                first_response_at=created + timedelta(hours=hours) if hours is not None else None,
            )
            db.session.add(ticket)
            db.session.flush()
            if status in ("RESOLVED", "CLOSED"):
                db.session.add(
                    TicketStatusChange(
                        ticket_id=ticket.id, old_status="IN_PROGRESS", new_status=status, created_at=at(4)
                    )
                )
        db.session.commit()
        return {"pay": pay.id, "tech": tech.id, "h1": h1.id, "h2": h2.id}


def test_all_time_figures(app_ctx, ticket_set):
    stats = ticket_statistics()
    assert stats["tickets"] == {
        "total": 5,
        "open": 1,
        "in_progress": 1,
        "waiting_response": 1,
        "resolved": 1,
        "closed": 1,
    }
    assert stats["response_time"] == {"average_hours": 4.0, "median_hours": 2.5, "responded": 4}
    assert [(c["name"], c["count"], c["percentage"]) for c in stats["categories"]] == [
        ("Оплата и подписка", 3, 60.0),
        ("Технические проблемы", 2, 40.0),
    ]
    helpers = {h["user"]["id"]: (h["tickets_handled"], h["avg_response_time"]) for h in stats["helpers"]}
    assert helpers == {str(ticket_set["h1"]): (2, 1.5), str(ticket_set["h2"]): (2, 6.5)}
    assert all(h["user"]["role"] == "HELPER" for h in stats["helpers"])
    assert stats["priorities"]["NORMAL"] == 5


def test_date_range_counts_whole_days(app_ctx, ticket_set):
    stats = ticket_statistics(from_date=date(2024, 1, 1), to_date=date(2024, 1, 3))
    assert stats["tickets"]["total"] == 3
    assert stats["response_time"] == {"average_hours": 2.0, "median_hours": 2.0, "responded": 3}
    only_tenth = ticket_statistics(from_date=date(2024, 1, 10), to_date=date(2024, 1, 10))
    assert only_tenth["tickets"]["total"] == 2
    assert only_tenth["response_time"]["median_hours"] == 10.0


def test_category_filter(app_ctx, ticket_set):
    stats = ticket_statistics(category_id=ticket_set["tech"])
    assert stats["tickets"]["total"] == 2
    assert stats["response_time"] == {"average_hours": 6.5, "median_hours": 6.5, "responded": 2}
    assert [(c["name"], c["percentage"]) for c in stats["categories"]] == [("Технические проблемы", 100.0)]
    assert [h["user"]["id"] for h in stats["helpers"]] == [str(ticket_set["h2"])]


def test_daily_series(app_ctx, ticket_set):
    stats = ticket_statistics(from_date=date(2024, 1, 1), to_date=date(2024, 1, 4), with_daily=True)
    days = {d["date"]: d for d in stats["daily"]}
    assert list(days) == ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    assert [d["created"] for d in stats["daily"]] == [1, 1, 1, 0]
    assert days["2024-01-01"]["by_status"]["CLOSED"] == 1
    assert (days["2024-01-04"]["resolved"], days["2024-01-04"]["closed"]) == (1, 1)
    assert [d["avg_response_hours"] for d in stats["daily"]] == [1.0, 2.0, 3.0, None]


def test_empty_database_has_no_times(app_ctx):
    stats = ticket_statistics(with_daily=True)
    assert stats["tickets"]["total"] == 0
    assert stats["response_time"] == {"average_hours": None, "median_hours": None, "responded": 0}
    assert stats["categories"] == [] and stats["helpers"] == [] and stats["daily"] == []


def test_helper_names_come_from_users(app_ctx, ticket_set):
    second = db.session.get(User, ticket_set["h2"])
    names = {h["user"]["first_name"] for h in ticket_statistics()["helpers"]}
    assert second.first_name in names
