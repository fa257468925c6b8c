"""The clinic console: who sees what (a doctor only their own appointments, also by URL), search and
CSV export of patients, state-machine actions, schedule editing, the dashboard."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_from
from tests.fixtures.clinic import MONDAY, NOW, VALID_IIN_MALE_1990, at, build_patient

CLINIC_PAGES = [
    "/admin/clinic_dashboard/",
    "/admin/clinic_day/",
    "/admin/clinic_appointments/",
    "/admin/clinic_patients/",
    "/admin/clinic_doctors/",
    "/admin/clinic_doctors/new/",
    "/admin/clinic_services/",
    "/admin/clinic_branches/",
    "/admin/clinic_payments/",
    "/admin/clinic_documents/",
    "/admin/clinic_feedback/",
    "/admin/clinic_faq/",
    "/admin/clinic_support/",
    "/admin/clinic_reminders/",
    "/admin/clinic_settings/",
]
STAFF_PAGES = {"/admin/clinic_dashboard/", "/admin/clinic_day/", "/admin/clinic_appointments/"}


@pytest.fixture
def world(app, clinic_data, make_user, frozen_clock):
    """Two doctors with console accounts, an appointment for each."""
    from webapp.clinic.models import Branch, Doctor, Patient, Service
    from webapp.clinic.services.booking import book_appointment
    from webapp.extensions import db

    own, other = make_user("doctor"), make_user("doctor")
    with app.app_context():
        first = db.session.get(Doctor, clinic_data.doctor_id)
        second = db.session.get(Doctor, clinic_data.other_doctor_id)
        first.user_id, second.user_id = own.id, other.id
        consult = db.session.get(Service, clinic_data.consult_id)
        mine = book_appointment(
            db.session.get(Patient, build_patient(iin=VALID_IIN_MALE_1990).id),
            first,
            consult,
            db.session.get(Branch, clinic_data.central_id),
            at(MONDAY, 10),
            now=NOW,
        )
        theirs = book_appointment(
            db.session.get(Patient, build_patient(first_name="Олжас", phone="+77775550000").id),
            second,
            consult,
            db.session.get(Branch, clinic_data.east_id),
            at(MONDAY, 9),
            now=NOW,
        )
        db.session.commit()
        return type("World", (), {"own": own, "other": other, "mine": mine.id, "theirs": theirs.id})


def _client(app, console_login, user):
    client = app.test_client()
    console_login(client, user)
    return client


@pytest.mark.parametrize("role", ["admin", "superuser", "doctor", "marketer", "helper", "moderator"])
def test_who_opens_which_page(app, make_user, console_login, clinic_data, role):
    client = _client(app, console_login, make_user(role))
    for page in CLINIC_PAGES:
        status = client.get(page).status_code
        if role == "superuser" or role == "admin" or (role == "doctor" and page in STAFF_PAGES):
            assert status == 200, (role, page, status)
        else:
            assert status == 403, (role, page, status)


def test_doctor_sees_only_own_appointments(app, console_login, world):
    client = _client(app, console_login, world.own)
    listing = client.get("/admin/clinic_appointments/").text
    assert "Жумабаев Ерлан" in listing and "Олжас" not in listing
    assert client.get(f"/admin/clinic_appointments/details/?id={world.mine}").status_code == 200
    leaked = client.get(f"/admin/clinic_appointments/details/?id={world.theirs}")
    assert leaked.status_code == 302  # "record does not exist" for someone else's appointment
    exported = client.get("/admin/clinic_appointments/export/csv/").text
    assert exported.count("\n") == 2 and "Олжас" not in exported  # header + own row
    day = client.get(f"/admin/clinic_day/?day={MONDAY}").text
    assert "Жумабаев Ерлан" in day and "Олжас" not in day and "09:30" in day


def test_doctor_actions_go_through_the_state_machine(app, console_login, world, frozen_clock):
    from webapp.clinic.models import Appointment
    from webapp.extensions import db

    client = _client(app, console_login, world.own)
    page = client.get("/admin/clinic_appointments/").text
    form = {"csrf_token": csrf_from(page), "action": "complete", "rowid": [str(world.mine), str(world.theirs)]}
    client.post("/admin/clinic_appointments/action/", data=form)
    with app.app_context():
        assert db.session.get(Appointment, world.mine).status == "booked"  # before the start: refused
    frozen_clock(at(MONDAY, 10, 40))
    client.post("/admin/clinic_appointments/action/", data=form)
    with app.app_context():
        assert db.session.get(Appointment, world.mine).status == "completed"
        assert db.session.get(Appointment, world.theirs).status == "booked"  # not theirs to touch


def test_patient_search_filter_and_csv(app, make_user, console_login, world):
    client = _client(app, console_login, make_user("admin"))
    by_iin = client.get(f"/admin/clinic_patients/?search={VALID_IIN_MALE_1990}").text
    assert "Жумабаев" in by_iin and "Олжас" not in by_iin
    by_phone = client.get("/admin/clinic_patients/?search=77775550000").text
    assert "Олжас" in by_phone and VALID_IIN_MALE_1990 not in by_phone
    csv = client.get("/admin/clinic_patients/export/csv/").text
    assert VALID_IIN_MALE_1990 in csv and "Олжас" in csv


def test_schedule_editing_validates_intervals(app, make_user, console_login, clinic_data):
    from webapp.clinic.models import DoctorSchedule
    from webapp.extensions import db

    client = _client(app, console_login, make_user("admin"))
    url = f"/admin/clinic_doctors/edit/?id={clinic_data.other_doctor_id}"
    page = client.get(url).text
    base = {
        "csrf_token": csrf_from(page),
        "clinic": str(clinic_data.clinic_id),
        "full_name": "Ким Олег",
        "slot_step_minutes": "30",
        "branches": [str(clinic_data.east_id)],
        "services": [str(clinic_data.consult_id)],
        "is_active": "y",
        "schedules-0-id": "",
        "schedules-0-branch": str(clinic_data.east_id),
        "schedules-0-weekday": "3",
    }
    with app.app_context():
        before = db.session.scalar(db.select(db.func.count(DoctorSchedule.id)))
    bad = {**base, "schedules-0-start_time": "15:00", "schedules-0-end_time": "12:00"}
    client.post(url, data=bad)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(DoctorSchedule.id))) == before
    good = {**base, "schedules-0-start_time": "09:00", "schedules-0-end_time": "13:00"}
    client.post(url, data=good)
    with app.app_context():
        added = db.session.scalar(db.select(DoctorSchedule).filter_by(doctor_id=clinic_data.other_doctor_id, weekday=3))
        assert added is not None and f"{added.start_time:%H:%M}-{added.end_time:%H:%M}" == "09:00-13:00"


def test_dashboard_counts_and_charts(app, make_user, console_login, world, frozen_clock):
    frozen_clock(at(MONDAY, 8))
    client = _client(app, console_login, make_user("admin"))
    page = client.get("/admin/clinic_dashboard/").text
    assert 'id="clinic-today">2<' in page
    assert 'id="clinic-chart-days"' in page and 'id="clinic-chart-nps"' in page
    doctor_page = _client(app, console_login, world.own).get("/admin/clinic_dashboard/").text
    assert 'id="clinic-today">1<' in doctor_page


def test_patient_edit_form_shows_and_saves_tags(app, make_user, console_login, world):
    from webapp.clinic.models import Patient
    from webapp.clinic.services.patients import set_tags
    from webapp.extensions import db

    with app.app_context():
        patient = db.session.scalar(db.select(Patient).filter_by(iin=VALID_IIN_MALE_1990))
        set_tags(patient, ["vip"])
        db.session.commit()
        patient_id = patient.id
    client = _client(app, console_login, make_user("admin"))
    page = client.get(f"/admin/clinic_patients/edit/?id={patient_id}")
    assert page.status_code == 200 and 'name="tag_list"' in page.text and 'value="vip"' in page.text
    form = {
        "csrf_token": csrf_from(page.text),
        "last_name": "Жумабаев",
        "first_name": "Ерлан",
        "phone": "+77011234567",
        "birth_date": "1990-01-01",
        "sex": "M",
        "iin": VALID_IIN_MALE_1990,
        "language": "ru",
        "osms_status": "insured",
        "is_active": "y",
        "tag_list": "vip, Diabetes ",
    }
    saved = client.post(f"/admin/clinic_patients/edit/?id={patient_id}", data=form)
    assert saved.status_code == 302, saved.text[-2000:]
    with app.app_context():
        assert sorted(db.session.get(Patient, patient_id).tags) == ["diabetes", "vip"]


def test_appointment_details_show_every_time_in_the_clinics_zone(app, console_login, world, monkeypatch):
    monkeypatch.setitem(app.config, "DEFAULT_TIMEZONE", "Europe/Moscow")  # the platform's zone is another
    client = _client(app, console_login, world.own)
    details = client.get(f"/admin/clinic_appointments/details/?id={world.mine}").text
    with app.app_context():
        from webapp.clinic.models import Appointment
        from webapp.clinic.services.common import zone
        from webapp.extensions import db

        appointment = db.session.get(Appointment, world.mine)
        tz = zone(appointment.timezone)
        start, end = appointment.starts_at.astimezone(tz), appointment.ends_at.astimezone(tz)
    assert f"{start:%Y-%m-%d %H:%M %Z}" in details
    assert f"{end:%Y-%m-%d %H:%M %Z}" in details  # the end too, in the same zone, not UTC
