"""The support desk and the finance service become organizations.

Helpdesk categories and tickets belong to an organization (NOT NULL); a category's name is unique
within its organization instead of platform-wide. Backfill, so no row is lost: when any helpdesk row
or helpdesk bot exists, one organization ("Support desk"; a free variant of the name if another
business already has it) gets every category, every ticket and every helpdesk bot without an
organization, and each helper account without a membership joins it. When finance bots exist, an
organization "Finance service" gets those without an organization.

Revision ID: 0012_desk_organizations
Revises: 0011_realty_organizations
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0012_desk_organizations"
down_revision = "0011_realty_organizations"
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
bots = sa.table("bots", sa.column("id", sa.Integer), sa.column("vertical", sa.String), sa.column("organization_id"))
users = sa.table("users", sa.column("id", sa.Uuid), sa.column("role", sa.String))
categories = sa.table("helpdesk_categories", sa.column("id", sa.Uuid), sa.column("organization_id", sa.Integer))
tickets = sa.table("helpdesk_tickets", sa.column("id", sa.Uuid), sa.column("organization_id", sa.Integer))


def _new_organization(conn, name: str) -> int:
    """A new organization called ``name``, or ``name 2``, ``name 3``… when the name is taken."""
    taken = set(conn.scalars(sa.select(organizations.c.name)))
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name} {n}"
    conn.execute(
        organizations.insert().values(name=candidate, is_active=True, created_at=datetime.now(UTC))
    )
    return conn.scalar(sa.select(organizations.c.id).where(organizations.c.name == candidate))


def _count(conn, table, *where) -> int:
    return conn.scalar(sa.select(sa.func.count()).select_from(table).where(*where)) or 0


def upgrade():
    for table in ("helpdesk_categories", "helpdesk_tickets"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))

    conn = op.get_bind()
    desk_bots = (bots.c.vertical == "helpdesk", bots.c.organization_id.is_(None))
    if _count(conn, categories) or _count(conn, tickets) or _count(conn, bots, bots.c.vertical == "helpdesk"):
        desk = _new_organization(conn, "Support desk")
        conn.execute(categories.update().values(organization_id=desk))
        conn.execute(tickets.update().values(organization_id=desk))
        conn.execute(bots.update().where(*desk_bots).values(organization_id=desk))
        members = sa.select(memberships.c.user_id)
        helpers = conn.scalars(sa.select(users.c.id).where(users.c.role == "helper", users.c.id.not_in(members)))
        now = datetime.now(UTC)
        for user_id in list(helpers):
            conn.execute(memberships.insert().values(user_id=user_id, organization_id=desk, created_at=now))
    if _count(conn, bots, bots.c.vertical == "finance", bots.c.organization_id.is_(None)):
        finance = _new_organization(conn, "Finance service")
        conn.execute(
            bots.update()
            .where(bots.c.vertical == "finance", bots.c.organization_id.is_(None))
            .values(organization_id=finance)
        )

    with op.batch_alter_table("helpdesk_categories") as batch:
        batch.alter_column("organization_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_constraint("uq_helpdesk_categories_name", type_="unique")
        batch.create_unique_constraint("uq_helpdesk_categories_organization_id_name", ["organization_id", "name"])
        batch.create_index("ix_helpdesk_categories_organization_id", ["organization_id"])
        batch.create_foreign_key(
            "fk_helpdesk_categories_organization_id_organizations",
            "organizations",
            ["organization_id"],
            ["id"],
            ondelete="RESTRICT",
        )
    with op.batch_alter_table("helpdesk_tickets") as batch:
        batch.alter_column("organization_id", existing_type=sa.Integer(), nullable=False)
        batch.create_index("ix_helpdesk_tickets_organization_id", ["organization_id"])
        batch.create_foreign_key(
            "fk_helpdesk_tickets_organization_id_organizations",
            "organizations",
            ["organization_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade():
    # Names unique per organization may repeat across organizations: keep the first, suffix the rest.
    conn = op.get_bind()
    names = sa.table("helpdesk_categories", sa.column("id", sa.Uuid), sa.column("name", sa.String))
    seen: set[str] = set()
    for category_id, name in list(conn.execute(sa.select(names.c.id, names.c.name).order_by(names.c.name))):
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name[:90]} ({n})"
        seen.add(candidate)
        if candidate != name:
            conn.execute(names.update().where(names.c.id == category_id).values(name=candidate))
    with op.batch_alter_table("helpdesk_tickets") as batch:
        batch.drop_constraint("fk_helpdesk_tickets_organization_id_organizations", type_="foreignkey")
        batch.drop_index("ix_helpdesk_tickets_organization_id")
        batch.drop_column("organization_id")
    with op.batch_alter_table("helpdesk_categories") as batch:
        batch.drop_constraint("fk_helpdesk_categories_organization_id_organizations", type_="foreignkey")
        batch.drop_index("ix_helpdesk_categories_organization_id")
        batch.drop_constraint("uq_helpdesk_categories_organization_id_name", type_="unique")
        batch.create_unique_constraint("uq_helpdesk_categories_name", ["name"])
        batch.drop_column("organization_id")
