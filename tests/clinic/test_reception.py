"""The reception's calendar (issue 14): a doctor's day and week per branch, booking a free cell for a
patient found by IIN, phone or name or registered on the spot, the appointment's steps as buttons,
the patient's card — each role-checked, scoped to the organization, and refusing bad input in words."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_from
from tests.fixtures.clinic import MONDAY, VALID_IIN_FEMALE_1995, VALID_IIN_MALE_1990, at, build_clinic, build_patient

CALENDAR = "/admin/clinic_day/"
NEW_IIN = "850312400019"  # 1985-03-12, female
TUESDAY = MONDAY + timedelta(days=1)


@pytest.fixture(autouse=True)
def _fixed_clock(frozen_clock):
    return frozen_clock


@pytest.fixture
def desk(app, clinic_data, make_user, console_login):
    """Clinic A's reception (an organization admin) signed in, and a patient with a visit booked."""
    from webapp.clinic.models import Branch, Doctor, Patient, Service
    from webapp.clinic.services.booking import book_appointment
    from webapp.extensions import db

    with app.app_context():
        patient = build_patient(iin=VALID_IIN_MALE_1990, phone="+7 701 123 45 67")
        visit = book_appointment(
            db.session.get(Patient, patient.id),
            db.session.get(Doctor, clinic_data.doctor_id),
            db.session.get(Service, clinic_data.consult_id),
            db.session.get(Branch, clinic_data.central_id),
            at(MONDAY, 10),
            source="console",
        )
        db.session.commit()
        visit_id = visit.id
    client = app.test_client()
    console_login(client, make_user("admin"))
    return SimpleNamespace(client=client, ids=clinic_data, patient=patient.id, visit=visit_id)


def _book_form(client, ids, when, **fields):
    starts_at = when.isoformat()
    query = {"doctor_id": ids.doctor_id, "branch_id": ids.central_id, "starts_at": starts_at}
    page = client.get("/admin/clinic_day/book", query_string=query)
    assert page.status_code == 200, page.status_code
    data = {**query, "csrf_token": csrf_from(page.text), "service_id": ids.consult_id, **fields}
    return client.post("/admin/clinic_day/book", data=data)


def _appointments(app, **where):
    from webapp.clinic.models import Appointment
    from webapp.extensions import db

    with app.app_context():
        return list(db.session.scalars(sa.select(Appointment).filter_by(**where).order_by(Appointment.id)))


