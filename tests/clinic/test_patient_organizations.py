"""Issue 12, the patient itself: a patient belongs to one clinic organization. The same Telegram
person registers in clinic A and in clinic B as two patients with their own names, consents, tags
and notes; an IIN known to one clinic is no hint to the other; one clinic's certificates and balance
count only its own payments. Tried as an attacker would: through the bot API (the shared secret
naming a clinic, and each clinic admin's token) and the services the bot worker calls."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.fixtures.clinic import MONDAY, VALID_IIN_MALE_1990, build_clinic

PERSON = 7_770_001  # one Telegram person, a patient of both clinics
OTHER = 7_770_002
THIRD = 7_770_003


@pytest.fixture(autouse=True)
def _fixed_clock(frozen_clock):
    return frozen_clock


@pytest.fixture
def w(app, clinic_data, make_user, make_organization, auth_header):
    """Clinic A (the test organization) and organization B with its own clinic; an admin each."""
    organization_b = make_organization("Clinic B business")
    with app.app_context():
        b = build_clinic(organization_id=organization_b, name="Клиника B")
    return SimpleNamespace(
        a=clinic_data,
        b=b,
        organization_b=organization_b,
        as_a=auth_header(make_user("admin")),
        as_b=auth_header(make_user("admin", organization=organization_b)),
    )


def _register(client, headers, telegram_user_id, **changes):
    body = {
        "telegram_user_id": telegram_user_id,
        "first_name": "Ерлан",
        "last_name": "Жумабаев",
        "phone": "+77010000001",
        "birth_date": "1990-01-01",
        "sex": "M",
        "language": "ru",
        "consents": {"personal_data": True, "medical": True, "marketing": True},
        **changes,
    }
    return client.post("/api/bot/patient/upsert/", json=body, headers=headers)


def _profile(client, headers, telegram_user_id, **query):
    return client.get(f"/api/bot/patient/by-telegram/{telegram_user_id}/", headers=headers, query_string=query)


def test_one_person_registers_in_two_clinics_as_two_patients(client, w):
    in_a = _register(client, w.as_a, PERSON, last_name="Альфаев")
    in_b = _register(client, w.as_b, PERSON, last_name="Бетаев", consents={"personal_data": True})
    assert in_a.status_code == 201, in_a.text
    assert in_b.status_code == 201, in_b.text
    assert in_a.json["patient_id"] != in_b.json["patient_id"]

    seen_by_a, seen_by_b = _profile(client, w.as_a, PERSON).json, _profile(client, w.as_b, PERSON).json
    assert (seen_by_a["last_name"], seen_by_a["consents_json"]["marketing"]) == ("Альфаев", True)
    assert (seen_by_b["last_name"], seen_by_b["consents_json"]["marketing"]) == ("Бетаев", False)
    # B rewriting its patient changes nothing of A's.
    again = _register(client, w.as_b, PERSON, last_name="Бетаева", consents={"personal_data": False})
    assert again.status_code == 200, again.text
    assert _profile(client, w.as_a, PERSON).json["last_name"] == "Альфаев"
    assert _profile(client, w.as_a, PERSON).json["consents_json"]["personal_data"] is True


def test_the_shared_secret_registers_in_the_clinic_it_names(client, w, bot_headers):
    in_b = _register(client, bot_headers, PERSON, last_name="Бетаев", clinic_id=w.b.clinic_id)
    assert in_b.status_code == 201, in_b.text
    # Clinic A (the default clinic, and named) has no such patient: B's registration is no hint.
    assert _profile(client, bot_headers, PERSON).status_code == 404
    assert _profile(client, bot_headers, PERSON, clinic_id=w.a.clinic_id).status_code == 404
    assert _profile(client, w.as_a, PERSON).status_code == 404
    assert _profile(client, bot_headers, PERSON, clinic_id=w.b.clinic_id).json["last_name"] == "Бетаев"
    # A clinic admin cannot name the other clinic to reach its patients.
    assert _profile(client, w.as_a, PERSON, clinic_id=w.b.clinic_id).status_code == 404
    assert _register(client, w.as_a, PERSON, clinic_id=w.b.clinic_id).status_code == 404


def test_tags_and_notes_stay_in_their_clinic(app, client, w):
    from webapp.clinic.models import Patient
    from webapp.clinic.services.patients import set_tags
    from webapp.extensions import db

    in_a = _register(client, w.as_a, PERSON).json["patient_id"]
    in_b = _register(client, w.as_b, PERSON).json["patient_id"]
    with app.app_context():
        patient = db.session.get(Patient, in_a)
        set_tags(patient, ["vip", "diabetes"])
        patient.notes = "allergic to penicillin"
        db.session.commit()
        assert db.session.get(Patient, in_b).notes is None
    assert _profile(client, w.as_a, PERSON).json["tags"] == ["diabetes", "vip"]
    assert _profile(client, w.as_b, PERSON).json["tags"] == []


def test_an_iin_of_another_clinic_is_accepted_silently(app, client, w):
    from webapp.clinic.models import Patient
    from webapp.extensions import db

    assert _register(client, w.as_b, OTHER, iin=VALID_IIN_MALE_1990).status_code == 201
    reused = _register(client, w.as_a, PERSON, iin=VALID_IIN_MALE_1990)
    assert reused.status_code == 201, reused.text
    assert _profile(client, w.as_a, PERSON).json["iin"] == VALID_IIN_MALE_1990
    # Inside one clinic the IIN stays one person's.
    taken = _register(client, w.as_a, THIRD, iin=VALID_IIN_MALE_1990)
    assert taken.status_code == 409 and taken.json["error"]["code"] == "IIN_TAKEN"
    with app.app_context():
        rows = db.session.scalars(sa.select(Patient).where(Patient.iin == VALID_IIN_MALE_1990)).all()
        assert sorted(p.organization_id for p in rows) == sorted([w.a.organization_id, w.organization_b])


def _paid_visit_invoice(client, headers, clinic, telegram_user_id, amount):
    from webapp.clinic.models import Invoice
    from webapp.clinic.services import payments
    from webapp.extensions import db

    booked = client.post(
        "/api/bot/appointments/",
        json={
            "telegram_user_id": telegram_user_id,
            "employee_id": clinic.doctor_id,
            "service_id": clinic.consult_id,
            "branch_id": clinic.central_id,
            "date": str(MONDAY),
            "time": "10:00",
        },
        headers=headers,
    )
    assert booked.status_code == 201, booked.text
    body = {"telegram_user_id": telegram_user_id, "amount": amount, "appointment_id": booked.json["id"]}
    invoice = client.post("/api/bot/payments/invoice/", json=body, headers=headers)
    assert invoice.status_code == 201, invoice.text
    payments.demo_provider_pay(db.session.get(Invoice, invoice.json["invoice_id"]), "paid")
    db.session.commit()


def test_tax_certificate_and_balance_count_only_this_clinics_payments(app, client, w, bot_headers, monkeypatch):
    from webapp.clinic.services import documents
    from webapp.clinic.services.patients import patient_by_telegram

    headings, heading = [], documents._Pdf.heading

    def spy(pdf, text, *args, **kwargs):
        headings.append(text)
        return heading(pdf, text, *args, **kwargs)

    monkeypatch.setattr(documents._Pdf, "heading", spy)

    _register(client, bot_headers, PERSON, clinic_id=w.a.clinic_id)
    _register(client, bot_headers, PERSON, clinic_id=w.b.clinic_id)
    with app.app_context():
        _paid_visit_invoice(client, bot_headers, w.a, PERSON, 5000)
        _paid_visit_invoice(client, bot_headers, w.b, PERSON, 7000)
        in_a = patient_by_telegram(PERSON, w.a.organization_id)
        paid = documents.yearly_payments(in_a, MONDAY.year, "Asia/Almaty")
        assert [invoice.amount for invoice in paid] == [Decimal("5000.00")]

    balance_a = client.get(f"/api/bot/payments/balance/?telegram_user_id={PERSON}", headers=w.as_a)
    balance_b = client.get(f"/api/bot/payments/balance/?telegram_user_id={PERSON}", headers=w.as_b)
    assert balance_a.json["paid"] == 5000 and balance_b.json["paid"] == 7000, (balance_a.json, balance_b.json)
    tax = {"telegram_user_id": PERSON, "document_type": "tax", "language": "ru", "year": MONDAY.year}
    assert client.post("/api/bot/documents/generate/", json=tax, headers=w.as_b).status_code == 201
    assert headings[0] == "Клиника B"  # B's certificate is headed by B's clinic, not the platform's first


def test_clinic_a_cannot_see_or_change_clinic_bs_patient(app, client, w):
    from webapp.clinic.models import Patient
    from webapp.extensions import db

    in_b = _register(client, w.as_b, PERSON, last_name="Бетаев").json["patient_id"]
    assert _profile(client, w.as_a, PERSON).status_code == 404
    assert client.get(f"/api/bot/appointments/my/?telegram_user_id={PERSON}", headers=w.as_a).json == []
    assert client.get(f"/api/bot/payments/balance/?telegram_user_id={PERSON}", headers=w.as_a).status_code == 404
    # A's upsert makes A's own patient; B's stays as B wrote it.
    assert _register(client, w.as_a, PERSON, last_name="Хакер", consents={"personal_data": True}).status_code == 201
    with app.app_context():
        patient = db.session.get(Patient, in_b)
        assert (patient.last_name, patient.consent_marketing_at is not None) == ("Бетаев", True)


def test_bot_registration_belongs_to_the_bots_organization(app, w):
    """The services the bot worker calls: a patient found or created within one organization."""
    from webapp.clinic.services.patients import PatientData, patient_for_user, upsert_patient, user_for_telegram
    from webapp.extensions import db

    data = PatientData(
        first_name="Ерлан",
        last_name="Жумабаев",
        phone="+77010000001",
        birth_date=date(1990, 1, 1),
        sex="M",
        consents={"personal_data": True},
    )
    with app.app_context():
        user = user_for_telegram(PERSON)
        in_a, created_a = upsert_patient(user, data, organization_id=w.a.organization_id)
        in_b, created_b = upsert_patient(user, data, organization_id=w.organization_b)
        db.session.commit()
        assert created_a and created_b and in_a.id != in_b.id
        assert patient_for_user(user, w.organization_b).id == in_b.id
        assert patient_for_user(user, w.a.organization_id).id == in_a.id


def test_console_walk_in_belongs_to_the_admins_organization(app, client, w, console_login, make_user):
    from tests.conftest import csrf_from
    from webapp.clinic.models import Patient
    from webapp.extensions import db

    assert _register(client, w.as_a, PERSON, iin=VALID_IIN_MALE_1990).status_code == 201
    console = app.test_client()
    console_login(console, make_user("admin", organization=w.organization_b))

    def walk_in(last_name: str):
        page = console.get("/admin/clinic_patients/new/")
        form = {
            "csrf_token": csrf_from(page.text),
            "last_name": last_name,
            "first_name": "Ерлан",
            "phone": "+77011234567",
            "birth_date": "1990-01-01",
            "sex": "M",
            "iin": VALID_IIN_MALE_1990,
            "language": "ru",
            "osms_status": "unknown",
            "is_active": "y",
        }
        return console.post("/admin/clinic_patients/new/", data=form)

    assert walk_in("Пришедший").status_code == 302  # A's patient with this IIN is no obstacle, nor a hint
    refused = walk_in("Двойник")
    assert refused.status_code == 200 and "Этот ИИН уже зарегистрирован." in refused.text
    with app.app_context():
        rows = db.session.scalars(sa.select(Patient).where(Patient.iin == VALID_IIN_MALE_1990)).all()
        assert sorted((p.organization_id, p.last_name) for p in rows) == sorted(
            [(w.a.organization_id, "Жумабаев"), (w.organization_b, "Пришедший")]
        )
