"""Issue 12 attacks on the platform's own pieces: an agency's admin cannot demote the clinic's doctor,
block another agency's realtor, revoke another organization's bot tokens, edit its bots or read its
audit trail; the organization's own admin still can; organizations are the superuser's to create."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_from


@pytest.fixture
def orgs(app, make_organization, make_user, auth_header):
    """The clinic (organization A: the test organization) and two rental agencies B and C."""
    agency_b, agency_c = make_organization("Agency B"), make_organization("Agency C")
    users = SimpleNamespace(
        clinic_admin=make_user("admin", language="en"),
        doctor=make_user("doctor", language="en"),
        clinic_marketer=make_user("marketer", language="en"),
        admin_b=make_user("admin", organization=agency_b, language="en"),
        realtor_b=make_user("realtor", organization=agency_b, language="en"),
        admin_c=make_user("admin", organization=agency_c, language="en"),
        realtor_c=make_user("realtor", organization=agency_c, language="en"),
        superuser=make_user("superuser", language="en"),
    )
    return SimpleNamespace(b=agency_b, c=agency_c, u=users, h=lambda who: auth_header(getattr(users, who)))


def _user(app, user_id):
    from webapp.core.services import get_user
    from webapp.extensions import db

    with app.app_context():
        user = get_user(user_id)
        db.session.expunge(user)
        return user


# --- users: the API and the console ------------------------------------------------------------------


def test_agency_admin_cannot_demote_the_clinics_doctor(app, client, orgs):
    url = f"/api/v1/users/{orgs.u.doctor.id}"
    answer = client.put(f"{url}/role", json={"role": "USER"}, headers=orgs.h("admin_b"))
    assert answer.status_code == 404, answer.text
    assert _user(app, orgs.u.doctor.id).role == "doctor"
    listed = client.get("/api/v1/users", headers=orgs.h("admin_b")).get_json()["items"]
    assert str(orgs.u.doctor.id) not in {u["id"] for u in listed}
    # The clinic's own admin moves the doctor among the staff roles, not above them.
    moved = client.put(f"{url}/role", json={"role": "MARKETER"}, headers=orgs.h("clinic_admin"))
    assert moved.status_code == 200 and _user(app, orgs.u.doctor.id).role == "marketer"
    assert client.put(f"{url}/role", json={"role": "ADMIN"}, headers=orgs.h("clinic_admin")).status_code == 403


def test_agency_admin_cannot_block_another_agencys_realtor(app, client, orgs):
    url = f"/api/v1/users/{orgs.u.realtor_c.id}/status"
    assert client.put(url, json={"is_active": False}, headers=orgs.h("admin_b")).status_code == 404
    assert _user(app, orgs.u.realtor_c.id).is_active is True
    assert client.put(url, json={"is_active": False}, headers=orgs.h("admin_c")).status_code == 200
    assert _user(app, orgs.u.realtor_c.id).is_active is False


def test_the_same_attacks_through_the_console(app, client, orgs, console_login):
    console_login(client, orgs.u.admin_b)
    listing = client.get("/admin/users/")
    assert listing.status_code == 200
    assert orgs.u.realtor_b.username in listing.text
    for stranger in (orgs.u.doctor, orgs.u.realtor_c, orgs.u.clinic_admin, orgs.u.superuser):
        assert stranger.username not in listing.text
    edit = client.get(f"/admin/users/edit/?id={orgs.u.doctor.id}")
    assert edit.status_code == 302  # Flask-Admin: "Record does not exist", back to the list
    token = csrf_from(listing.text)
    data = {"csrf_token": token, "username": orgs.u.doctor.username, "role": "user", "language": "en"}
    client.post(f"/admin/users/edit/?id={orgs.u.doctor.id}", data=data)
    client.post(
        "/admin/users/action/", data={"action": "block", "rowid": [str(orgs.u.realtor_c.id)], "csrf_token": token}
    )
    assert _user(app, orgs.u.doctor.id).role == "doctor"
    assert _user(app, orgs.u.realtor_c.id).is_active is True
    # Its own realtor: blocked.
    client.post(
        "/admin/users/action/", data={"action": "block", "rowid": [str(orgs.u.realtor_b.id)], "csrf_token": token}
    )
    assert _user(app, orgs.u.realtor_b.id).is_active is False


def test_an_admin_grants_only_staff_roles_of_its_own_organization(app, client, orgs, console_login):
    console_login(client, orgs.u.admin_b)
    form = client.get(f"/admin/users/edit/?id={orgs.u.realtor_b.id}")
    assert form.status_code == 200
    assert 'value="superuser"' not in form.text and 'value="admin"' not in form.text
    assert 'name="organization_id"' not in form.text  # moving staff between organizations is the superuser's


def test_superuser_moves_staff_between_organizations_audited(app, client, orgs, console_login):
    from webapp.core.models import AuditLog, Membership
    from webapp.extensions import db

    console_login(client, orgs.u.superuser)
    form = client.get(f"/admin/users/edit/?id={orgs.u.realtor_b.id}")
    data = {
        "csrf_token": csrf_from(form.text),
        "username": orgs.u.realtor_b.username,
        "email": orgs.u.realtor_b.email,
        "language": "en",
        "role": "realtor",
        "is_active": "y",
        "organization_id": str(orgs.c),
    }
    assert client.post(f"/admin/users/edit/?id={orgs.u.realtor_b.id}", data=data).status_code == 302
    with app.app_context():
        assert db.session.get(Membership, orgs.u.realtor_b.id).organization_id == orgs.c
        entry = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "membership.change")).one()
        assert (entry.old_value, entry.new_value, entry.source) == (str(orgs.b), str(orgs.c), "console")


# --- service tokens ------------------------------------------------------------------------------------


def test_an_admin_cannot_revoke_another_organizations_tokens(client, orgs):
    issued = client.post("/api/generate_bot_token/", json={"name": "clinic-bot"}, headers=orgs.h("clinic_admin"))
    token_id, token = issued.get_json()["id"], issued.get_json()["bot_token"]
    assert client.get("/api/bot_tokens/", headers=orgs.h("admin_b")).get_json() == []
    revoked = client.delete(f"/api/bot_tokens/{token_id}/", headers=orgs.h("admin_b"))
    assert revoked.status_code == 404 and revoked.get_json() == {"detail": "Not found."}
    assert client.get("/api/auth/service/", headers={"X-Bot-Token": token}).status_code == 200
    # The clinic's admin lists and revokes its own; the superuser sees every organization's.
    assert [t["id"] for t in client.get("/api/bot_tokens/", headers=orgs.h("clinic_admin")).get_json()] == [token_id]
    assert token_id in {t["id"] for t in client.get("/api/bot_tokens/", headers=orgs.h("superuser")).get_json()}
    assert client.delete(f"/api/bot_tokens/{token_id}/", headers=orgs.h("clinic_admin")).status_code == 200
    assert client.get("/api/auth/service/", headers={"X-Bot-Token": token}).status_code == 401


# --- bots ---------------------------------------------------------------------------------------------


@pytest.fixture
def clinic_bot(app):
    from tests.organizations import default_organization_id
    from webapp.extensions import db
    from webapp.telegram.services import create_bot

    with app.app_context():
        bot = create_bot("clinic-main", "clinic", "123456:" + "C" * 35, organization_id=default_organization_id())
        db.session.commit()
        return bot.id


def _bot(app, bot_id):
    from webapp.extensions import db
    from webapp.telegram.models import Bot

    with app.app_context():
        bot = db.session.get(Bot, bot_id)
        db.session.expunge(bot)
        return bot


def test_an_agency_admin_cannot_see_or_edit_the_clinics_bot(app, client, orgs, clinic_bot, console_login):
    console_login(client, orgs.u.admin_b)
    listing = client.get("/admin/bots/")
    assert listing.status_code == 200 and "clinic-main" not in listing.text
    assert client.get(f"/admin/bots/edit/?id={clinic_bot}").status_code == 302  # not found: back to the list
    assert client.get(f"/admin/bots/details/?id={clinic_bot}").status_code == 302
    token = csrf_from(listing.text)
    data = {"csrf_token": token, "name": "mine", "vertical": "clinic", "mode": "polling", "rate_limit_per_second": "30"}
    client.post(f"/admin/bots/edit/?id={clinic_bot}", data=data)
    client.post("/admin/bots/action/", data={"action": "check_token", "rowid": [str(clinic_bot)], "csrf_token": token})
    checked = client.post(f"/admin/bots/check/{clinic_bot}", data={"csrf_token": token}, follow_redirects=True)
    assert "Record does not exist" in checked.text
    bot = _bot(app, clinic_bot)
    assert bot.name == "clinic-main" and bot.enabled is True
    assert "clinic-main" not in client.get("/admin/bots/export/csv/").text


def test_the_clinics_admin_switches_its_bot_off_and_creates_bots_for_its_organization(
    app, client, orgs, clinic_bot, console_login
):
    from tests.organizations import default_organization_id
    from webapp.extensions import db
    from webapp.telegram.models import Bot

    console_login(client, orgs.u.clinic_admin)
    form = client.get(f"/admin/bots/edit/?id={clinic_bot}")
    assert form.status_code == 200 and 'name="organization_choice"' not in form.text
    data = {
        "csrf_token": csrf_from(form.text),
        "name": "clinic-main",
        "vertical": "clinic",
        "mode": "polling",
        "rate_limit_per_second": "30",
    }  # "enabled" left out: switched off
    assert client.post(f"/admin/bots/edit/?id={clinic_bot}", data=data).status_code == 302
    assert _bot(app, clinic_bot).enabled is False
    new = client.get("/admin/bots/new/")
    made = client.post(
        "/admin/bots/new/",
        data={**data, "csrf_token": csrf_from(new.text), "name": "clinic-two", "token": "654321:" + "D" * 35},
    )
    assert made.status_code == 302
    with app.app_context():
        bot = db.session.scalar(sa.select(Bot).where(Bot.name == "clinic-two"))
        assert bot.organization_id == default_organization_id()


def test_platform_bots_are_the_superusers(app, client, orgs, console_login):
    from webapp.extensions import db
    from webapp.telegram.services import create_bot

    with app.app_context():
        create_bot("marketplace", "realty", "777777:" + "E" * 35)
        db.session.commit()
    console_login(client, orgs.u.clinic_admin)
    assert "marketplace" not in client.get("/admin/bots/").text
    root = app.test_client()
    console_login(root, orgs.u.superuser)
    assert "marketplace" in root.get("/admin/bots/").text


# --- audit log and the dashboard ------------------------------------------------------------------------


def test_an_admin_reads_only_its_organizations_audit_trail(app, client, orgs, console_login):
    client.put(f"/api/v1/users/{orgs.u.doctor.id}/role", json={"role": "MARKETER"}, headers=orgs.h("clinic_admin"))
    client.put(f"/api/v1/users/{orgs.u.realtor_c.id}/status", json={"is_active": False}, headers=orgs.h("admin_c"))
    console_login(client, orgs.u.admin_b)
    page = client.get("/admin/audit/")
    # The log names the people it is about (their usernames), so that is what must not leak.
    assert (
        page.status_code == 200
        and orgs.u.doctor.username not in page.text
        and orgs.u.realtor_c.username not in page.text
    )
    other = app.test_client()
    console_login(other, orgs.u.clinic_admin)
    page = other.get("/admin/audit/")
    assert orgs.u.doctor.username in page.text and orgs.u.realtor_c.username not in page.text


def test_dashboard_figures_are_the_viewers_organizations(app, orgs):
    from webapp.admin.dashboard import _blocked_users, _users
    from webapp.core.services import get_user

    with app.app_context():
        assert _users(get_user(orgs.u.admin_b.id)) == 2  # its admin and its realtor
        assert _users(get_user(orgs.u.clinic_admin.id)) == 3
        assert _blocked_users(get_user(orgs.u.admin_b.id)) == 0
        assert _users(get_user(orgs.u.superuser.id)) >= 8


# --- organizations console -------------------------------------------------------------------------------


def test_the_superuser_creates_an_organization_with_its_first_admin(app, client, orgs, console_login):
    from webapp.core.models import Membership, Organization
    from webapp.core.services import authenticate_staff
    from webapp.extensions import db

    console_login(client, orgs.u.superuser)
    page = client.get("/admin/organizations/")
    assert page.status_code == 200 and "Agency B" in page.text
    data = {
        "csrf_token": csrf_from(page.text),
        "name": "Desk D",
        "username": "desk_admin",
        "email": "",
        "password": "x" * 12,
    }
    assert client.post("/admin/organizations/new", data=data).status_code == 302
    with app.app_context():
        organization = db.session.scalar(sa.select(Organization).where(Organization.name == "Desk D"))
        admin = authenticate_staff("desk_admin", "x" * 12)
        assert admin.role == "admin" and db.session.get(Membership, admin.id).organization_id == organization.id
        organization_id = organization.id
    again = client.post("/admin/organizations/new", data={**data, "username": "other"})
    assert again.status_code == 422
    off = client.post(f"/admin/organizations/{organization_id}/deactivate", data={"csrf_token": data["csrf_token"]})
    assert off.status_code == 302
    with app.app_context():
        assert db.session.get(Organization, organization_id).is_active is False
    # An organization's admin has no say over organizations.
    console_login(client, orgs.u.clinic_admin)
    assert client.get("/admin/organizations/").status_code == 403


def test_the_superuser_creates_staff_in_an_organization_and_demotes_them_out_of_it(app, client, orgs, console_login):
    from webapp.core.models import Membership, User
    from webapp.extensions import db

    console_login(client, orgs.u.superuser)
    page = client.get("/admin/users/new/")
    assert page.status_code == 200 and "Agency B" in page.text
    data = {
        "csrf_token": csrf_from(page.text),
        "username": "new_realtor",
        "email": "new_realtor@example.test",
        "language": "en",
        "role": "realtor",
        "is_active": "y",
        "organization_id": str(orgs.b),
        "new_password": "x" * 12,
    }
    assert client.post("/admin/users/new/", data=data).status_code == 302
    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.username == "new_realtor"))
        assert db.session.get(Membership, user_id).organization_id == orgs.b
    # The agency's own admin now reaches the new realtor; another agency's does not.
    for who, found in (("admin_b", True), ("admin_c", False)):
        other = app.test_client()
        console_login(other, getattr(orgs.u, who))
        assert ("new_realtor" in other.get("/admin/users/").text) is found
    # Demoted to a customer, the account leaves its organization (audited).
    form = client.get(f"/admin/users/edit/?id={user_id}")
    edit = {**data, "csrf_token": csrf_from(form.text), "role": "user"}
    del edit["new_password"]
    assert client.post(f"/admin/users/edit/?id={user_id}", data=edit).status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).role == "user" and db.session.get(Membership, user_id) is None