def _spaces(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


def _flash(client) -> str:
    return client.get(CALENDAR).text


def test_day_and_week_show_free_cells_and_bookings_in_the_clinic_zone(desk):
    query = {"doctor_id": desk.ids.doctor_id, "branch_id": desk.ids.central_id, "day": str(MONDAY)}
    day = desk.client.get(CALENDAR, query_string=query).text
    assert "Asia/Almaty (+05)" in day
    assert f'data-slot="{at(MONDAY, 9).isoformat()}"' in day  # 09:00 Almaty is free
    assert f'data-slot="{at(MONDAY, 10).isoformat()}"' not in day  # 10:00 is booked…
    assert f'data-appointment="{desk.visit}"' in day and "Жумабаев Ерлан" in day and "Записан" in day
    assert f'data-slot="{at(MONDAY, 13).isoformat()}"' not in day  # the lunch break
    assert "2030-01-06" in day and "2030-01-08" in day  # previous and next day

    week = desk.client.get(CALENDAR, query_string={**query, "view": "week", "day": "2030-01-09"}).text
    assert week.count('<th class="rc-time">') == 1 + 16  # the header; 09:00–12:30 and 14:00–17:30
    assert "Выходной" in week  # Wednesday 9 January is a day off
    assert f'data-slot="{at(TUESDAY, 9).isoformat()}"' in week
    assert "2029-12-31" in week and "2030-01-14" in week  # the weeks before and after


def test_search_finds_the_organizations_patients_by_iin_phone_or_name(app, desk, make_organization):
    organization_b = make_organization("Org B")
    with app.app_context():
        build_clinic(organization_id=organization_b, name="Клиника B")
        other = build_patient(last_name="Жумабаева", phone="+77010000002", organization_id=organization_b)

    def found(text):
        body = desk.client.get("/admin/clinic_day/patients", query_string={"q": text}).get_json()
        return [p["id"] for p in body["patients"]]

    assert found("9001013") == [desk.patient]
    assert found("8 701 123 45 67") == [desk.patient]
    assert found("жумабаев ерлан") == [desk.patient]
    assert other.id not in found("Жумабаев")
    assert found("ж") == [] and found("") == [] and found("%") == []


def test_booking_an_existing_patient_goes_through_the_service(app, desk):
    response = _book_form(desk.client, desk.ids, at(MONDAY, 11), patient_id=desk.patient, notes="Первичный")
    assert response.status_code == 302 and "/admin/clinic_day/appointment/" in response.location
    booked = _appointments(app, patient_id=desk.patient, status="booked")
    assert [a.starts_at for a in booked] == [at(MONDAY, 10), at(MONDAY, 11)]
    assert booked[1].source == "console" and booked[1].notes == "Первичный"


def test_registering_a_new_patient_derives_birth_date_and_sex_from_the_iin(app, desk):
    from webapp.clinic.models import Patient
    from webapp.extensions import db

    new = {"last_name": "Сейтова", "first_name": "Дана", "iin": NEW_IIN, "phone": "87015550011", "consent": "yes"}
    response = _book_form(desk.client, desk.ids, at(MONDAY, 11), **new)
    assert response.status_code == 302, response.text
    with app.app_context():
        patient = db.session.scalar(sa.select(Patient).filter_by(iin=NEW_IIN))
        assert (patient.birth_date.isoformat(), patient.sex, patient.phone) == ("1985-03-12", "F", "+77015550011")
        assert patient.user_id is None and patient.consent_personal_data_at is not None
    assert [a.starts_at for a in _appointments(app, patient_id=patient.id)] == [at(MONDAY, 11)]
    # The new patient is the organization's now: the search finds them.
    assert desk.client.get("/admin/clinic_day/patients?q=Сейтова").get_json()["patients"][0]["id"] == patient.id


def test_double_booking_is_refused_in_words_and_registers_nobody(app, desk):
    from webapp.clinic.models import Patient
    from webapp.extensions import db

    new = {"last_name": "Сейтова", "first_name": "Дана", "iin": NEW_IIN, "phone": "87015550011", "consent": "yes"}
    refused = _book_form(desk.client, desk.ids, at(MONDAY, 10), **new)
    assert refused.status_code == 200 and "Это время уже занято" in refused.text
    assert 'value="Сейтова"' in refused.text  # what was typed stays in the form
    with app.app_context():
        assert db.session.scalar(sa.select(Patient).filter_by(iin=NEW_IIN)) is None
    assert len(_appointments(app, doctor_id=desk.ids.doctor_id)) == 1
    no_service = _book_form(desk.client, desk.ids, at(MONDAY, 10, 30), patient_id=desk.patient, service_id="")
    assert no_service.status_code == 200 and "недоступна" in no_service.text


@pytest.mark.parametrize(
    "fields,words",
    [
        ({"iin": "900101300018"}, "контрольная"),  # a wrong check digit
        ({"iin": "12"}, "12 цифр"),
        ({"iin": NEW_IIN, "consent": ""}, "согласие"),
        ({"iin": NEW_IIN, "phone": "12"}, "номер телефона"),
        ({"iin": NEW_IIN, "first_name": "R2D2"}, "имя буквами"),
        ({"iin": VALID_IIN_MALE_1990}, "уже зарегистрирован"),
        ({"patient_id": "abc"}, "Не найдено"),
        ({"patient_id": "99999999999999999999"}, "Не найдено"),
    ],
)
def test_bad_input_is_refused_in_words_and_changes_nothing(app, desk, fields, words):
    from webapp.clinic.models import Patient
    from webapp.extensions import db

    new = {"last_name": "Сейтова", "first_name": "Дана", "phone": "87015550011", "consent": "yes", **fields}
    response = _book_form(desk.client, desk.ids, at(MONDAY, 11), **new)
    assert response.status_code == 200 and words in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Patient)) == 1
    assert len(_appointments(app)) == 1


@pytest.mark.parametrize("starts_at", ["", "garbage", "2030-01-07T09:00", "9999-01-01T00:00:00+00:00"])
def test_a_malformed_time_points_back_to_the_calendar(app, desk, starts_at):
    query = {"doctor_id": desk.ids.doctor_id, "branch_id": desk.ids.central_id, "starts_at": starts_at}
    response = desk.client.get("/admin/clinic_day/book", query_string=query)
    assert response.status_code == 200 and "Выберите свободное время" in response.text
    data = {**query, "csrf_token": csrf_from(response.text), "service_id": desk.ids.consult_id}
    posted = desk.client.post("/admin/clinic_day/book", data={**data, "patient_id": desk.patient})
    assert posted.status_code == 200 and "Выберите свободное время" in posted.text
    assert len(_appointments(app)) == 1


def _act(client, appointment_id, verb, **data):
    page = client.get(f"/admin/clinic_day/appointment/{appointment_id}")
    form = {"csrf_token": csrf_from(page.text), **data}
    return client.post(f"/admin/clinic_day/appointment/{appointment_id}/{verb}", data=form)


