"""Migration 0013_platform_organizations: every service token keeps its row and takes its creator's
organization; a superuser's token, or one whose creator is gone, stays a platform token."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from tests.conftest import make_app
from tests.core.test_migrations import empty_database_url  # noqa: F401  (the fixture)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_tokens_take_their_creators_organization(empty_database_url):  # noqa: F811
    from flask_migrate import downgrade, upgrade

    from webapp.extensions import db

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="0009_organizations")
        users = sa.table(
            "users",
            sa.column("id", sa.Uuid()),
            sa.column("username", sa.String()),
            sa.column("role", sa.String()),
            sa.column("language", sa.String()),
            sa.column("is_active", sa.Boolean()),
            sa.column("created_at", sa.DateTime(timezone=True)),
            sa.column("updated_at", sa.DateTime(timezone=True)),
        )
        admin, root = uuid.uuid4(), uuid.uuid4()
        for user_id, role in ((admin, "admin"), (root, "superuser")):
            db.session.execute(
                users.insert().values(
                    id=user_id, username=role, role=role, language="ru", is_active=True, created_at=NOW, updated_at=NOW
                )
            )
        organizations = sa.table(
            "organizations",
            sa.column("id", sa.Integer()),
            sa.column("name", sa.String()),
            sa.column("is_active", sa.Boolean()),
            sa.column("created_at", sa.DateTime(timezone=True)),
        )
        db.session.execute(organizations.insert().values(id=7, name="Clinic", is_active=True, created_at=NOW))
        memberships = sa.table(
            "memberships",
            sa.column("user_id", sa.Uuid()),
            sa.column("organization_id", sa.Integer()),
            sa.column("created_at", sa.DateTime(timezone=True)),
        )
        db.session.execute(memberships.insert().values(user_id=admin, organization_id=7, created_at=NOW))
        tokens = sa.table(
            "service_tokens",
            sa.column("id", sa.Integer()),
            sa.column("name", sa.String()),
            sa.column("token_hash", sa.String()),
            sa.column("prefix", sa.String()),
            sa.column("created_by_id", sa.Uuid()),
            sa.column("created_at", sa.DateTime(timezone=True)),
        )
        for token_id, creator in ((1, admin), (2, root), (3, None)):
            db.session.execute(
                tokens.insert().values(
                    id=token_id,
                    name="bot",
                    token_hash=f"{token_id:064d}",
                    prefix="bot_x",
                    created_by_id=creator,
                    created_at=NOW,
                )
            )
        db.session.commit()
        upgrade(revision="0013_platform_organizations")
        rows = db.session.execute(sa.text("SELECT id, organization_id FROM service_tokens ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, 7), (2, None), (3, None)]
        db.session.commit()
        downgrade(revision="0009_organizations")
        assert db.session.execute(sa.text("SELECT count(*) FROM service_tokens")).scalar() == 3
        db.session.remove()
        db.engine.dispose()
