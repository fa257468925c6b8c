"""Migration 0014 gives every patient one organization without losing a row: visits in one
organization's clinics send the patient there; visits in two split the patient into one row per
organization, each with its own visits, their invoices and visit summaries, and a copy of the tags
and notes; no visit: the organization of the clinic bot the person talked to, else the first
clinic's. The downgrade merges the split rows back."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import sqlalchemy as sa

from tests.conftest import make_app
from tests.core.test_migrations import empty_database_url  # noqa: F401  (fixture)
from tests.fixtures.clinic import NOW, clinic_as_rows
from webapp.extensions import db


def _insert(model, **values):
    table = model.__table__
    return db.session.execute(sa.insert(table).values(**values).returning(*table.primary_key.columns)).scalar_one()


def _person(tg: int | None = None, bot_id: int | None = None) -> uuid.UUID:
    from webapp.core.models import TelegramAccount, User

    user_id = uuid.uuid4()
    db.session.execute(sa.insert(User.__table__).values(id=user_id, first_name="P", role="user", language="ru"))
    if tg is not None:
        _insert(TelegramAccount, user_id=user_id, bot_id=bot_id, telegram_user_id=tg, chat_id=tg)
    return user_id


def _patient(user_id, last_name: str, iin: str | None = None, notes: str | None = None) -> int:
    from webapp.clinic.models import Patient

    values = dict(first_name="Ерлан", last_name=last_name, phone="+77010000001", birth_date=date(1990, 1, 1))
    return _insert(Patient, user_id=user_id, sex="M", iin=iin, notes=notes, **values)


def _visit(patient_id: int, clinic, hours: int) -> int:
    from webapp.clinic.models import Appointment

    start = NOW + timedelta(hours=hours)
    return _insert(
        Appointment,
        patient_id=patient_id,
        doctor_id=clinic.doctor_id,
        service_id=clinic.consult_id,
        branch_id=clinic.central_id,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        status="completed",
    )


def _bot(name: str) -> int:
    from webapp.telegram.models import Bot

    return _insert(Bot, name=name, vertical="clinic", token_encrypted="x", token_fingerprint=name, created_at=NOW)


def test_the_migration_gives_every_patient_one_organization(empty_database_url):  # noqa: F811
    from flask_migrate import downgrade, upgrade

    from webapp.clinic.models import Appointment, Clinic, Invoice, Patient, PatientTag, VisitSummary

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="0009_organizations")
        bot_two = _bot("clinic-two-bot")
        one, two = clinic_as_rows("Клиника Один"), clinic_as_rows("Клиника Два", bot_id=bot_two)
        db.session.commit()
        upgrade(revision="0013_platform_organizations")

        single = _patient(_person(), "Одинов")
        _visit(single, one, 1)
        both = _patient(_person(), "Двоев", iin="900101300017", notes="аллергия")
        here, there = _visit(both, one, 2), _visit(both, two, 3)
        for tag in ("vip", "diabetes"):
            _insert(PatientTag, patient_id=both, tag=tag)
        paid_there = _insert(Invoice, patient_id=both, appointment_id=there, amount=7000, provider_reference="r1")
        top_up = _insert(Invoice, patient_id=both, amount=100, kind="topup", provider_reference="r2")
        for clinic in (one, two):
            _insert(VisitSummary, patient_id=both, clinic_id=clinic.clinic_id, visits=1)
        talked = _patient(_person(tg=555, bot_id=bot_two), "Ботов")
        nobody = _patient(_person(), "Никтоев")
        db.session.commit()

        upgrade(revision="heads")
        db.session.expire_all()
        org_one = db.session.get(Clinic, one.clinic_id).organization_id
        org_two = db.session.get(Clinic, two.clinic_id).organization_id
        rows = db.session.scalars(sa.select(Patient).order_by(Patient.id)).all()
        assert [(p.last_name, p.organization_id) for p in rows] == [
            ("Одинов", org_one),
            ("Двоев", org_one),
            ("Ботов", org_two),
            ("Никтоев", org_one),
            ("Двоев", org_two),
        ]
        copy = rows[-1]
        assert (copy.iin, copy.notes, copy.user_id, copy.tags) == (
            "900101300017",
            "аллергия",
            rows[1].user_id,
            ["diabetes", "vip"],
        )
        assert rows[1].tags == ["diabetes", "vip"]
        assert db.session.get(Appointment, here).patient_id == both
        assert db.session.get(Appointment, there).patient_id == copy.id
        assert db.session.get(Invoice, paid_there).patient_id == copy.id
        assert db.session.get(Invoice, top_up).patient_id == both  # names no visit: stays with the row
        assert db.session.get(VisitSummary, (copy.id, two.clinic_id)) is not None
        assert db.session.get(VisitSummary, (both, one.clinic_id)) is not None
        assert {talked, nobody, single} <= {p.id for p in rows}
        columns = {c["name"]: c for c in sa.inspect(db.engine).get_columns("clinic_patients")}
        assert columns["organization_id"]["nullable"] is False

        db.session.commit()  # the downgrade alters the table: no transaction of ours may hold it
        downgrade(revision="0013_platform_organizations")
        patients = sa.Table("clinic_patients", sa.MetaData(), autoload_with=db.engine)
        assert "organization_id" not in patients.c
        assert db.session.scalar(sa.select(sa.func.count()).select_from(patients)) == 4
        owner = sa.select(Appointment.__table__.c.patient_id).where(Appointment.__table__.c.id == there)
        assert db.session.scalar(owner) == both
        payer = sa.select(Invoice.__table__.c.patient_id).where(Invoice.__table__.c.id == paid_there)
        assert db.session.scalar(payer) == both
        tags = db.session.scalars(sa.select(PatientTag.tag).where(PatientTag.patient_id == both)).all()
        assert sorted(tags) == ["diabetes", "vip"]
        db.session.remove()
        db.engine.dispose()