def test_the_steps_go_through_the_state_machine(app, desk, frozen_clock):
    page = desk.client.get(f"/admin/clinic_day/appointment/{desk.visit}").text
    assert "Asia/Almaty" in page and "Жумабаев Ерлан" in page and "15 000" in _spaces(page)
    assert _act(desk.client, desk.visit, "no_show").status_code == 302
    assert "только после начала" in _flash(desk.client)
    assert _appointments(app, id=desk.visit)[0].status == "booked"
    _act(desk.client, desk.visit, "confirm")
    assert _appointments(app, id=desk.visit)[0].status == "confirmed"
    _act(desk.client, desk.visit, "reschedule", starts_at=at(MONDAY, 15).isoformat())
    moved = _appointments(app, id=desk.visit)[0]
    assert (moved.starts_at, moved.status) == (at(MONDAY, 15), "booked")
    _act(desk.client, desk.visit, "reschedule", starts_at=at(MONDAY, 13).isoformat())  # the lunch break
    assert "не принимает" in _flash(desk.client)
    frozen_clock(at(MONDAY, 15, 5))
    _act(desk.client, desk.visit, "arrived")
    assert _appointments(app, id=desk.visit)[0].status == "arrived"
    _act(desk.client, desk.visit, "cancel")
    assert "только до начала" in _flash(desk.client)
    _act(desk.client, desk.visit, "completed")
    assert _appointments(app, id=desk.visit)[0].status == "completed"
    closed = desk.client.get(f"/admin/clinic_day/appointment/{desk.visit}").text
    assert "Завершена" in closed and 'id="rc-confirm"' not in closed


def test_cancel_before_the_start(app, desk):
    _act(desk.client, desk.visit, "cancel")
    assert _appointments(app, id=desk.visit)[0].status == "cancelled"
    day = desk.client.get(CALENDAR, query_string={"doctor_id": desk.ids.doctor_id, "day": str(MONDAY)}).text
    assert f'data-slot="{at(MONDAY, 10).isoformat()}"' in day  # the time is free again


def test_the_patient_card_shows_visits_documents_and_payments(app, desk):
    from webapp.clinic.models import Appointment, Patient
    from webapp.clinic.services import documents, payments
    from webapp.extensions import db

    with app.app_context():
        patient = db.session.get(Patient, desk.patient)
        visit = db.session.get(Appointment, desk.visit)
        document = documents.generate_document(patient, "ticket", appointment_id=visit.id)
        payments.request_prepayment(visit, source="console")
        db.session.commit()
        link = documents.download_path(documents.download_token(document))
    card = desk.client.get(f"/admin/clinic_day/patient/{desk.patient}").text
    assert "900101300017" in card and "01.01.1990" in card and "Мужской" in card
    assert f"/admin/clinic_day/appointment/{desk.visit}" in card and "Записан" in card
    assert f'href="{link}"' in card
    assert "5 000" in _spaces(card) and "Ожидает оплаты" in card
    assert desk.client.get(link).status_code == 200  # the link downloads the PDF


