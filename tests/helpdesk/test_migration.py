"""Migration 0012: today's helpdesk and finance data move into organizations without losing a row."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from tests.conftest import make_app
from tests.core.test_migrations import empty_database_url  # noqa: F401  (fixture)

NOW = datetime(2026, 1, 5, 10, tzinfo=UTC)


T = sa.DateTime(timezone=True)
TABLES = {
    "organizations": sa.table(
        "organizations", sa.column("id", sa.Integer), sa.column("name"), sa.column("is_active"),
        sa.column("created_at", T),
    ),
    "memberships": sa.table(
        "memberships", sa.column("user_id", sa.Uuid), sa.column("organization_id"), sa.column("created_at", T)
    ),
    "users": sa.table(
        "users", *(sa.column(n) for n in ("username", "role", "language", "is_active")),
        sa.column("id", sa.Uuid), sa.column("created_at", T), sa.column("updated_at", T),
    ),
    "bots": sa.table(
        "bots", sa.column("id", sa.Integer), sa.column("organization_id", sa.Integer), sa.column("created_at", T),
        *(sa.column(n) for n in ("name", "vertical", "token_encrypted", "token_fingerprint", "enabled", "is_sandbox",
                                  "mode", "rate_limit_per_second", "paid_broadcast")),
    ),
    "helpdesk_categories": sa.table(
        "helpdesk_categories", sa.column("id", sa.Uuid), sa.column("organization_id", sa.Integer),
        sa.column("created_at", T), sa.column("updated_at", T),
        *(sa.column(n) for n in ("name", "color", "is_active", "sort_order")),
    ),
    "helpdesk_tickets": sa.table(
        "helpdesk_tickets", sa.column("id", sa.Uuid), sa.column("organization_id", sa.Integer),
        sa.column("category_id", sa.Uuid), sa.column("user_id", sa.Uuid), sa.column("bot_id", sa.Integer),
        sa.column("created_at", T), sa.column("updated_at", T),
        *(sa.column(n) for n in ("title", "description", "status", "priority", "source")),
    ),
}  # fmt: skip


def _table(name: str):
    return TABLES[name]


def _user(conn, role: str) -> uuid.UUID:
    user_id = uuid.uuid4()
    conn.execute(
        sa.insert(_table("users")).values(
            id=user_id,
            username=f"{role}-{user_id.hex[:6]}",
            role=role,
            language="ru",
            is_active=True,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    return user_id


def _bot(conn, name: str, vertical: str) -> int:
    conn.execute(
        sa.insert(_table("bots")).values(
            name=name,
            vertical=vertical,
            token_encrypted="x",
            token_fingerprint=uuid.uuid4().hex,
            enabled=True,
            is_sandbox=True,
            mode="polling",
            rate_limit_per_second=25,
            paid_broadcast=False,
            created_at=NOW,
        )
    )
    return conn.scalar(sa.select(_table("bots").c.id).where(_table("bots").c.name == name))


def test_desk_and_finance_data_move_into_organizations_and_back(empty_database_url):  # noqa: F811
    from flask_migrate import downgrade, upgrade

    from webapp.extensions import db

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="0009_organizations")
        with db.engine.begin() as conn:
            organizations = _table("organizations")
            # Another business already called "Support desk": the desk gets a name of its own.
            conn.execute(sa.insert(organizations).values(name="Support desk", is_active=True, created_at=NOW))
            taken = conn.scalar(sa.select(organizations.c.id).where(organizations.c.name == "Support desk"))
            helper, member, customer = _user(conn, "helper"), _user(conn, "helper"), _user(conn, "user")
            conn.execute(sa.insert(_table("memberships")).values(user_id=member, organization_id=taken, created_at=NOW))
            desk_bot, finance_bot, clinic_bot = (
                _bot(conn, "desk", "helpdesk"),
                _bot(conn, "money", "finance"),
                _bot(conn, "clinic", "clinic"),
            )
            category_id, ticket_id = uuid.uuid4(), uuid.uuid4()
            conn.execute(
                sa.insert(_table("helpdesk_categories")).values(
                    id=category_id, name="Оплата", color="#000000", is_active=True, sort_order=1,
                    created_at=NOW, updated_at=NOW,
                )
            )  # fmt: skip
            conn.execute(
                sa.insert(_table("helpdesk_tickets")).values(
                    id=ticket_id, title="Не работает", description="", status="OPEN", priority="NORMAL",
                    category_id=category_id, user_id=customer, bot_id=desk_bot, source="bot",
                    created_at=NOW, updated_at=NOW,
                )
            )  # fmt: skip

        upgrade(revision="0012_desk_organizations")
        with db.engine.connect() as conn:
            organizations = _table("organizations")
            names = dict(conn.execute(sa.select(organizations.c.name, organizations.c.id)).all())
            assert set(names) == {"Support desk", "Support desk 2", "Finance service"}
            desk = names["Support desk 2"]
            assert conn.scalar(sa.select(_table("helpdesk_categories").c.organization_id)) == desk
            assert conn.scalar(sa.select(_table("helpdesk_tickets").c.organization_id)) == desk
            bots = _table("bots")
            assert dict(conn.execute(sa.select(bots.c.id, bots.c.organization_id)).all()) == {
                desk_bot: desk,
                finance_bot: names["Finance service"],
                clinic_bot: None,  # not this migration's business
            }
            memberships = _table("memberships")
            members = dict(conn.execute(sa.select(memberships.c.user_id, memberships.c.organization_id)).all())
            # The helper joins the desk; a helper already working for an organization stays there.
            assert members == {helper: desk, member: taken}
            assert {c["name"] for c in sa.inspect(conn).get_unique_constraints("helpdesk_categories")} == {
                "uq_helpdesk_categories_organization_id_name"
            }

        downgrade(revision="0009_organizations")
        with db.engine.connect() as conn:
            assert "organization_id" not in {c["name"] for c in sa.inspect(conn).get_columns("helpdesk_tickets")}
            assert conn.scalar(sa.select(sa.func.count()).select_from(_table("helpdesk_tickets"))) == 1
            assert conn.scalar(sa.select(sa.func.count()).select_from(_table("helpdesk_categories"))) == 1
        db.session.remove()
        db.engine.dispose()


def test_an_empty_platform_gets_no_organizations(empty_database_url):  # noqa: F811
    from flask_migrate import upgrade

    from webapp.extensions import db

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="0012_desk_organizations")
        with db.engine.connect() as conn:
            assert conn.scalar(sa.select(sa.func.count()).select_from(_table("organizations"))) == 0
        db.session.remove()
        db.engine.dispose()
