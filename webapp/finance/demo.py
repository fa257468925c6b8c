"""Demo finance data: the organization "Finance service" with the demo finance bot and its admin
``finance_admin``, and one customer of that bot with a month of transactions, a goal with deposits
and two debts.

Idempotent: the organization, its admin and the customer are found by name, and records are only
generated when they have none, so running the seed again changes nothing. The amounts come from a
fixed list, not randomness, so every demo shows the same figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

from webapp.core.db import insert_missing, utcnow
from webapp.core.models import TelegramAccount, TelegramPerson, User
from webapp.core.roles import Role
from webapp.core.services import create_staff_user
from webapp.core.tenancy import ensure_organization, organization_id_of, set_membership
from webapp.extensions import db
from webapp.finance.models import Transaction, TxSource
from webapp.finance.services import ledger

DEMO_USERNAME = "finance_demo"
ORGANIZATION_NAME = "Finance service"
ADMIN_USERNAME = "finance_admin"
DEMO_TELEGRAM_ID = 990_000_001  # the demo customer's (made-up) Telegram id on the demo finance bot
# (days ago, type, amount, category, description)
MONTH = (
    (29, "income", "7500000", "salary", "Зарплата за месяц"),
    (28, "expense", "2500000", "housing", "Аренда квартиры"),
    (27, "expense", "185000", "food", "Продукты на неделю"),
    (25, "expense", "42000", "transport", "Такси"),
    (24, "expense", "95000", "cafe", "Обед с коллегами"),
    (22, "expense", "350000", "communication", "Интернет и связь"),
    (20, "expense", "210000", "food", "Продукты"),
    (18, "income", "1200000", "business", "Продал велосипед"),
    (17, "expense", "120000", "health", "Аптека"),
    (15, "expense", "60000", "transport", "Бензин"),
    (14, "expense", "450000", "clothes", "Кроссовки"),
    (12, "expense", "198000", "food", "Продукты"),
    (10, "expense", "80000", "entertainment", "Кино"),
    (8, "expense", "35000", "cafe", "Кофе"),
    (6, "income", "500000", "bonus", "Премия"),
    (5, "expense", "230000", "food", "Продукты"),
    (3, "expense", "300000", "gifts", "Подарок маме"),
    (2, "expense", "28000", "transport", "Метро и автобус"),
    (1, "expense", "64000", "cafe", "Ужин"),
)


def _demo_user() -> tuple[User, bool]:
    user = db.session.scalar(db.select(User).filter_by(username=DEMO_USERNAME))
    if user is not None:
        return user, False
    user = User(username=DEMO_USERNAME, first_name="Demo", last_name="Finance", language="ru", role="user")
    db.session.add(user)
    db.session.flush()
    return user, True


def _organization(user: User) -> Iterator[str]:
    """The finance service: the demo finance bot, its admin, and the demo customer on its bot."""
    from webapp.demo import DEMO_PASSWORD
    from webapp.telegram.models import Bot, Vertical

    organization = ensure_organization(ORGANIZATION_NAME)
    admin = db.session.scalar(db.select(User).filter_by(username=ADMIN_USERNAME))
    if admin is None:
        admin = create_staff_user(
            ADMIN_USERNAME,
            f"{ADMIN_USERNAME}@demo.botdesk.local",
            DEMO_PASSWORD,
            Role.ADMIN,
            source="cli",
            first_name="Finance admin",
            language="ru",
        )
        yield f"created demo user {ADMIN_USERNAME} (admin of {ORGANIZATION_NAME})"
    if organization_id_of(admin) is None:
        set_membership(None, admin, organization, source="cli")
    bot = db.session.scalar(db.select(Bot).filter_by(name=Vertical.FINANCE.value, vertical=Vertical.FINANCE.value))
    if bot is None:
        return
    if bot.organization_id is None:
        bot.organization_id = organization.id
        yield f"demo finance bot joins {ORGANIZATION_NAME}"
    insert_missing(TelegramPerson, {"telegram_user_id": DEMO_TELEGRAM_ID, "user_id": user.id})
    owner = db.session.scalar(
        db.select(TelegramPerson.user_id).where(TelegramPerson.telegram_user_id == DEMO_TELEGRAM_ID)
    )
    if owner == user.id:
        values = {
            "bot_id": bot.id,
            "telegram_user_id": DEMO_TELEGRAM_ID,
            "user_id": user.id,
            "chat_id": DEMO_TELEGRAM_ID,
        }
        insert_missing(TelegramAccount, values, ("bot_id", "telegram_user_id"))
    db.session.flush()


def seed() -> Iterator[str]:
    user, created = _demo_user()
    if created:
        yield f"created demo finance customer {DEMO_USERNAME}"
    yield from _organization(user)
    has_records = db.session.scalar(db.select(Transaction.id).where(Transaction.user_id == user.id).limit(1))
    if has_records is not None:
        return
    now = utcnow()
    for days_ago, kind, amount, category, description in MONTH:
        ledger.add_transaction(
            user,
            kind,
            Decimal(amount),
            category=category,
            description=description,
            occurred_at=now - timedelta(days=days_ago, hours=days_ago % 5),
            source=TxSource.CONSOLE,
        )
    goal = ledger.create_goal(user, "Новый телефон", "5000000", source=TxSource.CONSOLE)
    ledger.deposit_to_goal(user, goal, "1500000")
    ledger.deposit_to_goal(user, goal, "500000")
    today = now.astimezone(ledger.local_zone()).date()
    ledger.add_debt(user, "Ахмед", "owed_to_me", "300000", due_date=today + timedelta(days=3), source=TxSource.CONSOLE)
    ledger.add_debt(user, "Брат", "i_owe", "1000000", due_date=today + timedelta(days=20), source=TxSource.CONSOLE)
    balance = ledger.balances(user)[ledger.DEFAULT_CURRENCY]
    yield f"demo finance: {len(MONTH)} transactions, a goal and 2 debts for {DEMO_USERNAME} (balance {balance})"
