"""Demo data: the seed's categories, a few hundred consistent tickets, and a second run adds nothing."""

from __future__ import annotations

from webapp.core.db import utcnow
from webapp.extensions import db
from webapp.helpdesk import demo
from webapp.helpdesk.models import TRANSITIONS, Ticket, TicketCategory, TicketMessage, TicketStatus, TicketStatusChange
from webapp.helpdesk.services import ticket_statistics


def run(seeder) -> list[str]:
    lines = list(seeder())
    db.session.commit()
    return lines


def test_demo_is_consistent_and_idempotent(app_ctx):
    from webapp.demo import _seed_staff

    run(_seed_staff)
    first = run(demo.seed)
    assert any("300 demo tickets" in line for line in first)
    counts = (
        db.session.scalar(db.select(db.func.count(TicketCategory.id))),
        db.session.scalar(db.select(db.func.count(Ticket.id))),
        db.session.scalar(db.select(db.func.count(TicketMessage.id))),
    )
    assert run(demo.seed) == []
    assert counts == (
        db.session.scalar(db.select(db.func.count(TicketCategory.id))),
        db.session.scalar(db.select(db.func.count(Ticket.id))),
        db.session.scalar(db.select(db.func.count(TicketMessage.id))),
    )
    assert counts[0] == 5 and counts[1] == 300
    payment = db.session.scalar(db.select(TicketCategory).filter_by(name="Оплата и подписка"))
    assert (payment.icon, payment.color) == ("💳", "#ff6b6b")

    now = utcnow()
    for ticket in db.session.scalars(db.select(Ticket)):
        assert ticket.created_at <= now
        if ticket.first_response_at is not None:
            assert ticket.created_at < ticket.first_response_at <= now and ticket.assigned_to_id is not None
        assert (ticket.closed_at is not None) == (ticket.status == TicketStatus.CLOSED.value)
    # Every recorded move is a legal one.
    for change in db.session.scalars(db.select(TicketStatusChange).where(TicketStatusChange.old_status.is_not(None))):
        assert TicketStatus(change.new_status) in TRANSITIONS[TicketStatus(change.old_status)]

    stats = ticket_statistics()
    assert stats["tickets"]["total"] == 300
    assert all(stats["tickets"][s.value.lower()] > 0 for s in TicketStatus)
    assert 0 < stats["response_time"]["median_hours"] < stats["response_time"]["average_hours"]
    assert len(stats["helpers"]) == len(demo.STAFF_USERNAMES) and len(stats["categories"]) == 5
