"""Issue 13, item 7: the clinic's directory (settings, branches, services, doctors with their week and
days off, FAQ) is written in the console through ``webapp.clinic.services.setup``: each write leaves
its own audit row; a refused form shows the reason and writes nothing; another organization's admin
reaches none of it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_from
from tests.fixtures.clinic import build_clinic


@pytest.fixture(autouse=True)
def _fixed_clock(frozen_clock):  # now: Sunday 6 January 2030, 10:00 in Almaty
    return frozen_clock


@pytest.fixture
def world(app, clinic_data, make_user, make_organization):
    organization_b = make_organization("Organization B")
    with app.app_context():
        b = build_clinic(organization_id=organization_b, name="Клиника B")
    return SimpleNamespace(
        a=clinic_data, b=b, admin_a=make_user("admin"), admin_b=make_user("admin", organization=organization_b)
    )


def _console(app, console_login, user):
    client = app.test_client()
    console_login(client, user)
    return client


def _post(client, page: str, form: dict):
    token = csrf_from(client.get("/admin/clinic_branches/").text)
    return client.post(page, data={"csrf_token": token, **form})


def _audit(app, action: str) -> list[tuple]:
    from webapp.core.models import AuditLog
    from webapp.extensions import db

    with app.app_context():
        query = sa.select(AuditLog.target_id, AuditLog.old_value, AuditLog.new_value, AuditLog.source)
        return db.session.execute(query.where(AuditLog.action == action).order_by(AuditLog.id)).all()


def _refused(app, response, message: str) -> None:
    """The form again, with the refusal in whichever language the console speaks."""
    from webapp.clinic.services.common import catalog

    assert response.status_code == 200 and "alert-danger" in response.text
    with app.app_context():
        texts = {catalog.for_language(language, message) for language in ("ru", "kk", "uz", "en")}
    assert any(text in response.text for text in texts), message


def _rows(app, model, *where):
    from webapp.extensions import db

    with app.app_context():
        return list(db.session.scalars(sa.select(model).where(*where)))


def _service_form(w, **changes) -> dict:
    return {
        "clinic": str(w.a.clinic_id),
        "name": "Массаж",
        "name_kk": "",
        "duration_minutes": "45",
        "price": "12000",
        "prepayment_amount": "0",
        "branches": str(w.a.central_id),
        "is_active": "y",
        **changes,
    }


def _doctor_form(w, **changes) -> dict:
    return {
        "clinic": str(w.a.clinic_id),
        "full_name": "Ахметова Айгуль Сериковна",
        "specialty": "Терапевт",
        "photo_url": "",
        "user": "__None",
        "slot_step_minutes": "30",
        "branches": [str(w.a.central_id), str(w.a.east_id)],
        "services": str(w.a.consult_id),
        "is_active": "y",
        **changes,
    }


def test_a_branch_created_and_edited_is_audited_and_its_name_is_unique_in_the_clinic(app, console_login, world):
    from webapp.clinic.models import Branch

    w, client = world, _console(app, console_login, world.admin_a)
    form = {"clinic": str(w.a.clinic_id), "name": "Южный", "address": "", "phone": "", "is_active": "y"}
    assert _post(client, "/admin/clinic_branches/new/", form).status_code == 302
    [south] = _rows(app, Branch, Branch.name == "Южный")
    [(target, old, new, source)] = _audit(app, "clinic_branch.create")
    assert (target, old, source) == (str(south.id), None, "console") and "name=Южный" in new

    _refused(
        app,
        _post(client, "/admin/clinic_branches/new/", {**form, "name": "центральный"}),
        "This clinic already has a branch with this name",
    )
    _refused(app, _post(client, "/admin/clinic_branches/new/", {**form, "name": "   "}), "Write the name")
    assert len(_rows(app, Branch, Branch.clinic_id == w.a.clinic_id)) == 3
    assert len(_audit(app, "clinic_branch.create")) == 1

    edit = f"/admin/clinic_branches/edit/?id={south.id}"
    assert _post(client, edit, {**form, "name": "Южный-2", "is_active": ""}).status_code == 302
    [(_t, old, new, _s)] = _audit(app, "clinic_branch.update")
    assert old == "name=Южный, is_active=True" and new == "name=Южный-2, is_active=False"


def test_a_service_is_audited_and_a_negative_price_or_a_bad_duration_is_refused(app, console_login, world):
    from webapp.clinic.models import Service

    w, client = world, _console(app, console_login, world.admin_a)
    assert _post(client, "/admin/clinic_services/new/", _service_form(w)).status_code == 302
    [massage] = _rows(app, Service, Service.name == "Массаж")
    [(target, _old, new, _source)] = _audit(app, "clinic_service.create")
    assert target == str(massage.id) and "price=12000" in new and "duration_minutes=45" in new

    for changes, message in (
        ({"name": "Другой", "price": "-1"}, "The price must be 0 to 100,000,000"),
        ({"name": "Другой", "duration_minutes": "0"}, "The duration must be 1 to 720 minutes"),
        ({"name": "Другой", "prepayment_amount": "13000"}, "The prepayment cannot exceed the price"),
        ({"name": "УЗИ"}, "This clinic already has a service with this name"),
    ):
        _refused(app, _post(client, "/admin/clinic_services/new/", _service_form(w, **changes)), message)
    assert _rows(app, Service, Service.name == "Другой") == []
    assert len(_audit(app, "clinic_service.create")) == 1

    edit = f"/admin/clinic_services/edit/?id={massage.id}"
    assert _post(client, edit, _service_form(w, price="15000")).status_code == 302
    [(_t, old, new, _s)] = _audit(app, "clinic_service.update")
    assert (old, new) == ("price=12000.00", "price=15000")  # the stored value, then the form's as typed
    _refused(app, _post(client, edit, _service_form(w, price="-5")), "The price must be 0 to 100,000,000")
    assert str(_rows(app, Service, Service.id == massage.id)[0].price) == "15000.00"


def _other_doctor_form(app, w, **changes) -> dict:
    """Doctor Kim's form as the edit page posts it: his one interval (Monday 9-12, east) with its id."""
    from webapp.clinic.models import DoctorSchedule

    [monday] = _rows(app, DoctorSchedule, DoctorSchedule.doctor_id == w.a.other_doctor_id)
    return _doctor_form(
        w,
        full_name="Ким Олег",
        specialty="Хирург",
        branches=str(w.a.east_id),
        **{
            "schedules-0-id": str(monday.id),
            "schedules-0-branch": str(w.a.east_id),
            "schedules-0-weekday": "0",
            "schedules-0-start_time": "09:00",
            "schedules-0-end_time": "12:00",
            "schedules-0-break_start": "",
            "schedules-0-break_end": "",
        },
        **changes,
    )


