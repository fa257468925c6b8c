"""Migration 0010 moves today's clinics into organizations without losing a row: one organization
per clinic named after it (a clash gets " (clinic <id>)"), the clinic's bot joins it, and each
doctor's account gets a membership there unless it already works for an organization."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from tests.conftest import make_app
from tests.core.test_migrations import empty_database_url  # noqa: F401  (fixture)
from tests.fixtures.clinic import NOW, clinic_as_rows
from webapp.extensions import db


def _user(role: str = "doctor") -> uuid.UUID:
    from webapp.core.models import User

    user_id = uuid.uuid4()
    db.session.execute(sa.insert(User.__table__).values(id=user_id, first_name="Doc", role=role, language="ru"))
    return user_id


def _bot(name: str) -> int:
    from webapp.telegram.models import Bot

    values = dict(name=name, vertical="clinic", token_encrypted="x", token_fingerprint=name, created_at=NOW)
    return db.session.execute(sa.insert(Bot.__table__).values(**values).returning(Bot.__table__.c.id)).scalar_one()


def test_the_migration_gives_every_clinic_an_organization(empty_database_url):  # noqa: F811
    from flask_migrate import downgrade, upgrade

    from webapp.clinic.models import Clinic
    from webapp.core.models import Membership, Organization
    from webapp.telegram.models import Bot

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="0009_organizations")
        agency = db.session.execute(
            sa.insert(Organization.__table__)
            .values(name="Клиника Тест", is_active=True, created_at=NOW)
            .returning(Organization.__table__.c.id)
        ).scalar_one()
        member, newcomer = _user(), _user()
        db.session.execute(
            sa.insert(Membership.__table__).values(user_id=member, organization_id=agency, created_at=NOW)
        )
        clash = clinic_as_rows("Клиника Тест", doctor_user_id=member)
        bot_id = _bot("clinic-bot")
        second = clinic_as_rows("Клиника Два", bot_id=bot_id, doctor_user_id=newcomer)
        db.session.commit()

        upgrade(revision="heads")
        db.session.expire_all()
        names = {c.id: c.organization.name for c in db.session.scalars(sa.select(Clinic))}
        assert names == {clash.clinic_id: f"Клиника Тест (clinic {clash.clinic_id})", second.clinic_id: "Клиника Два"}
        second_org = db.session.get(Clinic, second.clinic_id).organization_id
        assert db.session.get(Bot, bot_id).organization_id == second_org
        assert db.session.get(Membership, newcomer).organization_id == second_org
        assert db.session.get(Membership, member).organization_id == agency  # it already worked for one

        db.session.commit()  # the downgrade alters the table: no transaction of ours may hold it
        downgrade(revision="0009_organizations")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("clinic_clinics")}
        assert "organization_id" not in columns
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Clinic.__table__.alias())) == 2
        db.session.remove()
        db.engine.dispose()
