"""The accounts console writes through the audited services inside one savepoint: a new account and
its membership are written together or not at all, a refusal is shown on the form, and the request
commits once at its end (no console view commits on its own)."""

from __future__ import annotations

import subprocess

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
