"""Console writes of the clinic go through the services and leave an audit row; a refusal is shown
on the form and writes nothing; another organization's row is not found to a forged id."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.clinic import test_org_isolation as isolation
from tests.conftest import csrf_from
from tests.fixtures.clinic import VALID_IIN_FEMALE_1995

# The isolation tests' two organizations, on their fixed clock.
two_clinics, _fixed_clock = isolation.two_clinics, isolation._fixed_clock
A_SURNAME, _console = isolation.A_SURNAME, isolation._console


def _walk_in(client, **changes):
    page = client.get("/admin/clinic_patients/new/")
    form = {
        "csrf_token": csrf_from(page.text),
        "last_name": "Консольная",
        "first_name": "Айгерим",
        "phone": "+77019998877",
        "birth_date": "1995-05-20",
        "sex": "F",
        "iin": VALID_IIN_FEMALE_1995,
        "language": "ru",
        "osms_status": "unknown",
        "is_active": "y",
        "tag_list": "vip",
        **changes,
    }
    return client.post("/admin/clinic_patients/new/", data=form)


def _audit(app, action: str) -> list[tuple]:
    from webapp.core.models import AuditLog
    from webapp.extensions import db

    with app.app_context():
        query = sa.select(AuditLog.target_id, AuditLog.new_value, AuditLog.source).where(AuditLog.action == action)
        return db.session.execute(query).all()


def test_a_walk_in_entered_in_the_console_is_audited_without_its_personal_data(app, console_login, two_clinics):
    from webapp.clinic.models import Patient
    from webapp.extensions import db

    client = _console(app, console_login, two_clinics.admin_a)
    assert _walk_in(client).status_code == 302
    with app.app_context():
        patient = db.session.scalar(sa.select(Patient).where(Patient.last_name == "Консольная"))
        assert patient.organization_id == two_clinics.a.organization_id and patient.tags == ["vip"]
        patient_id = patient.id
    [(target, fields, source)] = _audit(app, "patient.create")
    assert (target, source) == (str(patient_id), "console")
    assert "last_name" in fields and "tags" in fields and "Консольная" not in fields


def test_a_refused_patient_card_shows_the_reason_and_writes_nothing(app, console_login, two_clinics):
    from webapp.clinic.models import Patient
    from webapp.extensions import db

    client = _console(app, console_login, two_clinics.admin_a)
    refused = _walk_in(client, sex="M")  # the IIN says female
    assert refused.status_code == 200 and 'class="alert alert-danger' in refused.text
    bad_name = _walk_in(client, last_name="R2-D2")
    assert bad_name.status_code == 200 and "alert-danger" in bad_name.text
    with app.app_context():
        assert db.session.scalar(sa.select(Patient).where(Patient.first_name == "Айгерим")) is None
    assert _audit(app, "patient.create") == []


def test_a_branch_edit_is_audited_by_the_directory_service(app, console_login, two_clinics):
    from webapp.clinic.models import Branch
    from webapp.extensions import db

    branch_id = two_clinics.a.central_id
    client = _console(app, console_login, two_clinics.admin_a)
    page = client.get(f"/admin/clinic_branches/edit/?id={branch_id}")
    assert page.status_code == 200
    form = {
        "csrf_token": csrf_from(page.text),
        "clinic": str(two_clinics.a.clinic_id),
        "name": "Центральный-2",
        "address": "",
        "phone": "",
        "is_active": "y",
    }
    assert client.post(f"/admin/clinic_branches/edit/?id={branch_id}", data=form).status_code == 302
    with app.app_context():
        assert db.session.get(Branch, branch_id).name == "Центральный-2"
    assert [(t, s) for t, _f, s in _audit(app, "clinic_branch.update")] == [(str(branch_id), "console")]


def test_forged_ids_of_another_organization_are_not_found(app, console_login, two_clinics):
    from webapp.clinic.models import Branch, Patient
    from webapp.extensions import db

    w = two_clinics
    b = _console(app, console_login, w.admin_b)
    token = csrf_from(b.get("/admin/clinic_patients/").text)
    for page in (
        f"/admin/clinic_patients/edit/?id={w.pa.id}",
        f"/admin/clinic_appointments/details/?id={w.visit}",
        f"/admin/clinic_branches/edit/?id={w.a.central_id}",
    ):
        response = b.get(page, follow_redirects=True)
        assert "Record does not exist" in response.text or "не существует" in response.text, page
        assert A_SURNAME not in response.text
    b.post(f"/admin/clinic_patients/edit/?id={w.pa.id}", data={"csrf_token": token, "last_name": "Hacked"})
    b.post(
        f"/admin/clinic_branches/edit/?id={w.a.central_id}",
        data={"csrf_token": token, "name": "Hacked", "clinic": str(w.a.clinic_id)},
    )
    assert A_SURNAME not in b.get("/admin/clinic_patients/export/csv/").text
    with app.app_context():
        assert db.session.get(Patient, w.pa.id).last_name == A_SURNAME
        assert db.session.get(Branch, w.a.central_id).name == "Центральный"
    assert _audit(app, "patient.update") == [] and _audit(app, "clinic_branch.update") == []


def _support_ticket(app, patient_id):
    from webapp.clinic.models import SupportTicket
    from webapp.extensions import db

    with app.app_context():
        ticket = SupportTicket(patient_id=patient_id, subject="Справка", message="Нужна справка", status="open")
        db.session.add(ticket)
        db.session.commit()
        return ticket.id


def test_a_support_ticket_is_moved_and_assigned_through_the_service(app, console_login, two_clinics):
    from webapp.clinic.models import SupportTicket
    from webapp.clinic.services import support
    from webapp.core.models import User
    from webapp.core.services import ServiceError
    from webapp.extensions import db

    w = two_clinics
    with app.app_context():
        patient_id = db.session.scalar(
            sa.select(sa.literal_column("id"))
            .select_from(sa.table("clinic_patients"))
            .where(sa.literal_column("last_name") == A_SURNAME)
        )
        admin_a = db.session.scalar(sa.select(User.id).where(User.username == w.admin_a.username))
    ticket_id = _support_ticket(app, patient_id)
    client = _console(app, console_login, w.admin_a)
    edit = f"/admin/clinic_support/edit/?id={ticket_id}"
    token = csrf_from(client.get(edit).text)
    with app.app_context():  # the service refuses a stranger as assignee, whatever a form posts
        ticket, stranger = db.session.get(SupportTicket, ticket_id), db.session.get(User, w.admin_b.id)
        with pytest.raises(ServiceError):
            support.update_support_ticket(None, ticket, status="closed", assigned_to=stranger)
        db.session.rollback()
    done = client.post(edit, data={"csrf_token": token, "status": "closed", "assigned_to": str(admin_a)})
    assert done.status_code == 302
    with app.app_context():
        ticket = db.session.get(SupportTicket, ticket_id)
        assert ticket.status == "closed" and ticket.resolved_at is not None and ticket.assigned_to_id == admin_a
    [(target, new, source)] = _audit(app, "support_ticket.update")
    assert (target, source) == (str(ticket_id), "console") and "status: closed" in new
