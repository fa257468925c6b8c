"""The helpdesk console: who may open which page, the inbox queues, replying, assigning, moving a
ticket, CSRF on every form, files, statistics, and the live socket with the console session."""

from __future__ import annotations

import io
import json
import re

import pytest
import requests
from simple_websocket import ConnectionError

from tests.conftest import csrf_from
from tests.fixtures.helpdesk import PNG_BYTES
from tests.helpdesk.test_live import Client


def messages_of(app, ticket_id):
    from webapp.extensions import db
    from webapp.helpdesk.models import TicketMessage

    with app.app_context():
        rows = db.session.scalars(
            db.select(TicketMessage).where(TicketMessage.ticket_id == ticket_id).order_by(TicketMessage.created_at)
        )
        return [(m.content, m.is_internal, [f.filename for f in m.attachments]) for m in rows]


def ticket_row(app, ticket_id):
    from webapp.extensions import db
    from webapp.helpdesk.models import Ticket

    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        return ticket.status, ticket.assigned_to_id, ticket.priority


@pytest.fixture
def staff_client(app, make_user, console_login):
    helper = make_user("helper", first_name="Анна")
    client = app.test_client()
    console_login(client, helper)
    client.user = helper
    return client


@pytest.mark.parametrize(
    "path,allowed",
    [
        ("/admin/helpdesk/", ("helper", "admin", "superuser")),
        ("/admin/helpdesk/statistics/", ("helper", "admin", "superuser")),
        ("/admin/helpdesk_tickets/", ("helper", "admin", "superuser")),
        ("/admin/helpdesk_categories/", ("admin", "superuser")),
    ],
)
def test_pages_by_role(app, make_user, console_login, path, allowed):
    assert app.test_client().get(path).status_code == 302  # anonymous → login
    for role in ("doctor", "marketer", "helper", "moderator", "admin", "superuser"):
        client = app.test_client()
        console_login(client, make_user(role))
        assert client.get(path).status_code == (200 if role in allowed else 403), role


def test_inbox_queues_and_filters(app, staff_client, make_user, hd_ticket, hd_category, auth_header):
    customer, other_helper = make_user("user"), make_user("helper")
    pay = hd_category("Оплата")
    unassigned = hd_ticket(customer, title="Никто не взял", priority="CRITICAL", category=pay)
    mine = hd_ticket(customer, title="Мой тикет")
    theirs = hd_ticket(customer, title="Чужой тикет")
    waiting = hd_ticket(customer, title="Ждём клиента")
    me = auth_header(staff_client.user)
    api = app.test_client()  # set-up through the API as the same helper
    api.put(f"/api/v1/tickets/{mine.id}", json={"assigned_to": str(staff_client.user.id)}, headers=me)
    api.put(f"/api/v1/tickets/{theirs.id}", json={"assigned_to": str(other_helper.id)}, headers=me)
    api.post(f"/api/v1/tickets/{waiting.id}/messages", json={"content": "Уточните, пожалуйста"}, headers=me)

    def titles(query: str) -> list[str]:
        page = staff_client.get(f"/admin/helpdesk/?{query}")
        assert page.status_code == 200
        return re.findall(r"#[0-9a-f]{8} ([^<]+)</a>", page.text)

    assert titles("queue=unassigned") == ["Никто не взял"]
    assert sorted(titles("queue=mine")) == ["Ждём клиента", "Мой тикет"]  # answering took it
    assert titles("queue=waiting") == ["Ждём клиента"]
    assert len(titles("queue=all")) == 4 and titles("queue=all")[0] == "Никто не взял"  # critical first
    assert titles(f"queue=all&category={pay.id}") == ["Никто не взял"]
    assert titles("queue=all&priority=CRITICAL") == ["Никто не взял"]
    assert titles("queue=all&status=WAITING_RESPONSE") == ["Ждём клиента"]
    assert titles("queue=all&q=Чужой") == ["Чужой тикет"]
    page = staff_client.get("/admin/helpdesk/?queue=all").text
    assert "hd-priority-critical" in page and "HelpdeskLive.inbox" in page
    partial = staff_client.get("/admin/helpdesk/?queue=unassigned&partial=1")
    assert partial.status_code == 200 and "<html" not in partial.text and str(unassigned.id)[:8] in partial.text


