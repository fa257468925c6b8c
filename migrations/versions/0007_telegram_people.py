"""One row per Telegram user id: which User that person is, whichever bots they talk to.

First contacts of one person on several bots at once used to make a User each; the primary key on
``telegram_user_id`` now decides (``webapp.core.services.ensure_telegram_account``). Backfilled from
the accounts: the default bot's account first, else the oldest.

Revision ID: 0007_telegram_people
Revises: 0006_visit_summaries
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_telegram_people"
down_revision = "0006_visit_summaries"
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO telegram_people (telegram_user_id, user_id)
SELECT a.telegram_user_id, a.user_id FROM telegram_accounts a
WHERE a.id = (
    SELECT b.id FROM telegram_accounts b WHERE b.telegram_user_id = a.telegram_user_id
    ORDER BY CASE WHEN b.bot_id IS NULL THEN 0 ELSE 1 END, b.id LIMIT 1
)
"""


def upgrade():
    op.create_table(
        "telegram_people",
        sa.Column("telegram_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("telegram_user_id"),
    )
    op.create_index("ix_telegram_people_user_id", "telegram_people", ["user_id"])
    op.execute(BACKFILL)


def downgrade():
    op.drop_index("ix_telegram_people_user_id", table_name="telegram_people")
    op.drop_table("telegram_people")
