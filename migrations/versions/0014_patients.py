"""A clinic patient belongs to one organization (issue 12): unique (organization, user) and
(organization, IIN) instead of one row per person across the platform.

Backfill, no row lost: a patient whose appointments and visit summaries lie in one organization's
clinics goes to it. One with visits in several is split: the first organization keeps the row, each
other gets a copy (tags and notes copied) and its own appointments, visit summaries and the invoices,
documents and feedback of those appointments are re-pointed to the copy; what names no appointment
(support tickets, the bot audit, top-ups) stays with the row. A patient with no visit goes to the
organization of the clinic bot they talked to when exactly one, else to the default clinic's (the
first clinic's), else — no clinic at all — to a new organization "Clinic".

Downgrade merges each person's rows back into their oldest one (children re-pointed, tags merged); an
IIN held by two people after the merge stays with the oldest row.

Revision ID: 0014_patients
Revises: 0013_platform_organizations
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0014_patients"
down_revision = "0013_platform_organizations"
branch_labels = None
depends_on = None

metadata = sa.MetaData()
organizations = sa.Table(
    "organizations",
    metadata,
    sa.Column("id", sa.Integer),
    sa.Column("name", sa.String),
    sa.Column("is_active", sa.Boolean),
    sa.Column("created_at", sa.DateTime(timezone=True)),
)
clinics = sa.Table(
    "clinic_clinics",
    metadata,
    sa.Column("id", sa.Integer),
    sa.Column("organization_id", sa.Integer),
    sa.Column("bot_id", sa.Integer),
)
doctors = sa.Table("clinic_doctors", metadata, sa.Column("id", sa.Integer), sa.Column("clinic_id", sa.Integer))
appointments = sa.Table(
    "clinic_appointments",
    metadata,
    sa.Column("id", sa.Integer),
    sa.Column("patient_id", sa.Integer),
    sa.Column("doctor_id", sa.Integer),
)
summaries = sa.Table(
    "clinic_visit_summaries", metadata, sa.Column("patient_id", sa.Integer), sa.Column("clinic_id", sa.Integer)
)
tags = sa.Table("clinic_patient_tags", metadata, sa.Column("patient_id", sa.Integer), sa.Column("tag", sa.String))
# Untyped: compared with the user id as the reflected patients table hands it back, on either backend.
accounts = sa.Table("telegram_accounts", metadata, sa.Column("user_id"), sa.Column("bot_id", sa.Integer))
bots = sa.Table(
    "bots",
    metadata,
    sa.Column("id", sa.Integer),
    sa.Column("organization_id", sa.Integer),
    sa.Column("vertical", sa.String),
)
BY_APPOINTMENT = ("clinic_invoices", "clinic_documents", "clinic_feedback")
BY_PATIENT_ONLY = ("clinic_support_tickets", "clinic_bot_audit")


def _patients(conn) -> sa.Table:
    return sa.Table("clinic_patients", sa.MetaData(), autoload_with=conn)


def _child(name: str, *columns: str) -> sa.Table:
    return sa.Table(name, sa.MetaData(), sa.Column("patient_id", sa.Integer), *(sa.Column(c) for c in columns))


def _visited_organizations(conn, patient_id: int) -> list[int]:
    by_appointment = (
        sa.select(clinics.c.organization_id)
        .join(doctors, doctors.c.clinic_id == clinics.c.id)
        .join(appointments, appointments.c.doctor_id == doctors.c.id)
        .where(appointments.c.patient_id == patient_id)
    )
    by_summary = (
        sa.select(clinics.c.organization_id)
        .join(summaries, summaries.c.clinic_id == clinics.c.id)
        .where(summaries.c.patient_id == patient_id)
    )
    return sorted(set(conn.scalars(by_appointment)) | set(conn.scalars(by_summary)))


def _bot_organization(conn, user_id) -> int | None:
    """The organization of the one clinic bot the user talked to (by the bot's or its clinic's)."""
    if user_id is None:
        return None
    talked = sa.select(accounts.c.bot_id).where(accounts.c.user_id == user_id)
    found = set(
        conn.scalars(
            sa.select(bots.c.organization_id).where(
                bots.c.id.in_(talked), bots.c.vertical == "clinic", bots.c.organization_id.is_not(None)
            )
        )
    )
    found |= set(conn.scalars(sa.select(clinics.c.organization_id).where(clinics.c.bot_id.in_(talked))))
    return found.pop() if len(found) == 1 else None


def _fallback_organization(conn) -> int:
    first = conn.scalar(sa.select(clinics.c.organization_id).order_by(clinics.c.id).limit(1))
    if first is not None:
        return first
    name, n = "Clinic", 1
    taken = set(conn.scalars(sa.select(organizations.c.name)))
    while name in taken:
        n += 1
        name = f"Clinic {n}"
    conn.execute(organizations.insert().values(name=name, is_active=True, created_at=datetime.now(UTC)))
    return conn.scalar(sa.select(organizations.c.id).where(organizations.c.name == name))


def _split(conn, patients: sa.Table, row, organization_id: int) -> None:
    """A copy of ``row`` for ``organization_id``, taking over that organization's visits."""
    values = {k: v for k, v in row._mapping.items() if k != "id"}
    values["organization_id"] = organization_id
    copy_id = conn.execute(patients.insert().values(**values).returning(patients.c.id)).scalar_one()
    for (tag,) in conn.execute(sa.select(tags.c.tag).where(tags.c.patient_id == row.id)).all():
        conn.execute(tags.insert().values(patient_id=copy_id, tag=tag))
    its_clinics = sa.select(clinics.c.id).where(clinics.c.organization_id == organization_id)
    its_appointments = (
        sa.select(appointments.c.id)
        .where(appointments.c.patient_id == row.id)
        .where(appointments.c.doctor_id.in_(sa.select(doctors.c.id).where(doctors.c.clinic_id.in_(its_clinics))))
    )
    moved = list(conn.scalars(its_appointments))
    if moved:
        for name in BY_APPOINTMENT:
            child = _child(name, "appointment_id")
            conn.execute(child.update().where(child.c.appointment_id.in_(moved)).values(patient_id=copy_id))
        conn.execute(appointments.update().where(appointments.c.id.in_(moved)).values(patient_id=copy_id))
    conn.execute(
        summaries.update()
        .where(summaries.c.patient_id == row.id, summaries.c.clinic_id.in_(its_clinics))
        .values(patient_id=copy_id)
    )


