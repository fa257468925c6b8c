"""Broadcast console words: stored codes (see webapp.admin.words)."""

from __future__ import annotations

from webapp.core.i18n import Catalog

_l = Catalog("broadcasts").lazy_gettext

LABELS = {
    "scheduled_at": _l("Scheduled for"),
    "started_at": _l("Started"),
    "finished_at": _l("Finished"),
    "segment": _l("Segment"),
}
VALUES = {
    "broadcast_status": {
        "draft": _l("Draft"),
        "scheduled": _l("Scheduled"),
        "sending": _l("Sending"),
        "paused": _l("Paused"),
        "completed": _l("Completed"),
        "cancelled": _l("Cancelled"),
    },
    "broadcast_delivery_status": {
        "pending": _l("Waiting"),
        "sending": _l("Sending"),
        "sent": _l("Sent"),
        "failed": _l("Failed"),
        "blocked": _l("Blocked the bot"),
        "unknown": _l("Unknown"),
    },
}
