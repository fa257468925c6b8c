"""Issue 12, the support desk: another organization's desk staff reach nothing of desk A.

Desk A is the test organization: its admin and helper, a customer's ticket with an internal note
and an attachment, and a category. Organization B has its own admin and helper. Each test is the
attack (B's staff on A's objects: 404 from the API, nothing or "not found" in the console, the
WebSocket refused) followed by A's own staff doing the same thing successfully.
"""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from simple_websocket import ConnectionError

from tests.conftest import csrf_from
from tests.fixtures.helpdesk import PNG_BYTES
from tests.helpdesk.test_live import Client


def assert_not_found(response):
    assert response.status_code == 404, response.text
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["code"] == "NOT_FOUND", body  # seed 003's error format


@pytest.fixture
def desks(app, client, make_user, make_organization, auth_header, hd_category, hd_ticket):
    other = make_organization("Other support desk")
    a = SimpleNamespace(admin=make_user("admin", first_name="AdminA"), helper=make_user("helper", first_name="HelperA"))
    b = SimpleNamespace(
        admin=make_user("admin", organization=other, first_name="AdminB"),
        helper=make_user("helper", organization=other, first_name="HelperB"),
    )
    for side in (a, b):
        side.ah, side.hh = auth_header(side.admin), auth_header(side.helper)
    customer = make_user("user", first_name="Клиент")
    customer.h = auth_header(customer)
    category = hd_category("Оплата A")
    ticket = hd_ticket(customer, title="Секрет desk A", category=category)
    uploaded = client.post(
        "/api/v1/files/upload",
        data={"file": (io.BytesIO(PNG_BYTES), "a.png")},
        content_type="multipart/form-data",
        headers=customer.h,
    ).get_json()
    url = f"/api/v1/tickets/{ticket.id}/messages"
    sent = client.post(url, json={"content": "скрин", "attachments": [uploaded["id"]]}, headers=customer.h)
    assert sent.status_code == 201, sent.text
    note = client.post(url, json={"content": "внутренняя заметка A", "is_internal": True}, headers=a.hh)
    assert note.status_code == 201, note.text
    return SimpleNamespace(a=a, b=b, customer=customer, category=category, ticket=ticket, file=uploaded, other=other)


def test_other_desk_cannot_list_or_read_tickets(client, desks):
    ticket, url = desks.ticket, f"/api/v1/tickets/{desks.ticket.id}"
    for headers in (desks.b.hh, desks.b.ah):
        listed = client.get("/api/v1/tickets", headers=headers).get_json()
        assert listed["total"] == 0 and listed["items"] == []
        assert_not_found(client.get(url, headers=headers))
        assert_not_found(client.get(f"{url}/messages", headers=headers))
    # Desk A's own staff still read it, internal note included.
    assert client.get("/api/v1/tickets", headers=desks.a.hh).get_json()["total"] == 1
    assert client.get(url, headers=desks.a.hh).get_json()["title"] == ticket.title
    contents = [m["content"] for m in client.get(f"{url}/messages", headers=desks.a.hh).get_json()["items"]]
    assert "внутренняя заметка A" in contents


def test_other_desk_cannot_answer_assign_close_or_delete(app, client, desks):
    url = f"/api/v1/tickets/{desks.ticket.id}"
    for headers in (desks.b.hh, desks.b.ah):
        assert_not_found(client.post(f"{url}/messages", json={"content": "чужой ответ"}, headers=headers))
        assert_not_found(
            client.post(f"{url}/messages", json={"content": "чужая заметка", "is_internal": True}, headers=headers)
        )
        assert_not_found(client.put(url, json={"assigned_to": str(desks.b.helper.id)}, headers=headers))
        assert_not_found(client.put(url, json={"status": "CLOSED"}, headers=headers))
    assert_not_found(client.delete(url, headers=desks.b.ah))
    detail = client.get(url, headers=desks.a.hh).get_json()
    assert detail["status"] == "OPEN" and detail["assigned_to"] is None  # untouched by B
    # A's own helper answers, takes the ticket and closes it.
    assert client.post(f"{url}/messages", json={"content": "Ответ A"}, headers=desks.a.hh).status_code == 201
    assert client.put(url, json={"assigned_to": str(desks.a.helper.id)}, headers=desks.a.hh).status_code == 200
    closed = client.put(url, json={"status": "CLOSED"}, headers=desks.a.hh)
    assert closed.status_code == 200 and closed.get_json()["status"] == "CLOSED"


