"""Helpdesk: canned replies per desk, and a desk's settings (time zone, first-response deadline).

Both tables are new; nothing existing changes, and desks without settings keep the platform's
defaults (``webapp.helpdesk.services.desk``).

Revision ID: 0015_desk
Revises: 0014_patients
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_desk"
down_revision = "0014_patients"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "helpdesk_canned_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("short_code", sa.String(length=32), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_helpdesk_canned_replies_organization_id_organizations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_helpdesk_canned_replies"),
        sa.UniqueConstraint(
            "organization_id", "short_code", name="uq_helpdesk_canned_replies_organization_id_short_code"
        ),
    )
    op.create_index("ix_helpdesk_canned_replies_organization_id", "helpdesk_canned_replies", ["organization_id"])
    op.create_table(
        "helpdesk_desk_settings",
        sa.Column("organization_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("first_response_minutes", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name="fk_helpdesk_desk_settings_organization_id_organizations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", name="pk_helpdesk_desk_settings"),
    )


def downgrade():
    op.drop_table("helpdesk_desk_settings")
    op.drop_index("ix_helpdesk_canned_replies_organization_id", table_name="helpdesk_canned_replies")
    op.drop_table("helpdesk_canned_replies")
