"""Seed 003 ``/api/v1`` contract, path by path: shapes, filters, pagination, roles, errors."""

from __future__ import annotations

import io
import uuid

import pytest

from tests.fixtures.helpdesk import PDF_BYTES, PNG_BYTES

TICKET_LIST_KEYS = {
    "id",
    "title",
    "description",
    "status",
    "priority",
    "category",
    "user",
    "assigned_to",
    "created_at",
    "updated_at",
    "messages_count",
    "last_message_at",
}
MESSAGE_KEYS = {"id", "ticket_id", "content", "user", "attachments", "is_internal", "created_at"}


def count(app, model_name: str) -> int:
    from webapp.extensions import db
    from webapp.helpdesk import models

    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(getattr(models, model_name)))


def assert_error(response, status: int, field: str | None = None):
    assert response.status_code == status, response.text
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    if field:
        assert field in [d["field"] for d in body["error"]["details"]], body
    return body["error"]


ACTOR_ROLES = {
    "customer": "user",
    "stranger": "user",
    "helper": "helper",
    "helper2": "helper",
    "moderator": "moderator",
    "admin": "admin",
}


class Actors(dict):
    """customer, stranger, helper, helper2, moderator, admin — each made on first use, with .h headers
    (password hashing makes every user cost a little, and most tests need only a few)."""

    def __init__(self, make_user, auth_header):
        super().__init__()
        self.make_user, self.auth_header = make_user, auth_header

    def __missing__(self, name):
        user = self.make_user(ACTOR_ROLES[name], first_name=name.capitalize())
        user.h = self.auth_header(user)
        self[name] = user
        return user


@pytest.fixture
def actors(make_user, auth_header):
    return Actors(make_user, auth_header)


# --- tickets ---------------------------------------------------------------------------------------


def test_create_ticket_returns_seed_shape(client, actors, hd_category):
    category = hd_category("Оплата и подписка", icon="💳")
    body = {"title": "Проблема с оплатой", "description": "Подробно", "category_id": str(category.id)}
    r = client.post("/api/v1/tickets", json={**body, "priority": "HIGH"}, headers=actors["customer"].h)
    assert r.status_code == 201, r.text
    data = r.get_json()
    assert set(data) == {"id", "title", "description", "status", "priority", "category_id", "user_id", "created_at"}
    assert (data["status"], data["priority"], data["category_id"]) == ("OPEN", "HIGH", str(category.id))
    assert data["user_id"] == str(actors["customer"].id) and data["created_at"].endswith("Z")
    uuid.UUID(data["id"])
    r = client.post("/api/v1/tickets", json={"title": "Без категории"}, headers=actors["customer"].h)
    assert r.status_code == 201 and r.get_json()["priority"] == "NORMAL"


@pytest.mark.parametrize(
    "payload,field",
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": 5}, "title"),
        ({"title": "ok", "priority": "URGENT"}, "priority"),
        ({"title": "ok", "category_id": "not-a-uuid"}, "category_id"),
        ({"title": "ok", "category_id": str(uuid.uuid4())}, "category_id"),
        ({"title": "ok", "description": "x" * 10_001}, "description"),
    ],
)
def test_create_ticket_rejects_bad_input(app, client, actors, payload, field):
    assert_error(client.post("/api/v1/tickets", json=payload, headers=actors["customer"].h), 422, field)
    assert count(app, "Ticket") == 0


def test_create_ticket_in_inactive_category_is_refused(app, client, actors, hd_category):
    category = hd_category("Старое", is_active=False)
    r = client.post(
        "/api/v1/tickets", json={"title": "x", "category_id": str(category.id)}, headers=actors["customer"].h
    )
    assert_error(r, 422, "category_id")
    assert count(app, "Ticket") == 0


