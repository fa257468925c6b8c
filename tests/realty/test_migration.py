"""Migration 0011: every agency becomes an organization's storefront and its members that
organization's members, without losing a row; the downgrade gives the agency members back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from tests.conftest import make_app
from tests.core.test_migrations import empty_database_url  # noqa: F401  (fixture)

NOW = datetime(2025, 9, 28, 6, tzinfo=UTC)
TYPES = {
    "id": sa.Uuid(),
    "user_id": sa.Uuid(),
    "organization_id": sa.Integer(),
    "agency_id": sa.Integer(),
    "is_active": sa.Boolean(),
    "created_at": sa.DateTime(timezone=True),
    "updated_at": sa.DateTime(timezone=True),
}


def _table(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, *(sa.column(c, TYPES.get(c, sa.String())) for c in columns))


USERS = _table("users", "id", "username", "email", "role", "language", "is_active", "created_at", "updated_at")
MEMBERSHIPS = _table("memberships", "user_id", "organization_id", "created_at")
AGENCY_MEMBERS = _table("realty_agency_members", "user_id", "agency_id", "created_at")


def _user(conn, username: str, role: str) -> uuid.UUID:
    user_id = uuid.uuid4()
    conn.execute(
        USERS.insert().values(
            id=user_id,
            username=username,
            email=f"{username}@m.test",
            role=role,
            language="ru",
            is_active=True,
            created_at=NOW,
            updated_at=NOW,
        )
    )
    return user_id


def _agency(conn, name: str) -> int:
    conn.execute(
        sa.text(
            "INSERT INTO realty_agencies (name, city, timezone, currency, is_active, created_at, updated_at)"
            " VALUES (:n, 'Tashkent', 'Asia/Tashkent', 'UZS', :a, :t, :t)"
        ),
        {"n": name, "a": True, "t": NOW},
    )
    return conn.scalar(sa.text("SELECT id FROM realty_agencies WHERE name = :n"), {"n": name})


def _member(conn, user_id, agency_id) -> None:
    conn.execute(AGENCY_MEMBERS.insert().values(user_id=user_id, agency_id=agency_id, created_at=NOW))


def test_agencies_become_organizations_and_members_memberships(empty_database_url):  # noqa: F811
    from flask_migrate import downgrade, upgrade

    from webapp.extensions import db

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="0009_organizations")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO organizations (name, is_active, created_at) VALUES ('Beta Rent', :a, :t)"),
                {"a": True, "t": NOW},
            )
            clinic = conn.scalar(sa.text("SELECT id FROM organizations WHERE name = 'Beta Rent'"))
            alpha, beta = _agency(conn, "Alpha Homes"), _agency(conn, "Beta Rent")
            admin, realtor, elsewhere = (
                _user(conn, "admin1", "admin"),
                _user(conn, "realtor1", "realtor"),
                _user(conn, "realtor2", "realtor"),
            )
            _member(conn, admin, alpha)
            _member(conn, realtor, beta)
            _member(conn, elsewhere, beta)
            # already works for another organization: keeps it
            conn.execute(MEMBERSHIPS.insert().values(user_id=elsewhere, organization_id=clinic, created_at=NOW))

        upgrade(revision="0011_realty_organizations")
        with db.engine.connect() as conn:
            orgs = dict(conn.execute(sa.text("SELECT name, id FROM organizations")).all())
            assert set(orgs) == {"Beta Rent", "Alpha Homes", f"Beta Rent (agency {beta})"}
            storefront = dict(conn.execute(sa.text("SELECT id, organization_id FROM realty_agencies")).all())
            assert storefront == {alpha: orgs["Alpha Homes"], beta: orgs[f"Beta Rent (agency {beta})"]}
            members = dict(conn.execute(sa.select(MEMBERSHIPS.c.user_id, MEMBERSHIPS.c.organization_id)).all())
            members = {u: int(o) for u, o in members.items()}
            assert members == {admin: storefront[alpha], realtor: storefront[beta], elsewhere: clinic}
            assert "realty_agency_members" not in sa.inspect(conn).get_table_names()

        downgrade(revision="0009_organizations")
        with db.engine.connect() as conn:
            rows = conn.execute(sa.select(AGENCY_MEMBERS.c.user_id, AGENCY_MEMBERS.c.agency_id)).all()
            restored = {u: int(a) for u, a in rows}
            assert restored == {admin: alpha, realtor: beta}
            assert "organization_id" not in {c["name"] for c in sa.inspect(conn).get_columns("realty_agencies")}
        db.session.remove()
        db.engine.dispose()
