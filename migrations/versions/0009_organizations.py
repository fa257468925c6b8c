"""Organizations and staff memberships; a bot belongs to an organization (NULL: a platform bot).

The verticals' own migrations that follow give their data an organization and move their staff in:
each agency, clinic, desk and finance service becomes one, so no row is lost.

Revision ID: 0009_organizations
Revises: 0008_segment_partial_indexes
"""

import sqlalchemy as sa
from alembic import op


revision = "0009_organizations"
down_revision = "0008_segment_partial_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "memberships",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_index("ix_memberships_organization_id", "memberships", ["organization_id"])
    with op.batch_alter_table("bots") as batch:
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch.create_index("ix_bots_organization_id", ["organization_id"])
        batch.create_foreign_key(
            "fk_bots_organization_id_organizations", "organizations", ["organization_id"], ["id"], ondelete="RESTRICT"
        )


def downgrade():
    with op.batch_alter_table("bots") as batch:
        batch.drop_constraint("fk_bots_organization_id_organizations", type_="foreignkey")
        batch.drop_index("ix_bots_organization_id")
        batch.drop_column("organization_id")
    op.drop_index("ix_memberships_organization_id", table_name="memberships")
    op.drop_table("memberships")
    op.drop_table("organizations")
