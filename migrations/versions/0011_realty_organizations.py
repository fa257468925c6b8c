"""Each realty agency becomes one organization's storefront; agency staff become its members.

Backfill (no row lost):
- every agency gets an organization named after it (a name an organization already holds gets
  " (agency <id>)" appended), and ``realty_agencies.organization_id`` points at it;
- every ``realty_agency_members`` row becomes a membership of that organization, unless the user
  already has one (an account works for one organization);
- then ``realty_agency_members`` is dropped: "the agency of a user" is the agency of their
  organization.

Downgrade restores ``realty_agency_members`` from the memberships of agency organizations.

Revision ID: 0011_realty_organizations
Revises: 0010_clinic_organizations
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op


revision = "0011_realty_organizations"
down_revision = "0010_clinic_organizations"
branch_labels = None
depends_on = None

NAME_LIMIT = 200

organizations = sa.table(
    "organizations",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("is_active", sa.Boolean),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
memberships = sa.table(
    "memberships",
    sa.column("user_id", sa.Uuid),
    sa.column("organization_id", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
agencies = sa.table(
    "realty_agencies",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("organization_id", sa.Integer),
)
members = sa.table(
    "realty_agency_members",
    sa.column("user_id", sa.Uuid),
    sa.column("agency_id", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _organization_name(conn, agency_id: int, name: str) -> str:
    taken = conn.scalar(sa.select(organizations.c.id).where(organizations.c.name == name))
    if taken is None:
        return name
    suffix = f" (agency {agency_id})"
    return name[: NAME_LIMIT - len(suffix)] + suffix


def upgrade():
    with op.batch_alter_table("realty_agencies") as batch:
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))

    conn = op.get_bind()
    now = datetime.now(UTC)
    for agency_id, name in conn.execute(sa.select(agencies.c.id, agencies.c.name).order_by(agencies.c.id)).all():
        org_name = _organization_name(conn, agency_id, name)
        conn.execute(organizations.insert().values(name=org_name, is_active=True, created_at=now))
        org_id = conn.scalar(sa.select(organizations.c.id).where(organizations.c.name == org_name))
        conn.execute(agencies.update().where(agencies.c.id == agency_id).values(organization_id=org_id))
        rows = conn.execute(
            sa.select(members.c.user_id, members.c.created_at)
            .where(members.c.agency_id == agency_id)
            .order_by(members.c.created_at)
        ).all()
        for user_id, joined in rows:
            if conn.scalar(sa.select(memberships.c.user_id).where(memberships.c.user_id == user_id)) is None:
                conn.execute(memberships.insert().values(user_id=user_id, organization_id=org_id, created_at=joined))

    with op.batch_alter_table("realty_agencies") as batch:
        batch.alter_column("organization_id", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint("uq_realty_agencies_organization_id", ["organization_id"])
        batch.create_foreign_key(
            "fk_realty_agencies_organization_id_organizations",
            "organizations",
            ["organization_id"],
            ["id"],
            ondelete="RESTRICT",
        )

    with op.batch_alter_table("realty_agency_members") as batch:
        batch.drop_index("ix_realty_agency_members_agency_id")
    op.drop_table("realty_agency_members")


def downgrade():
    op.create_table(
        "realty_agency_members",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["realty_agencies.id"],
            name="fk_realty_agency_members_agency_id_realty_agencies",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_realty_agency_members_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name="pk_realty_agency_members"),
    )
    with op.batch_alter_table("realty_agency_members") as batch:
        batch.create_index("ix_realty_agency_members_agency_id", ["agency_id"], unique=False)

    conn = op.get_bind()
    rows = conn.execute(
        sa.select(memberships.c.user_id, agencies.c.id, memberships.c.created_at).join(
            agencies, agencies.c.organization_id == memberships.c.organization_id
        )
    ).all()
    for user_id, agency_id, joined in rows:
        conn.execute(members.insert().values(user_id=user_id, agency_id=agency_id, created_at=joined))

    with op.batch_alter_table("realty_agencies") as batch:
        batch.drop_constraint("fk_realty_agencies_organization_id_organizations", type_="foreignkey")
        batch.drop_constraint("uq_realty_agencies_organization_id", type_="unique")
        batch.drop_column("organization_id")
