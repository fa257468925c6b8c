"""Issue 12, tried as an attacker would: the admin of another organization — a business with its
own clinic on the same platform — reaches none of clinic A's patients, visits, certificates or
schedules, through the bot API or the console; staff roles that do no clinical work (helper,
marketer) and the platform moderator read no patient at all. Whatever is out of reach is "not found"
(404 in the API; absent, refused or empty in the console). Clinic A's own admin still does each."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_from
from tests.fixtures.clinic import MONDAY, at, build_clinic

A_SURNAME = "Секретова"  # clinic A's patient
B_SURNAME = "Бэшкина"  # clinic B's own patient


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


def _not_found(response):
    assert response.status_code == 404, (response.status_code, response.text)
    assert response.get_json()["error"]["code"] == "NOT_FOUND"


@pytest.fixture
def two_clinics(app, client, clinic_data, bot_headers, make_patient, make_user, make_organization, auth_header):
    """Clinic A (the test organization) with patient PA: one visit done, one booked, a visit
    certificate; organization B with its own clinic and its own patient PB; each has an admin."""
    from webapp.clinic.models import Appointment
    from webapp.clinic.services import booking, documents
    from webapp.clinic.services.patients import patient_by_telegram
    from webapp.extensions import db

    a = clinic_data
    organization_b = make_organization("Agency B")
    with app.app_context():
        b = build_clinic(organization_id=organization_b, name="Клиника B")
    admin_a, admin_b = make_user("admin"), make_user("admin", organization=organization_b)
    pa = make_patient(last_name=A_SURNAME, phone="+77010000001")
    pb = make_patient(last_name=B_SURNAME, phone="+77010000002", organization_id=organization_b)
    done = _book(client, bot_headers, pa, a.doctor_id, a.central_id, a.consult_id, time="09:00")
    upcoming = _book(client, bot_headers, pa, a.doctor_id, a.central_id, a.consult_id, time="15:00")
    own = _book(client, bot_headers, pb, b.doctor_id, b.central_id, b.consult_id, time="10:00")
    assert done.status_code == upcoming.status_code == own.status_code == 201, (done.text, upcoming.text, own.text)
    with app.app_context():
        visit = db.session.get(Appointment, done.get_json()["id"])
        booking.mark_arrived(visit, source="test", now=at(MONDAY, 9))
        booking.complete_appointment(visit, source="test", now=at(MONDAY, 9, 31), at=at(MONDAY, 9, 30))
        certificate = documents.generate_document(
            patient_by_telegram(pa.telegram_user_id, a.organization_id), "visit", language="ru", appointment_id=visit.id
        )
        db.session.commit()
        certificate_id = str(certificate.id)
    return SimpleNamespace(
        a=a,
        b=b,
        pa=pa,
        pb=pb,
        admin_a=admin_a,
        admin_b=admin_b,
        as_a=auth_header(admin_a),
        as_b=auth_header(admin_b),
        visit=done.get_json()["id"],
        upcoming=upcoming.get_json()["id"],
        own=own.get_json()["id"],
        certificate=certificate_id,
        organization_b=organization_b,
    )


def _console(app, console_login, user):
    client = app.test_client()
    console_login(client, user)
    return client


# --- the bot API -----------------------------------------------------------------------------------


def test_other_admin_cannot_read_patients_or_visits_in_the_api(client, two_clinics):
    w = two_clinics
    tg = w.pa.telegram_user_id
    _not_found(client.get(f"/api/bot/patient/by-telegram/{tg}/", headers=w.as_b))
    assert client.get(f"/api/bot/appointments/my/?telegram_user_id={tg}", headers=w.as_b).json == []
    assert client.get(f"/api/bot/documents/?telegram_user_id={tg}", headers=w.as_b).json == []
    _not_found(client.get(f"/api/bot/payments/balance/?telegram_user_id={tg}", headers=w.as_b))
    # Nor clinic A's directory: its branches, services and doctors are not B's to list.
    listed = client.get("/api/bot/doctors/", headers=w.as_b).json
    assert {d["id"] for d in listed} == {w.b.doctor_id, w.b.other_doctor_id}
    assert {b["id"] for b in client.get("/api/bot/branches/", headers=w.as_b).json} == {w.b.central_id, w.b.east_id}

    assert client.get(f"/api/bot/patient/by-telegram/{tg}/", headers=w.as_a).json["last_name"] == A_SURNAME
    visits = client.get(f"/api/bot/appointments/my/?telegram_user_id={tg}", headers=w.as_a).json
    assert {v["id"] for v in visits} == {w.visit, w.upcoming}
    assert w.a.doctor_id in {d["id"] for d in client.get("/api/bot/doctors/", headers=w.as_a).json}


def test_other_admin_cannot_get_a_patients_visit_certificate(client, two_clinics):
    w = two_clinics
    _not_found(client.get(f"/api/bot/documents/{w.certificate}/download/", headers=w.as_b))
    body = {
        "telegram_user_id": w.pa.telegram_user_id,
        "document_type": "visit",
        "language": "ru",
        "appointment_id": w.visit,
    }
    _not_found(client.post("/api/bot/documents/generate/", json=body, headers=w.as_b))

    link = client.get(f"/api/bot/documents/{w.certificate}/download/", headers=w.as_a)
    assert link.status_code == 200 and link.json["download_url"]
    assert client.post("/api/bot/documents/generate/", json=body, headers=w.as_a).status_code == 201


def test_other_admin_cannot_cancel_an_appointment(app, client, two_clinics):
    from webapp.clinic.models import Appointment
    from webapp.extensions import db

    w = two_clinics
    _not_found(client.post(f"/api/bot/appointments/{w.upcoming}/cancel/", json={}, headers=w.as_b))
    move = {"date": str(MONDAY), "time": "16:00"}
    _not_found(client.patch(f"/api/bot/appointments/{w.upcoming}/", json=move, headers=w.as_b))
    with app.app_context():
        assert db.session.get(Appointment, w.upcoming).status == "booked"

    assert client.post(f"/api/bot/appointments/{w.upcoming}/cancel/", json={}, headers=w.as_a).status_code == 200
    with app.app_context():
        assert db.session.get(Appointment, w.upcoming).status == "cancelled"


def _upsert(client, headers, patient, **changes):
    body = {
        "telegram_user_id": patient.telegram_user_id,
        "first_name": "Ерлан",
        "last_name": A_SURNAME,
        "phone": "+77010000001",
        "birth_date": "1990-01-01",
        "sex": "M",
        "language": "ru",
        "consents": {"personal_data": True, "medical": True, "marketing": True},
        **changes,
    }
    return client.post("/api/bot/patient/upsert/", json=body, headers=headers)


def test_other_admin_cannot_set_marketing_consent_or_upsert_the_patient(app, client, two_clinics):
    from webapp.clinic.models import Patient
    from webapp.extensions import db

    w = two_clinics
    withdrawn = {"personal_data": True, "medical": True, "marketing": False}
    # B's upsert of A's patient's Telegram id registers B's own patient: A's is untouched.
    hijack = _upsert(client, w.as_b, w.pa, consents=withdrawn, last_name="Hacked")
    assert hijack.status_code == 201 and hijack.get_json()["patient_id"] != w.pa.id, hijack.text
    with app.app_context():
        patient = db.session.get(Patient, w.pa.id)
        assert patient.consent_marketing_at is not None and patient.last_name == A_SURNAME

    assert _upsert(client, w.as_a, w.pa, consents=withdrawn).status_code == 200
    with app.app_context():
        assert db.session.get(Patient, w.pa.id).consent_marketing_at is None
    # B's admin still registers its own patients.
    assert _upsert(client, w.as_b, w.pb, last_name=B_SURNAME, phone="+77010000002").status_code == 200


def test_other_admin_cannot_book_into_anothers_doctor(client, two_clinics):
    w = two_clinics
    a = w.a
    _not_found(_book(client, w.as_b, w.pb, a.doctor_id, a.central_id, a.consult_id, time="11:00"))
    _not_found(client.get(f"/api/bot/slots/?doctor_id={a.doctor_id}&date={MONDAY}", headers=w.as_b))
    # Its own doctor, with A's branch and service smuggled in, is refused too.
    _not_found(_book(client, w.as_b, w.pb, w.b.doctor_id, a.central_id, a.consult_id, time="11:00"))

    assert client.get(f"/api/bot/slots/?doctor_id={a.doctor_id}&date={MONDAY}", headers=w.as_a).status_code == 200
    assert _book(client, w.as_a, w.pa, a.doctor_id, a.central_id, a.consult_id, time="11:00").status_code == 201
    own = _book(client, w.as_b, w.pb, w.b.doctor_id, w.b.central_id, w.b.consult_id, time="11:00")
    assert own.status_code == 201, own.text


# --- the console -----------------------------------------------------------------------------------


def test_other_admin_sees_no_patient_or_visit_in_the_console(app, console_login, two_clinics):
    w = two_clinics
    b = _console(app, console_login, w.admin_b)
    for page in ("/admin/clinic_patients/", "/admin/clinic_patients/export/csv/"):
        text = b.get(page).text
        assert A_SURNAME not in text and B_SURNAME in text, page
    for page in ("/admin/clinic_appointments/", "/admin/clinic_appointments/export/csv/"):
        text = b.get(page).text
        assert A_SURNAME not in text and B_SURNAME in text, page
    for page in (
        f"/admin/clinic_patients/edit/?id={w.pa.id}",
        f"/admin/clinic_appointments/details/?id={w.visit}",
        f"/admin/clinic_documents/details/?id={w.certificate}",
    ):
        response = b.get(page)
        assert response.status_code == 302 and A_SURNAME not in response.text, page
    day = b.get(f"/admin/clinic_day/?doctor_id={w.a.doctor_id}&day={MONDAY}").text
    assert A_SURNAME not in day
    assert "Клиника Тест" not in b.get("/admin/clinic_settings/").text
    assert A_SURNAME not in b.get("/admin/clinic_documents/").text

    a = _console(app, console_login, w.admin_a)
    assert A_SURNAME in a.get("/admin/clinic_patients/export/csv/").text
    assert B_SURNAME not in a.get("/admin/clinic_patients/").text
    assert a.get(f"/admin/clinic_patients/edit/?id={w.pa.id}").status_code == 200
    assert A_SURNAME in a.get(f"/admin/clinic_appointments/details/?id={w.visit}").text
    assert A_SURNAME in a.get(f"/admin/clinic_day/?doctor_id={w.a.doctor_id}&day={MONDAY}").text


def test_other_admin_cannot_cancel_or_edit_in_the_console(app, console_login, two_clinics):
    from webapp.clinic.models import Appointment, Patient
    from webapp.extensions import db

    w = two_clinics
    b = _console(app, console_login, w.admin_b)
    token = csrf_from(b.get("/admin/clinic_appointments/").text)
    b.post("/admin/clinic_appointments/action/", data={"csrf_token": token, "action": "cancel", "rowid": w.upcoming})
    edit = {"csrf_token": token, "last_name": "Hacked", "first_name": "X", "phone": "+77010000009"}
    b.post(f"/admin/clinic_patients/edit/?id={w.pa.id}", data=edit)
    with app.app_context():
        assert db.session.get(Appointment, w.upcoming).status == "booked"
        assert db.session.get(Patient, w.pa.id).last_name == A_SURNAME

    a = _console(app, console_login, w.admin_a)
    token = csrf_from(a.get("/admin/clinic_appointments/").text)
    a.post("/admin/clinic_appointments/action/", data={"csrf_token": token, "action": "cancel", "rowid": w.upcoming})
    with app.app_context():
        assert db.session.get(Appointment, w.upcoming).status == "cancelled"


def test_other_admin_creates_only_in_its_own_organization(app, console_login, two_clinics):
    from webapp.clinic.models import Branch, Clinic
    from webapp.extensions import db

    w = two_clinics
    b = _console(app, console_login, w.admin_b)
    token = csrf_from(b.get("/admin/clinic_branches/new/").text)
    b.post("/admin/clinic_branches/new/", data={"csrf_token": token, "clinic": w.a.clinic_id, "name": "Smuggled"})
    created = b.post("/admin/clinic_settings/new/", data={"csrf_token": token, "name": "B2", "timezone": "Asia/Almaty"})
    assert created.status_code == 302, created.text
    with app.app_context():
        assert db.session.scalar(sa.select(Branch).where(Branch.name == "Smuggled")) is None
        assert db.session.scalar(sa.select(Clinic).where(Clinic.name == "B2")).organization_id == w.organization_b
    b.post("/admin/clinic_branches/new/", data={"csrf_token": token, "clinic": w.b.clinic_id, "name": "Own branch"})
    with app.app_context():
        assert db.session.scalar(sa.select(Branch).where(Branch.name == "Own branch")).clinic_id == w.b.clinic_id


# --- roles that do no clinical work ----------------------------------------------------------------


@pytest.mark.parametrize("role", ["helper", "marketer", "realtor", "moderator"])
def test_non_clinical_roles_read_no_patient(app, client, console_login, make_user, auth_header, two_clinics, role):
    from webapp.clinic import access
    from webapp.clinic.models import Appointment, Patient
    from webapp.core.services import get_user
    from webapp.extensions import db

    w = two_clinics
    for organization in (None,) if role == "moderator" else (w.a.organization_id, w.organization_b):
        user = make_user(role, organization=organization)
        response = client.get(f"/api/bot/patient/by-telegram/{w.pa.telegram_user_id}/", headers=auth_header(user))
        assert response.status_code in (403, 404)
        console = _console(app, console_login, user)
        assert A_SURNAME not in console.get("/admin/clinic_patients/").text
        assert A_SURNAME not in console.get("/admin/clinic_appointments/").text
        with app.app_context():
            actor = get_user(user.id)
            assert db.session.scalars(access.scope(sa.select(Patient), actor)).all() == []
            assert db.session.scalars(access.scope(sa.select(Appointment), actor)).all() == []
            assert access.can_read(actor, db.session.get(Patient, w.pa.id)) is False


def test_each_admin_scope_holds_its_own_patients(app, two_clinics):
    """The one rule the API, the console and the segments share."""
    from webapp.clinic import access
    from webapp.clinic.models import Appointment, Document, Patient
    from webapp.core.services import get_user
    from webapp.extensions import db

    w = two_clinics
    with app.app_context():
        admin_a, admin_b = get_user(w.admin_a.id), get_user(w.admin_b.id)
        assert db.session.scalars(access.scope(sa.select(Patient.id), admin_a, Patient)).all() == [w.pa.id]
        assert db.session.scalars(access.scope(sa.select(Patient.id), admin_b, Patient)).all() == [w.pb.id]
        assert set(db.session.scalars(access.scope(sa.select(Appointment.id), admin_a, Appointment))) == {
            w.visit,
            w.upcoming,
        }
        assert db.session.scalars(access.scope(sa.select(Document), admin_b)).all() == []
        assert len(db.session.scalars(access.scope(sa.select(Patient), access.SYSTEM)).all()) == 2


def test_superuser_chooses_the_clinics_organization(app, console_login, make_user, two_clinics):
    from webapp.clinic.models import Clinic
    from webapp.extensions import db

    w = two_clinics
    root = _console(app, console_login, make_user("superuser"))
    token = csrf_from(root.get("/admin/clinic_settings/new/").text)
    body = {"csrf_token": token, "name": "Chosen", "timezone": "Asia/Almaty", "currency": "KZT"}
    assert root.post("/admin/clinic_settings/new/", data=body).status_code == 200  # none chosen: refused
    created = root.post("/admin/clinic_settings/new/", data={**body, "organization": w.organization_b})
    assert created.status_code == 302, created.text
    with app.app_context():
        assert db.session.scalar(sa.select(Clinic).where(Clinic.name == "Chosen")).organization_id == w.organization_b
    listing = root.get("/admin/clinic_settings/").text
    assert "Клиника Тест" in listing and "Клиника B" in listing