def test_garbage_json_and_no_token(app, client, actors):
    r = client.post("/api/v1/tickets", data="{oops", content_type="application/json", headers=actors["customer"].h)
    assert_error(r, 400)
    error = assert_error(client.post("/api/v1/tickets", json={"title": "x"}), 401)
    assert error["code"] == "UNAUTHORIZED"
    assert_error(client.get("/api/v1/tickets", headers={"Authorization": "Bearer nonsense"}), 401)
    assert count(app, "Ticket") == 0


def test_list_shape_and_customer_sees_only_own(client, actors, hd_ticket, hd_message, hd_category):
    category = hd_category("Оплата и подписка", icon="💳", color="#ff6b6b")
    mine = hd_ticket(actors["customer"], category=category)
    hd_ticket(actors["stranger"], title="Чужой")
    hd_message(mine, actors["customer"], "Вопрос")
    hd_message(mine, actors["helper"], "заметка", is_internal=True)
    r = client.get("/api/v1/tickets", headers=actors["customer"].h)
    assert r.status_code == 200
    page = r.get_json()
    assert set(page) == {"items", "total", "page", "size", "pages"}
    assert (page["total"], page["page"], page["size"], page["pages"]) == (1, 1, 20, 1)
    item = page["items"][0]
    assert set(item) == TICKET_LIST_KEYS
    assert item["category"] == {"id": str(category.id), "name": "Оплата и подписка", "icon": "💳", "color": "#ff6b6b"}
    assert item["user"]["id"] == str(actors["customer"].id) and item["user"]["first_name"] == "Customer"
    assert item["messages_count"] == 1  # the internal note is not counted for the customer
    staff_view = client.get("/api/v1/tickets", headers=actors["helper"].h).get_json()
    assert staff_view["total"] == 2
    mine_for_staff = next(i for i in staff_view["items"] if i["id"] == str(mine.id))
    assert mine_for_staff["messages_count"] == 2
    assert mine_for_staff["assigned_to"] is None


@pytest.mark.parametrize(
    "params",
    ["size=0", "size=-1", "size=101", "size=100000", "page=0", "page=-3", "page=abc", "size=ten"],
)
def test_pagination_bounds_are_422(client, actors, params):
    assert_error(client.get(f"/api/v1/tickets?{params}", headers=actors["helper"].h), 422)


def test_pagination_pages_and_past_the_end(client, actors, hd_ticket):
    for n in range(25):
        hd_ticket(actors["customer"], title=f"T{n:02d}")
    h = actors["helper"].h
    first = client.get("/api/v1/tickets?size=10", headers=h).get_json()
    assert (first["total"], first["pages"], len(first["items"])) == (25, 3, 10)
    assert first["items"][0]["title"] == "T24"  # newest first
    last = client.get("/api/v1/tickets?size=10&page=3", headers=h).get_json()
    assert len(last["items"]) == 5 and last["items"][-1]["title"] == "T00"
    past = client.get("/api/v1/tickets?size=10&page=4", headers=h).get_json()
    assert past["items"] == [] and past["total"] == 25 and past["page"] == 4
    titles = set()
    for page in (1, 2, 3):
        titles |= {i["title"] for i in client.get(f"/api/v1/tickets?size=10&page={page}", headers=h).json["items"]}
    assert len(titles) == 25


