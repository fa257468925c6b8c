"""A partial index of the active platform users, for broadcast segments.

Every segment checks that each candidate account's user is active. Through the primary key that is
one heap fetch per candidate (the flag is not in the index); this index holds only the active users'
ids, so the check becomes an index-only probe into a smaller index. The segment query writes the
condition as ``users.is_active`` for PostgreSQL to prove the index's predicate (``IS TRUE`` does not).

Revision ID: 0008_active_users_index
Revises: 0007_telegram_people
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_active_users_index"
down_revision = "0007_telegram_people"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_users_active_id",
        "users",
        ["id"],
        postgresql_where=sa.text("is_active"),
        sqlite_where=sa.text("is_active"),
    )


def downgrade():
    op.drop_index("ix_users_active_id", table_name="users")
