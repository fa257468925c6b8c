"""The ledger rules: wallets and balances, transactions, goals, debts, analytics.

Plain functions over ``db.session``: they flush, the caller (request, bot update, job) commits.
Every function takes the user whose data it touches and never reaches another user's rows.
Amounts are ``Decimal`` end to end; a float is refused, not rounded.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask import current_app

from webapp.core.db import insert_missing, utcnow
from webapp.core.limits import DATE_MAX, DATE_MIN
from webapp.core.models import User
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.finance.models import (
    DEFAULT_CURRENCY,
    Category,
    Debt,
    DebtDirection,
    Goal,
    GoalDeposit,
    GoalStatus,
    Transaction,
    TxSource,
    TxType,
    Wallet,
)
from webapp.finance.services.categories import DEFAULT_CATEGORIES, FALLBACK_CATEGORY, CategoryDef
from webapp.finance.services.parser import DEBT, EXPENSE, GOAL, INCOME, ParsedCommand

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999999999.99")
CURRENCIES = ("UZS", "USD", "EUR", "RUB", "KZT")
MIN_YEAR, MAX_YEAR = DATE_MIN.year, DATE_MAX.year  # date arithmetic stays away from years 1 and 9999


def invalid(field: str, message: str) -> ServiceError:
    return ServiceError(message, 422, "VALIDATION_ERROR", field)


def not_found(what: str) -> ServiceError:
    return ServiceError(f"{what} not found", 404, "NOT_FOUND")


# --- values ---------------------------------------------------------------------------------------


def money(value: Decimal | int | str, field: str = "amount") -> Decimal:
    """A positive amount with at most two decimals, as Decimal; floats are refused (they are not exact)."""
    if isinstance(value, float | bool):
        raise invalid(field, "Amount must be a decimal string or an integer, not a float")
    try:
        amount = Decimal(str(value).strip().replace(" ", ""))
    except (InvalidOperation, ValueError) as exc:
        raise invalid(field, "Amount is not a number") from exc
    if not amount.is_finite() or amount <= 0:
        raise invalid(field, "Amount must be greater than zero")
    if amount > MAX_AMOUNT:
        raise invalid(field, "Amount is too large")
    if amount != amount.quantize(CENT):
        raise invalid(field, "Amount may have at most two decimal places")
    return amount.quantize(CENT)


def currency_code(value: str | None) -> str:
    code = (value or DEFAULT_CURRENCY).strip().upper()
    if code not in CURRENCIES:
        raise invalid("currency", f"Currency must be one of {', '.join(CURRENCIES)}")
    return code


def aware(value: datetime | None, field: str = "date") -> datetime:
    if value is None:
        return utcnow()
    if value.tzinfo is None:
        raise invalid(field, "Date must include a time zone (e.g. 2024-01-01T12:00:00Z)")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise invalid(field, f"Date must be between {MIN_YEAR} and {MAX_YEAR}")
    return value.astimezone(UTC)


def format_money(amount: Decimal, currency: str) -> str:
    """Seed 000's "1,500,000 UZS": thousands with commas, cents only when there are any."""
    amount = Decimal(amount).quantize(CENT)
    text = f"{amount:,.0f}" if amount == amount.to_integral_value() else f"{amount:,.2f}"
    return f"{text} {currency}"


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])


