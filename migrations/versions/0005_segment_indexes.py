"""Covering indexes for broadcast segments.

A clinic segment looks up, for each candidate patient, the platform user's account on the bot and
then the patient's visits (count, last date, services used). With the columns those checks read
included in the indexes, PostgreSQL answers both from the indexes alone (index-only scans) instead
of fetching every account and appointment row from the tables.

Revision ID: 0005_segment_indexes
Revises: 0004_merge_verticals
"""

from alembic import op

revision = "0005_segment_indexes"
down_revision = "0004_merge_verticals"
branch_labels = None
depends_on = None

INDEXES = [
    # (name, table, columns, included columns)
    (
        "ix_clinic_appointments_patient_starts",
        "clinic_appointments",
        ["patient_id", "starts_at"],
        ["status", "branch_id", "service_id"],
    ),
    ("ix_telegram_accounts_user_id", "telegram_accounts", ["user_id", "bot_id"], ["blocked_bot", "chat_id"]),
]
BEFORE = {
    "ix_clinic_appointments_patient_starts": ["patient_id", "starts_at"],
    "ix_telegram_accounts_user_id": ["user_id"],
}


def upgrade():
    for name, table, columns, included in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, postgresql_include=included)


def downgrade():
    for name, table, _columns, _included in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, BEFORE[name])
