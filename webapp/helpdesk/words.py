"""Helpdesk console words: attribute labels and stored codes (see webapp.admin.words)."""

from __future__ import annotations

from webapp.helpdesk.texts import catalog

_l = catalog.lazy_gettext

LABELS = {
    "category": _l("Category"),
    "priority": _l("Priority"),
    "assigned_to": _l("Assignee"),
    "first_response_at": _l("First response"),
    "resolved_at": _l("Resolved at"),
    "closed_at": _l("Closed at"),
    "sort_order": _l("Order"),
    "icon": _l("Icon"),
    "color": _l("Colour"),
}
VALUES = {
    "helpdesk_ticket_status": {
        "OPEN": _l("Open"),
        "IN_PROGRESS": _l("In progress"),
        "WAITING_RESPONSE": _l("Waiting for customer"),
        "RESOLVED": _l("Resolved"),
        "CLOSED": _l("Closed"),
    },
    "helpdesk_ticket_priority": {
        "LOW": _l("Low"),
        "NORMAL": _l("Normal"),
        "HIGH": _l("High"),
        "CRITICAL": _l("Critical"),
    },
}
