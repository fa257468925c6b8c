"""The schema is made only by migrations: upgrading an empty database gives exactly the models'
schema (no pending autogenerate diff), and downgrading to base removes it all again."""

from __future__ import annotations

import os
import tempfile
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.backends import PG_ADMIN_URL
from tests.conftest import BACKEND, make_app


@pytest.fixture
def empty_database_url():
    if BACKEND.name == "services":
        import psycopg

        name = f"botdesk_mig_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN_URL.rpartition("/")[0].replace("postgresql://", "postgresql+psycopg://", 1)
        yield f"{base}/{name}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        directory = tempfile.mkdtemp(prefix="botdesk-mig-")
        yield f"sqlite:///{os.path.join(directory, 'mig.sqlite3')}"


def test_upgrade_matches_models_and_downgrade_removes_everything(empty_database_url):
    from flask_migrate import downgrade, upgrade

    from webapp.core.db import render_alembic_item
    from webapp.extensions import db

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "render_item": render_alembic_item})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"

        downgrade(revision="base")
        remaining = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        db.engine.dispose()
