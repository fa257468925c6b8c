"""Finance bot texts: the ``finance`` catalog (translations/<lang>/LC_MESSAGES/finance.po), English ids.

The Russian /start, /balance and /help texts are seed 000's, word for word.
"""

from __future__ import annotations

from botworker.context import user_language
from webapp.core.services import SUPPORTED_LANGUAGES
from webapp.finance.services.texts import catalog


def _(message: str) -> str:
    """Marks a message id for extraction; it is translated where it is shown."""
    return message


def t(message: str, **params) -> str:
    """``message`` in the language of the user of the current update."""
    return catalog.for_language(user_language(), message, **params)


def for_language(language: str, message: str, **params) -> str:
    return catalog.for_language(language, message, **params)


def labels(message: str) -> frozenset[str]:
    """A button's text in every language (a user's keyboard may predate a language switch)."""
    return frozenset(catalog.for_language(lang, message) for lang in SUPPORTED_LANGUAGES)


START = _(
    "🎉 Welcome to OvozPay!\n\n"
    "Hi, %(name)s! 👋\n\n"
    "I am your voice assistant for managing your finances.\n"
    "With me you can:\n\n"
    "💰 Track income and expenses\n"
    "🎯 Manage savings goals\n"
    "📊 Get spending analytics\n"
    "💳 Keep track of debts\n\n"
    "Main commands:\n"
    "/balance - show the balance\n"
    "/help - help on commands\n\n"
    "Register in our app for the full functionality!"
)
BALANCE = _("💰 Your balance\n\nCurrent balance: %(balance)s\n\n📱 Use our app to see detailed statistics.")
HELP = _(
    "🤖 OvozPay command help\n\n"
    "Main commands:\n"
    "/start - start working with the bot\n"
    "/balance - show the current balance\n"
    "/help - show this help\n\n"
    "Voice commands:\n"
    "🎤 Send a voice message to:\n"
    '• Add expenses: "Потратил 50000 на продукты"\n'
    '• Add income: "Получил зарплату 2000000"\n'
    '• Create goals: "Хочу накопить на телефон 5000000"\n\n'
    "More features:\n"
    "📊 Detailed analytics in the app\n"
    "🎯 Savings goal management\n"
    "💳 Debt tracking\n\n"
    "Register in the app for full access to the features!"
)

BTN_BALANCE = _("💰 Balance")
BTN_REPORT = _("📊 Report")
BTN_GOALS = _("🎯 Goals")
BTN_DEBTS = _("💳 Debts")
BTN_SAVE = _("✅ Save")
BTN_CANCEL = _("✖️ Cancel")
BTN_UNDO = _("↩️ Undo")
BTN_EXPENSE = _("💸 Expense")
BTN_INCOME = _("💰 Income")