def upgrade():
    with op.batch_alter_table("clinic_patients") as batch:
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        # A split copies a person's user and IIN: the platform-wide uniques go before the backfill.
        batch.drop_constraint("uq_clinic_patients_user_id", type_="unique")
        batch.drop_constraint("uq_clinic_patients_iin", type_="unique")

    conn = op.get_bind()
    patients = _patients(conn)
    fallback = None
    for row in conn.execute(sa.select(patients).order_by(patients.c.id)).all():
        visited = _visited_organizations(conn, row.id)
        if not visited:
            chosen = _bot_organization(conn, row.user_id)
            if chosen is None:
                fallback = fallback or _fallback_organization(conn)
                chosen = fallback
            visited = [chosen]
        conn.execute(patients.update().where(patients.c.id == row.id).values(organization_id=visited[0]))
        for organization_id in visited[1:]:
            _split(conn, patients, row, organization_id)

    with op.batch_alter_table("clinic_patients") as batch:
        batch.alter_column("organization_id", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint("uq_clinic_patients_organization_id_user_id", ["organization_id", "user_id"])
        batch.create_unique_constraint("uq_clinic_patients_organization_id_iin", ["organization_id", "iin"])
        batch.create_index("ix_clinic_patients_organization_id", ["organization_id"])
        batch.create_index("ix_clinic_patients_user_id", ["user_id"])
        batch.create_foreign_key(
            "fk_clinic_patients_organization_id_organizations",
            "organizations",
            ["organization_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def _merge(conn, patients: sa.Table, keep: int, other: int) -> None:
    kept_tags = set(conn.scalars(sa.select(tags.c.tag).where(tags.c.patient_id == keep)))
    conn.execute(tags.delete().where(tags.c.patient_id == other, tags.c.tag.in_(kept_tags)))
    kept_clinics = set(conn.scalars(sa.select(summaries.c.clinic_id).where(summaries.c.patient_id == keep)))
    conn.execute(summaries.delete().where(summaries.c.patient_id == other, summaries.c.clinic_id.in_(kept_clinics)))
    for name in ("clinic_patient_tags", "clinic_visit_summaries", "clinic_appointments", *BY_APPOINTMENT):
        child = _child(name)
        conn.execute(child.update().where(child.c.patient_id == other).values(patient_id=keep))
    for name in BY_PATIENT_ONLY:
        child = _child(name)
        conn.execute(child.update().where(child.c.patient_id == other).values(patient_id=keep))
    conn.execute(patients.delete().where(patients.c.id == other))


def downgrade():
    conn = op.get_bind()
    patients = _patients(conn)
    kept: dict = {}
    for patient_id, user_id in conn.execute(
        sa.select(patients.c.id, patients.c.user_id).where(patients.c.user_id.is_not(None)).order_by(patients.c.id)
    ).all():
        if user_id in kept:
            _merge(conn, patients, kept[user_id], patient_id)
        else:
            kept[user_id] = patient_id
    seen: set[str] = set()
    for patient_id, iin in conn.execute(
        sa.select(patients.c.id, patients.c.iin).where(patients.c.iin.is_not(None)).order_by(patients.c.id)
    ).all():
        if iin in seen:
            conn.execute(patients.update().where(patients.c.id == patient_id).values(iin=None))
        seen.add(iin)

    with op.batch_alter_table("clinic_patients") as batch:
        batch.drop_constraint("fk_clinic_patients_organization_id_organizations", type_="foreignkey")
        batch.drop_index("ix_clinic_patients_user_id")
        batch.drop_index("ix_clinic_patients_organization_id")
        batch.drop_constraint("uq_clinic_patients_organization_id_iin", type_="unique")
        batch.drop_constraint("uq_clinic_patients_organization_id_user_id", type_="unique")
        batch.create_unique_constraint("uq_clinic_patients_iin", ["iin"])
        batch.create_unique_constraint("uq_clinic_patients_user_id", ["user_id"])
        batch.drop_column("organization_id")
