"""The finance console. Finance records are personal data: only admins and superusers see them, and
the console only reads them (list, filter, sort, CSV export). Categories are the one thing staff edit:
names and the keywords the parser recognises them by. The dashboard draws its charts as inline SVG
(no script, no CDN): expenses by category this month, income vs expense per month, voice confidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import request
from flask_admin import expose
from flask_login import current_user
from wtforms.validators import Length

from webapp.admin.base import ScopedModelView, SecureView, money_formatter
from webapp.admin.dashboard import add_card
from webapp.core.db import utcnow
from webapp.core.i18n import format_money
from webapp.core.roles import Role
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.finance import access
from webapp.finance.models import DEFAULT_CURRENCY, Category, Debt, Goal, Transaction, VoiceCommandLog, Wallet
from webapp.finance.services import category_edits, ledger, voice
from webapp.finance.services.texts import catalog

_l = catalog.lazy_gettext
FINANCE_ROLES = (Role.ADMIN,)  # admin and superuser: personal data stays with those who administer it


_money = money_formatter(DEFAULT_CURRENCY)


class FinanceScoped(ScopedModelView):
    """The list, its counts, details and CSV export: only the records ``access`` lets the console
    user see (a finance organization's admin: its customers'; a superuser: everyone's)."""

    access = access


class FinanceReadOnlyView(FinanceScoped):
    required_roles = FINANCE_ROLES
    can_create = can_edit = can_delete = False
    can_view_details = True


class TransactionView(FinanceReadOnlyView):
    column_list = ("occurred_at", "user", "type", "amount", "wallet.currency", "category", "description", "source")
    column_labels = {
        "occurred_at": _l("Date"),
        "user": _l("User"),
        "type": _l("Type"),
        "amount": _l("Amount"),
        "wallet.currency": _l("Currency"),
        "category": _l("Category"),
        "description": _l("Description"),
        "source": _l("Source"),
    }
    column_filters = ("type", "source", "occurred_at", "amount", "user.username", "category.code", "wallet.currency")
    column_searchable_list = ("description",)
    column_sortable_list = ("occurred_at", "type", "amount", "source")
    column_default_sort = ("occurred_at", True)
    column_formatters = {"amount": _money}
    column_export_list = column_list
    column_formatters_export = {"amount": lambda v, c, m, n: str(m.amount)}


def _wallet_balance(wallet: Wallet) -> str:
    return format_money(ledger.balances(wallet.user).get(wallet.currency, Decimal(0)), wallet.currency)


class WalletView(FinanceReadOnlyView):
    column_list = ("user", "currency", "balance", "created_at")
    column_labels = {
        "user": _l("User"),
        "currency": _l("Currency"),
        "balance": _l("Balance"),
        "created_at": _l("Created"),
    }
    column_filters = ("currency", "user.username", "created_at")
    column_default_sort = ("created_at", True)
    column_formatters = {"balance": lambda v, c, m, n: _wallet_balance(m)}
    column_export_list = column_list


class CategoryView(FinanceScoped):
    """Built-in and users' categories; staff fix names and teach the parser new keywords. Built-in
    ones are every finance service's vocabulary: a superuser creates and edits them; a finance
    organization's admin reads them and edits its own customers' categories."""

    required_roles = FINANCE_ROLES

    @property
    def can_create(self) -> bool:
        return access.can_create_category(current_user)

    def reaches(self, category) -> bool:
        if request.endpoint == f"{self.endpoint}.edit_view":
            return access.can_edit_category(current_user, category)
        return True

    def refusal_text(self, exc: ServiceError) -> str:
        return catalog.gettext(exc.message)

    def _fields(self, form) -> dict:
        return {name: getattr(form, name).data for name in self.form_columns}

    def create_record(self, form):
        return category_edits.create_category(current_user, self._fields(form), source="console")

    def update_record(self, form, model) -> None:
        category_edits.update_category(current_user, model, self._fields(form), source="console")

    can_delete = False  # transactions keep pointing at them
    column_list = ("code", "type", "name_ru", "name_uz", "name_en", "keywords", "user")
    column_labels = {"user": _l("Owner (empty: built-in)"), "keywords": _l("Keywords")}
    column_filters = ("type", "code")
    column_searchable_list = ("code", "name_ru", "name_uz", "name_en", "keywords")
    form_columns = ("code", "type", "name_ru", "name_uz", "name_en", "keywords")
    form_args = {
        "code": {"validators": [Length(min=1, max=32)]},
        "keywords": {"description": _l("Word stems separated by spaces; '=' before a stem means the whole word.")},
    }


class GoalView(FinanceReadOnlyView):
    column_list = ("user", "title", "target_amount", "saved_amount", "progress", "deadline", "status", "created_at")
    column_labels = {"progress": _l("Progress"), "target_amount": _l("Target"), "saved_amount": _l("Saved so far")}
    column_filters = ("status", "currency", "deadline", "user.username")
    column_searchable_list = ("title",)
    column_default_sort = ("created_at", True)
    column_formatters = {
        "target_amount": _money,
        "saved_amount": _money,
        "progress": lambda v, c, m, n: f"{ledger.goal_progress(m)}%",
    }


class DebtView(FinanceReadOnlyView):
    column_list = ("user", "counterparty", "direction", "amount", "due_date", "settled", "settled_at", "created_at")
    column_filters = ("direction", "settled", "due_date", "currency", "user.username")
    column_searchable_list = ("counterparty", "description")
    column_default_sort = ("created_at", True)
    column_formatters = {"amount": _money}


class VoiceLogView(FinanceReadOnlyView):
    column_list = (
        "created_at",
        "user",
        "status",
        "text",
        "original_audio_duration",
        "confidence_score",
        "intent",
        "result_type",
        "engine",
        "error",
    )
    column_labels = {
        "original_audio_duration": _l("Duration, s"),
        "confidence_score": _l("Confidence"),
        "text": _l("Recognised text"),
    }
    column_filters = ("status", "intent", "engine", "created_at", "confidence_score", "user.username")
    column_searchable_list = ("text",)
    column_default_sort = ("created_at", True)


# --- dashboard --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    label: str
    value: str
    y: int
    width: int


def bar_chart(rows: list[tuple[str, Decimal | int, str]], width: int = 420, row_height: int = 24) -> dict:
    """Horizontal bars scaled to the largest value: ``rows`` are (label, value, shown value)."""
    top = max((float(v) for _, v, _ in rows), default=0) or 1
    bars = [Bar(label, shown, i * row_height, int(width * float(v) / top)) for i, (label, v, shown) in enumerate(rows)]
    return {"bars": bars, "width": width, "height": max(row_height, len(rows) * row_height), "row": row_height}


def month_chart(series: list[dict], height: int = 160, group: int = 56) -> dict:
    """Income and expense side by side per month (vertical bars)."""
    top = max((float(max(m["income"], m["expense"])) for m in series), default=0) or 1
    groups = []
    for i, month in enumerate(series):
        income_h = int(height * float(month["income"]) / top)
        expense_h = int(height * float(month["expense"]) / top)
        groups.append(
            {
                "x": i * group,
                "label": month["month"],
                "income": income_h,
                "expense": expense_h,
                "income_text": format_money(month["income"], DEFAULT_CURRENCY),
                "expense_text": format_money(month["expense"], DEFAULT_CURRENCY),
            }
        )
    return {"groups": groups, "height": height, "width": max(group, len(series) * group), "group": group}


class FinanceDashboard(SecureView):
    required_roles = FINANCE_ROLES

    @expose("/")
    def index(self):
        language = current_user.language
        today = utcnow().astimezone(ledger.local_zone()).date()
        people = access.customers(current_user)  # None: a superuser's view of every customer
        by_category = ledger.category_totals(None, today.year, today.month, language=language, customers=people)
        series = ledger.monthly_totals(None, 6, customers=people)
        histogram = voice.confidence_histogram(customers=people)
        return self.render(
            "finance/dashboard.html",
            t=catalog.gettext,
            month=today.strftime("%Y-%m"),
            categories=bar_chart(
                [
                    (row.name, row.total, f"{format_money(row.total, DEFAULT_CURRENCY)} · {row.share}%")
                    for row in by_category
                ]
            ),  # fmt: skip
            top=by_category[:5],
            months=month_chart(series),
            confidence=bar_chart([(label, n, str(n)) for label, n in histogram], width=300),
            statuses=voice.status_counts(customers=people),
            totals={
                "transactions": _count(db.select(db.func.count(Transaction.id)), Transaction),
                "users": _count(db.select(db.func.count(db.distinct(Transaction.user_id))), Transaction),
                "open_debts": _count(db.select(db.func.count(Debt.id)).where(Debt.settled.is_(False)), Debt),
                "voice": _count(db.select(db.func.count(VoiceCommandLog.id)), VoiceCommandLog),
            },
            money=format_money,
        )


def _count(query, model) -> int:
    return db.session.scalar(access.scope(query, current_user, model)) or 0


def _expenses_this_month(viewer) -> str:
    today = utcnow().astimezone(ledger.local_zone()).date()
    rows = ledger.category_totals(None, today.year, today.month, customers=access.customers(viewer))
    return format_money(sum((r.total for r in rows), Decimal(0)), DEFAULT_CURRENCY)


def register_admin(admin) -> None:
    category = _l("Finance")
    admin.add_view(FinanceDashboard(name=_l("Finance dashboard"), category=category, endpoint="finance_dashboard"))
    admin.add_view(TransactionView(Transaction, db.session, name=_l("Transactions"), category=category,
                                   endpoint="finance_transactions"))  # fmt: skip
    admin.add_view(WalletView(Wallet, db.session, name=_l("Wallets"), category=category, endpoint="finance_wallets"))
    admin.add_view(CategoryView(Category, db.session, name=_l("Categories"), category=category,
                                endpoint="finance_categories"))  # fmt: skip
    admin.add_view(GoalView(Goal, db.session, name=_l("Goals"), category=category, endpoint="finance_goals"))
    admin.add_view(DebtView(Debt, db.session, name=_l("Debts"), category=category, endpoint="finance_debts"))
    admin.add_view(VoiceLogView(VoiceCommandLog, db.session, name=_l("Voice commands"), category=category,
                                endpoint="finance_voice"))  # fmt: skip
    add_card(_l("Finance: expenses this month"), _expenses_this_month, *FINANCE_ROLES)
