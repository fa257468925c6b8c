"""The visit summary carries the patient fields a clinic segment filters on (issue 15).

A segment with visit filters hash-joined every summary of the clinic with the marketable patients;
each summary now holds a copy of its patient's user, organization, sex, OSMS status, birth date and
whether the patient is marketable (active, marketing consent), kept by the booking transitions and
by every ORM change of the patient row (``clinic.models.copy_patient_fields``), and the partial
index ``ix_clinic_visit_summaries_segment`` answers the count by itself. Backfilled here from the
patients.

Revision ID: 0019_segment_summary
Revises: 0018_outbox
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_segment_summary"
down_revision = "0018_outbox"
branch_labels = None
depends_on = None

COPIED = ("user_id", "organization_id", "sex", "osms_status", "birth_date")
MARKETABLE = "p.is_active AND p.consent_marketing_at IS NOT NULL"
BACKFILL = {
    "postgresql": "UPDATE clinic_visit_summaries s SET "
    + ", ".join(f"{name} = p.{name}" for name in COPIED)
    + f", marketable = ({MARKETABLE}) FROM clinic_patients p WHERE p.id = s.patient_id",
    "sqlite": "UPDATE clinic_visit_summaries SET ("
    + ", ".join(COPIED)
    + ", marketable) = (SELECT "
    + ", ".join(f"p.{name}" for name in COPIED)
    + f", CASE WHEN {MARKETABLE} THEN 1 ELSE 0 END FROM clinic_patients p"
    + " WHERE p.id = clinic_visit_summaries.patient_id)",
}


def upgrade():
    with op.batch_alter_table("clinic_visit_summaries") as batch:
        batch.add_column(sa.Column("user_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("sex", sa.String(length=1), nullable=True))
        batch.add_column(sa.Column("osms_status", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("marketable", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute(BACKFILL[op.get_bind().dialect.name])
    op.create_index(
        "ix_clinic_visit_summaries_segment",
        "clinic_visit_summaries",
        ["clinic_id", "organization_id", "sex", "osms_status", "birth_date"],
        postgresql_include=["last_visit_at", "visits", "service_ids", "user_id", "patient_id"],
        postgresql_where=sa.text("marketable"),
        sqlite_where=sa.text("marketable"),
    )


def downgrade():
    op.drop_index("ix_clinic_visit_summaries_segment", table_name="clinic_visit_summaries")
    with op.batch_alter_table("clinic_visit_summaries") as batch:
        for name in ("marketable", *reversed(COPIED)):
            batch.drop_column(name)
