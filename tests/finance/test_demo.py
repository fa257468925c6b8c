"""The finance demo seed: a month of records for one customer, and running it twice changes nothing."""

from __future__ import annotations

from decimal import Decimal

from webapp.extensions import db
from webapp.finance import demo
from webapp.finance.models import Debt, Goal, Transaction
from webapp.finance.services import ledger


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(db.select(db.func.count()).select_from(m)) for m in (Transaction, Goal, Debt))


def test_demo_seed_is_idempotent(app_ctx):
    first = list(demo.seed())
    db.session.commit()
    assert counts() == (len(demo.MONTH), 1, 2)
    assert first[0] == "created demo finance customer finance_demo"
    user = demo._demo_user()[0]
    income = sum(Decimal(a) for _, k, a, _, _ in demo.MONTH if k == "income")
    expense = sum(Decimal(a) for _, k, a, _, _ in demo.MONTH if k == "expense")
    assert ledger.balances(user) == {"UZS": income - expense}
    assert list(demo.seed()) == []
    db.session.commit()
    assert counts() == (len(demo.MONTH), 1, 2)


def test_demo_runs_inside_the_platform_seed(app_ctx):
    from webapp.demo import seed_demo

    lines = list(seed_demo())
    assert any(line.startswith("demo finance:") for line in lines)
    assert not any(line.startswith("demo finance:") for line in seed_demo())