def test_assignees_only_from_the_tickets_own_desk(client, desks):
    url = f"/api/v1/tickets/{desks.ticket.id}"
    refused = client.put(url, json={"assigned_to": str(desks.b.helper.id)}, headers=desks.a.ah)
    assert refused.status_code == 422 and refused.get_json()["error"]["details"][0]["field"] == "assigned_to"
    assert client.put(url, json={"assigned_to": str(desks.a.helper.id)}, headers=desks.a.ah).status_code == 200


def test_other_desk_cannot_download_attachments(client, desks):
    for headers in (desks.b.hh, desks.b.ah):
        assert_not_found(client.get(desks.file["url"], headers=headers))
    assert client.get(desks.file["url"], headers=desks.a.hh).status_code == 200


def test_other_desk_cannot_see_or_change_categories_or_statistics(client, desks):
    names = {c["name"] for c in client.get("/api/v1/categories", headers=desks.b.hh).get_json()}
    assert "Оплата A" not in names
    url = f"/api/v1/categories/{desks.category.id}"
    assert_not_found(client.put(url, json={"name": "Взлом"}, headers=desks.b.ah))
    assert_not_found(client.delete(url, headers=desks.b.ah))
    stats = client.get("/api/v1/statistics/dashboard", headers=desks.b.hh).get_json()
    assert stats["tickets"]["total"] == 0 and stats["categories"] == []
    assert (
        client.get(f"/api/v1/statistics/tickets?category_id={desks.category.id}", headers=desks.b.hh).status_code == 422
    )
    # B's admin makes a category of the same name in its own desk: names are unique per desk.
    made = client.post("/api/v1/categories", json={"name": "Оплата A"}, headers=desks.b.ah)
    assert made.status_code == 201, made.text
    assert "Оплата A" in {c["name"] for c in client.get("/api/v1/categories", headers=desks.a.hh).get_json()}
    assert client.get("/api/v1/statistics/dashboard", headers=desks.a.hh).get_json()["tickets"]["total"] == 1
    assert client.put(url, json={"name": "Оплата"}, headers=desks.a.ah).status_code == 200


def test_other_desk_admin_cannot_list_or_change_desk_a_users(client, desks):
    listed = {u["id"] for u in client.get("/api/v1/users?size=100", headers=desks.b.ah).get_json()["items"]}
    assert listed.isdisjoint({str(desks.customer.id), str(desks.a.helper.id), str(desks.a.admin.id)})
    assert {str(desks.b.admin.id), str(desks.b.helper.id)} <= listed
    for target in (desks.customer, desks.a.helper):
        url = f"/api/v1/users/{target.id}"
        assert_not_found(client.put(f"{url}/role", json={"role": "USER"}, headers=desks.b.ah))
        assert_not_found(client.put(f"{url}/status", json={"is_active": False}, headers=desks.b.ah))
    # A's admin lists and manages its own people.
    mine = {u["id"] for u in client.get("/api/v1/users?size=100", headers=desks.a.ah).get_json()["items"]}
    assert {str(desks.customer.id), str(desks.a.helper.id)} <= mine and str(desks.b.helper.id) not in mine
    blocked = client.put(f"/api/v1/users/{desks.a.helper.id}/status", json={"is_active": False}, headers=desks.a.ah)
    assert blocked.status_code == 200 and blocked.get_json()["is_active"] is False


def test_other_desk_sees_nothing_in_the_console(app, make_user, console_login, desks):
    ticket = desks.ticket
    b = app.test_client()
    console_login(b, desks.b.helper)
    assert ticket.title not in b.get("/admin/helpdesk/?queue=all").text
    assert ticket.title not in b.get("/admin/helpdesk_tickets/").text
    assert ticket.title not in b.get("/admin/helpdesk_tickets/export/csv/").get_data(as_text=True)
    assert b.get(f"/admin/helpdesk/ticket/{ticket.id}").status_code == 404
    assert b.get(f"/admin/helpdesk/ticket/{ticket.id}/panel").status_code == 404
    page = b.get("/admin/helpdesk/?queue=all")
    token = csrf_from(page.text)
    reply = b.post(f"/admin/helpdesk/ticket/{ticket.id}/reply", data={"content": "чужой", "csrf_token": token})
    assert reply.status_code == 404
    update = b.post(f"/admin/helpdesk/ticket/{ticket.id}/update", data={"status": "CLOSED", "csrf_token": token})
    assert update.status_code == 404
    file_id = desks.file["id"]
    assert b.get(f"/admin/helpdesk/file/{file_id}").status_code == 404
    b_admin = app.test_client()
    console_login(b_admin, desks.b.admin)
    assert "Оплата A" not in b_admin.get("/admin/helpdesk_categories/").text
    assert b_admin.get(f"/admin/helpdesk_categories/edit/?id={desks.category.id}").status_code in (302, 404)
    # Desk A's helper works the same ticket in the console.
    a = app.test_client()
    console_login(a, desks.a.helper)
    assert ticket.title in a.get("/admin/helpdesk/?queue=all").text
    assert ticket.title in a.get("/admin/helpdesk_tickets/export/csv/").get_data(as_text=True)
    assert a.get(f"/admin/helpdesk/ticket/{ticket.id}").status_code == 200
    assert a.get(f"/admin/helpdesk/file/{file_id}").status_code == 200


