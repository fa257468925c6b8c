"""Finance texts shared by the API and the bot: the parser's questions, intents and debt directions.

Message ids are English; the ``finance`` catalogs translate them (translations/*/LC_MESSAGES/finance.po).
"""

from __future__ import annotations

from webapp.core.i18n import Catalog
from webapp.finance.services import parser

catalog = Catalog("finance")


def _(message: str) -> str:
    """Marks a message id for extraction; translation happens per user with ``catalog.for_language``."""
    return message


QUESTIONS = {
    parser.Q_INTENT: _("Is it an expense or an income?"),
    parser.Q_CONFLICT: _("I see both spending and receiving in one message. Please send them one at a time."),
    parser.Q_AMOUNT: _("How much? Please repeat with the amount, e.g. «Потратил 50000 на продукты»."),
    parser.Q_MULTIPLE: _("I see several amounts. Please send one record per message."),
    parser.Q_COUNTERPARTY: _("Who is the debt with? Please repeat with a name, e.g. «Ахмед должен мне 500000»."),
    parser.Q_DIRECTION: _("Who owes whom? Say «мне должен» or «я должен»."),
    parser.Q_TITLE: _("What are you saving for? E.g. «Хочу накопить на телефон 5000000»."),
    parser.Q_SETTLE: _("To mark a debt as repaid, open 💳 Debts and press «Settle»."),
    parser.Q_UNKNOWN: _(
        "I did not understand. Try «Потратил 50000 на продукты», «Получил зарплату 2000000» "
        "or «Хочу накопить на телефон 5000000»."
    ),
}

INTENTS = {
    parser.EXPENSE: _("Expense"),
    parser.INCOME: _("Income"),
    parser.GOAL: _("Savings goal"),
    parser.DEBT: _("Debt"),
    parser.UNKNOWN: _("Not recognised"),
}

DIRECTIONS = {"i_owe": _("I owe"), "owed_to_me": _("Owed to me")}


def question_text(code: str | None, language: str | None) -> str | None:
    return catalog.for_language(language, QUESTIONS[code]) if code else None


def intent_text(intent: str, language: str | None) -> str:
    return catalog.for_language(language, INTENTS[intent])


def direction_text(direction: str, language: str | None) -> str:
    return catalog.for_language(language, DIRECTIONS[direction])