def _interval(weekday: int, start: str, end: str, branch_id: int) -> dict:
    return {
        "schedules-1-branch": str(branch_id),
        "schedules-1-weekday": str(weekday),
        "schedules-1-start_time": start,
        "schedules-1-end_time": end,
        "schedules-1-break_start": "",
        "schedules-1-break_end": "",
    }


def test_a_doctors_week_refuses_overlaps_and_records_its_own_audit_row(app, console_login, world):
    from webapp.clinic.models import DoctorSchedule

    w, client = world, _console(app, console_login, world.admin_a)
    edit = f"/admin/clinic_doctors/edit/?id={w.a.other_doctor_id}"
    overlap = _other_doctor_form(app, w, **_interval(0, "11:00", "13:00", w.a.east_id))
    _refused(app, _post(client, edit, overlap), "Working intervals of one weekday must not overlap")
    backwards = _other_doctor_form(app, w, **_interval(6, "12:00", "10:00", w.a.east_id))
    _refused(app, _post(client, edit, backwards), "A working interval must start before it ends")
    assert len(_rows(app, DoctorSchedule, DoctorSchedule.doctor_id == w.a.other_doctor_id)) == 1
    assert _audit(app, "clinic_doctor.schedule") == []

    afternoon = _other_doctor_form(app, w, **_interval(0, "12:00", "15:00", w.a.east_id))  # touching, not overlapping
    assert _post(client, edit, afternoon).status_code == 302
    assert len(_rows(app, DoctorSchedule, DoctorSchedule.doctor_id == w.a.other_doctor_id)) == 2
    [(target, old, new, source)] = _audit(app, "clinic_doctor.schedule")
    assert (target, source) == (str(w.a.other_doctor_id), "console")
    assert old == f"Mon 09:00-12:00 @branch {w.a.east_id}"
    assert new == f"Mon 09:00-12:00 @branch {w.a.east_id}; Mon 12:00-15:00 @branch {w.a.east_id}"


