"""Partial covering indexes for broadcast segments.

Over a million patients, seed 002's example segment spent its time fetching rows, not filtering:
the candidate patients from the heap (a third of the table for one OSMS status), then per candidate
a probe into all of its appointments and a heap fetch of the user's ``is_active``. These indexes
hold only the rows a segment can select, with the columns it reads, so each step is an index-only
scan of a smaller index:

- active users' ids (the user check of every segment);
- active patients who gave the marketing consent, by sex, OSMS status and birth date, carrying the
  ids the joins need;
- visits (arrived or completed appointments) by patient, carrying service and branch.

The segment query writes its conditions as the predicates are written (``is_active``, not
``is_active IS TRUE``): PostgreSQL uses a partial index only when it can prove the predicate.

Revision ID: 0008_segment_partial_indexes
Revises: 0007_telegram_people
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_segment_partial_indexes"
down_revision = "0007_telegram_people"
branch_labels = None
depends_on = None

# (name, table, columns, included columns, predicate) — the predicates as in the models.
INDEXES = [
    ("ix_users_active_id", "users", ["id"], [], "is_active"),
    (
        "ix_clinic_patients_marketable",
        "clinic_patients",
        ["sex", "osms_status", "birth_date"],
        ["id", "user_id"],
        "is_active AND consent_marketing_at IS NOT NULL",
    ),
    (
        "ix_clinic_appointments_visited",
        "clinic_appointments",
        ["patient_id"],
        ["service_id", "branch_id"],
        "status IN ('arrived', 'completed')",
    ),
]


def upgrade():
    for name, table, columns, included, predicate in INDEXES:
        op.create_index(
            name,
            table,
            columns,
            postgresql_include=included,
            postgresql_where=sa.text(predicate),
            sqlite_where=sa.text(predicate),
        )


def downgrade():
    for name, table, _columns, _included, _predicate in reversed(INDEXES):
        op.drop_index(name, table_name=table)
