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
