"""Finance API contract: the seed's transaction payload, validation (4xx, nothing written), privacy, filters."""

from __future__ import annotations

import pytest

from webapp.extensions import db
from webapp.finance.models import Debt, Goal, Transaction

SEED_TX = {"amount": "1000.00", "type": "expense", "description": "Покупка продуктов", "date": "2024-01-01T12:00:00Z"}


@pytest.fixture
def headers(fin_user, auth_header):
    return auth_header(fin_user)


@pytest.fixture
def other_headers(other_user, auth_header):
    return auth_header(other_user)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def assert_error(response, status, field=None):
    assert response.status_code == status, response.text
    body = response.get_json()
    assert set(body["error"]) == {"code", "message", "details"}
    if field:
        assert field in [d["field"] for d in body["error"]["details"]], body


def test_seed_transaction_payload_is_created(client, headers):
    r = client.post("/api/transactions/", json=SEED_TX, headers=headers)
    assert r.status_code == 201, r.text
    body = r.get_json()
    assert body["amount"] == "1000.00" and body["type"] == "expense"
    assert body["description"] == "Покупка продуктов" and body["date"] == "2024-01-01T12:00:00Z"
    assert (body["currency"], body["category"], body["source"]) == ("UZS", "other_expense", "api")
    got = client.get(f"/api/transactions/{body['id']}/", headers=headers)
    assert got.status_code == 200 and got.get_json() == body


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": "0"}, "amount"),
        ({"amount": "-10.00"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"amount": None}, "amount"),
        ({"type": "transfer"}, "type"),
        ({"type": None}, "type"),
        ({"date": "yesterday"}, "date"),
        ({"date": "2024-01-01T12:00:00"}, "date"),  # no time zone
        ({"date": "2024-13-01T12:00:00Z"}, "date"),
        ({"currency": "dollars"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"category": "food", "type": "income"}, "category"),
        ({"category": "no-such"}, "category"),
        ({"description": "x" * 501}, "description"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": "1e400"}, "amount"),
        ({"amount": True}, "amount"),
        ({"amount": "99999999999999999"}, "amount"),
        ({"date": "0001-01-01T00:00:00+05:00"}, "date"),
        ({"date": "2024-01-01T00:00:00+25:00"}, "date"),
    ],
)
def test_bad_transaction_input_is_422_and_writes_nothing(app, client, headers, change, field):
    r = client.post("/api/transactions/", json={**SEED_TX, **change}, headers=headers)
    assert_error(r, 422, field)
    assert count(app, Transaction) == 0


def test_missing_fields_garbage_and_no_token(app, client, headers):
    assert_error(client.post("/api/transactions/", json={}, headers=headers), 422, "amount")
    r = client.post("/api/transactions/", data="{not json", headers={**headers, "Content-Type": "application/json"})
    assert_error(r, 400)
    r = client.post("/api/transactions/", json=SEED_TX)
    assert r.status_code == 401 and r.get_json()["code"] == "token_not_valid"
    assert count(app, Transaction) == 0


def test_users_see_only_their_own_records(app, client, headers, other_headers):
    tx = client.post("/api/transactions/", json=SEED_TX, headers=other_headers).get_json()
    goal = client.post("/api/goals/", json={"title": "Car", "target_amount": "100"}, headers=other_headers).get_json()
    debt = client.post(
        "/api/debts/", json={"counterparty": "A", "direction": "i_owe", "amount": "5"}, headers=other_headers
    ).get_json()
    assert client.get("/api/transactions/", headers=headers).get_json()["total"] == 0
    for path in (f"/api/transactions/{tx['id']}/", f"/api/goals/{goal['id']}/", f"/api/debts/{debt['id']}/"):
        assert_error(client.get(path, headers=headers), 404)
        assert_error(client.delete(path, headers=headers), 404)
    assert_error(client.patch(f"/api/transactions/{tx['id']}/", json={"amount": "1"}, headers=headers), 404)
    assert_error(client.post(f"/api/goals/{goal['id']}/deposit/", json={"amount": "1"}, headers=headers), 404)
    assert_error(client.post(f"/api/debts/{debt['id']}/settle/", headers=headers), 404)
    assert (count(app, Transaction), count(app, Goal), count(app, Debt)) == (1, 1, 1)
    assert client.get(f"/api/transactions/{tx['id']}/", headers=other_headers).get_json()["amount"] == "1000.00"