def test_other_desk_cannot_watch_a_ticket(live_server, tokens_for, desks):
    url = live_server.url.replace("http://", "ws://", 1) + f"/ws/tickets/{desks.ticket.id}"
    for staff in (desks.b.helper, desks.b.admin):
        with pytest.raises(ConnectionError) as refused:
            Client.connect(f"{url}?token={tokens_for(staff)['access']}")
        assert refused.value.status_code == 404
    own = Client.connect(f"{url}?token={tokens_for(desks.a.helper)['access']}")
    own.close()


def test_alerts_go_to_the_tickets_own_desk_only(app, desks, hd_ticket, make_user, run_jobs):
    from webapp.extensions import db
    from webapp.helpdesk.models import HelperAlertSubscription
    from webapp.helpdesk.services import notify

    delivered: list[str] = []
    original = notify.deliver

    def record(dedupe_key, ticket, recipient, chat, text, attachments=None):
        delivered.append(recipient.username)

    with app.app_context():
        for staff in (desks.a.helper, desks.b.helper):
            db.session.add(HelperAlertSubscription(user_id=staff.id, bot_id=_any_bot(app), enabled=True))
        db.session.commit()
    notify.deliver = record
    try:
        run_jobs()  # what the fixture's tickets queued
        delivered.clear()
        hd_ticket(make_user("user"), title="Новый в A")
        run_jobs()
    finally:
        notify.deliver = original
    assert delivered == [desks.a.helper.username]


def _any_bot(app) -> int:
    from webapp.extensions import db
    from webapp.telegram.models import Bot
    from webapp.telegram.tokens import set_bot_token

    bot = db.session.scalar(db.select(Bot).filter_by(name="isolation_desk_bot"))
    if bot is None:
        bot = Bot(name="isolation_desk_bot", vertical="helpdesk")
        set_bot_token(bot, "8300000001:ISOLATION-DESK-BOT-TOKEN")
        db.session.add(bot)
        db.session.flush()
    return bot.id


@pytest.mark.parametrize("role", ["moderator", "doctor", "realtor", "marketer"])
def test_other_roles_reach_no_desk(app, client, make_user, auth_header, live_server, tokens_for, desks, role):
    """Not desk staff, even inside desk A's own organization: nothing of the desk, and 404."""
    outsider = make_user(role)
    headers = auth_header(outsider)
    url = f"/api/v1/tickets/{desks.ticket.id}"
    assert client.get("/api/v1/tickets", headers=headers).get_json()["total"] == 0
    assert_not_found(client.get(url, headers=headers))
    assert_not_found(client.get(f"{url}/messages", headers=headers))
    assert_not_found(client.post(f"{url}/messages", json={"content": "x"}, headers=headers))
    assert_not_found(client.get(desks.file["url"], headers=headers))
    ws = live_server.url.replace("http://", "ws://", 1) + f"/ws/tickets/{desks.ticket.id}"
    with pytest.raises(ConnectionError) as refused:
        Client.connect(f"{ws}?token={tokens_for(outsider)['access']}")
    assert refused.value.status_code == 404


def test_a_newcomer_sees_the_default_desks_menu_only(
    app, client, make_user, make_organization, auth_header, hd_category
):
    """A customer with no ticket and no desk's bot sees the configured desk's categories, not every
    business's; with several desks and no default, seed 003's client must offer them all."""
    other = make_organization("Second support desk")
    hd_category("Оплата A")
    hd_category("Секретный раздел B", organization=other)
    newcomer = make_user("user", first_name="Новичок")
    headers = auth_header(newcomer)

    def names():
        response = client.get("/api/v1/categories", headers=headers)
        assert response.status_code == 200, response.text
        body = response.get_json()
        rows = body if isinstance(body, list) else body.get("results", body.get("items", []))
        return {row["name"] for row in rows}

    configured = app.config["HELPDESK_DEFAULT_ORGANIZATION"]  # the app is shared: put it back as it was
    try:
        app.config["HELPDESK_DEFAULT_ORGANIZATION"] = "Test organization"
        assert names() == {"Оплата A"}
        app.config["HELPDESK_DEFAULT_ORGANIZATION"] = ""
        assert names() == {"Оплата A", "Секретный раздел B"}
    finally:
        app.config["HELPDESK_DEFAULT_ORGANIZATION"] = configured
