"""Finance console words: attribute labels and stored codes (see webapp.admin.words)."""

from __future__ import annotations

from webapp.finance.services.texts import catalog

_l = catalog.lazy_gettext

LABELS = {
    "wallet": _l("Wallet"),
    "category": _l("Category"),
    "occurred_at": _l("Date"),
    "counterparty": _l("Counterparty"),
    "direction": _l("Direction"),
    "due_date": _l("Due date"),
    "settled": _l("Settled"),
    "settled_at": _l("Settled at"),
    "reminder_sent_at": _l("Reminder sent"),
    "deadline": _l("Deadline"),
    "code": _l("Code"),
    "name_ru": _l("Name (Russian)"),
    "name_uz": _l("Name (Uzbek)"),
    "name_en": _l("Name (English)"),
    "engine": _l("Engine"),
    "intent": _l("Intent"),
    "result_type": _l("Result"),
    "duration_seconds": _l("Duration, s"),
    "confidence": _l("Confidence"),
    "target_amount": _l("Target"),
    "saved_amount": _l("Saved so far"),
}
VALUES = {
    "finance_tx_type": {"income": _l("Income"), "expense": _l("Expense")},
    "finance_tx_source": {"text": _l("Text"), "voice": _l("Voice"), "api": _l("App"), "console": _l("Console")},
    "finance_goal_status": {"active": _l("Active"), "achieved": _l("Achieved"), "cancelled": _l("Cancelled")},
    "finance_debt_direction": {"i_owe": _l("I owe"), "owed_to_me": _l("Owed to me")},
    "finance_voice_status": {
        "received": _l("Received"),
        "unavailable": _l("Recognition unavailable"),
        "failed": _l("Failed"),
        "empty": _l("No words"),
        "unrecognised": _l("Not understood"),
        "parsed": _l("Awaiting confirmation"),
        "confirmed": _l("Confirmed"),
        "cancelled": _l("Cancelled"),
    },
}
