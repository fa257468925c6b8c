"""The demo clinic seeds once, completely, and a second run changes nothing."""

from __future__ import annotations

from webapp.clinic import demo
from webapp.clinic.models import Appointment, Branch, Clinic, Doctor, Faq, Feedback, Patient, Service
from webapp.clinic.services.iin import validate_iin
from webapp.extensions import db


def _counts():
    return [
        db.session.scalar(db.select(db.func.count()).select_from(m))
        for m in (Clinic, Branch, Service, Doctor, Patient, Appointment, Faq)
    ]


def test_demo_is_complete_and_idempotent(app_ctx, make_user):
    make_user("doctor", username="doctor")
    lines = list(demo.seed())
    db.session.commit()
    assert lines[0].startswith("created demo clinic")
    assert _counts()[:5] == [1, 2, 5, 4, 3]
    clinic = db.session.scalar(db.select(Clinic))
    assert clinic.timezone == "Asia/Almaty"
    statuses = sorted(db.session.scalars(db.select(Appointment.status)))
    assert statuses == ["booked", "booked", "completed", "no_show"]
    assert db.session.scalar(db.select(Feedback.score)) == 9
    assert all(validate_iin(p.iin, p.birth_date, p.sex).valid for p in db.session.scalars(db.select(Patient)))
    linked = db.session.scalar(db.select(Doctor).where(Doctor.user_id.is_not(None)))
    assert linked.full_name == "Ахметова Айгуль Сериковна"
    before = _counts()
    assert list(demo.seed()) == []
    db.session.commit()
    assert _counts() == before


def test_demo_clinic_is_an_organization_with_its_own_admin(app_ctx, make_user):
    from webapp.clinic import access
    from webapp.core.models import Membership, User
    from webapp.telegram.models import Bot

    make_user("doctor", username="doctor")
    make_user("marketer", username="marketer", organization=None)
    bot = Bot(name="clinic", vertical="clinic", token_encrypted="x", token_fingerprint="demo-clinic")
    db.session.add(bot)
    db.session.commit()
    list(demo.seed())
    db.session.commit()
    clinic = db.session.scalar(db.select(Clinic))
    assert clinic.organization.name == demo.DEMO_CLINIC
    assert db.session.get(Bot, bot.id).organization_id == clinic.organization_id
    admin = db.session.scalar(db.select(User).filter_by(username=demo.CLINIC_ADMIN))
    assert admin.role == "admin" and admin.check_password("botdesk-demo")
    for username in ("doctor", "marketer", demo.CLINIC_ADMIN):
        account = db.session.scalar(db.select(User).filter_by(username=username))
        assert db.session.get(Membership, account.id).organization_id == clinic.organization_id, username
    assert len(db.session.scalars(access.scope(db.select(Patient), admin)).all()) == 3
    assert list(demo.seed()) == []