def test_reply_note_and_attachment(app, staff_client, make_user, hd_ticket):
    customer = make_user("user")
    ticket = hd_ticket(customer)
    page = staff_client.get(f"/admin/helpdesk/ticket/{ticket.id}")
    assert page.status_code == 200 and "hd-reply" in page.text
    token = csrf_from(page.text)
    url = f"/admin/helpdesk/ticket/{ticket.id}/reply"
    r = staff_client.post(url, data={"content": "Проверим биллинг", "is_internal": "on", "csrf_token": token})
    assert r.status_code == 302
    r = staff_client.post(
        url,
        data={"content": "Вот инструкция", "files": (io.BytesIO(PNG_BYTES), "схема.png"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    assert messages_of(app, ticket.id) == [("Проверим биллинг", True, []), ("Вот инструкция", False, ["схема.png"])]
    status, assignee, _ = ticket_row(app, ticket.id)
    assert status == "WAITING_RESPONSE" and assignee == staff_client.user.id
    page = staff_client.get(f"/admin/helpdesk/ticket/{ticket.id}").text
    assert "Проверим биллинг" in page and "hd-internal" in page
    link = re.search(r'href="(/admin/helpdesk/file/[^"]+)"', page).group(1)
    download = staff_client.get(link)
    assert download.status_code == 200 and download.data == PNG_BYTES
    # An empty reply is refused with a message, nothing written.
    r = staff_client.post(url, data={"content": "  ", "csrf_token": token}, follow_redirects=True)
    assert r.status_code == 200 and len(messages_of(app, ticket.id)) == 2


def test_forms_need_csrf(app, staff_client, make_user, hd_ticket):
    ticket = hd_ticket(make_user("user"))
    r = staff_client.post(f"/admin/helpdesk/ticket/{ticket.id}/reply", data={"content": "без токена"})
    assert r.status_code == 400
    r = staff_client.post(f"/admin/helpdesk/ticket/{ticket.id}/update", data={"status": "CLOSED"})
    assert r.status_code == 400
    assert messages_of(app, ticket.id) == [] and ticket_row(app, ticket.id)[0] == "OPEN"


def test_assign_move_and_refused_move(app, staff_client, make_user, hd_ticket):
    ticket = hd_ticket(make_user("user"))
    page = staff_client.get(f"/admin/helpdesk/ticket/{ticket.id}")
    token = csrf_from(page.text)
    url = f"/admin/helpdesk/ticket/{ticket.id}/update"
    staff_client.post(url, data={"assigned_to": "me", "csrf_token": token})
    staff_client.post(url, data={"status": "IN_PROGRESS", "csrf_token": token})
    staff_client.post(url, data={"priority": "HIGH", "csrf_token": token})
    assert ticket_row(app, ticket.id) == ("IN_PROGRESS", staff_client.user.id, "HIGH")
    staff_client.post(url, data={"status": "CLOSED", "csrf_token": token})
    refused = staff_client.post(url, data={"status": "IN_PROGRESS", "csrf_token": token}, follow_redirects=True)
    assert "CLOSED" in refused.text and ticket_row(app, ticket.id)[0] == "CLOSED"
    customer = make_user("user")
    refused = staff_client.post(url, data={"assigned_to": str(customer.id), "csrf_token": token}, follow_redirects=True)
    assert ticket_row(app, ticket.id)[1] == staff_client.user.id
    assert staff_client.get("/admin/helpdesk/ticket/not-a-ticket").status_code == 404


def test_statistics_page_has_chart_data(app, staff_client, make_user, hd_ticket, hd_category):
    category = hd_category("Оплата", color="#ff6b6b")
    hd_ticket(make_user("user"), category=category)
    page = staff_client.get("/admin/helpdesk/statistics/")
    assert page.status_code == 200
    data = json.loads(re.search(r'id="hd-stats-data">(.*?)</script>', page.text, re.S).group(1))
    assert len(data["daily"]) == 30 and data["daily"][-1]["created"] == 1
    assert data["categories"][0]["name"] == "Оплата" and data["categories"][0]["percentage"] == 100.0
    assert {s["key"] for s in data["statuses"]} == {"OPEN", "IN_PROGRESS", "WAITING_RESPONSE", "RESOLVED", "CLOSED"}
    empty = staff_client.get("/admin/helpdesk/statistics/?from_date=2000-01-01&to_date=2000-01-02")
    assert json.loads(re.search(r'id="hd-stats-data">(.*?)</script>', empty.text, re.S).group(1))["categories"] == []
    assert staff_client.get("/admin/helpdesk/statistics/?from_date=garbage").status_code == 200


def live_session(live_server, user_ns) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{live_server.url}/admin/login")
    r = session.post(
        f"{live_server.url}/admin/login",
        data={"login": user_ns.username, "password": user_ns.password, "csrf_token": csrf_from(page.text)},
        allow_redirects=False,
    )
    assert r.status_code == 302
    return session


def test_console_session_opens_the_ticket_socket(app, live_server, make_user, hd_ticket, hd_message):
    helper, customer = make_user("helper"), make_user("user")
    ticket = hd_ticket(customer)
    session = live_session(live_server, helper)
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    url = live_server.url.replace("http://", "ws://") + f"/ws/tickets/{ticket.id}"
    ws = Client.connect(url, headers={"Cookie": cookie, "Origin": live_server.url})
    try:
        hd_message(ticket, customer, "Есть кто?")
        event = json.loads(ws.receive(timeout=5))
        assert event["type"] == "new_message" and event["data"]["content"] == "Есть кто?"
    finally:
        ws.close()
    inbox = Client.connect(
        live_server.url.replace("http://", "ws://") + "/ws/helpdesk/inbox",
        headers={"Cookie": cookie, "Origin": live_server.url},
    )
    try:
        hd_message(ticket, customer, "Ау")
        assert json.loads(inbox.receive(timeout=5))["data"]["ticket_id"] == str(ticket.id)
    finally:
        inbox.close()
    # Another site's page cannot use the staff member's cookie.
    with pytest.raises(ConnectionError) as refused:
        Client.connect(url, headers={"Cookie": cookie, "Origin": "http://evil.example"})
    assert refused.value.status_code == 403
    # A customer's console-less session is no key either.
    with pytest.raises(ConnectionError) as refused:
        Client.connect(url)
    assert refused.value.status_code == 401


@pytest.mark.parametrize("language,title", [("ru", "Входящие"), ("kk", "Кіріс"), ("uz", "Kiruvchi"), ("en", "Inbox")])
def test_console_speaks_the_users_language(app, make_user, console_login, language, title):
    from tests.fixtures.telegram import compile_stale_catalogs

    compile_stale_catalogs()
    client = app.test_client()
    console_login(client, make_user("helper", language=language))
    assert f'<h2 class="mb-0">{title}</h2>' in client.get("/admin/helpdesk/").text


def test_ticket_panel_times_name_their_zone_and_history_is_in_words(app, staff_client, make_user, hd_ticket):
    ticket = hd_ticket(make_user("user"))
    page = staff_client.get(f"/admin/helpdesk/ticket/{ticket.id}")
    staff_client.post(
        f"/admin/helpdesk/ticket/{ticket.id}/update", data={"status": "IN_PROGRESS", "csrf_token": csrf_from(page.text)}
    )
    panel = staff_client.get(f"/admin/helpdesk/ticket/{ticket.id}").text
    with app.app_context():
        from webapp.admin.base import console_time
        from webapp.extensions import db
        from webapp.helpdesk.models import Ticket

        opened = console_time(db.session.get(Ticket, ticket.id).created_at)
    assert opened in panel and " UTC" not in panel  # the platform's zone, named
    assert "→ В работе" in panel and "→ IN_PROGRESS" not in panel  # the helper reads Russian