def test_list_filters_and_pagination(client, headers):
    rows = [
        {"amount": "100", "type": "expense", "category": "food", "date": "2024-01-05T10:00:00Z"},
        {"amount": "200", "type": "expense", "category": "transport", "date": "2024-01-20T10:00:00Z"},
        {"amount": "5000", "type": "income", "category": "salary", "date": "2024-02-01T10:00:00Z"},
        {"amount": "10", "type": "expense", "currency": "USD", "date": "2024-02-03T10:00:00Z"},
    ]
    for row in rows:
        assert client.post("/api/transactions/", json=row, headers=headers).status_code == 201

    def listing(qs):
        r = client.get(f"/api/transactions/?{qs}", headers=headers)
        assert r.status_code == 200, r.text
        return r.get_json()

    assert [t["amount"] for t in listing("")["items"]] == ["10.00", "5000.00", "200.00", "100.00"]
    assert [t["amount"] for t in listing("type=income")["items"]] == ["5000.00"]
    assert [t["amount"] for t in listing("category=food")["items"]] == ["100.00"]
    assert [t["amount"] for t in listing("currency=usd")["items"]] == ["10.00"]
    assert [t["amount"] for t in listing("date_from=2024-01-10&date_to=2024-02-01")["items"]] == ["5000.00", "200.00"]
    assert [t["amount"] for t in listing("date_from=2024-02-01T12:00:00Z")["items"]] == ["10.00"]
    page = listing("size=3&page=2")
    assert (page["total"], page["pages"], page["page"], len(page["items"])) == (4, 2, 2, 1)
    bad_queries = (
        "type=gift",
        "size=0",
        "page=0",
        "date_from=soon",
        "currency=dollars",
        "date_to=9999-12-31",
        "date_from=0001-01-01",
        "date_from=0001-01-01T00:00:00%2B05:00",
    )
    for bad in bad_queries:
        assert_error(client.get(f"/api/transactions/?{bad}", headers=headers), 422)


def test_patch_and_delete_transaction(client, headers):
    tx = client.post("/api/transactions/", json=SEED_TX, headers=headers).get_json()
    r = client.patch(f"/api/transactions/{tx['id']}/", json={"amount": "1500.50", "category": "food"}, headers=headers)
    assert r.status_code == 200 and (r.get_json()["amount"], r.get_json()["category"]) == ("1500.50", "food")
    assert_error(client.patch(f"/api/transactions/{tx['id']}/", json={"amount": "0"}, headers=headers), 422, "amount")
    assert client.delete(f"/api/transactions/{tx['id']}/", headers=headers).status_code == 204
    assert_error(client.get(f"/api/transactions/{tx['id']}/", headers=headers), 404)
    assert_error(client.get("/api/transactions/not-a-uuid/", headers=headers), 404)


def test_balance_per_currency(client, headers):
    assert client.get("/api/balance/", headers=headers).get_json() == {
        "balances": [{"currency": "UZS", "balance": "0.00", "formatted": "0 UZS"}]
    }
    for row in (
        {"amount": "2000000", "type": "income"},
        {"amount": "500000", "type": "expense"},
        {"amount": "0.10", "type": "income", "currency": "USD"},
        {"amount": "0.20", "type": "income", "currency": "USD"},
    ):
        client.post("/api/transactions/", json=row, headers=headers)
    assert client.get("/api/balance/", headers=headers).get_json() == {
        "balances": [
            {"currency": "USD", "balance": "0.30", "formatted": "0.30 USD"},
            {"currency": "UZS", "balance": "1500000.00", "formatted": "1,500,000 UZS"},
        ]
    }


def test_goals_lifecycle(app, client, headers):
    assert_error(client.post("/api/goals/", json={"title": "", "target_amount": "10"}, headers=headers), 422, "title")
    assert_error(
        client.post(
            "/api/goals/", json={"title": "X", "target_amount": "10", "deadline": "2001-01-01"}, headers=headers
        ),
        422,
        "deadline",
    )
    assert count(app, Goal) == 0
    goal = client.post("/api/goals/", json={"title": "Телефон", "target_amount": "5000000"}, headers=headers)
    assert goal.status_code == 201
    gid = goal.get_json()["id"]
    r = client.post(f"/api/goals/{gid}/deposit/", json={"amount": "2500000"}, headers=headers)
    assert (r.get_json()["saved_amount"], r.get_json()["progress"], r.get_json()["status"]) == (
        "2500000.00",
        50,
        "active",
    )
    assert_error(client.post(f"/api/goals/{gid}/deposit/", json={"amount": "-1"}, headers=headers), 422, "amount")
    r = client.post(f"/api/goals/{gid}/deposit/", json={"amount": "2500000"}, headers=headers)
    assert r.get_json()["status"] == "achieved"
    assert_error(client.post(f"/api/goals/{gid}/deposit/", json={"amount": "1"}, headers=headers), 409)
    assert_error(client.post(f"/api/goals/{gid}/cancel/", headers=headers), 409)
    listing = client.get("/api/goals/?status=achieved", headers=headers).get_json()
    assert [g["id"] for g in listing["items"]] == [gid]
    assert client.get("/api/goals/?status=active", headers=headers).get_json()["total"] == 0
    assert client.delete(f"/api/goals/{gid}/", headers=headers).status_code == 204
    assert count(app, Goal) == 0


