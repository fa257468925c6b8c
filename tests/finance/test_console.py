"""Finance console: personal data for admins and superusers only, read-only lists with CSV export,
editable categories, and a dashboard with charts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import csrf_from
from webapp.core.i18n import format_money
from webapp.extensions import db


def uzs(amount: int) -> str:
    """An amount as the Russian console prints it: "30 000 UZS" (Babel's ru format, no-break spaces)."""
    return format_money(amount, "UZS", "ru")


VIEWS = (
    "/admin/finance_dashboard/",
    "/admin/finance_transactions/",
    "/admin/finance_wallets/",
    "/admin/finance_categories/",
    "/admin/finance_goals/",
    "/admin/finance_debts/",
    "/admin/finance_voice/",
)
ROLES = ("user", "realtor", "helper", "doctor", "marketer", "moderator", "admin", "superuser")


def signed_in(app, user_ns):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_ns.id)
        session["_fresh"] = True
    return client


@pytest.fixture
def seeded(app, fin_user, load_user, finance_customer):
    """A month of records for one customer of the test organization's finance bot: expenses in two
    categories, income, a goal, a debt, voice logs."""
    finance_customer(fin_user)
    from webapp.finance.models import VoiceCommandLog
    from webapp.finance.services import ledger

    with app.app_context():
        user = load_user(fin_user)
        now = datetime.now(UTC)
        ledger.add_transaction(user, "expense", "30000", category="transport", description="такси", occurred_at=now)
        ledger.add_transaction(user, "expense", "10000", category="food", description="хлеб", occurred_at=now)
        ledger.add_transaction(user, "income", "2000000", category="salary", occurred_at=now)
        ledger.create_goal(user, "Телефон", "5000000")
        ledger.add_debt(user, "Ахмед", "owed_to_me", "300000")
        for score in (0.95, 0.91, 0.42):
            db.session.add(VoiceCommandLog(user_id=user.id, status="confirmed", text="x", confidence_score=score))
        db.session.commit()
    return fin_user


@pytest.mark.parametrize("path", VIEWS)
def test_only_admins_and_superusers_see_finance(app, make_user, path):
    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 302 and "/admin/login" in anonymous.headers["Location"]
    for role in ROLES:
        status = signed_in(app, make_user(role)).get(path).status_code
        assert status == (200 if role in ("admin", "superuser") else 403), f"{role}: {status} on {path}"


def test_lists_show_the_records_and_export_csv(app, make_user, seeded):
    client = signed_in(app, make_user("admin"))
    page = client.get("/admin/finance_transactions/")
    assert uzs(30_000) in page.text and uzs(2_000_000) in page.text and "такси" in page.text
    found = client.get("/admin/finance_transactions/?search=хлеб")
    assert "хлеб" in found.text and "такси" not in found.text
    csv = client.get("/admin/finance_transactions/export/csv/")
    assert csv.status_code == 200 and "text/csv" in csv.headers["Content-Type"]
    lines = csv.get_data(as_text=True).strip().splitlines()
    assert len(lines) == 4 and "30000.00" in csv.get_data(as_text=True)
    wallets = client.get("/admin/finance_wallets/").text
    assert uzs(1_960_000) in wallets  # the wallet's balance
    assert "Телефон" in client.get("/admin/finance_goals/").text
    assert "Ахмед" in client.get("/admin/finance_debts/").text


def test_records_are_read_only_in_the_console(app, make_user, seeded):
    from webapp.finance.models import Transaction

    client = signed_in(app, make_user("superuser"))
    with app.app_context():
        tx_id = db.session.scalar(db.select(Transaction.id).limit(1))
    assert client.get("/admin/finance_transactions/new/").status_code in (302, 403, 404)
    assert client.get(f"/admin/finance_transactions/edit/?id={tx_id}").status_code in (302, 403, 404)
    client.post("/admin/finance_transactions/delete/", data={"id": str(tx_id)})
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Transaction.id))) == 3


def test_superuser_teaches_a_category_a_new_keyword(app, client, make_user, console_login, auth_header, fin_user):
    """Built-in categories are every finance service's parser vocabulary: a superuser's to edit
    (an organization's admin reads them; tests/finance/test_org_isolation.py)."""
    from webapp.finance.models import Category
    from webapp.finance.services import ledger

    with app.app_context():
        ledger.ensure_builtin_categories()
        db.session.commit()
        food_id = db.session.scalar(db.select(Category.id).filter_by(code="food", user_id=None))
    admin = make_user("superuser")
    console_login(client, admin)
    edit_url = f"/admin/finance_categories/edit/?id={food_id}"
    form = client.get(edit_url)
    assert form.status_code == 200
    with app.app_context():
        row = db.session.get(Category, food_id)
        fields = {"code": row.code, "type": row.type, "name_ru": row.name_ru, "name_uz": row.name_uz,
                  "name_en": row.name_en, "keywords": row.keywords + " самса"}  # fmt: skip
    saved = client.post(edit_url, data={**fields, "csrf_token": csrf_from(form.text)})
    assert saved.status_code == 302, saved.text
    parsed = client.post(
        "/api/commands/parse/", json={"text": "купил самсу за 8000"}, headers=auth_header(fin_user)
    ).get_json()
    assert (parsed["intent"], parsed["category"]) == ("expense", "food")


def test_dashboard_draws_the_charts(app, make_user, seeded):
    page = signed_in(app, make_user("admin")).get("/admin/finance_dashboard/").text
    assert 'id="fin-chart-categories"' in page and 'id="fin-chart-months"' in page
    assert 'id="fin-chart-confidence"' in page
    # Transport (30,000) is the longest bar, food (10,000) a third of it.
    assert f"Транспорт: {uzs(30_000)} · 75%" in page
    assert page.count("<rect") >= 2 + 12 + 10  # categories + 6 months x 2 + 10 confidence bands
    assert 'id="fin-total-transactions">3<' in page
    assert "90–100%: 2" in page and "40–50%: 1" in page


def test_home_card_shows_this_months_expenses(app, make_user, seeded):
    page = signed_in(app, make_user("admin")).get("/admin/").text
    assert uzs(40_000) in page
    assert uzs(40_000) not in signed_in(app, make_user("moderator")).get("/admin/").text
