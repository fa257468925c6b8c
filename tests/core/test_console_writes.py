"""The accounts console writes through the audited services inside one savepoint: a new account and
its membership are written together or not at all, a refusal is shown on the form, and the request
commits once at its end (no console view commits on its own)."""

from __future__ import annotations

import subprocess

import pytest
import sqlalchemy as sa

from tests.conftest import csrf_from
from tests.core import test_org_isolation

orgs = test_org_isolation.orgs


def _new_account(client, **changes):
    page = client.get("/admin/users/new/")
    data = {
        "csrf_token": csrf_from(page.text),
        "username": "new-realtor",
        "email": "new-realtor@example.com",
        "language": "en",
        "role": "realtor",
        "is_active": "y",
        "new_password": "long enough password",
        **changes,
    }
    return client.post("/admin/users/new/", data=data)


def _audit(app, *actions):
    from webapp.core.models import AuditLog
    from webapp.extensions import db

    with app.app_context():
        query = sa.select(AuditLog.action, AuditLog.new_value, AuditLog.source).where(AuditLog.action.in_(actions))
        return sorted(db.session.execute(query).all())


def _account(app, username):
    from webapp.core.models import Membership, User
    from webapp.extensions import db

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            return None
        member = db.session.get(Membership, user.id)
        return user.role, member.organization_id if member else None


def test_a_new_account_and_its_membership_are_written_together_and_audited(app, client, orgs, console_login):
    console_login(client, orgs.u.superuser)
    assert _new_account(client, organization_id=str(orgs.b)).status_code == 302
    assert _account(app, "new-realtor") == ("realtor", orgs.b)
    assert _audit(app, "user.create", "membership.change") == [
        ("membership.change", str(orgs.b), "console"),
        ("user.create", "realtor", "console"),
    ]


def test_a_refused_account_form_shows_the_reason_and_writes_nothing(app, client, orgs, console_login):
    console_login(client, orgs.u.superuser)
    unknown = _new_account(client, organization_id="999999")
    assert unknown.status_code == 200 and "Choose an organization from the list." in unknown.text
    assert _account(app, "new-realtor") is None
    assert _audit(app, "user.create", "membership.change") == []


def _edit_card(app, client, user_ns, token_page=None, **changes):
    """Post the account's edit form as it shows it, with ``changes``."""
    from webapp.core.models import User
    from webapp.extensions import db

    with app.app_context():
        user = db.session.get(User, user_ns.id)
        data = {name: getattr(user, name) or "" for name in ("username", "email", "phone", "first_name", "last_name")}
        data.update(language=user.language, role=user.role, is_active="y" if user.is_active else "")
    url = f"/admin/users/edit/?id={user_ns.id}"
    page = client.get(token_page or url)
    data = {**data, "csrf_token": csrf_from(page.text), **changes}
    return client.post(url, data={k: v for k, v in data.items() if v != ""} | {"csrf_token": csrf_from(page.text)})


def _card(app, user_id):
    from webapp.core.models import User
    from webapp.extensions import db

    with app.app_context():
        user = db.session.get(User, user_id)
        return user.username, user.email, user.language, user.password_hash


def _card_audit(app):
    from webapp.core.models import AuditLog
    from webapp.extensions import db

    with app.app_context():
        query = sa.select(AuditLog.action, AuditLog.old_value, AuditLog.new_value, AuditLog.source).where(
            AuditLog.action == "user.update"
        )
        return db.session.execute(query).all()


def test_an_edited_card_is_audited_naming_the_fields_never_the_password(app, client, orgs, console_login):
    console_login(client, orgs.u.admin_b)
    realtor = orgs.u.realtor_b
    before = _card(app, realtor.id)
    saved = _edit_card(app, client, realtor, username="renamed-realtor", email="Renamed@Example.com",
                       language="kk", new_password="a brand new password")  # fmt: skip
    assert saved.status_code == 302, saved.text
    username, email, language, password_hash = _card(app, realtor.id)
    assert (username, email, language) == ("renamed-realtor", "renamed@example.com", "kk")
    assert password_hash != before[3]
    rows = _card_audit(app)
    assert rows == [("user.update", None, "email, language, username, password", "console")]
    assert "a brand new password" not in repr(rows) and password_hash not in repr(rows)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "not an address"}, "Not a valid e-mail address"),
        ({"new_password": "short"}, "Field must be between 8 and 512 characters long."),
        ({"username": "x"}, "A username is 3 to 150 letters, digits and . @ + - _"),
    ],
)
def test_a_refused_card_shows_the_reason_and_writes_nothing(app, client, orgs, console_login, changes, message):
    console_login(client, orgs.u.admin_b)
    before = _card(app, orgs.u.realtor_b.id)
    refused = _edit_card(app, client, orgs.u.realtor_b, **changes)
    assert refused.status_code == 200 and message in refused.text
    assert _card(app, orgs.u.realtor_b.id) == before
    assert _card_audit(app) == []


def test_a_username_another_account_holds_is_refused(app, client, orgs, console_login):
    from webapp.core.models import User
    from webapp.core.services import ServiceError, update_user_card
    from webapp.extensions import db

    with app.app_context():  # the service itself: the console's form has its own unique check first
        actor, target = db.session.get(User, orgs.u.superuser.id), db.session.get(User, orgs.u.realtor_b.id)
        with pytest.raises(ServiceError) as refused:
            update_user_card(actor, target, {"email": orgs.u.realtor_c.email.upper()})
        assert (refused.value.field, refused.value.status) == ("email", 409)
        db.session.rollback()
    console_login(client, orgs.u.admin_b)
    before = _card(app, orgs.u.realtor_b.id)
    taken = _edit_card(app, client, orgs.u.realtor_b, username=orgs.u.realtor_c.username)
    assert taken.status_code == 200
    assert _card(app, orgs.u.realtor_b.id) == before
    assert _card_audit(app) == []


def test_another_organizations_admin_cannot_change_a_card(app, client, orgs, console_login):
    console_login(client, orgs.u.admin_b)
    before = _card(app, orgs.u.realtor_c.id)
    forged = _edit_card(app, client, orgs.u.realtor_c, "/admin/users/", username="hijacked", new_password="x" * 12)
    assert forged.status_code == 302  # "not found": back to the list
    assert _card(app, orgs.u.realtor_c.id) == before
    assert _card_audit(app) == []


def test_no_console_module_commits():
    files = [
        "webapp/*/admin.py",
        "webapp/admin",
        "webapp/core/console.py",
        "webapp/clinic/reception.py",
        "webapp/realty/listing_pages.py",
        "webapp/realty/realtor_pages.py",
        "webapp/helpdesk/desk_admin.py",
    ]
    found = subprocess.run(["git", "grep", "-n", r"\.commit()", "--", *files], capture_output=True, text=True)
    assert found.stdout == ""
