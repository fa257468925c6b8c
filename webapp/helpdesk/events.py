"""Live ticket events (seed 003's ``new_message``, ``status_changed``, ``typing``) over Redis pub/sub.

Services queue an event; it is published only when the transaction commits, so a listener that
reacts by reading the database finds what the event announces, and a rolled-back change announces
nothing. Every web process holds one subscription to all helpdesk channels (``livehub``), so an
event raised by any process (web, bot, job) reaches every socket of the ticket.

Each envelope says who may see it: ``"all"`` (the customer too) or ``"staff"`` (internal notes).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from webapp.core.oncommit import on_commit
from webapp.extensions import db, redis_store

AUDIENCE_ALL = "all"
AUDIENCE_STAFF = "staff"
INBOX_CHANNEL = "helpdesk:inbox"


def inbox_channel(organization_id: int | None) -> str:
    """A desk's inbox feed; None: every desk's (superusers)."""
    return INBOX_CHANNEL if organization_id is None else f"{INBOX_CHANNEL}:{organization_id}"


def ticket_channel(ticket_id: uuid.UUID | str) -> str:
    return f"helpdesk:ticket:{ticket_id}"


def envelope(event_type: str, data: dict[str, Any], audience: str = AUDIENCE_ALL, origin: str | None = None) -> str:
    return json.dumps(
        {"audience": audience, "origin": origin, "event": {"type": event_type, "data": data}}, ensure_ascii=False
    )


def publish_after_commit(
    ticket_id: uuid.UUID | str, event_type: str, data: dict[str, Any], audience: str = AUDIENCE_ALL
) -> None:
    """Publish an event to the ticket's sockets (and the staff inbox) once the transaction commits."""
    # The client is taken now: the commit hook may run where no app context is current.
    client = redis_store.client
    channel, message = ticket_channel(ticket_id), envelope(event_type, data, audience)
    inbox = envelope(event_type, {"ticket_id": str(ticket_id)}, AUDIENCE_STAFF)
    on_commit(lambda: client.publish(channel, message))
    on_commit(lambda: client.publish(INBOX_CHANNEL, inbox))
    # The ticket's desk hears of it too; other desks' inboxes never see its id.
    from webapp.helpdesk.models import Ticket

    ticket = db.session.get(Ticket, ticket_id if isinstance(ticket_id, uuid.UUID) else uuid.UUID(str(ticket_id)))
    if ticket is not None and ticket.organization_id is not None:
        desk_inbox = inbox_channel(ticket.organization_id)
        on_commit(lambda: client.publish(desk_inbox, inbox))