@pytest.mark.parametrize("role", ["helper", "marketer", "moderator", "realtor"])
def test_roles_without_clinical_work_are_refused(app, desk, make_user, console_login, role):
    client = app.test_client()
    console_login(client, make_user(role))
    pages = [
        CALENDAR,
        "/admin/clinic_day/patients?q=Жумабаев",
        f"/admin/clinic_day/appointment/{desk.visit}",
        f"/admin/clinic_day/patient/{desk.patient}",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code in (403, 404) or "Жумабаев" not in response.text, (role, page)
    client.post(f"/admin/clinic_day/appointment/{desk.visit}/cancel")
    assert _appointments(app, id=desk.visit)[0].status == "booked"


def test_another_organizations_admin_finds_nothing(app, desk, make_user, make_organization, console_login):
    organization_b = make_organization("Org B")
    with app.app_context():
        build_clinic(organization_id=organization_b, name="Клиника B")
    client = app.test_client()
    console_login(client, make_user("admin", organization=organization_b))
    assert client.get(f"/admin/clinic_day/appointment/{desk.visit}").status_code == 404
    assert client.get(f"/admin/clinic_day/patient/{desk.patient}").status_code == 404
    assert client.get("/admin/clinic_day/patients?q=900101").get_json() == {"patients": []}
    assert "Жумабаев" not in client.get(CALENDAR, query_string={"doctor_id": desk.ids.doctor_id}).text
    assert _act_status(client, desk.visit, "cancel") == 404
    assert _appointments(app, id=desk.visit)[0].status == "booked"
    page = client.get(CALENDAR)
    data = {
        "csrf_token": csrf_from(page.text),
        "doctor_id": desk.ids.doctor_id,
        "branch_id": desk.ids.central_id,
        "starts_at": at(MONDAY, 11).isoformat(),
        "service_id": desk.ids.consult_id,
        "patient_id": desk.patient,
    }
    refused = client.post("/admin/clinic_day/book", data=data)
    assert refused.status_code == 200 and 'id="rc-no-slot"' in refused.text  # A's doctor is not found
    assert len(_appointments(app)) == 1


def _act_status(client, appointment_id, verb) -> int:
    token = csrf_from(client.get(CALENDAR).text)
    return client.post(f"/admin/clinic_day/appointment/{appointment_id}/{verb}", data={"csrf_token": token}).status_code


def test_a_doctor_works_only_on_their_own_schedule(app, desk, make_user, console_login):
    from webapp.clinic.models import Doctor
    from webapp.extensions import db

    own = make_user("doctor")
    with app.app_context():
        db.session.get(Doctor, desk.ids.other_doctor_id).user_id = own.id
        db.session.commit()
    client = app.test_client()
    console_login(client, own)
    assert client.get(f"/admin/clinic_day/appointment/{desk.visit}").status_code == 404
    assert _act_status(client, desk.visit, "confirm") == 404
    assert _appointments(app, id=desk.visit)[0].status == "booked"
    calendar = client.get(CALENDAR, query_string={"doctor_id": desk.ids.doctor_id, "day": str(MONDAY)}).text
    assert "Ким Олег" in calendar and "Ахметова" not in calendar and "Жумабаев" not in calendar
    assert client.get("/admin/clinic_day/patients?q=Жумабаев").get_json() == {"patients": []}
    # Registering a patient is the reception's job; the form does not offer it to a doctor.
    new = {"last_name": "Сейтова", "first_name": "Дана", "iin": NEW_IIN, "phone": "87015550011", "consent": "yes"}
    page = client.get(
        "/admin/clinic_day/book",
        query_string={"doctor_id": desk.ids.doctor_id, "branch_id": desk.ids.central_id, "starts_at": "x"},
    )
    assert page.status_code == 200 and 'id="rc-no-slot"' in page.text
    query = {
        "doctor_id": desk.ids.other_doctor_id,
        "branch_id": desk.ids.east_id,
        "starts_at": at(MONDAY, 9).isoformat(),
    }
    form = client.get("/admin/clinic_day/book", query_string=query).text
    assert 'id="rc-register"' not in form
    data = {**query, **new, "csrf_token": csrf_from(form), "service_id": desk.ids.consult_id}
    assert "Не найдено" in client.post("/admin/clinic_day/book", data=data).text
    assert len(_appointments(app)) == 1


def test_the_second_patient_on_a_taken_time_is_told_so(app, desk):
    with app.app_context():
        second = build_patient(
            iin=VALID_IIN_FEMALE_1995, first_name="Асель", birth_date=date(1995, 5, 20), sex="F", phone="+77015550022"
        )
    from webapp.clinic.models import Branch, Doctor, Patient, Service
    from webapp.clinic.services.booking import book_appointment
    from webapp.extensions import db

    with app.app_context():  # the second patient becomes the organization's by a visit elsewhere
        book_appointment(
            db.session.get(Patient, second.id),
            db.session.get(Doctor, desk.ids.other_doctor_id),
            db.session.get(Service, desk.ids.consult_id),
            db.session.get(Branch, desk.ids.east_id),
            at(MONDAY, 11),
        )
        db.session.commit()
    taken = _book_form(desk.client, desk.ids, at(MONDAY, 10), patient_id=second.id)
    assert "Это время уже занято" in taken.text
    busy = _book_form(desk.client, desk.ids, at(MONDAY, 11), patient_id=second.id)
    assert "У пациента уже есть запись на это время" in busy.text
    assert len(_appointments(app, patient_id=second.id)) == 1


def test_rescheduling_picks_a_free_cell_of_the_same_doctor(app, desk):
    page = desk.client.get(CALENDAR, query_string={"move": desk.visit}).text
    assert 'id="rc-moving"' in page and "Жумабаев Ерлан" in page
    action = f"/admin/clinic_day/appointment/{desk.visit}/reschedule"
    assert page.count(f'action="{action}"') == 16 - 1  # every free cell of Monday but the visit's own
    response = desk.client.post(action, data={"csrf_token": csrf_from(page), "starts_at": at(MONDAY, 9).isoformat()})
    assert response.status_code == 302
    assert _appointments(app, id=desk.visit)[0].starts_at == at(MONDAY, 9)
