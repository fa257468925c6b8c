"""Clinic segments fast again once patients belong to an organization (issue 15).

Every clinic segment now filters ``organization_id = <the bot's organization>``, a column the marketable
partial index did not carry, so PostgreSQL fetched every candidate's heap row to test it: the index
gets organization_id as its leading equality column. "Services used" probed each candidate's
appointments; the visit summary now keeps the services of the patient's visits at that clinic
(``service_ids``, ascending, each once), backfilled here from the appointments and from then on by
``clinic.services.visits`` with every appointment transition.

Revision ID: 0016_segments
Revises: 0015_desk
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0016_segments"
down_revision = "0015_desk"
branch_labels = None
depends_on = None

MARKETABLE = "is_active AND consent_marketing_at IS NOT NULL"
ServiceIds = sa.JSON().with_variant(postgresql.ARRAY(sa.Integer), "postgresql")

# The services of each summary's visits (arrived or completed), from the appointments at its clinic.
VISITED_SERVICES = """
    FROM clinic_appointments a JOIN clinic_branches b ON b.id = a.branch_id
    WHERE a.patient_id = clinic_visit_summaries.patient_id AND b.clinic_id = clinic_visit_summaries.clinic_id
      AND a.status IN ('arrived', 'completed')
"""
BACKFILL = {
    "postgresql": "UPDATE clinic_visit_summaries SET service_ids = ARRAY(SELECT DISTINCT a.service_id"
    + VISITED_SERVICES
    + " ORDER BY a.service_id)",
    "sqlite": "UPDATE clinic_visit_summaries SET service_ids = (SELECT json_group_array(service_id) FROM"
    + " (SELECT DISTINCT a.service_id"
    + VISITED_SERVICES
    + " ORDER BY a.service_id))",
}


def _marketable(columns: list[str]) -> None:
    op.create_index(
        "ix_clinic_patients_marketable",
        "clinic_patients",
        columns,
        postgresql_include=["id", "user_id"],
        postgresql_where=sa.text(MARKETABLE),
        sqlite_where=sa.text(MARKETABLE),
    )


def _summaries_index(included: list[str]) -> None:
    op.create_index(
        "ix_clinic_visit_summaries_clinic_last",
        "clinic_visit_summaries",
        ["clinic_id", "last_visit_at"],
        postgresql_include=included,
    )


def upgrade():
    op.drop_index("ix_clinic_patients_marketable", table_name="clinic_patients")
    _marketable(["organization_id", "sex", "osms_status", "birth_date"])

    op.drop_index("ix_clinic_visit_summaries_clinic_last", table_name="clinic_visit_summaries")
    op.add_column("clinic_visit_summaries", sa.Column("service_ids", ServiceIds, nullable=True))
    op.execute(BACKFILL[op.get_bind().dialect.name])
    with op.batch_alter_table("clinic_visit_summaries") as batch:
        batch.alter_column("service_ids", existing_type=ServiceIds, nullable=False)
    _summaries_index(["visits", "service_ids"])


def downgrade():
    op.drop_index("ix_clinic_visit_summaries_clinic_last", table_name="clinic_visit_summaries")
    with op.batch_alter_table("clinic_visit_summaries") as batch:
        batch.drop_column("service_ids")
    _summaries_index(["visits"])

    op.drop_index("ix_clinic_patients_marketable", table_name="clinic_patients")
    _marketable(["sex", "osms_status", "birth_date"])