def test_debts_lifecycle_and_due_list(client, headers):
    bad = client.post("/api/debts/", json={"counterparty": "A", "direction": "up", "amount": "5"}, headers=headers)
    assert_error(bad, 422, "direction")
    ok = client.post(
        "/api/debts/",
        json={"counterparty": "Ахмед", "direction": "owed_to_me", "amount": "300000", "due_date": "2000-01-01"},
        headers=headers,
    )
    assert ok.status_code == 201
    did = ok.get_json()["id"]
    client.post("/api/debts/", json={"counterparty": "B", "direction": "i_owe", "amount": "7"}, headers=headers)
    due = client.get("/api/debts/due/?days=3", headers=headers).get_json()
    assert [d["id"] for d in due["items"]] == [did]  # overdue is due; undated is not
    assert due["open_totals"] == {"i_owe": {"UZS": "7.00"}, "owed_to_me": {"UZS": "300000.00"}}
    r = client.post(f"/api/debts/{did}/settle/", headers=headers)
    assert r.get_json()["settled"] is True and r.get_json()["settled_at"]
    assert_error(client.post(f"/api/debts/{did}/settle/", headers=headers), 409)
    assert client.get("/api/debts/?settled=false", headers=headers).get_json()["total"] == 1
    assert client.get("/api/debts/?direction=owed_to_me", headers=headers).get_json()["total"] == 1
    assert_error(client.get("/api/debts/due/?days=-1", headers=headers), 422)


def test_analytics_endpoints(client, headers):
    for row in (
        {"amount": "300", "type": "expense", "category": "transport", "date": "2024-02-10T10:00:00Z"},
        {"amount": "100", "type": "expense", "category": "food", "date": "2024-02-11T10:00:00Z"},
        {"amount": "1000", "type": "income", "category": "salary", "date": "2024-02-12T10:00:00Z"},
    ):
        client.post("/api/transactions/", json=row, headers=headers)
    body = client.get("/api/analytics/categories/?year=2024&month=2", headers=headers).get_json()
    assert body["total"] == "400.00"
    assert [(i["category"], i["name"], i["total"], i["share"]) for i in body["items"]] == [
        ("transport", "Транспорт", "300.00", 75),
        ("food", "Продукты", "100.00", 25),
    ]
    income = client.get("/api/analytics/categories/?year=2024&month=2&type=income", headers=headers).get_json()
    assert [i["category"] for i in income["items"]] == ["salary"]
    monthly = client.get("/api/analytics/monthly/?months=3", headers=headers).get_json()
    assert len(monthly["months"]) == 3 and monthly["currency"] == "UZS"
    assert_error(client.get("/api/analytics/categories/?month=13", headers=headers), 422)
    assert_error(client.get("/api/analytics/monthly/?months=0", headers=headers), 422)


def test_parse_command_endpoint(app, client, headers):
    r = client.post(
        "/api/commands/parse/", json={"text": "Потратил 50 тыс на продукты", "language": "ru"}, headers=headers
    )
    assert r.status_code == 200
    body = r.get_json()
    assert {k: body[k] for k in ("intent", "amount", "currency", "category", "description")} == {
        "intent": "expense",
        "amount": "50000.00",
        "currency": "UZS",
        "category": "food",
        "description": "продукты",
    }
    assert body["question"] is None and body["question_text"] is None and body["complete"] is True
    unclear = client.post("/api/commands/parse/", json={"text": "Купил продукты"}, headers=headers).get_json()
    assert unclear["question"] == "amount" and unclear["question_text"] and unclear["complete"] is False
    assert_error(client.post("/api/commands/parse/", json={"text": ""}, headers=headers), 422, "text")
    assert_error(client.post("/api/commands/parse/", json={"text": "x", "language": "fr"}, headers=headers), 422)
    assert count(app, Transaction) == 0  # parsing saves nothing


def test_categories_endpoint_names_in_user_language(client, headers):
    rows = client.get("/api/categories/", headers=headers).get_json()
    food = next(c for c in rows if c["code"] == "food")
    assert food == {"code": "food", "type": "expense", "name": "Продукты", "custom": False}


def test_finance_endpoints_are_in_openapi(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/transactions/", "/api/balance/", "/api/goals/", "/api/debts/", "/api/commands/parse/"):
        assert path in paths
