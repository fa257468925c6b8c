"""Cover a patient's visit columns in the (patient_id, starts_at) index.

A clinic segment counts each candidate patient's visits, their last date and the services used; with
status, branch and service in the index, PostgreSQL answers that from the index alone (an
index-only scan) instead of fetching every appointment row from the table.

Revision ID: 0005_clinic_visits_index
Revises: 0004_merge_verticals
"""

from alembic import op

revision = "0005_clinic_visits_index"
down_revision = "0004_merge_verticals"
branch_labels = None
depends_on = None

COVERED = ["status", "branch_id", "service_id"]


def upgrade():
    op.drop_index("ix_clinic_appointments_patient_starts", table_name="clinic_appointments")
    op.create_index(
        "ix_clinic_appointments_patient_starts",
        "clinic_appointments",
        ["patient_id", "starts_at"],
        postgresql_include=COVERED,
    )


def downgrade():
    op.drop_index("ix_clinic_appointments_patient_starts", table_name="clinic_appointments")
    op.create_index("ix_clinic_appointments_patient_starts", "clinic_appointments", ["patient_id", "starts_at"])
