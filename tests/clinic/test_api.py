"""Seed 002's /api/bot/... endpoints, path by path: success, bad input (4xx, nothing written), auth."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.fixtures.clinic import MONDAY, NOW, VALID_IIN_MALE_1990, at

TUESDAY = MONDAY + timedelta(days=1)


@pytest.fixture(autouse=True)
def _fixed_clock(frozen_clock):
    return frozen_clock


def _count(app, model_name: str) -> int:
    from webapp.clinic import models
    from webapp.core import models as core_models
    from webapp.extensions import db

    model = getattr(models, model_name, None) or getattr(core_models, model_name)
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def _registration(telegram_user_id=555001, **overrides):
    body = {
        "telegram_user_id": telegram_user_id,
        "telegram_username": "erlan",
        "language": "kk",
        "first_name": "Ерлан",
        "last_name": "Жұмабаев",
        "middle_name": "Серікұлы",
        "phone": "8 (701) 123-45-67",
        "birth_date": "1990-01-01",
        "sex": "M",
        "iin": VALID_IIN_MALE_1990,
        "consents": {"personal_data": True, "medical": True, "marketing": False},
    }
    body.update(overrides)
    return body


def _book(client, headers, ids, patient, day=MONDAY, time="10:00", **extra):
    body = {
        "telegram_user_id": patient.telegram_user_id,
        "employee_id": ids.doctor_id,
        "service_id": ids.consult_id,
        "branch_id": ids.central_id,
        "date": str(day),
        "time": time,
        **extra,
    }
    return client.post("/api/bot/appointments/", json=body, headers=headers)


def _error_field(response) -> str:
    return response.get_json()["error"]["details"][0]["field"]


# --- auth ------------------------------------------------------------------------------------------


def test_service_secret_or_staff_jwt(client, clinic_data, bot_headers, make_user, auth_header):
    assert client.get("/api/bot/branches/").status_code == 401
    assert client.get("/api/bot/branches/", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/bot/branches/", headers=auth_header(make_user("user"))).status_code == 403
    assert client.get("/api/bot/branches/", headers=auth_header(make_user("marketer"))).status_code == 403
    assert client.get("/api/bot/branches/", headers=auth_header(make_user("doctor"))).status_code == 200
    assert client.get("/api/bot/branches/", headers=auth_header(make_user("admin"))).status_code == 200
    response = client.get("/api/bot/branches/", headers=bot_headers)
    assert response.status_code == 200
    assert [b["name"] for b in response.get_json()] == ["Восточный", "Центральный"]


# --- patients --------------------------------------------------------------------------------------


def test_patient_upsert_creates_then_updates(app, client, clinic_data, bot_headers):
    response = client.post("/api/bot/patient/upsert/", json=_registration(), headers=bot_headers)
    assert response.status_code == 201, response.text
    body = response.get_json()
    assert body["created"] is True and body["full_name"] == "Жұмабаев Ерлан Серікұлы"
    assert body["telegram_link_id"]
    again = client.post(
        "/api/bot/patient/upsert/", json=_registration(first_name="Ерболат", language="ru"), headers=bot_headers
    )
    assert again.status_code == 200 and again.get_json()["created"] is False
    assert again.get_json()["patient_id"] == body["patient_id"]
    link = client.get("/api/bot/patient/by-telegram/555001/", headers=bot_headers).get_json()
    assert link["patient"] == body["patient_id"]
    assert (link["patient_full_name"], link["patient_phone"]) == ("Жұмабаев Ерболат Серікұлы", "+77011234567")
    assert link["consents_json"] == {"personal_data": True, "medical": True, "marketing": False}
    assert (link["language"], link["iin"], link["sex"]) == ("ru", VALID_IIN_MALE_1990, "M")
    assert client.get("/api/bot/patient/by-telegram/999/", headers=bot_headers).status_code == 404


@pytest.mark.parametrize(
    "overrides,status,field",
    [
        ({"iin": "900101300018"}, 422, "iin"),  # wrong check digit
        ({"sex": "F", "iin": VALID_IIN_MALE_1990}, 422, "iin"),  # IIN says male
        ({"birth_date": "1990-01-02"}, 422, "iin"),
        ({"phone": "12345"}, 422, "phone"),
        ({"first_name": "R2D2"}, 422, "first_name"),
        ({"birth_date": "2031-01-01"}, 422, "birth_date"),
        ({"sex": "X"}, 422, "sex"),
        ({"language": "de"}, 422, "language"),
        ({"telegram_user_id": -5}, 422, "telegram_user_id"),
        ({"consents": {"personal_data": False}}, 422, "consents.personal_data"),
        ({"consents": {"spam": True, "personal_data": True}}, 422, "consents"),
    ],
)
def test_patient_upsert_refuses_bad_input_and_writes_nothing(
    app, client, clinic_data, bot_headers, overrides, status, field
):
    users, patients = _count(app, "User"), _count(app, "Patient")
    response = client.post("/api/bot/patient/upsert/", json=_registration(**overrides), headers=bot_headers)
    assert response.status_code == status, response.text
    assert _error_field(response) == field
    assert (_count(app, "User"), _count(app, "Patient")) == (users, patients)


def test_patient_upsert_iin_belongs_to_someone_else(client, clinic_data, bot_headers):
    assert client.post("/api/bot/patient/upsert/", json=_registration(), headers=bot_headers).status_code == 201
    response = client.post("/api/bot/patient/upsert/", json=_registration(telegram_user_id=555002), headers=bot_headers)
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "IIN_TAKEN"


def test_verify_iin(client, bot_headers):
    ok = client.post("/api/bot/patient/verify-iin/", json={"iin": VALID_IIN_MALE_1990}, headers=bot_headers)
    assert ok.status_code == 200
    assert ok.get_json() | {} == {
        "valid": True,
        "iin": VALID_IIN_MALE_1990,
        "birth_date": "1990-01-01",
        "sex": "M",
        "error": None,
        "code": None,
    }
    bad = client.post(
        "/api/bot/patient/verify-iin/", json={"iin": VALID_IIN_MALE_1990, "sex": "F"}, headers=bot_headers
    ).get_json()
    assert (bad["valid"], bad["code"]) == (False, "sex_mismatch")
    assert bad["error"] == "ИИН не соответствует указанному полу"
    kk = client.post("/api/bot/patient/verify-iin/", json={"iin": "123", "language": "kk"}, headers=bot_headers)
    assert kk.get_json()["error"] == "ЖСН дәл 12 цифрдан тұруы керек"
    assert client.post("/api/bot/patient/verify-iin/", json={}, headers=bot_headers).status_code == 422


# --- directory and slots ---------------------------------------------------------------------------


def test_services_doctors_and_filters(client, clinic_data, bot_headers):
    ids = clinic_data
    services = client.get(f"/api/bot/services/?branch_id={ids.east_id}", headers=bot_headers).get_json()
    assert [(s["name"], s["price"], s["duration_minutes"]) for s in services] == [
        ("Консультация терапевта", "15000.00", 30)
    ]
    assert len(client.get("/api/bot/services/", headers=bot_headers).get_json()) == 2
    query = f"service_id={ids.consult_id}&branch_id={ids.east_id}"
    doctors = client.get(f"/api/bot/doctors/?{query}", headers=bot_headers).get_json()
    assert [d["full_name"] for d in doctors] == ["Ахметова Айгуль Сериковна", "Ким Олег"]
    wednesday = (MONDAY + timedelta(days=2)).isoformat()  # the first doctor's day off; the second works Mondays only
    assert client.get(f"/api/bot/doctors/?{query}&date={wednesday}", headers=bot_headers).get_json() == []
    monday = client.get(f"/api/bot/doctors/?service_id={ids.consult_id}&date={MONDAY}", headers=bot_headers)
    assert len(monday.get_json()) == 2
    assert client.get("/api/bot/doctors/?date=2030-02-30", headers=bot_headers).status_code == 422
    assert client.get("/api/bot/services/?branch_id=abc", headers=bot_headers).status_code == 422


def test_slots(client, clinic_data, bot_headers):
    ids = clinic_data
    url = f"/api/bot/slots/?doctor_id={ids.doctor_id}&date={MONDAY}&service_id={ids.ultrasound_id}"
    body = client.get(url, headers=bot_headers).get_json()
    assert body["timezone"] == "Asia/Almaty" and body["date"] == "2030-01-07"
    assert body["slots"][0] == {
        "time": "09:00",
        "available": True,
        "starts_at": "2030-01-07T04:00:00Z",
        "branch_id": ids.central_id,
    }
    assert "12:30" not in [s["time"] for s in body["slots"]]  # an hour-long service cannot run into lunch
    assert client.get(f"/api/bot/slots/?date={MONDAY}", headers=bot_headers).status_code == 422
    assert client.get(f"/api/bot/slots/?doctor_id=999&date={MONDAY}", headers=bot_headers).status_code == 404
    assert (
        client.get(f"/api/bot/slots/?doctor_id={ids.doctor_id}&date=07.01.2030", headers=bot_headers).status_code == 422
    )


# --- appointments ----------------------------------------------------------------------------------


def test_book_list_reschedule_cancel(app, client, clinic_data, bot_headers, make_patient):
    ids, patient = clinic_data, make_patient()
    response = _book(client, bot_headers, ids, patient, notes="Первичный приём")
    assert response.status_code == 201, response.text
    appointment = response.get_json()
    assert {k: appointment[k] for k in ("date", "time_from", "time_to", "status", "notes")} == {
        "date": "2030-01-07",
        "time_from": "10:00:00",
        "time_to": "10:30:00",
        "status": "booked",
        "notes": "Первичный приём",
    }
    assert appointment["doctor_name"] == "Ахметова Айгуль Сериковна"
    assert (appointment["branch_name"], appointment["branch_address"]) == ("Центральный", "пр. Абая, 1")
    assert appointment["starts_at"] == "2030-01-07T05:00:00Z"

    mine = client.get(f"/api/bot/appointments/my/?telegram_user_id={patient.telegram_user_id}", headers=bot_headers)
    assert [a["id"] for a in mine.get_json()] == [appointment["id"]]
    assert client.get("/api/bot/appointments/my/?telegram_user_id=42", headers=bot_headers).get_json() == []

    url = f"/api/bot/appointments/{appointment['id']}/"
    moved = client.patch(url, json={"date": TUESDAY.isoformat(), "time": "15:30"}, headers=bot_headers)
    assert moved.status_code == 200, moved.text
    assert (moved.get_json()["date"], moved.get_json()["time_from"]) == ("2030-01-08", "15:30:00")
    assert (
        client.patch(url, json={"date": TUESDAY.isoformat(), "time": "13:00"}, headers=bot_headers).status_code == 409
    )
    someone_else = make_patient()
    stranger = client.patch(
        url,
        json={"date": TUESDAY.isoformat(), "time": "16:00", "telegram_user_id": someone_else.telegram_user_id},
        headers=bot_headers,
    )
    assert stranger.status_code == 404

    cancelled = client.post(f"{url}cancel/", headers=bot_headers)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    again = client.post(f"{url}cancel/", json={"reason": "twice"}, headers=bot_headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "INVALID_TRANSITION"
    assert client.post("/api/bot/appointments/999/cancel/", headers=bot_headers).status_code == 404


def test_booking_refusals_write_nothing(app, client, clinic_data, bot_headers, make_patient):
    ids, first, second = clinic_data, make_patient(), make_patient()
    assert _book(client, bot_headers, ids, first).status_code == 201
    taken = _book(client, bot_headers, ids, second)
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "SLOT_TAKEN"
    assert _book(client, bot_headers, ids, second, time="10:10").status_code == 409  # off the grid
    assert _book(client, bot_headers, ids, second, time="25:00").status_code == 422
    assert _book(client, bot_headers, ids, second, day="2030-13-01").status_code == 422
    unknown = _book(client, bot_headers, ids, type("P", (), {"telegram_user_id": 4242})())
    assert unknown.status_code == 404
    body = {"telegram_user_id": second.telegram_user_id, "service_id": 1, "branch_id": 1, "date": "2030-01-07"}
    assert client.post("/api/bot/appointments/", json={**body, "time": "11:00"}, headers=bot_headers).status_code == 422
    assert (
        client.post(
            "/api/bot/appointments/", data="{oops", headers={**bot_headers, "Content-Type": "application/json"}
        ).status_code
        == 400
    )
    wrong_branch = _book(
        client, bot_headers, ids, second, time="11:00", branch_id=ids.east_id, service_id=ids.ultrasound_id
    )
    assert wrong_branch.status_code == 422 and wrong_branch.get_json()["error"]["code"] == "NOT_OFFERED"
    assert _count(app, "Appointment") == 1


def test_doctor_changes_only_own_appointments(
    app, client, clinic_data, bot_headers, make_patient, make_user, auth_header
):
    from webapp.clinic.models import Doctor
    from webapp.extensions import db

    ids, patient = clinic_data, make_patient()
    own, other = make_user("doctor"), make_user("doctor")
    with app.app_context():
        db.session.get(Doctor, ids.doctor_id).user_id = own.id
        db.session.commit()
    appointment = _book(client, bot_headers, ids, patient).get_json()
    url = f"/api/bot/appointments/{appointment['id']}/"
    move = {"date": TUESDAY.isoformat(), "time": "09:00"}
    assert client.patch(url, json=move, headers=auth_header(other)).status_code == 404  # not theirs: not found
    assert client.patch(url, json=move, headers=auth_header(own)).status_code == 200
    assert client.post(f"{url}cancel/", headers=auth_header(make_user("admin"))).status_code == 200


# --- documents -------------------------------------------------------------------------------------


def test_document_generate_download_and_expiry(app, client, clinic_data, bot_headers, make_patient, frozen_clock):
    ids, patient = clinic_data, make_patient()
    appointment = _book(client, bot_headers, ids, patient).get_json()
    generate = {"telegram_user_id": patient.telegram_user_id, "document_type": "ticket", "language": "kk"}
    assert client.post("/api/bot/documents/generate/", json=generate, headers=bot_headers).status_code == 404
    created = client.post(
        "/api/bot/documents/generate/", json={**generate, "appointment_id": appointment["id"]}, headers=bot_headers
    )
    assert created.status_code == 201, created.text
    document = created.get_json()
    assert document["title"] == "Қабылдауға талон" and document["is_expired"] is False
    assert document["expires_at"] == "2030-01-08T05:00:00Z"  # 48 h after NOW

    listed = client.get(
        f"/api/bot/documents/?telegram_user_id={patient.telegram_user_id}&type=ticket", headers=bot_headers
    )
    assert [d["id"] for d in listed.get_json()] == [document["id"]]
    link = client.get(f"/api/bot/documents/{document['id']}/download/", headers=bot_headers).get_json()
    assert link["filename"].endswith(".pdf") and link["expires_at"] == document["expires_at"]
    path = link["download_url"].split("://", 1)[1].split("/", 1)[1]
    pdf = client.get("/" + path)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    forged = "/" + path.replace("/download/", "/download/x")
    assert client.get(forged).status_code == 404

    frozen_clock(NOW + timedelta(hours=47, minutes=59))
    assert client.get("/" + path).status_code == 200
    frozen_clock(NOW + timedelta(hours=48))
    assert client.get("/" + path).status_code == 410
    assert client.get(f"/api/bot/documents/{document['id']}/download/", headers=bot_headers).status_code == 410
    assert (
        client.get(f"/api/bot/documents/?telegram_user_id={patient.telegram_user_id}", headers=bot_headers).get_json()
        == []
    )


def test_document_refusals(client, clinic_data, bot_headers, make_patient):
    ids, patient = clinic_data, make_patient()
    appointment = _book(client, bot_headers, ids, patient).get_json()
    base = {"telegram_user_id": patient.telegram_user_id, "appointment_id": appointment["id"]}
    visit = client.post("/api/bot/documents/generate/", json={**base, "document_type": "visit"}, headers=bot_headers)
    assert visit.status_code == 409  # no visit yet
    bad = client.post("/api/bot/documents/generate/", json={**base, "document_type": "x"}, headers=bot_headers)
    assert bad.status_code == 422
    tax = client.post(
        "/api/bot/documents/generate/", json={**base, "document_type": "tax", "year": 2029}, headers=bot_headers
    )
    assert tax.status_code == 201
    assert (
        client.get("/api/bot/documents/00000000-0000-0000-0000-000000000000/download/", headers=bot_headers).status_code
        == 404
    )
    assert client.get("/api/bot/documents/?telegram_user_id=x", headers=bot_headers).status_code == 422


# --- payments --------------------------------------------------------------------------------------


def _signed(app, payload: dict) -> tuple[bytes, dict]:
    from webapp.clinic.services.payments import sign

    body = json.dumps(payload).encode()
    with app.app_context():
        return body, {"X-Signature": sign(body), "Content-Type": "application/json"}


def test_invoice_callback_status_and_balance(app, client, clinic_data, bot_headers, make_patient):
    patient = make_patient()
    created = client.post(
        "/api/bot/payments/invoice/",
        json={"telegram_user_id": patient.telegram_user_id, "amount": 7500.5, "description": "Анализы"},
        headers=bot_headers,
    )
    assert created.status_code == 201, created.text
    invoice = created.get_json()
    assert (invoice["amount"], invoice["status"], invoice["currency"]) == (7500.5, "pending", "KZT")
    status_url = f"/api/bot/payments/{invoice['invoice_id']}/status/"

    payload = {"payment_id": invoice["payment_id"], "status": "paid", "amount": "7500.50"}
    body, headers = _signed(app, payload)
    forged = client.post("/api/bot/payments/callback/", data=body, headers={**headers, "X-Signature": "00" * 32})
    assert forged.status_code == 401
    unsigned = client.post("/api/bot/payments/callback/", data=body, headers={"Content-Type": "application/json"})
    assert unsigned.status_code == 401
    assert client.get(status_url, headers=bot_headers).get_json()["status"] == "pending"

    first = client.post("/api/bot/payments/callback/", data=body, headers=headers)
    assert first.status_code == 200 and first.get_json()["changed"] is True
    paid = client.get(status_url, headers=bot_headers).get_json()
    assert paid["status"] == "paid" and paid["paid_at"] == "2030-01-06T05:00:00Z"
    replay = client.post("/api/bot/payments/callback/", data=body, headers=headers)
    assert replay.status_code == 200 and replay.get_json()["changed"] is False
    assert client.get(status_url, headers=bot_headers).get_json() == paid

    refused = client.post(
        "/api/bot/payments/callback/",
        data=_signed(app, {**payload, "status": "failed"})[0],
        headers=_signed(app, {**payload, "status": "failed"})[1],
    )
    assert refused.status_code == 409

    balance = client.get(f"/api/bot/payments/balance/?telegram_user_id={patient.telegram_user_id}", headers=bot_headers)
    assert balance.get_json() == {"currency": "KZT", "balance": 7500.5, "paid": 7500.5, "charged": 0.0, "pending": 0.0}
    assert client.get("/api/bot/payments/balance/?telegram_user_id=4242", headers=bot_headers).status_code == 404
    assert client.get("/api/bot/payments/999/status/", headers=bot_headers).status_code == 404


@pytest.mark.parametrize("amount", [0, -1, "lots", 1e12])
def test_invoice_refuses_bad_amounts(app, client, clinic_data, bot_headers, make_patient, amount):
    patient = make_patient()
    response = client.post(
        "/api/bot/payments/invoice/",
        json={"telegram_user_id": patient.telegram_user_id, "amount": amount},
        headers=bot_headers,
    )
    assert response.status_code == 422
    assert _count(app, "Invoice") == 0


# --- feedback, support, FAQ ------------------------------------------------------------------------


def test_feedback_after_a_visit_only_once(app, client, clinic_data, bot_headers, make_patient, frozen_clock):
    from webapp.clinic.models import Appointment
    from webapp.clinic.services.booking import complete_appointment
    from webapp.extensions import db

    ids, patient = clinic_data, make_patient()
    appointment = _book(client, bot_headers, ids, patient).get_json()
    body = {"telegram_user_id": patient.telegram_user_id, "appointment_id": appointment["id"], "score": 9}
    early = client.post("/api/bot/feedback/", json=body, headers=bot_headers)
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "NOT_VISITED"
    with app.app_context():
        complete_appointment(db.session.get(Appointment, appointment["id"]), now=at(MONDAY, 10, 30))
        db.session.commit()
    assert client.post("/api/bot/feedback/", json={**body, "score": 11}, headers=bot_headers).status_code == 422
    saved = client.post("/api/bot/feedback/", json={**body, "score": 4, "comment": "Долго ждал"}, headers=bot_headers)
    assert saved.status_code == 201 and saved.get_json()["is_low_score"] is True
    assert client.post("/api/bot/feedback/", json=body, headers=bot_headers).status_code == 409
    stranger = make_patient()
    other = client.post(
        "/api/bot/feedback/", json={**body, "telegram_user_id": stranger.telegram_user_id}, headers=bot_headers
    )
    assert other.status_code == 404
    assert _count(app, "Feedback") == 1


def test_support_ticket_and_faq(app, client, clinic_data, bot_headers, make_patient):
    patient = make_patient()
    ticket = client.post(
        "/api/bot/support/ticket/",
        json={"telegram_user_id": patient.telegram_user_id, "subject": "Справка", "message": "Нужна справка 086"},
        headers=bot_headers,
    )
    assert ticket.status_code == 201 and ticket.get_json()["status"] == "open"
    empty = client.post(
        "/api/bot/support/ticket/",
        json={"telegram_user_id": patient.telegram_user_id, "subject": "   ", "message": "x"},
        headers=bot_headers,
    )
    assert empty.status_code == 422
    assert _count(app, "SupportTicket") == 1
    ru = client.get("/api/bot/support/faq/", headers=bot_headers).get_json()["faqs"]
    assert [f["question"] for f in ru] == ["Как записаться?", "Как отменить запись?"]
    kk = client.get("/api/bot/support/faq/?language=kk", headers=bot_headers).get_json()["faqs"]
    assert [f["question"] for f in kk] == ["Қалай жазылуға болады?", "Как отменить запись?"]
    assert client.get("/api/bot/support/faq/?language=de", headers=bot_headers).status_code == 422
