"""Per-(patient, clinic) visit summaries, backfilled from the appointments.

Broadcast segments filter on visit count and last visit; reading them from one row per patient
and clinic replaces an aggregate over every candidate patient's appointments. From here on
``webapp.clinic.services.visits`` keeps the rows current in each appointment transition.

Revision ID: 0006_visit_summaries
Revises: 0005_segment_indexes
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_visit_summaries"
down_revision = "0005_segment_indexes"
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO clinic_visit_summaries
    (patient_id, clinic_id, visits, first_visit_at, last_visit_at, no_shows, cancellations)
SELECT a.patient_id, b.clinic_id,
       count(*) FILTER (WHERE a.status IN ('arrived', 'completed')),
       min(a.starts_at) FILTER (WHERE a.status IN ('arrived', 'completed')),
       max(a.starts_at) FILTER (WHERE a.status IN ('arrived', 'completed')),
       count(*) FILTER (WHERE a.status = 'no_show'),
       count(*) FILTER (WHERE a.status = 'cancelled')
FROM clinic_appointments a JOIN clinic_branches b ON b.id = a.branch_id
GROUP BY a.patient_id, b.clinic_id
"""


def upgrade():
    op.create_table(
        "clinic_visit_summaries",
        sa.Column("patient_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("clinic_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("first_visit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_visit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("no_shows", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("cancellations", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinic_clinics.id"],
            name=op.f("fk_clinic_visit_summaries_clinic_id_clinic_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["clinic_patients.id"],
            name=op.f("fk_clinic_visit_summaries_patient_id_clinic_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patient_id", "clinic_id", name=op.f("pk_clinic_visit_summaries")),
    )
    op.create_index(
        "ix_clinic_visit_summaries_clinic_last",
        "clinic_visit_summaries",
        ["clinic_id", "last_visit_at"],
        postgresql_include=["visits"],
    )
    op.execute(BACKFILL)


def downgrade():
    op.drop_index("ix_clinic_visit_summaries_clinic_last", table_name="clinic_visit_summaries")
    op.drop_table("clinic_visit_summaries")
