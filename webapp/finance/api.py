"""Finance JSON API (seed 000): the signed-in user's own transactions, balance, goals, debts, analytics,
and the command parser for app clients. Thin: validate → ledger service → serialise.

A refused rule (``ServiceError``) is answered by the app's one handler, which rolls the request back;
a view that writes flushes before it serialises, and the request commits once, at its end — the
built-in categories a read creates on first use included (``webapp.core.unit_of_work``).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from flask import Blueprint, g, jsonify

from webapp.core.apispec import JWT, spec
from webapp.core.db import iso, utcnow
from webapp.core.pagination import paginate
from webapp.core.permissions import require_role
from webapp.core.schemas import SEED_ERRORS, responses
from webapp.extensions import db
from webapp.finance import schemas as fs
from webapp.finance.models import Debt, Goal, Transaction, TxSource
from webapp.finance.schemas import (
    CategoryAnalyticsQuery,
    DebtIn,
    DebtQuery,
    DepositIn,
    DueQuery,
    GoalIn,
    GoalQuery,
    MonthlyAnalyticsQuery,
    ParseIn,
    TransactionIn,
    TransactionPatch,
    TransactionQuery,
)
from webapp.finance.services import ledger
from webapp.finance.services.parser import parse_command
from webapp.finance.services.texts import question_text

bp = Blueprint("finance_api", __name__)


def _money(value: Decimal) -> str:
    return str(Decimal(value).quantize(ledger.CENT))


def _start_of(value: datetime | date | None, *, next_day: bool = False) -> datetime | None:
    """A bare date in a filter means that local day (``date_to`` includes the whole day)."""
    if value is None or isinstance(value, datetime):
        return value
    day = value + timedelta(days=1 if next_day else 0)
    return datetime.combine(day, time(0), tzinfo=ledger.local_zone())


# --- serialisers ----------------------------------------------------------------------------------


def transaction_out(tx: Transaction, language: str | None = None) -> dict:
    return {
        "id": str(tx.id),
        "amount": _money(tx.amount),
        "type": tx.type,
        "currency": tx.currency,
        "category": tx.category.code if tx.category else None,
        "category_name": tx.category.name(language) if tx.category else None,
        "description": tx.description,
        "date": iso(tx.occurred_at),
        "source": tx.source,
        "created_at": iso(tx.created_at),
    }


def goal_out(goal: Goal) -> dict:
    return {
        "id": str(goal.id),
        "title": goal.title,
        "target_amount": _money(goal.target_amount),
        "saved_amount": _money(goal.saved_amount),
        "currency": goal.currency,
        "progress": ledger.goal_progress(goal),
        "deadline": goal.deadline.isoformat() if goal.deadline else None,
        "status": goal.status,
        "source": goal.source,
        "created_at": iso(goal.created_at),
    }


def debt_out(debt: Debt) -> dict:
    return {
        "id": str(debt.id),
        "counterparty": debt.counterparty,
        "direction": debt.direction,
        "amount": _money(debt.amount),
        "currency": debt.currency,
        "description": debt.description,
        "due_date": debt.due_date.isoformat() if debt.due_date else None,
        "settled": debt.settled,
        "settled_at": iso(debt.settled_at),
        "source": debt.source,
        "created_at": iso(debt.created_at),
    }


# --- transactions ---------------------------------------------------------------------------------


@bp.get("/api/transactions/")
@require_role()
@spec.validate(
    query=TransactionQuery, resp=responses(fs.TransactionPage, errors=SEED_ERRORS), tags=["finance"], security=JWT
)
def list_transactions(query: TransactionQuery):
    """The user's transactions, newest first; filters: type, category, currency, source, date_from, date_to."""
    select = ledger.transactions_query(
        g.user,
        type=query.type,
        category=query.category,
        currency=query.currency,
        source=query.source,
        date_from=_start_of(query.date_from),
        date_to=_start_of(query.date_to, next_day=True),
    )
    return jsonify(paginate(select, query.page, query.size, lambda tx: transaction_out(tx, g.user.language)))


@bp.post("/api/transactions/")
@require_role()
@spec.validate(json=TransactionIn, resp=responses(fs.TransactionOut, 201, SEED_ERRORS), tags=["finance"], security=JWT)
def create_transaction(json: TransactionIn):
    """Record an income or expense (seed 000 payload: amount, type, description, date)."""
    tx = ledger.add_transaction(
        g.user,
        json.type,
        json.amount,
        currency=json.currency,
        category=json.category,
        description=json.description,
        occurred_at=json.date,
        source=TxSource.API,
    )
    db.session.flush()
    return jsonify(transaction_out(tx, g.user.language)), 201


@bp.get("/api/transactions/<uuid:tx_id>/")
@require_role()
@spec.validate(resp=responses(fs.TransactionOut, errors=SEED_ERRORS), tags=["finance"], security=JWT)
def get_transaction(tx_id: uuid.UUID):
    """One of the user's transactions."""
    return jsonify(transaction_out(ledger.get_transaction(g.user, tx_id), g.user.language))


