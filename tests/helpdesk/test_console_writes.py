"""The helpdesk console writes canned replies and categories through the services, each leaving an
audit row; a refused form writes nothing; another desk's category is not found to a forged id."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import csrf_from
from tests.helpdesk import test_desk

desks, post_form, canned_rows_ids = test_desk.desks, test_desk.post_form, test_desk.canned_rows_ids


def _audit(app, prefix: str) -> list[tuple]:
    from webapp.core.models import AuditLog
    from webapp.extensions import db

    with app.app_context():
        query = sa.select(AuditLog.action, AuditLog.target_id, AuditLog.old_value, AuditLog.new_value)
        return db.session.execute(query.where(AuditLog.action.startswith(prefix)).order_by(AuditLog.id)).all()


def test_canned_reply_writes_are_audited_and_a_refusal_writes_nothing(app, desks):
    admin, new = desks.a.admin, "/admin/helpdesk_canned/new/"
    assert post_form(admin, new, {"short_code": "greet", "content": "Здравствуйте"}).status_code == 302
    [reply_id] = canned_rows_ids(app, desks.a.org)
    taken = post_form(admin, new, {"short_code": "/GREET", "content": "дубль"})
    assert taken.status_code == 200 and "This desk already has a canned reply /greet." in taken.text
    edit = f"/admin/helpdesk_canned/edit/?id={reply_id}"
    assert post_form(admin, edit, {"short_code": "hello", "content": "Добрый день"}).status_code == 302
    post_form(admin, "/admin/helpdesk_canned/delete/", {"id": reply_id}, "/admin/helpdesk_canned/")
    assert _audit(app, "canned_reply.") == [
        ("canned_reply.create", str(reply_id), None, "greet"),
        ("canned_reply.update", str(reply_id), "greet", "hello"),
        ("canned_reply.delete", str(reply_id), "hello", None),
    ]


def _category(app, organization_id, name):
    from webapp.extensions import db
    from webapp.helpdesk.models import TicketCategory

    with app.app_context():
        query = sa.select(TicketCategory).where(
            TicketCategory.organization_id == organization_id, TicketCategory.name == name
        )
        row = db.session.scalar(query)
        return None if row is None else (str(row.id), row.color)


def test_category_writes_go_through_the_service_and_forged_ids_are_not_found(app, desks):
    admin, new = desks.a.admin, "/admin/helpdesk_categories/new/"
    card = {"name": "Оплата", "description": "", "icon": "", "color": "#123456", "sort_order": "3", "is_active": "y"}
    assert post_form(admin, new, card).status_code == 302
    category_id, _color = _category(app, desks.a.org, "Оплата")
    twin = post_form(admin, new, {**card, "name": " оплата "})
    assert twin.status_code == 200 and "A category with this name exists" in twin.text
    edit = f"/admin/helpdesk_categories/edit/?id={category_id}"
    assert post_form(admin, edit, {**card, "color": "#654321"}).status_code == 302
    assert _audit(app, "ticket_category.") == [
        ("ticket_category.create", category_id, None, "Оплата"),
        ("ticket_category.update", category_id, "color: #123456", "color: #654321"),
    ]
    b = desks.b.admin
    assert "Record does not exist" in b.get(edit, follow_redirects=True).text
    post_form(b, edit, {**card, "color": "#000000"}, "/admin/helpdesk_categories/")
    assert "Оплата" not in b.get("/admin/helpdesk_categories/export/csv/").text
    assert _category(app, desks.a.org, "Оплата") == (category_id, "#654321")
    assert len(_audit(app, "ticket_category.")) == 2


def test_bulk_delete_goes_through_the_service_and_skips_another_desks_rows(app, desks):
    from tests.helpdesk.test_desk import add_canned, canned_rows

    own = add_canned(app, desks.a.org, "greet", "A")
    theirs = add_canned(app, desks.b.org, "bye", "B")
    admin = desks.a.admin
    token = csrf_from(admin.get("/admin/helpdesk_canned/").text)
    done = admin.post(
        "/admin/helpdesk_canned/action/",
        data={"action": "delete", "rowid": [str(own), str(theirs)], "csrf_token": token},
        follow_redirects=True,
    )
    assert done.status_code == 200 and "Record was successfully deleted." in done.text
    assert canned_rows(app) == [(desks.b.org, "bye", "B")]
    assert _audit(app, "canned_reply.") == [("canned_reply.delete", str(own), "greet", None)]
