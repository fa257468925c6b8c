"""One outbox: ``outbound_messages`` holds every message to a user outside a conversation.

Two home-made outboxes had tables of their own and go: the helpdesk's deliveries (whose
``telegram_message_id`` lets a reply-to find its ticket — the outbox row keeps it, with the ticket
as its ``subject``) and the morning reports' deliveries (whose unique (user, day) is now the dedupe
key ``report:<user>:<day>``). Their rows are copied, so neither a reply-to an old notification nor
this morning's report is lost or sent again; a row that was still being sent becomes ``unknown``.
The clinic's reminder log, the debts' ``reminder_sent_at`` and realty's notifications stay: the scans
and the console read them.

The downgrade recreates the two tables empty (their history stays only in the dropped outbox).

Revision ID: 0018_outbox
Revises: 0017_faq
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_outbox"
down_revision = "0017_faq"
branch_labels = None
depends_on = None

STATUSES = ("pending", "sending", "sent", "failed", "blocked", "unknown")


def _text(column: str, dialect: str) -> str:
    """A uuid column as 32 hex digits on both backends (SQLite stores it so already)."""
    return f"replace(CAST({column} AS TEXT), '-', '')" if dialect == "postgresql" else column


def _status(column: str) -> str:
    return f"CASE {column} WHEN 'sent' THEN 'sent' WHEN 'failed' THEN 'failed' ELSE 'unknown' END"


def upgrade():
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "outbound_messages",
        sa.Column("id", big_id, nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("bot_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("subject", sa.String(length=80), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("parse_mode", sa.String(length=16), nullable=True),
        sa.Column("reply_markup", sa.JSON(), nullable=True),
        sa.Column("attachments", sa.JSON(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(*STATUSES, name="outbound_status", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_outbound_messages_bot_id_bots"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_outbound_messages_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_outbound_messages_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbound_messages")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbound_messages_dedupe_key")),
    )
    with op.batch_alter_table("outbound_messages") as batch:
        batch.create_index("ix_outbound_messages_organization_id", ["organization_id"])
        batch.create_index("ix_outbound_messages_user_id", ["user_id"])
        batch.create_index("ix_outbound_messages_chat_message", ["bot_id", "chat_id", "telegram_message_id"])
        batch.create_index(
            "ix_outbound_messages_pending",
            ["next_attempt_at"],
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        )

    dialect = op.get_bind().dialect.name
    columns = (
        "dedupe_key, kind, organization_id, bot_id, chat_id, user_id, subject, status, attempts,"
        " telegram_message_id, created_at, next_attempt_at, sent_at"
    )
    op.execute(
        f"""
        INSERT INTO outbound_messages ({columns})
        SELECT 'ticket-' || d.dedupe_key, 'helpdesk', t.organization_id, d.bot_id, d.chat_id, d.recipient_id,
               'helpdesk_ticket:' || {_text("d.ticket_id", dialect)}, {_status("d.status")}, 1,
               d.telegram_message_id, d.created_at, d.created_at,
               CASE WHEN d.status = 'sent' THEN d.created_at END
        FROM helpdesk_telegram_deliveries d JOIN helpdesk_tickets t ON t.id = d.ticket_id
        WHERE d.bot_id IS NOT NULL AND d.chat_id IS NOT NULL
        """
    )
    op.execute(
        f"""
        INSERT INTO outbound_messages ({columns})
        SELECT 'report:' || {_text("r.user_id", dialect)} || ':' || CAST(r.report_date AS TEXT), 'report', NULL,
               s.bot_id, s.chat_id, r.user_id, NULL, {_status("r.status")}, 1, NULL, r.created_at, r.created_at,
               r.sent_at
        FROM report_deliveries r JOIN report_subscriptions s ON s.user_id = r.user_id
        WHERE s.bot_id IS NOT NULL
        """
    )
    with op.batch_alter_table("helpdesk_telegram_deliveries") as batch:
        batch.drop_index("ix_helpdesk_telegram_deliveries_ticket_id")
        batch.drop_index("ix_helpdesk_deliveries_chat_message")
    op.drop_table("helpdesk_telegram_deliveries")
    op.drop_table("report_deliveries")


def downgrade():
    op.create_table(
        "report_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_report_deliveries_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_deliveries")),
        sa.UniqueConstraint("user_id", "report_date", name=op.f("uq_report_deliveries_user_id_report_date")),
    )
    op.create_table(
        "helpdesk_telegram_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=True),
        sa.Column("bot_id", sa.Integer(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bot_id"], ["bots.id"], name=op.f("fk_helpdesk_telegram_deliveries_bot_id_bots"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["users.id"],
            name=op.f("fk_helpdesk_telegram_deliveries_recipient_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["helpdesk_tickets.id"],
            name=op.f("fk_helpdesk_telegram_deliveries_ticket_id_helpdesk_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_helpdesk_telegram_deliveries")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_helpdesk_telegram_deliveries_dedupe_key")),
    )
    with op.batch_alter_table("helpdesk_telegram_deliveries") as batch:
        batch.create_index("ix_helpdesk_deliveries_chat_message", ["bot_id", "chat_id", "telegram_message_id"])
        batch.create_index("ix_helpdesk_telegram_deliveries_ticket_id", ["ticket_id"])
    op.drop_table("outbound_messages")