@bp.patch("/api/transactions/<uuid:tx_id>/")
@require_role()
@spec.validate(
    json=TransactionPatch, resp=responses(fs.TransactionOut, errors=SEED_ERRORS), tags=["finance"], security=JWT
)
def update_transaction(tx_id: uuid.UUID, json: TransactionPatch):
    """Change some fields of a transaction."""
    tx = ledger.get_transaction(g.user, tx_id)
    changes = json.model_dump(exclude_unset=True)
    changes["occurred_at"] = changes.pop("date", None)
    ledger.update_transaction(g.user, tx, **changes)
    db.session.flush()
    return jsonify(transaction_out(tx, g.user.language))


@bp.delete("/api/transactions/<uuid:tx_id>/")
@require_role()
@spec.validate(resp=responses(None, 204, SEED_ERRORS), tags=["finance"], security=JWT)
def delete_transaction(tx_id: uuid.UUID):
    """Delete a transaction; 204."""
    ledger.delete_transaction(g.user, ledger.get_transaction(g.user, tx_id))
    db.session.flush()
    return "", 204


# --- balance and categories -----------------------------------------------------------------------


@bp.get("/api/balance/")
@require_role()
@spec.validate(resp=responses(fs.BalanceOut, errors=SEED_ERRORS), tags=["finance"], security=JWT)
def balance():
    """Income minus expense per currency: ``{"balances": [{"currency","balance","formatted"}]}``."""
    rows = ledger.balances(g.user) or {ledger.DEFAULT_CURRENCY: Decimal("0.00")}
    return jsonify(
        {
            "balances": [
                {"currency": cur, "balance": _money(amount), "formatted": ledger.format_money(amount, cur)}
                for cur, amount in rows.items()
            ]
        }
    )


@bp.get("/api/categories/")
@require_role()
@spec.validate(resp=responses(fs.CategoryList, errors=SEED_ERRORS), tags=["finance"], security=JWT)
def list_categories():
    """Categories the user can file transactions under, named in the user's language."""
    rows = ledger.category_rows(g.user)
    return jsonify(
        [
            {"code": c.code, "type": c.type, "name": c.name(g.user.language), "custom": c.user_id is not None}
            for c in rows
        ]
    )


# --- goals ----------------------------------------------------------------------------------------


@bp.get("/api/goals/")
@require_role()
@spec.validate(query=GoalQuery, resp=responses(fs.GoalPage, errors=SEED_ERRORS), tags=["finance"], security=JWT)
def list_goals(query: GoalQuery):
    """The user's savings goals with progress; filter by status."""
    return jsonify(paginate(ledger.goals_query(g.user, query.status), query.page, query.size, goal_out))


@bp.post("/api/goals/")
@require_role()
@spec.validate(json=GoalIn, resp=responses(fs.GoalOut, 201, SEED_ERRORS), tags=["finance"], security=JWT)
def create_goal(json: GoalIn):
    """Create a savings goal."""
    goal = ledger.create_goal(
        g.user, json.title, json.target_amount, currency=json.currency, deadline=json.deadline, source=TxSource.API
    )
    db.session.flush()
    return jsonify(goal_out(goal)), 201


@bp.get("/api/goals/<uuid:goal_id>/")
@require_role()
@spec.validate(resp=responses(fs.GoalOut, errors=SEED_ERRORS), tags=["finance"], security=JWT)
def get_goal(goal_id: uuid.UUID):
    """One goal with its progress."""
    return jsonify(goal_out(ledger.get_goal(g.user, goal_id)))


@bp.post("/api/goals/<uuid:goal_id>/deposit/")
@require_role()
@spec.validate(json=DepositIn, resp=responses(fs.GoalOut, errors=SEED_ERRORS), tags=["finance"], security=JWT)
def deposit(goal_id: uuid.UUID, json: DepositIn):
    """Put money towards an active goal; 409 for an achieved or cancelled one."""
    goal = ledger.get_goal(g.user, goal_id)
    ledger.deposit_to_goal(g.user, goal, json.amount)
    db.session.flush()
    return jsonify(goal_out(goal))


@bp.post("/api/goals/<uuid:goal_id>/cancel/")
@require_role()
@spec.validate(resp=responses(fs.GoalOut, errors=SEED_ERRORS), tags=["finance"], security=JWT)
def cancel_goal(goal_id: uuid.UUID):
    """Cancel an active goal."""
    goal = ledger.cancel_goal(g.user, ledger.get_goal(g.user, goal_id))
    db.session.flush()
    return jsonify(goal_out(goal))


@bp.delete("/api/goals/<uuid:goal_id>/")
@require_role()
@spec.validate(resp=responses(None, 204, SEED_ERRORS), tags=["finance"], security=JWT)
def delete_goal(goal_id: uuid.UUID):
    """Delete a goal and its deposits; 204."""
    ledger.undo_record(g.user, "goal", str(goal_id))
    db.session.flush()
    return "", 204


# --- debts ----------------------------------------------------------------------------------------


