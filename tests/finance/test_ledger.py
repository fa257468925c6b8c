"""Ledger rules against the database: money stays exact, balances add up, users see only their own rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.finance.models import GoalStatus, Transaction
from webapp.finance.services import ledger
from webapp.finance.services.parser import parse_command

TASHKENT = ZoneInfo("Asia/Tashkent")


@pytest.fixture
def user(app_ctx, fin_user, load_user):
    return load_user(fin_user)


@pytest.fixture
def other(app_ctx, other_user, load_user):
    return load_user(other_user)


def test_sum_of_many_small_amounts_is_exact(user):
    for _ in range(1000):
        ledger.add_transaction(user, "income", "0.10")
    for _ in range(300):
        ledger.add_transaction(user, "expense", "0.01")
    db.session.commit()
    assert ledger.balances(user) == {"UZS": Decimal("97.00")}


def test_balance_is_income_minus_expense_per_currency(user):
    ledger.add_transaction(user, "income", "2000000")
    ledger.add_transaction(user, "expense", Decimal("500000.50"), category="food")
    ledger.add_transaction(user, "income", 100, currency="usd")
    ledger.add_transaction(user, "expense", "30.25", currency="USD")
    db.session.commit()
    assert ledger.balances(user) == {"USD": Decimal("69.75"), "UZS": Decimal("1499999.50")}
    # A random mix agrees with the same sum computed in Python.
    amounts = [Decimal(f"{i * 7919 % 100000}.{i % 100:02d}") + 1 for i in range(1, 200)]
    for i, amount in enumerate(amounts):
        ledger.add_transaction(user, "income" if i % 3 else "expense", amount, currency="EUR")
    expected = sum(a if i % 3 else -a for i, a in enumerate(amounts))
    assert ledger.balances(user)["EUR"] == expected


def test_balance_of_a_user_without_records_is_empty_and_others_are_invisible(user, other):
    ledger.add_transaction(other, "income", "500")
    assert ledger.balances(user) == {}
    ledger.get_wallet(user)
    assert ledger.balances(user) == {"UZS": Decimal("0.00")}


@pytest.mark.parametrize(
    ("amount", "field"),
    [("0", "amount"), ("-5", "amount"), ("abc", "amount"), (1.5, "amount"), ("1.001", "amount"), ("1e30", "amount")],
)
def test_bad_amounts_are_refused_and_nothing_is_written(user, amount, field):
    with pytest.raises(ServiceError) as err:
        ledger.add_transaction(user, "expense", amount)
    assert (err.value.status, err.value.field) == (422, field)
    assert db.session.scalar(db.select(db.func.count(Transaction.id))) == 0


def test_bad_type_currency_category_and_naive_date_are_refused(user):
    with pytest.raises(ServiceError, match="income or expense"):
        ledger.add_transaction(user, "transfer", "10")
    with pytest.raises(ServiceError, match="Currency"):
        ledger.add_transaction(user, "expense", "10", currency="XYZ")
    with pytest.raises(ServiceError, match="category"):
        ledger.add_transaction(user, "income", "10", category="food")  # food is an expense category
    with pytest.raises(ServiceError, match="time zone"):
        ledger.add_transaction(user, "income", "10", occurred_at=datetime(2024, 1, 1, 12))


def test_transactions_are_private_and_filterable(user, other):
    mine = ledger.add_transaction(user, "expense", "100", category="food", description="хлеб")
    ledger.add_transaction(user, "income", "900", category="salary")
    theirs = ledger.add_transaction(other, "expense", "5")
    db.session.commit()
    with pytest.raises(ServiceError) as err:
        ledger.get_transaction(user, theirs.id)
    assert err.value.status == 404
    with pytest.raises(ServiceError):
        ledger.get_transaction(user, "not-a-uuid")
    assert ledger.get_transaction(user, str(mine.id)) is mine
    rows = db.session.scalars(ledger.transactions_query(user, category="food")).all()
    assert [r.id for r in rows] == [mine.id]
    assert len(db.session.scalars(ledger.transactions_query(user, type="income")).all()) == 1
    assert len(db.session.scalars(ledger.transactions_query(user)).all()) == 2


def test_update_and_delete_transaction(user):
    tx = ledger.add_transaction(user, "expense", "100", category="food")
    ledger.update_transaction(user, tx, amount="250.50", type="income")
    assert (tx.type, tx.amount, tx.category.code) == ("income", Decimal("250.50"), "other_income")
    ledger.delete_transaction(user, tx)
    db.session.commit()
    assert ledger.balances(user) == {"UZS": Decimal("0.00")}


def test_goal_deposits_progress_and_achievement(user):
    goal = ledger.create_goal(user, "Телефон", "5000000")
    assert ledger.goal_progress(goal) == 0
    d1 = ledger.deposit_to_goal(user, goal, "1000000")
    ledger.deposit_to_goal(user, goal, "1500000.55")
    assert goal.saved_amount == Decimal("2500000.55")
    assert ledger.goal_progress(goal) == 50
    assert ledger.progress_bar(50) == "▓▓▓▓▓░░░░░"
    ledger.deposit_to_goal(user, goal, "2500000")
    assert goal.status == GoalStatus.ACHIEVED and ledger.goal_progress(goal) == 100
    with pytest.raises(ServiceError) as err:
        ledger.deposit_to_goal(user, goal, "1")
    assert err.value.status == 409
    ledger.undo_deposit(user, d1)
    assert goal.status == GoalStatus.ACTIVE and goal.saved_amount == Decimal("4000000.55")
    ledger.cancel_goal(user, goal)
    with pytest.raises(ServiceError):
        ledger.cancel_goal(user, goal)


def test_goal_validation(user, other):
    with pytest.raises(ServiceError, match="title"):
        ledger.create_goal(user, "  ", "100")
    with pytest.raises(ServiceError, match="past"):
        ledger.create_goal(user, "Car", "100", deadline=date(2000, 1, 1))
    goal = ledger.create_goal(user, "Car", "100")
    with pytest.raises(ServiceError) as err:
        ledger.deposit_to_goal(other, goal, "10")
    assert err.value.status == 404


def test_debts_add_settle_and_due_list(user, other):
    today = date(2024, 3, 10)
    overdue = ledger.add_debt(user, "Ахмед", "owed_to_me", "300000", due_date=today - timedelta(days=2))
    soon = ledger.add_debt(user, "Сардор", "i_owe", "50", currency="USD", due_date=today + timedelta(days=3))
    ledger.add_debt(user, "Later", "i_owe", "10", due_date=today + timedelta(days=30))
    ledger.add_debt(user, "Undated", "i_owe", "10")
    ledger.add_debt(other, "Them", "i_owe", "10", due_date=today)
    assert [d.counterparty for d in ledger.due_debts(user, 7, today=today)] == ["Ахмед", "Сардор"]
    ledger.settle_debt(user, overdue)
    assert overdue.settled and overdue.settled_at is not None
    with pytest.raises(ServiceError) as err:
        ledger.settle_debt(user, overdue)
    assert err.value.status == 409
    assert ledger.due_debts(user, 7, today=today) == [soon]
    assert ledger.debt_totals(user) == {"i_owe": {"UZS": Decimal("20.00"), "USD": Decimal("50.00")}, "owed_to_me": {}}
    with pytest.raises(ServiceError, match="Direction"):
        ledger.add_debt(user, "X", "sideways", "10")
    with pytest.raises(ServiceError, match="Who"):
        ledger.add_debt(user, " ", "i_owe", "10")


def test_analytics_by_category_and_month_use_local_months(user, other):
    zone = TASHKENT
    # 2024-01-31 20:00 UTC is already February 1st in Tashkent (UTC+5).
    ledger.add_transaction(user, "expense", "100", category="food", occurred_at=datetime(2024, 1, 31, 20, tzinfo=UTC))
    ledger.add_transaction(user, "expense", "300", category="transport", occurred_at=datetime(2024, 2, 10, tzinfo=UTC))
    ledger.add_transaction(user, "expense", "50", category="food", occurred_at=datetime(2024, 2, 11, tzinfo=UTC))
    ledger.add_transaction(user, "income", "1000", category="salary", occurred_at=datetime(2024, 2, 1, 10, tzinfo=UTC))
    ledger.add_transaction(user, "expense", "7", category="food", occurred_at=datetime(2024, 1, 15, tzinfo=UTC))
    ledger.add_transaction(other, "expense", "999", category="food", occurred_at=datetime(2024, 2, 12, tzinfo=UTC))
    totals = ledger.category_totals(user, 2024, 2, language="ru", zone=zone)
    assert [(t.code, t.name, t.total, t.share) for t in totals] == [
        ("transport", "Транспорт", Decimal("300.00"), 66),
        ("food", "Продукты", Decimal("150.00"), 33),
    ]
    series = ledger.monthly_totals(user, 3, today=date(2024, 2, 20), zone=zone)
    assert series == [
        {"month": "2023-12", "income": Decimal("0.00"), "expense": Decimal("0.00"), "net": Decimal("0.00")},
        {"month": "2024-01", "income": Decimal("0.00"), "expense": Decimal("7.00"), "net": Decimal("-7.00")},
        {"month": "2024-02", "income": Decimal("1000.00"), "expense": Decimal("450.00"), "net": Decimal("550.00")},
    ]
    everyone = ledger.category_totals(None, 2024, 2, zone=zone)
    assert everyone[0].code == "food" and everyone[0].total == Decimal("1149.00")


def test_record_command_creates_the_record_the_phrase_describes(user):
    kind, tx = ledger.record_command(user, parse_command("Потратил 50000 на продукты"))
    assert kind == "transaction" and tx.type == "expense" and tx.category.code == "food"
    assert tx.amount == Decimal("50000.00") and tx.source == "text"
    kind, goal = ledger.record_command(user, parse_command("Хочу накопить на телефон 5000000"), "voice")
    assert (kind, goal.title, goal.target_amount, goal.source) == ("goal", "телефон", Decimal("5000000.00"), "voice")
    kind, debt = ledger.record_command(user, parse_command("Ахмед должен мне 500000"))
    assert (kind, debt.direction, debt.counterparty) == ("debt", "owed_to_me", "Ахмед")
    kind, tx2 = ledger.record_command(user, parse_command("Вчера потратил 40 тыс в кафе"))
    assert (ledger.utcnow() - tx2.occurred_at) > timedelta(hours=23)
    with pytest.raises(ServiceError):
        ledger.record_command(user, parse_command("Купил продукты"))
    ledger.undo_record(user, "transaction", str(tx.id))
    ledger.undo_record(user, "goal", str(goal.id))
    db.session.commit()
    assert ledger.balances(user) == {"UZS": Decimal("-40000.00")}


def test_undo_cannot_touch_another_users_record(user, other):
    _, tx = ledger.record_command(other, parse_command("Потратил 50000 на продукты"))
    with pytest.raises(ServiceError) as err:
        ledger.undo_record(user, "transaction", str(tx.id))
    assert err.value.status == 404


def test_user_categories_extend_the_parser(user):
    from webapp.finance.models import Category

    db.session.add(
        Category(user_id=user.id, code="pets", type="expense", name_ru="Питомцы", name_uz="Uy hayvonlari",
                 name_en="Pets", keywords="корм ветеринар")
    )  # fmt: skip
    db.session.flush()
    parsed = parse_command("купил корм 80000", categories=ledger.parser_categories(user))
    assert parsed.category == "pets"
    _, tx = ledger.record_command(user, parsed)
    assert tx.category.user_id == user.id


def test_format_money_matches_the_seed():
    assert ledger.format_money(Decimal("1500000"), "UZS") == "1,500,000 UZS"
    assert ledger.format_money(Decimal("1500000.5"), "UZS") == "1,500,000.50 UZS"
    assert ledger.format_money(Decimal("-2500"), "USD") == "-2,500 USD"
    assert ledger.format_money(Decimal("0"), "UZS") == "0 UZS"