def test_a_day_off_in_the_past_is_refused_and_a_new_one_is_audited_by_date(app, console_login, world):
    from webapp.clinic.models import DoctorDayOff

    w, client = world, _console(app, console_login, world.admin_a)
    edit = f"/admin/clinic_doctors/edit/?id={w.a.other_doctor_id}"
    past = {"days_off-0-day": "2030-01-01", "days_off-0-reason": "Болезнь"}
    _refused(app, _post(client, edit, _other_doctor_form(app, w, **past)), "A day off cannot be in the past")
    assert _rows(app, DoctorDayOff, DoctorDayOff.doctor_id == w.a.other_doctor_id) == []
    future = {"days_off-0-day": "2030-01-10", "days_off-0-reason": "Болезнь"}
    assert _post(client, edit, _other_doctor_form(app, w, **future)).status_code == 302
    [(_t, old, new, _s)] = _audit(app, "clinic_doctor.days_off")
    assert (old, new) == (None, "2030-01-10")  # the dates only: a reason may be personal


def test_a_doctor_edit_names_personal_fields_without_their_values(app, console_login, world):
    w, client = world, _console(app, console_login, world.admin_a)
    edit = f"/admin/clinic_doctors/edit/?id={w.a.doctor_id}"
    assert _post(client, edit, _doctor_form(w, full_name="Ахметова-Ким Айгуль")).status_code == 302
    [(_t, old, new, _s)] = _audit(app, "clinic_doctor.update")
    assert "full_name" in new and "Ахметова" not in f"{old}{new}"
    _refused(app, _post(client, edit, _doctor_form(w, slot_step_minutes="3")), "The slot step must be 5 to 240 minutes")


def test_faq_and_settings_are_audited_as_the_organizations_own(app, console_login, world):
    from webapp.clinic.models import Clinic, Faq

    w, client = world, _console(app, console_login, world.admin_a)
    entry = {"position": "5", "question_ru": "Есть ли парковка?", "answer_ru": "Да.", "is_active": "y"}
    assert _post(client, "/admin/clinic_faq/new/", entry).status_code == 302
    [faq] = _rows(app, Faq, Faq.question_ru == "Есть ли парковка?")
    assert faq.organization_id == w.a.organization_id
    [(target, _old, new, _s)] = _audit(app, "clinic_faq.create")
    assert target == str(faq.id) and "question_ru" in new and "парковка" not in new
    half = {**entry, "question_ru": "Вопрос", "question_kk": "Сұрақ"}
    _refused(app, _post(client, "/admin/clinic_faq/new/", half), "Write both the question and the answer, or neither")

    settings = f"/admin/clinic_settings/edit/?id={w.a.clinic_id}"
    form = {
        "name": "Клиника А",
        "timezone": "Asia/Almaty",
        "currency": "kzt",
        "phone": "",
        "address": "",
        "bot": "__None",
    }
    assert _post(client, settings, form).status_code == 302
    [clinic] = _rows(app, Clinic, Clinic.id == w.a.clinic_id)
    assert (clinic.name, clinic.currency, clinic.organization_id) == ("Клиника А", "KZT", w.a.organization_id)
    [(_t, _old, new, _s)] = _audit(app, "clinic_settings.update")
    assert "name=Клиника А" in new
    _refused(app, _post(client, settings, {**form, "name": " "}), "Write the name")


def test_another_organizations_admin_edits_none_of_the_directory(app, console_login, world):
    from webapp.clinic.models import Branch, Doctor, Service

    w, b = world, _console(app, console_login, world.admin_b)
    for page in (
        f"/admin/clinic_branches/edit/?id={w.a.central_id}",
        f"/admin/clinic_services/edit/?id={w.a.consult_id}",
        f"/admin/clinic_doctors/edit/?id={w.a.doctor_id}",
        f"/admin/clinic_settings/edit/?id={w.a.clinic_id}",
    ):
        assert b.get(page).status_code == 302, page  # back to the list: "Record does not exist"
        _post(b, page, {"name": "Hacked", "full_name": "Hacked", "clinic": str(w.a.clinic_id)})
    # Creating in clinic A: its clinic is not a choice of B's form.
    assert _post(b, "/admin/clinic_services/new/", _service_form(w, name="Hacked")).status_code == 200
    assert _rows(app, Branch, Branch.name == "Hacked") == _rows(app, Service, Service.name == "Hacked") == []
    assert _rows(app, Doctor, Doctor.full_name == "Hacked") == []
    assert all(not _audit(app, f"{kind}.update") for kind in ("clinic_branch", "clinic_service", "clinic_doctor"))


def test_the_setup_service_refuses_a_clinic_the_actor_does_not_manage(app, world):
    from webapp.clinic.models import Branch
    from webapp.clinic.services import setup
    from webapp.core.models import User
    from webapp.core.services import ServiceError
    from webapp.extensions import db

    with app.app_context():
        admin_b = db.session.get(User, world.admin_b.id)
        with pytest.raises(ServiceError) as refused:
            setup.save_branch(admin_b, Branch(clinic_id=world.a.clinic_id, name="Чужой"), {})
        assert refused.value.message == "Choose a clinic you manage"
        db.session.rollback()