def test_filters_combined(client, actors, hd_ticket, hd_category):
    pay, tech = hd_category("Оплата"), hd_category("Тех")
    a = hd_ticket(actors["customer"], title="A", category=pay, priority="HIGH")
    hd_ticket(actors["customer"], title="B", category=pay, priority="LOW")
    c = hd_ticket(actors["customer"], title="C", category=tech, priority="HIGH")
    hd_ticket(actors["customer"], title="D", category=pay, priority="HIGH")
    h = actors["helper"].h
    client.put(f"/api/v1/tickets/{a.id}", json={"assigned_to": str(actors["helper"].id)}, headers=h)
    client.put(f"/api/v1/tickets/{c.id}", json={"status": "IN_PROGRESS"}, headers=h)

    def titles(query: str) -> list[str]:
        r = client.get(f"/api/v1/tickets?{query}", headers=h)
        assert r.status_code == 200, r.text
        return sorted(i["title"] for i in r.get_json()["items"])

    assert titles(f"category_id={pay.id}&priority=HIGH") == ["A", "D"]
    assert titles(f"category_id={pay.id}&priority=HIGH&assigned_to={actors['helper'].id}") == ["A"]
    assert titles("status=OPEN&priority=HIGH") == ["A", "D"]
    assert titles("status=IN_PROGRESS") == ["C"]
    assert titles(f"status=IN_PROGRESS&category_id={pay.id}") == []
    for bad in ("status=DONE", "priority=URGENT", "category_id=1", "assigned_to=me"):
        assert_error(client.get(f"/api/v1/tickets?{bad}", headers=h), 422)


def test_detail(client, actors, hd_ticket, hd_category):
    category = hd_category("Оплата", icon="💳", color="#ff6b6b")
    ticket = hd_ticket(actors["customer"], category=category)
    client.put(
        f"/api/v1/tickets/{ticket.id}", json={"assigned_to": str(actors["helper"].id)}, headers=actors["admin"].h
    )
    r = client.get(f"/api/v1/tickets/{ticket.id}", headers=actors["customer"].h)
    assert r.status_code == 200
    data = r.get_json()
    assert data["category"] == {"id": str(category.id), "name": "Оплата", "icon": "💳", "color": "#ff6b6b"}
    assert set(data["user"]) == {"id", "telegram_id", "first_name", "username"}
    assert data["assigned_to"] == {"id": str(actors["helper"].id), "first_name": "Helper", "role": "HELPER"}
    assert data["closed_at"] is None and data["updated_at"].endswith("Z")
    assert_error(client.get(f"/api/v1/tickets/{ticket.id}", headers=actors["stranger"].h), 403)
    assert_error(client.get(f"/api/v1/tickets/{uuid.uuid4()}", headers=actors["helper"].h), 404)
    assert_error(client.get("/api/v1/tickets/not-an-id", headers=actors["helper"].h), 404)


