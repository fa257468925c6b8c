"""Each clinic belongs to an organization (issue 12).

Backfill: every clinic becomes one organization named after it (on a name clash, " (clinic <id>)" is
appended); the clinic's bot joins that organization, and each doctor's console account gets a
membership there unless it already works for an organization. No row is lost: the column is filled
before it becomes NOT NULL.

Revision ID: 0010_clinic_organizations
Revises: 0009_organizations
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0010_clinic_organizations"
down_revision = "0009_organizations"
branch_labels = None
depends_on = None

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
clinics = sa.table(
    "clinic_clinics",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("bot_id", sa.Integer),
    sa.column("organization_id", sa.Integer),
)
doctors = sa.table("clinic_doctors", sa.column("clinic_id", sa.Integer), sa.column("user_id", sa.Uuid))
bots = sa.table("bots", sa.column("id", sa.Integer), sa.column("organization_id", sa.Integer))


def _organization_for(conn, clinic_id: int, name: str, now: datetime) -> int:
    wanted = name.strip() or f"Clinic {clinic_id}"
    taken = conn.scalar(sa.select(organizations.c.id).where(organizations.c.name == wanted))
    if taken is not None:
        wanted = f"{wanted} (clinic {clinic_id})"
    conn.execute(sa.insert(organizations).values(name=wanted, is_active=True, created_at=now))
    return conn.scalar(sa.select(organizations.c.id).where(organizations.c.name == wanted))


def upgrade():
    with op.batch_alter_table("clinic_clinics") as batch:
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))

    conn = op.get_bind()
    now = datetime.now(UTC)
    for clinic_id, name, bot_id in conn.execute(
        sa.select(clinics.c.id, clinics.c.name, clinics.c.bot_id).order_by(clinics.c.id)
    ).all():
        organization_id = _organization_for(conn, clinic_id, name, now)
        conn.execute(sa.update(clinics).where(clinics.c.id == clinic_id).values(organization_id=organization_id))
        if bot_id is not None:
            conn.execute(sa.update(bots).where(bots.c.id == bot_id).values(organization_id=organization_id))
        members = sa.select(memberships.c.user_id)
        for (user_id,) in conn.execute(
            sa.select(doctors.c.user_id)
            .where(doctors.c.clinic_id == clinic_id, doctors.c.user_id.is_not(None), doctors.c.user_id.not_in(members))
            .distinct()
        ).all():
            conn.execute(
                sa.insert(memberships).values(user_id=user_id, organization_id=organization_id, created_at=now)
            )

    with op.batch_alter_table("clinic_clinics") as batch:
        batch.alter_column("organization_id", existing_type=sa.Integer(), nullable=False)
        batch.create_index("ix_clinic_clinics_organization_id", ["organization_id"])
        batch.create_foreign_key(
            "fk_clinic_clinics_organization_id_organizations",
            "organizations",
            ["organization_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade():
    # The organizations, memberships and bots' organization stay: they are 0009's rows now.
    with op.batch_alter_table("clinic_clinics") as batch:
        batch.drop_constraint("fk_clinic_clinics_organization_id_organizations", type_="foreignkey")
        batch.drop_index("ix_clinic_clinics_organization_id")
        batch.drop_column("organization_id")
