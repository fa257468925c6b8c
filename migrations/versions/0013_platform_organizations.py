"""Service tokens (seed 004's X-Bot-Token) belong to an organization (NULL: a platform token).

Backfill: a token takes the organization its creator works for (their membership); a token whose
creator is gone or works for none (a superuser's) stays a platform token. No row is lost.

Revision ID: 0013_platform_organizations
Revises: 0012_desk_organizations
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_platform_organizations"
down_revision = "0012_desk_organizations"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("service_tokens") as batch:
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch.create_index("ix_service_tokens_organization_id", ["organization_id"])
        batch.create_foreign_key(
            "fk_service_tokens_organization_id_organizations",
            "organizations",
            ["organization_id"],
            ["id"],
            ondelete="CASCADE",
        )
    tokens = sa.table("service_tokens", sa.column("created_by_id", sa.Uuid()), sa.column("organization_id", sa.Integer()))
    memberships = sa.table("memberships", sa.column("user_id", sa.Uuid()), sa.column("organization_id", sa.Integer()))
    op.execute(
        tokens.update().values(
            organization_id=sa.select(memberships.c.organization_id)
            .where(memberships.c.user_id == tokens.c.created_by_id)
            .scalar_subquery()
        )
    )


def downgrade():
    with op.batch_alter_table("service_tokens") as batch:
        batch.drop_constraint("fk_service_tokens_organization_id_organizations", type_="foreignkey")
        batch.drop_index("ix_service_tokens_organization_id")
        batch.drop_column("organization_id")
