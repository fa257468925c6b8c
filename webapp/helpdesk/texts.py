"""The helpdesk's Telegram texts (gettext domain ``helpdesk``; msgids in English)."""

from __future__ import annotations

from webapp.core.i18n import Catalog

catalog = Catalog("helpdesk")


def t(language: str | None, message: str, **params) -> str:
    return catalog.for_language(language, message, **params)


STATUS_LABELS = {
    "OPEN": "🆕 Open",
    "IN_PROGRESS": "🛠 In progress",
    "WAITING_RESPONSE": "⏳ Waiting for your reply",
    "RESOLVED": "✅ Resolved",
    "CLOSED": "🔒 Closed",
}
PRIORITY_LABELS = {"LOW": "Low", "NORMAL": "Normal", "HIGH": "High", "CRITICAL": "Critical"}


def status_label(language: str | None, status: str) -> str:
    return t(language, STATUS_LABELS[status])


def priority_label(language: str | None, priority: str) -> str:
    return t(language, PRIORITY_LABELS[priority])
