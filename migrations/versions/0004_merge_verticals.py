"""Join the verticals' migration branches into one head, so plain `flask db upgrade` works.

Revision ID: 0004_merge_verticals
Revises: 0002_broadcasts, 0002_clinic, 0002_finance, 0002_helpdesk, 0002_realty, 0003_reports
"""

revision = "0004_merge_verticals"
down_revision = ("0002_broadcasts", "0002_clinic", "0002_finance", "0002_helpdesk", "0002_realty", "0003_reports")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