def test_update_by_staff(client, actors, hd_ticket):
    ticket = hd_ticket(actors["customer"])
    r = client.put(
        f"/api/v1/tickets/{ticket.id}",
        json={"title": "Обновленный заголовок", "status": "IN_PROGRESS", "priority": "CRITICAL",
              "assigned_to": str(actors["helper2"].id)},
        headers=actors["helper"].h,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    data = r.get_json()
    assert (data["title"], data["status"], data["priority"]) == ("Обновленный заголовок", "IN_PROGRESS", "CRITICAL")
    assert data["assigned_to"]["id"] == str(actors["helper2"].id)
    r = client.put(f"/api/v1/tickets/{ticket.id}", json={"assigned_to": None}, headers=actors["helper"].h)
    assert r.get_json()["assigned_to"] is None
    r = client.put(f"/api/v1/tickets/{ticket.id}", json={"status": "CLOSED"}, headers=actors["helper"].h)
    assert r.get_json()["closed_at"] is not None


def test_update_refusals_write_nothing(client, actors, hd_ticket):
    ticket = hd_ticket(actors["customer"], title="Исходный")
    url = f"/api/v1/tickets/{ticket.id}"
    h = actors["helper"].h
    client.put(url, json={"status": "IN_PROGRESS"}, headers=h)
    # An illegal move in the same request as a legal change: the whole request is refused.
    assert_error(client.put(url, json={"title": "Новый", "status": "OPEN"}, headers=h), 422, "status")
    client.put(url, json={"status": "CLOSED"}, headers=h)
    assert_error(client.put(url, json={"status": "IN_PROGRESS"}, headers=h), 422, "status")
    assert_error(client.put(url, json={"assigned_to": str(actors["customer"].id)}, headers=h), 422, "assigned_to")
    assert_error(client.put(url, json={"assigned_to": str(uuid.uuid4())}, headers=h), 422, "assigned_to")
    assert_error(client.put(url, json={"title": None}, headers=h), 422)
    assert_error(client.put(url, json={"status": "DONE"}, headers=h), 422, "status")
    data = client.get(url, headers=h).get_json()
    assert (data["title"], data["status"], data["assigned_to"]) == ("Исходный", "CLOSED", None)


def test_update_by_customer(client, actors, hd_ticket):
    ticket = hd_ticket(actors["customer"])
    url = f"/api/v1/tickets/{ticket.id}"
    h = actors["customer"].h
    for body, field in (({"priority": "CRITICAL"}, "priority"), ({"status": "RESOLVED"}, "status")):
        assert_error(client.put(url, json=body, headers=h), 403, field)
    assert_error(client.put(url, json={"assigned_to": str(actors["helper"].id)}, headers=h), 403)
    assert_error(client.put(url, json={"title": "Моё"}, headers=actors["stranger"].h), 403)
    r = client.put(url, json={"title": "Моё", "status": "CLOSED"}, headers=h)
    assert r.status_code == 200 and r.get_json()["status"] == "CLOSED"


def test_delete_is_admin_only(app, client, actors, hd_ticket, hd_message):
    ticket = hd_ticket(actors["customer"])
    hd_message(ticket, actors["customer"], "Сообщение")
    for who in ("customer", "helper", "moderator"):
        assert_error(client.delete(f"/api/v1/tickets/{ticket.id}", headers=actors[who].h), 403)
    assert count(app, "Ticket") == 1
    r = client.delete(f"/api/v1/tickets/{ticket.id}", headers=actors["admin"].h)
    assert r.status_code == 200 and r.get_json() == {"message": "Тикет успешно удален"}
    assert count(app, "Ticket") == 0 and count(app, "TicketMessage") == 0
    assert_error(client.delete(f"/api/v1/tickets/{ticket.id}", headers=actors["admin"].h), 404)


# --- messages --------------------------------------------------------------------------------------


def test_messages_internal_notes_hidden_from_customer(client, actors, hd_ticket):
    ticket = hd_ticket(actors["customer"])
    url = f"/api/v1/tickets/{ticket.id}/messages"
    r = client.post(url, json={"content": "Здравствуйте! У меня проблема"}, headers=actors["customer"].h)
    assert r.status_code == 201, r.text
    created = r.get_json()
    assert set(created) >= {"id", "content", "user_id", "ticket_id", "is_internal", "created_at"}
    assert created["user_id"] == str(actors["customer"].id) and created["is_internal"] is False
    r = client.post(url, json={"content": "Похоже на баг", "is_internal": True}, headers=actors["helper"].h)
    assert r.status_code == 201 and r.get_json()["is_internal"] is True
    client.post(url, json={"content": "Проверяем"}, headers=actors["helper"].h)
    customer_view = client.get(url, headers=actors["customer"].h).get_json()
    assert set(customer_view) == {"items", "total", "page", "size", "pages"} and customer_view["size"] == 50
    assert [m["content"] for m in customer_view["items"]] == ["Здравствуйте! У меня проблема", "Проверяем"]
    assert customer_view["total"] == 2
    assert set(customer_view["items"][0]) == MESSAGE_KEYS
    assert customer_view["items"][1]["user"] == {
        "id": str(actors["helper"].id),
        "first_name": "Helper",
        "role": "HELPER",
    }
    staff_view = client.get(url, headers=actors["helper"].h).get_json()
    assert [m["is_internal"] for m in staff_view["items"]] == [False, True, False]
    assert_error(client.get(url, headers=actors["stranger"].h), 403)
    assert_error(client.get(f"{url}?size=0", headers=actors["helper"].h), 422)


def test_message_refusals_write_nothing(app, client, actors, hd_ticket):
    ticket = hd_ticket(actors["customer"])
    url = f"/api/v1/tickets/{ticket.id}/messages"
    h = actors["customer"].h
    assert_error(client.post(url, json={"content": "секрет", "is_internal": True}, headers=h), 403)
    assert_error(client.post(url, json={"content": ""}, headers=h), 422, "content")
    assert_error(client.post(url, json={"content": "x" * 10_001}, headers=h), 422, "content")
    assert_error(client.post(url, json={"content": "x", "is_internal": "yes"}, headers=h), 422, "is_internal")
    assert_error(client.post(url, json={"content": "x", "attachments": ["nope"]}, headers=h), 422, "attachments.0")
    assert_error(client.post(url, json={"content": "x", "attachments": [str(uuid.uuid4())]}, headers=h), 422)
    assert_error(client.post(url, json={"content": "чужой"}, headers=actors["stranger"].h), 403)
    assert_error(client.post(f"/api/v1/tickets/{uuid.uuid4()}/messages", json={"content": "x"}, headers=h), 404)
    assert count(app, "TicketMessage") == 0
    client.put(f"/api/v1/tickets/{ticket.id}", json={"status": "CLOSED"}, headers=h)
    assert_error(client.post(url, json={"content": "после закрытия"}, headers=h), 422)
    assert count(app, "TicketMessage") == 0


# --- files -----------------------------------------------------------------------------------------


def upload(client, headers, content=PNG_BYTES, name="screenshot.png"):
    return client.post(
        "/api/v1/files/upload",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        headers=headers,
    )


def test_upload_attach_download(client, actors, hd_ticket):
    ticket = hd_ticket(actors["customer"])
    r = upload(client, actors["customer"].h)
    assert r.status_code == 201, r.text
    file = r.get_json()
    assert set(file) == {"id", "filename", "size", "content_type", "url", "created_at"}
    assert (file["filename"], file["size"], file["content_type"]) == ("screenshot.png", len(PNG_BYTES), "image/png")
    assert file["url"] == f"/api/v1/files/{file['id']}"
    r = client.post(
        f"/api/v1/tickets/{ticket.id}/messages",
        json={"content": "Скрин ошибки", "attachments": [file["id"]]},
        headers=actors["customer"].h,
    )
    assert r.status_code == 201
    listed = client.get(f"/api/v1/tickets/{ticket.id}/messages", headers=actors["helper"].h).get_json()
    assert listed["items"][0]["attachments"][0]["id"] == file["id"]
    for who in ("customer", "helper"):
        got = client.get(file["url"], headers=actors[who].h)
        assert got.status_code == 200 and got.data == PNG_BYTES
        assert got.headers["Content-Type"] == "image/png"
        assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert_error(client.get(file["url"], headers=actors["stranger"].h), 403)
    assert_error(client.get(f"/api/v1/files/{uuid.uuid4()}", headers=actors["helper"].h), 404)
    assert_error(client.get(file["url"]), 401)


def test_download_of_non_inline_type_is_an_attachment(client, actors):
    r = upload(client, actors["customer"].h, "строка,другая\n".encode(), "отчёт.csv")
    file = r.get_json()
    assert file["content_type"] == "text/csv" and file["filename"] == "отчёт.csv"
    got = client.get(file["url"], headers=actors["customer"].h)
    assert got.headers["Content-Disposition"].startswith("attachment")
    pdf = upload(client, actors["customer"].h, PDF_BYTES, "a.pdf").get_json()
    assert client.get(pdf["url"], headers=actors["customer"].h).headers["Content-Disposition"].startswith("inline")


def test_upload_refusals_write_nothing(app, client, actors):
    h = actors["customer"].h
    assert_error(upload(client, h, b"MZ\x90\x00" + b"\x00" * 200, "setup.exe"), 422, "file")
    assert_error(upload(client, h, b"", "empty.txt"), 422, "file")
    r = client.post("/api/v1/files/upload", data={"other": "x"}, content_type="multipart/form-data", headers=h)
    assert_error(r, 422, "file")
    assert_error(client.post("/api/v1/files/upload", json={"file": "x"}, headers=h), 422, "file")
    assert_error(upload(client, {}), 401)
    assert count(app, "HelpdeskFile") == 0


def test_upload_over_the_size_limit(app, client, actors, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    r = upload(client, actors["customer"].h, PNG_BYTES + b"\x00" * 2048)
    assert r.status_code in (413, 422)
    assert_error(r, r.status_code)
    assert count(app, "HelpdeskFile") == 0


# --- categories ------------------------------------------------------------------------------------


def test_categories_crud_admin_only(app, client, actors):
    new = {"name": "Новая категория", "description": "Описание", "icon": "🆕", "color": "#45b7d1", "sort_order": 10}
    for who in ("customer", "helper", "moderator"):
        assert_error(client.post("/api/v1/categories", json=new, headers=actors[who].h), 403)
    r = client.post("/api/v1/categories", json=new, headers=actors["admin"].h)
    assert r.status_code == 201, r.text
    created = r.get_json()
    assert created == {**new, "id": created["id"], "is_active": True}
    url = f"/api/v1/categories/{created['id']}"
    assert_error(client.put(url, json={"name": "x"}, headers=actors["helper"].h), 403)
    r = client.put(url, json={"name": "Переименована", "is_active": False}, headers=actors["admin"].h)
    assert r.status_code == 200 and r.get_json()["name"] == "Переименована" and r.get_json()["is_active"] is False
    assert client.get("/api/v1/categories", headers=actors["customer"].h).get_json() == []
    assert len(client.get("/api/v1/categories", headers=actors["helper"].h).get_json()) == 1
    assert_error(client.delete(url, headers=actors["helper"].h), 403)
    r = client.delete(url, headers=actors["admin"].h)
    assert r.status_code == 200 and r.get_json()["message"]
    assert count(app, "TicketCategory") == 0
    assert_error(client.delete(url, headers=actors["admin"].h), 404)


def test_categories_sorted_and_validated(app, client, actors, hd_category, hd_ticket):
    second = hd_category("Технические проблемы", sort_order=2)
    hd_category("Оплата и подписка", sort_order=1)
    names = [c["name"] for c in client.get("/api/v1/categories", headers=actors["customer"].h).get_json()]
    assert names == ["Оплата и подписка", "Технические проблемы"]
    h = actors["admin"].h
    for body, field in (
        ({"name": "технические проблемы"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "X", "color": "red"}, "color"),
        ({"name": "X", "sort_order": -1}, "sort_order"),
        ({"name": "X", "is_active": "no"}, "is_active"),
    ):
        assert_error(client.post("/api/v1/categories", json=body, headers=h), 422, field)
    assert_error(client.put(f"/api/v1/categories/{second.id}", json={"name": None}, headers=h), 422, "name")
    hd_ticket(actors["customer"], category=second)
    assert_error(client.delete(f"/api/v1/categories/{second.id}", headers=h), 422)
    assert count(app, "TicketCategory") == 2


# --- users -----------------------------------------------------------------------------------------


def test_users_list_admins_only(client, actors, make_user, hd_ticket):
    for name in ACTOR_ROLES:
        actors[name]  # noqa: B018 - every actor exists for the counts below
    hd_ticket(actors["customer"])
    hd_ticket(actors["customer"])
    tg = make_user("user", telegram_id=123456789, first_name="John", username="john_doe")
    for who in ("customer", "helper", "moderator"):
        assert_error(client.get("/api/v1/users", headers=actors[who].h), 403)
    r = client.get("/api/v1/users?size=50", headers=actors["admin"].h)
    assert r.status_code == 200
    page = r.get_json()
    # The desk's staff and the customers; not the platform's moderator (issue 12).
    assert page["total"] == 6 and set(page) == {"items", "total", "page", "size", "pages"}
    by_id = {u["id"]: u for u in page["items"]}
    customer = by_id[str(actors["customer"].id)]
    assert customer["tickets_count"] == 2 and customer["role"] == "USER"
    assert {"telegram_id", "username", "first_name", "role", "is_active", "created_at", "last_activity"} <= set(
        customer
    )
    assert by_id[str(tg.id)]["telegram_id"] == 123456789
    helpers = client.get("/api/v1/users?role=HELPER", headers=actors["admin"].h).get_json()
    assert {u["first_name"] for u in helpers["items"]} == {"Helper", "Helper2"}
    found = client.get("/api/v1/users?search=JOHN", headers=actors["admin"].h).get_json()
    assert [u["id"] for u in found["items"]] == [str(tg.id)]
    assert client.get("/api/v1/users?is_active=false", headers=actors["admin"].h).get_json()["total"] == 0
    for bad in ("role=BOSS", "is_active=maybe", "size=0", "page=0"):
        assert_error(client.get(f"/api/v1/users?{bad}", headers=actors["admin"].h), 422)


def test_role_and_status_changes_admin_only_and_audited(app, client, actors):
    from webapp.core.models import AuditLog
    from webapp.extensions import db

    target = actors["customer"]
    url = f"/api/v1/users/{target.id}"
    for who in ("helper", "moderator", "customer"):
        assert_error(client.put(f"{url}/role", json={"role": "HELPER"}, headers=actors[who].h), 403)
    r = client.put(f"{url}/role", json={"role": "HELPER"}, headers=actors["admin"].h)
    assert r.status_code == 200 and r.get_json()["role"] == "HELPER"
    assert_error(client.put(f"{url}/role", json={"role": "ADMIN"}, headers=actors["admin"].h), 403)
    assert_error(client.put(f"{url}/role", json={"role": "BOSS"}, headers=actors["admin"].h), 422, "role")
    assert_error(client.put(f"{url}/role", json={}, headers=actors["admin"].h), 422, "role")
    admin_url = f"/api/v1/users/{actors['admin'].id}"
    assert_error(client.put(f"{admin_url}/role", json={"role": "USER"}, headers=actors["admin"].h), 403)
    assert_error(
        client.put(f"/api/v1/users/{uuid.uuid4()}/role", json={"role": "USER"}, headers=actors["admin"].h), 404
    )
    assert_error(client.put(f"{url}/status", json={"is_active": "no"}, headers=actors["admin"].h), 422, "is_active")
    assert_error(client.put(f"{url}/status", json={"is_active": False}, headers=actors["moderator"].h), 403)
    r = client.put(f"{url}/status", json={"is_active": False}, headers=actors["admin"].h)
    assert r.status_code == 200 and r.get_json()["is_active"] is False
    assert_error(client.get("/api/v1/tickets", headers=target.h), 403)  # blocked users can do nothing
    with app.app_context():
        log = [
            (a.action, a.old_value, a.new_value) for a in db.session.scalars(db.select(AuditLog).order_by(AuditLog.id))
        ]
    # The customer made a helper joins the admin's organization (issue 12), audited too.
    from tests.organizations import default_organization_id

    with app.app_context():
        desk = str(default_organization_id())
    assert log == [("user.role", "user", "helper"), ("membership.change", None, desk), ("user.block", "True", "False")]


# --- statistics ------------------------------------------------------------------------------------


def test_statistics_endpoints(client, actors, hd_ticket, hd_category):
    category = hd_category("Оплата и подписка")
    ticket = hd_ticket(actors["customer"], category=category)
    hd_ticket(actors["customer"])
    client.post(f"/api/v1/tickets/{ticket.id}/messages", json={"content": "Ответ"}, headers=actors["helper"].h)
    for who in ("customer",):
        assert_error(client.get("/api/v1/statistics/dashboard", headers=actors[who].h), 403)
        assert_error(client.get("/api/v1/statistics/tickets", headers=actors[who].h), 403)
    r = client.get("/api/v1/statistics/dashboard", headers=actors["helper"].h)
    assert r.status_code == 200
    data = r.get_json()
    assert {"tickets", "response_time", "categories", "helpers"} <= set(data)
    assert {"total", "open", "in_progress", "resolved", "closed"} <= set(data["tickets"])
    assert data["tickets"]["total"] == 2 and data["tickets"]["waiting_response"] == 1
    assert set(data["response_time"]) >= {"average_hours", "median_hours"}
    assert {(c["name"], c["count"], c["percentage"]) for c in data["categories"]} == {
        ("Оплата и подписка", 1, 50.0),
        (None, 1, 50.0),
    }
    assert data["helpers"][0]["user"]["role"] == "HELPER" and data["helpers"][0]["tickets_handled"] == 1
    r = client.get(f"/api/v1/statistics/tickets?category_id={category.id}", headers=actors["helper"].h)
    assert r.status_code == 200 and r.get_json()["tickets"]["total"] == 1
    assert len(r.get_json()["daily"]) == 1
    r = client.get("/api/v1/statistics/tickets?from_date=2000-01-01&to_date=2000-01-31", headers=actors["admin"].h)
    assert r.get_json()["tickets"]["total"] == 0 and len(r.get_json()["daily"]) == 31
    for bad in ("from_date=2024-02-01&to_date=2024-01-01", "from_date=yesterday", f"category_id={uuid.uuid4()}"):
        assert_error(client.get(f"/api/v1/statistics/tickets?{bad}", headers=actors["helper"].h), 422)


# --- rate limit and the role matrix ----------------------------------------------------------------


def test_write_rate_limit_is_429_in_seed_format(app, client, actors, monkeypatch):
    monkeypatch.setitem(app.config, "HELPDESK_WRITE_RATE_LIMIT", "2 per minute")
    for _ in range(2):
        assert client.post("/api/v1/tickets", json={"title": "x"}, headers=actors["customer"].h).status_code == 201
    assert_error(client.post("/api/v1/tickets", json={"title": "x"}, headers=actors["customer"].h), 429)
    # Buckets are per user: another customer is not throttled by the first one.
    assert client.post("/api/v1/tickets", json={"title": "y"}, headers=actors["stranger"].h).status_code == 201
    assert count(app, "Ticket") == 3


ROLES = ("user", "helper", "doctor", "moderator", "admin", "superuser")
MATRIX = [
    ("GET", "/api/v1/tickets", None, ROLES),
    ("POST", "/api/v1/tickets", {"title": "x"}, ROLES),
    ("GET", "/api/v1/categories", None, ROLES),
    ("POST", "/api/v1/categories", {"name": "Матрица"}, ("admin", "superuser")),
    ("GET", "/api/v1/users", None, ("admin", "superuser")),
    ("GET", "/api/v1/statistics/dashboard", None, ("helper", "admin", "superuser")),
    ("GET", "/api/v1/statistics/tickets", None, ("helper", "admin", "superuser")),
]


@pytest.mark.parametrize("method,path,body,allowed", MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_role_matrix(app, client, make_user, auth_header, method, path, body, allowed):
    assert_error(client.open(path, method=method, json=body), 401)
    assert_error(
        client.open(path, method=method, json=body, headers=auth_header(make_user("admin", active=False))), 403
    )
    for role in ROLES:
        status = client.open(path, method=method, json=body, headers=auth_header(make_user(role))).status_code
        if role in allowed:
            assert status in (200, 201), f"{role}: {status}"
        else:
            assert status == 403, f"{role}: {status}"
        if method == "POST" and "categories" in path and status == 201:
            from webapp.extensions import db
            from webapp.helpdesk.models import TicketCategory

            with app.app_context():
                db.session.execute(db.delete(TicketCategory))
                db.session.commit()