def month_bounds(year: int, month: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instant a local calendar month starts and the instant the next one starts, in UTC."""
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def cents_sum(amount_expr):
    """SUM of money as whole cents: exact on PostgreSQL and on SQLite (which keeps NUMERIC as REAL)."""
    return db.func.coalesce(db.func.sum(db.cast(db.func.round(amount_expr * 100), db.BigInteger)), 0)


def from_cents(value) -> Decimal:
    return (Decimal(int(value)) / 100).quantize(CENT)


# --- wallets and categories -------------------------------------------------------------------------


def get_wallet(user: User, currency: str | None = None) -> Wallet:
    """The user's wallet in ``currency``, created on first use (race-safe through the unique key)."""
    code = currency_code(currency)
    query = db.select(Wallet).where(Wallet.user_id == user.id, Wallet.currency == code)
    wallet = db.session.scalar(query)
    if wallet is None:
        insert_missing(Wallet, {"user_id": user.id, "currency": code}, ("user_id", "currency"))
        wallet = db.session.scalar(query)
    return wallet


BUILTIN = Category.__table__.c.user_id.is_(None)  # the predicate of the built-ins' partial unique index


def ensure_builtin_categories() -> None:
    """The built-in categories exist (created once; later keyword edits in the console are kept)."""
    have = set(db.session.execute(db.select(Category.code, Category.type).where(Category.user_id.is_(None))).all())
    for c in DEFAULT_CATEGORIES:
        if (c.code, c.type) in have:
            continue
        values = {"code": c.code, "type": c.type, "name_ru": c.name_ru, "name_uz": c.name_uz, "name_en": c.name_en}
        # Another process may be creating it at this moment: its row stands.
        insert_missing(Category, {**values, "keywords": " ".join(c.keywords)}, ("code", "type"), BUILTIN)


def category_rows(user: User | None = None) -> list[Category]:
    ensure_builtin_categories()
    owner = Category.user_id.is_(None) if user is None else (Category.user_id.is_(None) | (Category.user_id == user.id))
    return list(db.session.scalars(db.select(Category).where(owner).order_by(Category.user_id.is_(None), Category.id)))


def parser_categories(user: User | None) -> list[CategoryDef]:
    """The user's own categories first (so theirs win), then the built-ins, as the parser takes them."""
    return [
        CategoryDef(c.code, c.type, c.name_ru, c.name_uz, c.name_en, tuple(c.keywords.split()))
        for c in category_rows(user)
    ]


def find_category(user: User, code: str, tx_type: str) -> Category:
    for c in category_rows(user):
        if c.code == code and c.type == tx_type:
            return c
    raise invalid("category", f"Unknown {tx_type} category: {code}")


# --- transactions ---------------------------------------------------------------------------------


def tx_type(value: str) -> str:
    if value not in (TxType.INCOME, TxType.EXPENSE):
        raise invalid("type", "Type must be income or expense")
    return str(value)


def add_transaction(
    user: User,
    type: str,
    amount: Decimal | int | str,
    *,
    currency: str | None = None,
    category: str | None = None,
    description: str = "",
    occurred_at: datetime | None = None,
    source: str = TxSource.API,
) -> Transaction:
    kind = tx_type(type)
    value = money(amount)
    wallet = get_wallet(user, currency)
    row = find_category(user, category or FALLBACK_CATEGORY[kind], kind)
    tx = Transaction(
        user_id=user.id,
        wallet=wallet,
        type=kind,
        amount=value,
        category=row,
        description=(description or "").strip()[:500],
        occurred_at=aware(occurred_at),
        source=str(source),
    )
    db.session.add(tx)
    db.session.flush()
    return tx


def _own(model, user: User, row_id: uuid.UUID | str, what: str):
    """The user's own row by id; another user's row is as absent as a missing one (404)."""
    row = db.session.get(model, _uuid(row_id, what))
    if row is None or row.user_id != user.id:
        raise not_found(what)
    return row


def get_transaction(user: User, tx_id: uuid.UUID | str) -> Transaction:
    return _own(Transaction, user, tx_id, "Transaction")


def update_transaction(user: User, tx: Transaction, **changes) -> Transaction:
    """Change some fields of a transaction; what is not given stays."""
    if tx.user_id != user.id:
        raise not_found("Transaction")
    kind = tx_type(changes["type"]) if changes.get("type") is not None else tx.type
    if changes.get("amount") is not None:
        tx.amount = money(changes["amount"])
    if changes.get("currency") is not None:
        tx.wallet = get_wallet(user, changes["currency"])
    if changes.get("category") is not None or kind != tx.type:
        code = changes.get("category") or FALLBACK_CATEGORY[kind]
        tx.category = find_category(user, code, kind)
    tx.type = kind
    if changes.get("description") is not None:
        tx.description = changes["description"].strip()[:500]
    if changes.get("occurred_at") is not None:
        tx.occurred_at = aware(changes["occurred_at"])
    db.session.flush()
    return tx


def delete_transaction(user: User, tx: Transaction) -> None:
    if tx.user_id != user.id:
        raise not_found("Transaction")
    db.session.delete(tx)
    db.session.flush()


def transactions_query(
    user: User,
    *,
    type: str | None = None,
    category: str | None = None,
    currency: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    source: str | None = None,
):
    """A select of the user's transactions, newest first, narrowed by the given filters."""
    query = db.select(Transaction).where(Transaction.user_id == user.id)
    if type:
        query = query.where(Transaction.type == tx_type(type))
    if category:
        query = query.join(Category, Transaction.category_id == Category.id).where(Category.code == category)
    if currency:
        query = query.join(Wallet, Transaction.wallet_id == Wallet.id).where(Wallet.currency == currency_code(currency))
    if date_from:
        query = query.where(Transaction.occurred_at >= aware(date_from, "date_from"))
    if date_to:
        query = query.where(Transaction.occurred_at < aware(date_to, "date_to"))
    if source:
        query = query.where(Transaction.source == source)
    return query.order_by(Transaction.occurred_at.desc(), Transaction.created_at.desc())


def balances(user: User) -> dict[str, Decimal]:
    """Income minus expense per currency, for every wallet the user has (zero included)."""
    signed = db.case((Transaction.type == TxType.INCOME.value, Transaction.amount), else_=-Transaction.amount)
    rows = db.session.execute(
        db.select(Wallet.currency, cents_sum(signed))
        .select_from(Wallet)
        .outerjoin(Transaction, Transaction.wallet_id == Wallet.id)
        .where(Wallet.user_id == user.id)
        .group_by(Wallet.currency)
        .order_by(Wallet.currency)
    ).all()
    return {currency: from_cents(total) for currency, total in rows}


# --- goals ----------------------------------------------------------------------------------------


def create_goal(
    user: User,
    title: str,
    target_amount: Decimal | int | str,
    *,
    currency: str | None = None,
    deadline: date | None = None,
    source: str = TxSource.API,
) -> Goal:
    title = (title or "").strip()
    if not title:
        raise invalid("title", "A goal needs a title")
    if deadline is not None and deadline < utcnow().astimezone(local_zone()).date():
        raise invalid("deadline", "Deadline is in the past")
    goal = Goal(
        user_id=user.id,
        title=title[:200],
        target_amount=money(target_amount, "target_amount"),
        saved_amount=Decimal("0.00"),
        currency=currency_code(currency),
        deadline=deadline,
        status=GoalStatus.ACTIVE.value,
        source=str(source),
    )
    db.session.add(goal)
    db.session.flush()
    return goal


def get_goal(user: User, goal_id: uuid.UUID | str) -> Goal:
    return _own(Goal, user, goal_id, "Goal")


def deposit_to_goal(user: User, goal: Goal, amount: Decimal | int | str) -> GoalDeposit:
    """Put money towards an active goal; reaching the target marks it achieved."""
    if goal.user_id != user.id:
        raise not_found("Goal")
    if goal.status != GoalStatus.ACTIVE:
        raise ServiceError(f"Goal is {goal.status}; deposits go to active goals only", 409, "CONFLICT")
    deposit = GoalDeposit(goal=goal, amount=money(amount))
    db.session.add(deposit)
    goal.saved_amount = (goal.saved_amount or Decimal(0)) + deposit.amount
    if goal.saved_amount >= goal.target_amount:
        goal.status = GoalStatus.ACHIEVED.value
    db.session.flush()
    return deposit


def undo_deposit(user: User, deposit: GoalDeposit) -> Goal:
    goal = deposit.goal
    if goal.user_id != user.id:
        raise not_found("Goal")
    goal.saved_amount -= deposit.amount
    if goal.status == GoalStatus.ACHIEVED and goal.saved_amount < goal.target_amount:
        goal.status = GoalStatus.ACTIVE.value
    db.session.delete(deposit)
    db.session.flush()
    return goal


def cancel_goal(user: User, goal: Goal) -> Goal:
    if goal.user_id != user.id:
        raise not_found("Goal")
    if goal.status != GoalStatus.ACTIVE:
        raise ServiceError(f"Goal is already {goal.status}", 409, "CONFLICT")
    goal.status = GoalStatus.CANCELLED.value
    db.session.flush()
    return goal


def goal_progress(goal: Goal) -> int:
    """Whole percent saved, 0..100."""
    if not goal.target_amount:
        return 0
    return min(100, int(goal.saved_amount * 100 / goal.target_amount))


def progress_bar(percent: int, width: int = 10) -> str:
    filled = round(percent * width / 100)
    return "▓" * filled + "░" * (width - filled)


def goals_query(user: User, status: str | None = None):
    query = db.select(Goal).where(Goal.user_id == user.id)
    if status:
        query = query.where(Goal.status == status)
    return query.order_by(Goal.created_at.desc())


# --- debts ----------------------------------------------------------------------------------------


def add_debt(
    user: User,
    counterparty: str,
    direction: str,
    amount: Decimal | int | str,
    *,
    currency: str | None = None,
    due_date: date | None = None,
    description: str = "",
    source: str = TxSource.API,
) -> Debt:
    counterparty = (counterparty or "").strip()
    if not counterparty:
        raise invalid("counterparty", "Who is the debt with?")
    if direction not in (DebtDirection.I_OWE, DebtDirection.OWED_TO_ME):
        raise invalid("direction", "Direction must be i_owe or owed_to_me")
    debt = Debt(
        user_id=user.id,
        counterparty=counterparty[:200],
        direction=str(direction),
        amount=money(amount),
        currency=currency_code(currency),
        due_date=due_date,
        description=(description or "").strip()[:500],
        settled=False,
        source=str(source),
    )
    db.session.add(debt)
    db.session.flush()
    return debt


def get_debt(user: User, debt_id: uuid.UUID | str) -> Debt:
    return _own(Debt, user, debt_id, "Debt")


def settle_debt(user: User, debt: Debt) -> Debt:
    if debt.user_id != user.id:
        raise not_found("Debt")
    if debt.settled:
        raise ServiceError("Debt is already settled", 409, "CONFLICT")
    debt.settled, debt.settled_at = True, utcnow()
    db.session.flush()
    return debt


def debts_query(user: User, *, settled: bool | None = None, direction: str | None = None):
    query = db.select(Debt).where(Debt.user_id == user.id)
    if settled is not None:
        query = query.where(Debt.settled.is_(settled))
    if direction:
        query = query.where(Debt.direction == direction)
    # Open debts with the nearest due date first; undated ones after them.
    return query.order_by(Debt.settled, Debt.due_date.is_(None), Debt.due_date, Debt.created_at.desc())


def due_debts(user: User, within_days: int = 7, today: date | None = None) -> list[Debt]:
    """Open debts due by ``today + within_days`` (overdue ones included), nearest first."""
    today = today or utcnow().astimezone(local_zone()).date()
    until = today + timedelta(days=within_days)
    query = debts_query(user, settled=False).where(Debt.due_date.is_not(None), Debt.due_date <= until)
    return list(db.session.scalars(query))


def debt_totals(user: User) -> dict[str, dict[str, Decimal]]:
    rows = db.session.execute(
        db.select(Debt.direction, Debt.currency, cents_sum(Debt.amount))
        .where(Debt.user_id == user.id, Debt.settled.is_(False))
        .group_by(Debt.direction, Debt.currency)
    ).all()
    out: dict[str, dict[str, Decimal]] = {DebtDirection.I_OWE.value: {}, DebtDirection.OWED_TO_ME.value: {}}
    for direction, currency, total in rows:
        out[direction][currency] = from_cents(total)
    return out


# --- analytics ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryTotal:
    code: str
    name: str
    total: Decimal
    share: int  # whole percent of the month's total of this type


def category_totals(
    user: User | None,
    year: int,
    month: int,
    *,
    type: str = TxType.EXPENSE,
    currency: str = DEFAULT_CURRENCY,
    language: str | None = None,
    zone: ZoneInfo | None = None,
    customers=None,
) -> list[CategoryTotal]:
    """Totals by category for one local calendar month, largest first (``user`` None: everyone's, or
    the ``customers``' — a select of user ids — when given)."""
    start, end = month_bounds(year, month, zone or local_zone())
    query = (
        db.select(Category, cents_sum(Transaction.amount))
        .join(Transaction, Transaction.category_id == Category.id)
        .join(Wallet, Transaction.wallet_id == Wallet.id)
        .where(
            Transaction.type == tx_type(type),
            Wallet.currency == currency_code(currency),
            Transaction.occurred_at >= start,
            Transaction.occurred_at < end,
        )
        .group_by(Category.id)
    )
    if user is not None:
        query = query.where(Transaction.user_id == user.id)
    if customers is not None:
        query = query.where(Transaction.user_id.in_(customers))
    rows = [(c, from_cents(total)) for c, total in db.session.execute(query).all()]
    grand = sum((t for _, t in rows), Decimal(0))
    rows.sort(key=lambda r: (-r[1], r[0].code))
    return [CategoryTotal(c.code, c.name(language), t, int(t * 100 / grand) if grand else 0) for c, t in rows]


def monthly_totals(
    user: User | None,
    months: int = 6,
    *,
    currency: str = DEFAULT_CURRENCY,
    today: date | None = None,
    zone: ZoneInfo | None = None,
    customers=None,
) -> list[dict]:
    """Income and expense per local calendar month, oldest first, the current month last (``user``
    None: everyone's, or the ``customers``' — a select of user ids — when given)."""
    zone = zone or local_zone()
    today = today or utcnow().astimezone(zone).date()
    keys = []
    y, m = today.year, today.month
    for _ in range(max(1, months)):
        keys.append((y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    keys.reverse()
    start, _ = month_bounds(*keys[0], zone)
    _, end = month_bounds(*keys[-1], zone)
    query = (
        db.select(Transaction.occurred_at, Transaction.type, Transaction.amount)
        .join(Wallet, Transaction.wallet_id == Wallet.id)
        .where(Wallet.currency == currency_code(currency))
        .where(Transaction.occurred_at >= start, Transaction.occurred_at < end)
    )
    if user is not None:
        query = query.where(Transaction.user_id == user.id)
    if customers is not None:
        query = query.where(Transaction.user_id.in_(customers))
    sums: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(lambda: {"income": Decimal(0), "expense": Decimal(0)})
    for occurred_at, kind, amount in db.session.execute(query):
        local = occurred_at.astimezone(zone)
        sums[(local.year, local.month)][kind] += amount
    return [
        {
            "month": f"{y:04d}-{m:02d}",
            "income": sums[(y, m)]["income"].quantize(CENT),
            "expense": sums[(y, m)]["expense"].quantize(CENT),
            "net": (sums[(y, m)]["income"] - sums[(y, m)]["expense"]).quantize(CENT),
        }
        for y, m in keys
    ]


# --- commands (text and voice) ---------------------------------------------------------------------


def record_command(user: User, parsed: ParsedCommand, source: str = TxSource.TEXT) -> tuple[str, object]:
    """Save what a complete parsed command describes; returns ("transaction" | "goal" | "debt", row)."""
    if not parsed.complete:
        raise ServiceError("The command is not complete", 422, "VALIDATION_ERROR", parsed.question)
    if parsed.intent in (EXPENSE, INCOME):
        occurred = utcnow() - timedelta(days=parsed.days_ago)
        tx = add_transaction(
            user,
            parsed.intent,
            parsed.amount,
            currency=parsed.currency,
            category=parsed.category,
            description=parsed.description,
            occurred_at=occurred,
            source=source,
        )
        return "transaction", tx
    if parsed.intent == GOAL:
        return "goal", create_goal(user, parsed.description, parsed.amount, currency=parsed.currency, source=source)
    if parsed.intent == DEBT:
        debt = add_debt(
            user,
            parsed.counterparty or "",
            parsed.direction or "",
            parsed.amount,
            currency=parsed.currency,
            description=parsed.description,
            source=source,
        )
        return "debt", debt
    raise ServiceError("Unknown command", 422, "VALIDATION_ERROR", "intent")


def undo_record(user: User, kind: str, record_id: str) -> None:
    """Remove a record the user just made from a command (the bot's "Undo" button)."""
    getters = {"transaction": get_transaction, "goal": get_goal, "debt": get_debt}
    if kind not in getters:
        raise invalid("kind", "Unknown record kind")
    row = getters[kind](user, record_id)
    db.session.delete(row)
    db.session.flush()


def _uuid(value: uuid.UUID | str, what: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise not_found(what) from exc


# --- what the bot lists -------------------------------------------------------------------------------


def active_goals(user: User, limit: int) -> list[Goal]:
    """The user's active goals, newest first (the bot's 🎯 list)."""
    return list(db.session.scalars(goals_query(user, GoalStatus.ACTIVE).limit(limit)))


def open_debts(user: User, limit: int) -> list[Debt]:
    """The user's open debts, nearest due date first (the bot's 💳 list)."""
    return list(db.session.scalars(debts_query(user, settled=False).limit(limit)))