@bp.get("/api/debts/")
@require_role()
@spec.validate(query=DebtQuery, resp=responses(fs.DebtPage, errors=SEED_ERRORS), tags=["finance"], security=JWT)
def list_debts(query: DebtQuery):
    """The user's debts, open ones by nearest due date first; filters: settled, direction."""
    select = ledger.debts_query(g.user, settled=query.settled, direction=query.direction)
    return jsonify(paginate(select, query.page, query.size, debt_out))


@bp.post("/api/debts/")
@require_role()
@spec.validate(json=DebtIn, resp=responses(fs.DebtOut, 201, SEED_ERRORS), tags=["finance"], security=JWT)
def create_debt(json: DebtIn):
    """Record a debt: who, which direction, how much, when due."""
    debt = ledger.add_debt(
        g.user,
        json.counterparty,
        json.direction,
        json.amount,
        currency=json.currency,
        due_date=json.due_date,
        description=json.description,
        source=TxSource.API,
    )
    db.session.flush()
    return jsonify(debt_out(debt)), 201


@bp.get("/api/debts/due/")
@require_role()
@spec.validate(query=DueQuery, resp=responses(fs.DueDebtsOut, errors=SEED_ERRORS), tags=["finance"], security=JWT)
def due_debts(query: DueQuery):
    """Open debts due within ``days`` days (overdue included) and the open totals per direction."""
    totals = ledger.debt_totals(g.user)
    return jsonify(
        {
            "items": [debt_out(d) for d in ledger.due_debts(g.user, query.days)],
            "open_totals": {k: {cur: _money(v) for cur, v in sums.items()} for k, sums in totals.items()},
        }
    )


@bp.get("/api/debts/<uuid:debt_id>/")
@require_role()
@spec.validate(resp=responses(fs.DebtOut, errors=SEED_ERRORS), tags=["finance"], security=JWT)
def get_debt(debt_id: uuid.UUID):
    """One debt."""
    return jsonify(debt_out(ledger.get_debt(g.user, debt_id)))


@bp.post("/api/debts/<uuid:debt_id>/settle/")
@require_role()
@spec.validate(resp=responses(fs.DebtOut, errors=SEED_ERRORS), tags=["finance"], security=JWT)
def settle_debt(debt_id: uuid.UUID):
    """Mark a debt repaid; 409 when it already is."""
    debt = ledger.settle_debt(g.user, ledger.get_debt(g.user, debt_id))
    db.session.flush()
    return jsonify(debt_out(debt))


@bp.delete("/api/debts/<uuid:debt_id>/")
@require_role()
@spec.validate(resp=responses(None, 204, SEED_ERRORS), tags=["finance"], security=JWT)
def delete_debt(debt_id: uuid.UUID):
    """Delete a debt; 204."""
    ledger.undo_record(g.user, "debt", str(debt_id))
    db.session.flush()
    return "", 204


# --- analytics ------------------------------------------------------------------------------------


@bp.get("/api/analytics/categories/")
@require_role()
@spec.validate(
    query=CategoryAnalyticsQuery,
    resp=responses(fs.CategoryAnalyticsOut, errors=SEED_ERRORS),
    tags=["finance"],
    security=JWT,
)
def analytics_categories(query: CategoryAnalyticsQuery):
    """Totals by category for one month (default: the current one), largest first, with shares in percent."""
    today = utcnow().astimezone(ledger.local_zone()).date()
    year, month = query.year or today.year, query.month or today.month
    rows = ledger.category_totals(
        g.user, year, month, type=query.type, currency=query.currency, language=g.user.language
    )
    return jsonify(
        {
            "year": year,
            "month": month,
            "type": query.type,
            "currency": query.currency.upper(),
            "total": _money(sum((r.total for r in rows), Decimal(0))),
            "items": [{"category": r.code, "name": r.name, "total": _money(r.total), "share": r.share} for r in rows],
        }
    )


@bp.get("/api/analytics/monthly/")
@require_role()
@spec.validate(
    query=MonthlyAnalyticsQuery,
    resp=responses(fs.MonthlyAnalyticsOut, errors=SEED_ERRORS),
    tags=["finance"],
    security=JWT,
)
def analytics_monthly(query: MonthlyAnalyticsQuery):
    """Income, expense and net per month for the last ``months`` months, oldest first."""
    series = ledger.monthly_totals(g.user, query.months, currency=query.currency)
    return jsonify(
        {
            "currency": query.currency.upper(),
            "months": [{k: v if k == "month" else _money(v) for k, v in row.items()} for row in series],
        }
    )


# --- commands -------------------------------------------------------------------------------------


@bp.post("/api/commands/parse/")
@require_role()
@spec.validate(json=ParseIn, resp=responses(fs.ParseOut, errors=SEED_ERRORS), tags=["finance"], security=JWT)
def parse(json: ParseIn):
    """Parse a phrase the way the bot does (nothing is saved): intent, amount, currency, category,
    description, and a question when the phrase is ambiguous."""
    parsed = parse_command(json.text, categories=ledger.parser_categories(g.user))
    body = parsed.as_dict()
    body["question_text"] = question_text(parsed.question, json.language or g.user.language)
    return jsonify(body)
