"""Issue 12, finance: a finance customer's records are for the finance service's admin only.

The finance service is the test organization, with a finance bot the customer talks to. A rental
agency (another organization) has its own admin. Each test is the attack (the agency's admin in the
finance console) followed by the finance service's own admin succeeding.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from webapp.extensions import db

VIEWS = (
    "/admin/finance_transactions/",
    "/admin/finance_wallets/",
    "/admin/finance_goals/",
    "/admin/finance_debts/",
    "/admin/finance_voice/",
)


def signed_in(app, user_ns):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user_ns.id)
        session["_fresh"] = True
    return client


@pytest.fixture
def finance(app, make_user, make_organization, fin_user, load_user, finance_customer):
    from webapp.finance.models import Category, Transaction, VoiceCommandLog
    from webapp.finance.services import ledger

    finance_customer(fin_user)  # a customer of the test organization's finance bot
    with app.app_context():
        user = load_user(fin_user)
        now = datetime.now(UTC)
        ledger.add_transaction(
            user, "expense", "30000", category="transport", description="такси к врачу", occurred_at=now
        )
        ledger.create_goal(user, "Ипотека", "5000000")
        ledger.add_debt(user, "Тимур", "owed_to_me", "300000")
        db.session.add(VoiceCommandLog(user_id=user.id, status="confirmed", text="голос клиента", confidence_score=0.9))
        own = Category(
            user_id=user.id,
            code="custom_pets",
            type="expense",
            name_ru="Питомцы",
            name_uz="Uy hayvonlari",
            name_en="Pets",
            keywords="корм",
        )
        db.session.add(own)
        db.session.commit()
        ids = {"transaction": db.session.scalar(db.select(Transaction.id)), "category": own.id}
    agency = make_organization("Rental agency")
    return {
        "agency_admin": make_user("admin", organization=agency),
        "finance_admin": make_user("admin"),
        **ids,
    }


def test_agency_admin_cannot_read_finance_customers_records(app, finance):
    agency = signed_in(app, finance["agency_admin"])
    for path in VIEWS:
        page = agency.get(path)
        assert page.status_code == 200
        for private in ("такси к врачу", "Ипотека", "Тимур", "голос клиента", "fin_customer"):
            assert private not in page.text, f"{private} on {path}"
    export = agency.get("/admin/finance_transactions/export/csv/").get_data(as_text=True)
    assert "такси" not in export and len(export.strip().splitlines()) == 1  # the header only
    details = agency.get(f"/admin/finance_transactions/details/?id={finance['transaction']}")
    assert details.status_code == 302 or "такси к врачу" not in details.text
    dashboard = agency.get("/admin/finance_dashboard/").text
    assert 'id="fin-total-transactions">0<' in dashboard


def test_agency_admin_cannot_see_or_edit_customers_categories(app, finance):
    agency = signed_in(app, finance["agency_admin"])
    assert "Питомцы" not in agency.get("/admin/finance_categories/").text
    edit = agency.get(f"/admin/finance_categories/edit/?id={finance['category']}")
    assert edit.status_code == 302 or "Питомцы" not in edit.text


def test_finance_services_own_admin_reads_its_customers(app, finance):
    own = signed_in(app, finance["finance_admin"])
    assert "такси к врачу" in own.get("/admin/finance_transactions/").text
    assert "такси к врачу" in own.get("/admin/finance_transactions/export/csv/").get_data(as_text=True)
    assert "Ипотека" in own.get("/admin/finance_goals/").text
    assert "Питомцы" in own.get("/admin/finance_categories/").text
    assert own.get(f"/admin/finance_categories/edit/?id={finance['category']}").status_code == 200
    assert 'id="fin-total-transactions">1<' in own.get("/admin/finance_dashboard/").text


def test_customers_of_another_finance_service_stay_out_of_reach(
    app, make_user, make_organization, finance, finance_customer, load_user
):
    from webapp.finance.services import ledger

    rival = make_organization("Rival finance")
    stranger = make_user("user", telegram_id=700_000_099, username="rival_customer")
    finance_customer(stranger, organization=rival)
    with app.app_context():
        ledger.add_transaction(load_user(stranger), "expense", "5000", category="food", description="чужой хлеб")
        db.session.commit()
    assert "чужой хлеб" not in signed_in(app, finance["finance_admin"]).get("/admin/finance_transactions/").text
    rival_admin = make_user("admin", organization=rival)
    page = signed_in(app, rival_admin).get("/admin/finance_transactions/").text
    assert "чужой хлеб" in page and "такси к врачу" not in page
