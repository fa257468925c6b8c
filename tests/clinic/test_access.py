"""Doctors in seed 002's bot API, tried as an attacker would: with a doctor's JWT, nothing outside the
doctor's own schedule and own patients (patients with an appointment with them) is reachable, and
whatever is out of reach is "not found". The clinic bot's service token keeps full access."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.fixtures.clinic import MONDAY

TUESDAY = MONDAY + timedelta(days=1)


@pytest.fixture(autouse=True)
def _fixed_clock(frozen_clock):
    return frozen_clock


def _book(client, headers, patient, doctor_id, branch_id, service_id, time="10:00"):
    body = {
        "telegram_user_id": patient.telegram_user_id,
        "employee_id": doctor_id,
        "service_id": service_id,
        "branch_id": branch_id,
        "date": str(MONDAY),
        "time": time,
    }
    return client.post("/api/bot/appointments/", json=body, headers=headers)


@pytest.fixture
def two_doctors(app, client, clinic_data, bot_headers, make_patient, make_user, auth_header):
    """Doctor A (with patient P1) and doctor B (with patient P2), each with a console account."""
    from webapp.clinic.models import Doctor
    from webapp.extensions import db

    ids = clinic_data
    user_a, user_b = make_user("doctor"), make_user("doctor")
    with app.app_context():
        db.session.get(Doctor, ids.doctor_id).user_id = user_a.id
        db.session.get(Doctor, ids.other_doctor_id).user_id = user_b.id
        db.session.commit()
    p1, p2 = make_patient(), make_patient()
    a1 = _book(client, bot_headers, p1, ids.doctor_id, ids.central_id, ids.consult_id)
    a2 = _book(client, bot_headers, p2, ids.other_doctor_id, ids.east_id, ids.consult_id)
    assert a1.status_code == a2.status_code == 201, (a1.text, a2.text)
    return SimpleNamespace(
        ids=ids,
        user_a=user_a,
        user_b=user_b,
        a=auth_header(user_a),
        p1=p1,
        p2=p2,
        a1=a1.get_json(),
        a2=a2.get_json(),
    )


def _not_found(response):
    assert response.status_code == 404, (response.status_code, response.text)
    assert response.get_json()["error"]["code"] == "NOT_FOUND"


def test_doctor_reads_only_own_patients(client, two_doctors):
    w = two_doctors
    assert client.get(f"/api/bot/patient/by-telegram/{w.p1.telegram_user_id}/", headers=w.a).status_code == 200
    _not_found(client.get(f"/api/bot/patient/by-telegram/{w.p2.telegram_user_id}/", headers=w.a))
    assert client.get(f"/api/bot/appointments/my/?telegram_user_id={w.p2.telegram_user_id}", headers=w.a).json == []
    assert client.get(f"/api/bot/documents/?telegram_user_id={w.p2.telegram_user_id}", headers=w.a).json == []
    _not_found(client.get(f"/api/bot/payments/balance/?telegram_user_id={w.p2.telegram_user_id}", headers=w.a))
    mine = client.get(f"/api/bot/appointments/my/?telegram_user_id={w.p1.telegram_user_id}", headers=w.a).json
    assert [a["id"] for a in mine] == [w.a1["id"]]


def test_doctor_cannot_book_into_another_schedule_or_for_another_patient(app, client, two_doctors):
    w, ids = two_doctors, two_doctors.ids
    _not_found(_book(client, w.a, w.p1, ids.other_doctor_id, ids.east_id, ids.consult_id, time="11:00"))
    _not_found(_book(client, w.a, w.p2, ids.doctor_id, ids.central_id, ids.consult_id, time="11:00"))
    _not_found(client.get(f"/api/bot/slots/?doctor_id={ids.other_doctor_id}&date={MONDAY}", headers=w.a))
    follow_up = _book(client, w.a, w.p1, ids.doctor_id, ids.central_id, ids.consult_id, time="11:00")
    assert follow_up.status_code == 201, follow_up.text
    assert client.get(f"/api/bot/slots/?doctor_id={ids.doctor_id}&date={MONDAY}", headers=w.a).status_code == 200


def test_doctor_cannot_move_or_cancel_another_doctors_appointment(client, two_doctors):
    w = two_doctors
    url = f"/api/bot/appointments/{w.a2['id']}/"
    _not_found(client.patch(url, json={"date": TUESDAY.isoformat(), "time": "09:00"}, headers=w.a))
    _not_found(client.post(f"{url}cancel/", json={}, headers=w.a))


def test_doctor_cannot_upsert_patients(app, client, two_doctors):
    from webapp.clinic.models import Patient
    from webapp.extensions import db

    w = two_doctors
    body = {
        "first_name": "Hacked",
        "last_name": "Name",
        "phone": "+77011234567",
        "birth_date": "1990-01-01",
        "sex": "M",
        "language": "ru",
        "consents": {"personal_data": True},
    }
    _not_found(
        client.post("/api/bot/patient/upsert/", json={**body, "telegram_user_id": w.p2.telegram_user_id}, headers=w.a)
    )
    _not_found(client.post("/api/bot/patient/upsert/", json={**body, "telegram_user_id": 999_000_111}, headers=w.a))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(Patient.first_name == "Hacked")) == 0


def test_doctor_cannot_bill_or_document_another_doctors_patient(app, client, bot_headers, two_doctors):
    w = two_doctors
    p2 = w.p2.telegram_user_id
    invoice = {"telegram_user_id": p2, "amount": "1000.00", "description": "x"}
    _not_found(client.post("/api/bot/payments/invoice/", json=invoice, headers=w.a))
    document = {"telegram_user_id": p2, "document_type": "ticket", "language": "ru", "appointment_id": w.a2["id"]}
    _not_found(client.post("/api/bot/documents/generate/", json=document, headers=w.a))
    _not_found(
        client.post(
            "/api/bot/support/ticket/", json={"telegram_user_id": p2, "subject": "s", "message": "m"}, headers=w.a
        )
    )
    # What the bot made for P2 stays out of doctor A's reach too.
    theirs = client.post("/api/bot/payments/invoice/", json=invoice, headers=bot_headers).get_json()
    _not_found(client.get(f"/api/bot/payments/{theirs['invoice_id']}/status/", headers=w.a))
    made = client.post("/api/bot/documents/generate/", json=document, headers=bot_headers).get_json()
    _not_found(client.get(f"/api/bot/documents/{made['id']}/download/", headers=w.a))
    # Doctor A's own patient is served.
    own = {"telegram_user_id": w.p1.telegram_user_id, "amount": "1000.00", "description": "x"}
    assert client.post("/api/bot/payments/invoice/", json=own, headers=w.a).status_code == 201


def test_console_and_api_share_one_rule(app, two_doctors):
    """The console's doctor scope and the API's come from webapp.clinic.access."""
    from webapp.clinic import access
    from webapp.clinic.models import Appointment, Patient
    from webapp.core.services import get_user
    from webapp.extensions import db

    w = two_doctors
    with app.app_context():
        doctor_a = get_user(w.user_a.id)
        patients = db.session.scalars(access.scope(sa.select(Patient), doctor_a)).all()
        assert [p.id for p in patients] == [w.p1.id]
        appointments = db.session.scalars(access.scope(sa.select(Appointment), doctor_a)).all()
        assert [a.id for a in appointments] == [w.a1["id"]]
        assert access.can_read(doctor_a, db.session.get(Patient, w.p2.id)) is False
        assert len(db.session.scalars(access.scope(sa.select(Patient), access.SYSTEM)).all()) == 2
