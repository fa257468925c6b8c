"""Request and response models of the finance API (seed 000, ``webapp.finance.api``).

Money goes out as a string with two decimals (``"12500.00"``), never a float.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, RootModel

from webapp.core.limits import BoundedDate, BoundedDateOrDatetime, BoundedDatetime
from webapp.core.schemas import PageQuery, StrictModel, page_model

# --- input -----------------------------------------------------------------------------------------

Amount = Field(gt=0, max_digits=18, decimal_places=2)
CurrencyCode = Field(None, pattern=r"^[A-Za-z]{3}$")
CategoryCode = Field(None, min_length=1, max_length=32)


class TransactionIn(StrictModel):
    amount: Decimal = Amount
    type: Literal["income", "expense"]
    description: str = Field("", max_length=500)
    date: BoundedDatetime | None = None
    category: str | None = CategoryCode
    currency: str | None = CurrencyCode


class TransactionPatch(StrictModel):
    amount: Decimal | None = Field(None, gt=0, max_digits=18, decimal_places=2)
    type: Literal["income", "expense"] | None = None
    description: str | None = Field(None, max_length=500)
    date: BoundedDatetime | None = None
    category: str | None = CategoryCode
    currency: str | None = CurrencyCode


class TransactionQuery(PageQuery):
    type: Literal["income", "expense"] | None = None
    category: str | None = CategoryCode
    currency: str | None = CurrencyCode
    source: Literal["text", "voice", "api", "console"] | None = None
    date_from: BoundedDateOrDatetime | None = None
    date_to: BoundedDateOrDatetime | None = None


class GoalIn(StrictModel):
    title: str = Field(min_length=1, max_length=200)
    target_amount: Decimal = Amount
    currency: str | None = CurrencyCode
    deadline: BoundedDate | None = None


class GoalQuery(PageQuery):
    status: Literal["active", "achieved", "cancelled"] | None = None


class DepositIn(StrictModel):
    amount: Decimal = Amount


class DebtIn(StrictModel):
    counterparty: str = Field(min_length=1, max_length=200)
    direction: Literal["i_owe", "owed_to_me"]
    amount: Decimal = Amount
    currency: str | None = CurrencyCode
    due_date: BoundedDate | None = None
    description: str = Field("", max_length=500)


class DebtQuery(PageQuery):
    settled: bool | None = None
    direction: Literal["i_owe", "owed_to_me"] | None = None


class DueQuery(StrictModel):
    days: int = Field(7, ge=0, le=3650)


class CategoryAnalyticsQuery(StrictModel):
    year: int | None = Field(None, ge=2000, le=2100)
    month: int | None = Field(None, ge=1, le=12)
    type: Literal["income", "expense"] = "expense"
    currency: str = Field("UZS", pattern=r"^[A-Za-z]{3}$")


class MonthlyAnalyticsQuery(StrictModel):
    months: int = Field(6, ge=1, le=60)
    currency: str = Field("UZS", pattern=r"^[A-Za-z]{3}$")


class ParseIn(StrictModel):
    text: str = Field(min_length=1, max_length=1000)
    language: Literal["ru", "uz", "kk", "en"] | None = None


# --- output ----------------------------------------------------------------------------------------

Money = Field(description="two decimals, as a string")


class TransactionOut(BaseModel):
    id: str
    amount: str = Money
    type: Literal["income", "expense"]
    currency: str
    category: str | None
    category_name: str | None
    description: str | None
    date: str | None
    source: str
    created_at: str | None


class GoalOut(BaseModel):
    id: str
    title: str
    target_amount: str = Money
    saved_amount: str = Money
    currency: str
    progress: int = Field(description="whole percent saved, 0..100")
    deadline: str | None
    status: str
    source: str
    created_at: str | None


class DebtOut(BaseModel):
    id: str
    counterparty: str
    direction: Literal["i_owe", "owed_to_me"]
    amount: str = Money
    currency: str
    description: str | None
    due_date: str | None
    settled: bool
    settled_at: str | None
    source: str
    created_at: str | None


TransactionPage = page_model(TransactionOut)
GoalPage = page_model(GoalOut)
DebtPage = page_model(DebtOut)


class DueDebtsOut(BaseModel):
    items: list[DebtOut]
    open_totals: dict[str, dict[str, str]] = Field(description="direction → currency → open amount")


class BalanceLine(BaseModel):
    currency: str
    balance: str = Money
    formatted: str


class BalanceOut(BaseModel):
    balances: list[BalanceLine]


class CategoryOut(BaseModel):
    code: str
    type: str
    name: str
    custom: bool


class CategoryList(RootModel[list[CategoryOut]]):
    pass


class CategoryShare(BaseModel):
    category: str
    name: str
    total: str = Money
    share: int = Field(description="whole percent of the month's total of this type")


class CategoryAnalyticsOut(BaseModel):
    year: int
    month: int
    type: Literal["income", "expense"]
    currency: str
    total: str = Money
    items: list[CategoryShare]


class MonthTotals(BaseModel):
    month: str
    income: str = Money
    expense: str = Money
    net: str = Money


class MonthlyAnalyticsOut(BaseModel):
    currency: str
    months: list[MonthTotals]


class ParseOut(BaseModel):
    intent: str
    amount: str | None
    currency: str | None
    category: str | None
    description: str | None
    question: str | None = Field(description="a question code when the phrase needs an answer first")
    complete: bool
    direction: str | None
    counterparty: str | None
    days_ago: int | None
    detected_language: str | None
    question_text: str | None
