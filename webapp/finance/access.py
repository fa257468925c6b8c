"""Who may see the finance console's records (transactions, goals, debts, voice logs, wallets,
customers' categories): one layer for every console view, count, export and the dashboard.

Finance records are personal. A superuser sees every customer's; a finance organization's admin
the records of its customers, people with a Telegram account on one of the organization's finance
bots; everyone else (staff of other organizations, the platform moderator, customers) nothing.
Seed 000's API is unchanged: it only ever serves the caller's own data (``webapp/finance/api.py``).
"""

from __future__ import annotations

import sqlalchemy as sa

from webapp.core import tenancy
from webapp.core.models import TelegramAccount, User
from webapp.core.roles import Role
from webapp.extensions import db
from webapp.finance.models import Category, Debt, Goal, Transaction, VoiceCommandLog, Wallet
from webapp.telegram.models import Bot, Vertical

OWNED = (Transaction, Goal, Debt, VoiceCommandLog, Wallet, Category)


def finance_organization_of(actor) -> int | None:
    """The organization whose finance records ``actor`` administers (an organization admin's)."""
    if not isinstance(actor, User) or not actor.is_active or actor.role != Role.ADMIN.value:
        return None
    return tenancy.organization_id_of(actor)


def customers(actor) -> sa.Select | None:
    """The ids of the users whose records ``actor`` may see; None: everyone's (a superuser)."""
    if tenancy.is_superuser(actor):
        return None
    organization_id = finance_organization_of(actor)
    if organization_id is None:
        return sa.select(TelegramAccount.user_id).where(sa.false())
    return (
        sa.select(TelegramAccount.user_id)
        .join(Bot, Bot.id == TelegramAccount.bot_id)
        .where(Bot.organization_id == organization_id, Bot.vertical == Vertical.FINANCE.value)
    )


def scope(query, actor, model):
    """``query`` over ``model`` (a finance record) cut to the records ``actor`` may see. Built-in
    categories (no owner) are the platform's parser vocabulary: every finance admin reads them."""
    if model not in OWNED:
        raise TypeError(f"no finance scope for {model!r}")
    people = customers(actor)
    if people is None:
        return query
    if finance_organization_of(actor) is None:
        return query.where(sa.false())
    if model is Category:
        return query.where(sa.or_(Category.user_id.is_(None), Category.user_id.in_(people)))
    return query.where(model.user_id.in_(people))


def can_view(actor, record) -> bool:
    """One record (a console details or edit page)."""
    people = customers(actor)
    if people is None:
        return True
    if finance_organization_of(actor) is None:
        return False
    owner = record.user_id
    if owner is None:  # a built-in category
        return isinstance(record, Category)
    return db.session.scalar(people.where(TelegramAccount.user_id == owner).limit(1)) is not None


def can_edit_category(actor, category: Category) -> bool:
    """Built-in categories change every finance service's parser: a superuser's. A finance admin
    edits its customers' own categories."""
    if tenancy.is_superuser(actor):
        return True
    return category.user_id is not None and can_view(actor, category)


def can_create_category(actor) -> bool:
    """A new category from the console is built-in (no owner): a superuser's."""
    return tenancy.is_superuser(actor)


tenancy.declare_vertical("finance")  # a finance service is the organization that owns a finance bot
