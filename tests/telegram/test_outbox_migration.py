"""Migration 0018: the helpdesk's and the morning reports' delivery rows move into the outbox, so a
reply-to an old notification still finds its ticket and this morning's report is not sent again."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa

from tests.conftest import make_app
from tests.core.test_migrations import empty_database_url  # noqa: F401  (fixture)
from tests.helpdesk.test_migration import NOW, T, _bot, _table, _user

DELIVERIES = sa.table(
    "helpdesk_telegram_deliveries",
    *(sa.column(n) for n in ("dedupe_key", "bot_id", "chat_id", "telegram_message_id", "status", "created_at")),
    sa.column("ticket_id", sa.Uuid),
    sa.column("recipient_id", sa.Uuid),
)
REPORTS = sa.table(
    "report_deliveries",
    sa.column("user_id", sa.Uuid),
    sa.column("report_date", sa.Date),
    sa.column("status"),
    sa.column("created_at", T),
    sa.column("sent_at", T),
)
SUBSCRIPTIONS = sa.table(
    "report_subscriptions", sa.column("user_id", sa.Uuid), sa.column("bot_id"), sa.column("chat_id"),
    sa.column("created_at", T),
)  # fmt: skip


def test_old_deliveries_move_into_the_outbox(empty_database_url):  # noqa: F811
    from flask_migrate import upgrade

    from webapp.extensions import db
    from webapp.reports.services import report_key

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="0017_faq")
        with db.engine.begin() as conn:
            organizations = _table("organizations")
            conn.execute(sa.insert(organizations).values(name="Desk", is_active=True, created_at=NOW))
            desk = conn.scalar(sa.select(organizations.c.id).where(organizations.c.name == "Desk"))
            helper, customer, admin = _user(conn, "helper"), _user(conn, "user"), _user(conn, "admin")
            conn.execute(sa.insert(_table("memberships")).values(user_id=helper, organization_id=desk, created_at=NOW))
            desk_bot, reports_bot = _bot(conn, "desk", "helpdesk"), _bot(conn, "rep", "reports")
            ticket_id = uuid.uuid4()
            conn.execute(
                sa.insert(_table("helpdesk_tickets")).values(
                    id=ticket_id, organization_id=desk, title="Не работает", description="", status="OPEN",
                    priority="NORMAL", user_id=customer, bot_id=desk_bot, source="bot", created_at=NOW,
                    updated_at=NOW,
                )
            )  # fmt: skip
            conn.execute(
                sa.insert(DELIVERIES),
                [
                    dict(dedupe_key=f"new:{ticket_id}:{helper}", ticket_id=ticket_id, recipient_id=helper,
                         bot_id=desk_bot, chat_id=5, telegram_message_id=77, status="sent", created_at=NOW),
                    dict(dedupe_key=f"reply:{uuid.uuid4()}", ticket_id=ticket_id, recipient_id=customer,
                         bot_id=desk_bot, chat_id=6, telegram_message_id=None, status="pending", created_at=NOW),
                ],
            )  # fmt: skip
            conn.execute(sa.insert(SUBSCRIPTIONS).values(user_id=admin, bot_id=reports_bot, chat_id=9, created_at=NOW))
            conn.execute(
                sa.insert(REPORTS).values(
                    user_id=admin, report_date=date(2026, 1, 4), status="sent", created_at=NOW, sent_at=NOW
                )
            )

        upgrade(revision="0018_outbox")
        from webapp.core.services import get_user
        from webapp.helpdesk.services.telegram import ticket_for_reply
        from webapp.telegram import outbox
        from webapp.telegram.models import OutboundMessage

        rows = db.session.scalars(sa.select(OutboundMessage).order_by(OutboundMessage.id)).all()
        assert [(r.kind, r.status, r.organization_id) for r in rows] == [
            ("helpdesk", "sent", desk),
            ("helpdesk", "unknown", desk),  # was being sent: never sent again
            ("report", "sent", None),
        ]
        assert rows[0].dedupe_key == f"ticket-new:{ticket_id}:{helper}"
        assert ticket_for_reply(get_user(helper), desk_bot, 5, 77).id == ticket_id
        assert outbox.written([report_key(admin, date(2026, 1, 4))]) == {report_key(admin, date(2026, 1, 4))}
        assert not sa.inspect(db.engine).has_table("helpdesk_telegram_deliveries")
        db.session.remove()
        db.engine.dispose()
