"""The clinic FAQ: a row may belong to an organization (its clinics' own questions), and every
language the clinic bot offers has its columns (Uzbek and English join Russian and Kazakh).

Existing rows stay the platform's general FAQ: their organization is NULL, their new columns empty
(the bot shows them in Russian until someone writes the translation). The downgrade drops the
organizations' own rows — the old schema has nowhere to keep whose they are — and the new columns.

Revision ID: 0017_faq
Revises: 0016_segments
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_faq"
down_revision = "0016_segments"
branch_labels = None
depends_on = None

faq = sa.table("clinic_faq", sa.column("organization_id", sa.Integer))
TEXTS = ("question_uz", "answer_uz", "question_en", "answer_en")


def upgrade():
    with op.batch_alter_table("clinic_faq") as batch:
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("question_uz", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("answer_uz", sa.Text(), nullable=True))
        batch.add_column(sa.Column("question_en", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("answer_en", sa.Text(), nullable=True))
        batch.create_index("ix_clinic_faq_organization_id", ["organization_id"])
        batch.create_foreign_key(
            "fk_clinic_faq_organization_id_organizations",
            "organizations",
            ["organization_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade():
    op.execute(sa.delete(faq).where(faq.c.organization_id.is_not(None)))
    with op.batch_alter_table("clinic_faq") as batch:
        batch.drop_constraint("fk_clinic_faq_organization_id_organizations", type_="foreignkey")
        batch.drop_index("ix_clinic_faq_organization_id")
        for column in (*TEXTS, "organization_id"):
            batch.drop_column(column)
