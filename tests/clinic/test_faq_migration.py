"""Migration 0016 keeps every FAQ row as the platform's general FAQ (no organization), its texts
intact; the downgrade keeps the platform's rows and drops the organizations' own."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import make_app
from tests.core.test_migrations import empty_database_url  # noqa: F401  (fixture)
from webapp.extensions import db

OLD_FAQ = sa.table(
    "clinic_faq",
    sa.column("id", sa.Integer),
    sa.column("question_ru", sa.String),
    sa.column("answer_ru", sa.Text),
    sa.column("question_kk", sa.String),
    sa.column("answer_kk", sa.Text),
    sa.column("position", sa.Integer),
    sa.column("is_active", sa.Boolean),
)


def test_the_migration_keeps_existing_rows_as_the_platforms(empty_database_url):  # noqa: F811
    from flask_migrate import downgrade, upgrade

    from webapp.clinic.models import Faq
    from webapp.core.tenancy import ensure_organization

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="0016_segments")
        db.session.execute(
            sa.insert(OLD_FAQ),
            [
                dict(
                    question_ru="Как?",
                    answer_ru="Так.",
                    question_kk="Қалай?",
                    answer_kk="Былай.",
                    position=1,
                    is_active=True,
                ),
                dict(
                    question_ru="Где?", answer_ru="Там.", question_kk=None, answer_kk=None, position=2, is_active=False
                ),
            ],
        )
        db.session.commit()
        upgrade(revision="0017_faq")

        rows = db.session.scalars(sa.select(Faq).order_by(Faq.position)).all()
        assert [(r.organization_id, r.question_ru, r.answer_kk, r.is_active) for r in rows] == [
            (None, "Как?", "Былай.", True),
            (None, "Где?", None, False),
        ]
        assert rows[0].localized("uz") == ("Как?", "Так.")  # no Uzbek yet: Russian
        organization = ensure_organization("Clinic group")
        db.session.add(Faq(organization_id=organization.id, question_ru="Свой?", answer_ru="Свой.", position=3))
        db.session.commit()

        downgrade(revision="0016_segments")
        left = db.session.execute(sa.select(OLD_FAQ.c.question_ru).order_by(OLD_FAQ.c.position)).scalars().all()
        assert left == ["Как?", "Где?"]
        db.session.commit()