def _delete(client, endpoint: str, row_id: int):
    token = csrf_from(client.get("/admin/clinic_branches/").text)
    return client.post(
        f"/admin/{endpoint}/delete/", data={"csrf_token": token, "id": str(row_id)}, follow_redirects=True
    )


def test_a_doctor_or_service_with_visits_is_not_deleted(
    app, client, console_login, world, bot_headers, make_patient, frozen_clock
):
    from tests.clinic.test_org_isolation import _book
    from tests.fixtures.clinic import MONDAY, at
    from webapp.clinic.models import Appointment, Doctor, Service
    from webapp.clinic.services import booking
    from webapp.extensions import db

    w, admin = world, _console(app, console_login, world.admin_a)
    patient = make_patient(last_name="Визитова", phone="+77010000009")
    booked = _book(client, bot_headers, patient, w.a.doctor_id, w.a.central_id, w.a.consult_id, time="10:00")
    assert booked.status_code == 201, booked.text
    upcoming = "It has visits booked from now on: cancel or move them first, or deactivate it"
    _refused(app, _delete(admin, "clinic_doctors", w.a.doctor_id), upcoming)
    _refused(app, _delete(admin, "clinic_services", w.a.consult_id), upcoming)
    _refused(app, _delete(admin, "clinic_branches", w.a.central_id), upcoming)

    with app.app_context():
        booking.cancel_appointment(db.session.get(Appointment, booked.get_json()["id"]), source="test")
        db.session.commit()
    frozen_clock(at(MONDAY, 12))
    _refused(app, _delete(admin, "clinic_doctors", w.a.doctor_id), "It keeps its past visits: deactivate it instead")
    _refused(
        app, _delete(admin, "clinic_branches", w.a.east_id), "Doctors work at this branch: change their schedules first"
    )
    assert (
        len(_rows(app, Doctor, Doctor.id == w.a.doctor_id))
        == len(_rows(app, Service, Service.id == w.a.consult_id))
        == 1
    )
    assert _audit(app, "clinic_doctor.delete") == _audit(app, "clinic_service.delete") == []

    # The ultrasound has no visits; doctor Kim neither: they go, audited (the doctor without a name).
    assert "alert-danger" not in _delete(admin, "clinic_services", w.a.ultrasound_id).text
    assert "alert-danger" not in _delete(admin, "clinic_doctors", w.a.other_doctor_id).text
    assert (
        _rows(app, Service, Service.id == w.a.ultrasound_id)
        == _rows(app, Doctor, Doctor.id == w.a.other_doctor_id)
        == []
    )
    [(target, old, _new, _s)] = _audit(app, "clinic_doctor.delete")
    assert target == str(w.a.other_doctor_id) and "Ким" not in old
    assert [(t, o) for t, o, _n, _s in _audit(app, "clinic_service.delete")] == [(str(w.a.ultrasound_id), "name=УЗИ")]


def test_another_organizations_admin_deletes_none_of_the_directory(app, console_login, world):
    from webapp.clinic.models import Doctor, Faq, Service

    w, b = world, _console(app, console_login, world.admin_b)
    from webapp.extensions import db

    with app.app_context():  # clinic A's own entry
        faq = Faq(organization_id=w.a.organization_id, question_ru="Парковка?", answer_ru="Есть.", position=3)
        db.session.add(faq)
        db.session.commit()
        faq_id = faq.id
    for endpoint, row_id in (
        ("clinic_services", w.a.ultrasound_id),
        ("clinic_doctors", w.a.other_doctor_id),
        ("clinic_faq", faq_id),
    ):
        _delete(b, endpoint, row_id)
    assert (
        len(_rows(app, Service, Service.id == w.a.ultrasound_id))
        == len(_rows(app, Doctor, Doctor.id == w.a.other_doctor_id))
        == 1
    )
    assert len(_rows(app, Faq, Faq.id == faq_id)) == 1
    assert all(not _audit(app, f"{kind}.delete") for kind in ("clinic_service", "clinic_doctor", "clinic_faq"))
    a = _console(app, console_login, w.admin_a)  # clinic A's admin deletes it, audited
    assert "alert-danger" not in _delete(a, "clinic_faq", faq_id).text
    assert _rows(app, Faq, Faq.id == faq_id) == []
    assert [(t, o) for t, o, _n, _s in _audit(app, "clinic_faq.delete")] == [(str(faq_id), "position=3")]
