"""Tickets and their conversation: the state machine, assignment, messages, first response.

Plain functions over the session: they flush, the caller commits. Each status move is its own
function and refuses illegal moves; live events and Telegram notifications are queued here and
leave only when the caller's transaction commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from webapp.core.db import utcnow
from webapp.core.models import User
from webapp.core.services import ServiceError, get_user
from webapp.extensions import db
from webapp.helpdesk import events
from webapp.helpdesk.access import can_be_assigned, can_delete_ticket, organization_for_new_ticket
from webapp.helpdesk.models import (
    TRANSITIONS,
    HelpdeskFile,
    Ticket,
    TicketMessage,
    TicketPriority,
    TicketStatus,
    TicketStatusChange,
)
from webapp.helpdesk.serializers import message_out, person
from webapp.helpdesk.services.access import can_manage_ticket, can_view_ticket, refusal, sees_internal
from webapp.helpdesk.services.categories import get_category
from webapp.helpdesk.services.files import claim_attachments, delete_files_after_commit
from webapp.telegram.models import OutboundMessage

UNSET: Any = object()
MAX_CONTENT = 10_000


def clean_text(value: str | None) -> str:
    """Trimmed text without NUL characters (PostgreSQL cannot store them; Telegram and forms can send them)."""
    return (value or "").replace("\x00", "").strip()


def forbidden(message: str, field: str | None = None) -> ServiceError:
    return ServiceError(message, 403, "FORBIDDEN", field)


def invalid(field: str, message: str) -> ServiceError:
    return ServiceError(message, 422, "VALIDATION_ERROR", field)


def get_ticket(ticket_id: uuid.UUID | str) -> Ticket | None:
    try:
        key = ticket_id if isinstance(ticket_id, uuid.UUID) else uuid.UUID(str(ticket_id))
    except ValueError:
        return None
    return db.session.get(Ticket, key)


def _notify(name: str, subject: Any) -> None:
    """Write the Telegram notifications of a change into the outbox, in the change's transaction."""
    # Imported here: notify reads the ticket's subscribers and texts, which import these services.
    from webapp.helpdesk.services import notify

    getattr(notify, name)(subject)


# --- tickets ---------------------------------------------------------------------------------------


def create_ticket(
    author: User,
    title: str,
    description: str = "",
    category_id: uuid.UUID | str | None = None,
    priority: TicketPriority | str = TicketPriority.NORMAL,
    source: str = "api",
    bot_id: int | None = None,
    organization_id: int | None = None,
) -> Ticket:
    """A new ticket in a desk: ``organization_id`` when the caller knows it (the console, tests),
    else the bot's desk, the category's, or the author's (``access.organization_for_new_ticket``)."""
    title = clean_text(title)
    if not title:
        raise invalid("title", "Title is required")
    if len(title) > 200:
        raise invalid("title", "Title is longer than 200 characters")
    category = None
    if category_id is not None:
        category = get_category(category_id)
        if category is None or not category.is_active:
            raise invalid("category_id", "No such active category")
    if organization_id is None:
        from webapp.telegram.models import Bot

        bot = db.session.get(Bot, bot_id) if bot_id is not None else None
        organization_id = organization_for_new_ticket(author, category, bot)
    if category is not None and category.organization_id != organization_id:
        raise invalid("category_id", "No such active category")
    try:
        priority = TicketPriority(priority)
    except ValueError as exc:
        raise invalid("priority", "Unknown priority") from exc
    ticket = Ticket(
        title=title,
        description=clean_text(description),
        category=category,
        priority=priority.value,
        status=TicketStatus.OPEN.value,
        organization_id=organization_id,
        user=author,
        source=source,
        bot_id=bot_id,
    )
    db.session.add(ticket)
    db.session.flush()
    db.session.add(
        TicketStatusChange(ticket_id=ticket.id, old_status=None, new_status=ticket.status, changed_by=author)
    )
    events.publish_after_commit(ticket.id, "ticket_created", {"ticket_id": str(ticket.id)}, events.AUDIENCE_STAFF)
    _notify("alert_helpers_new_ticket", ticket)
    return ticket


def _move(ticket: Ticket, target: TicketStatus, actor: User | None) -> TicketStatusChange | None:
    current = ticket.status_enum
    if target == current:
        return None
    if target not in TRANSITIONS[current]:
        raise invalid("status", f"A ticket cannot move from {current.value} to {target.value}")
    ticket.status = target.value
    now = utcnow()
    ticket.updated_at = now
    ticket.closed_at = now if target == TicketStatus.CLOSED else None
    change = TicketStatusChange(
        ticket_id=ticket.id, old_status=current.value, new_status=target.value, changed_by=actor, created_at=now
    )
    db.session.add(change)
    db.session.flush()
    events.publish_after_commit(
        ticket.id,
        "status_changed",
        {
            "ticket_id": str(ticket.id),
            "old_status": current.value,
            "new_status": target.value,
            "changed_by": person(actor),
        },
    )
    if actor is None or actor.id != ticket.user_id:
        _notify("notify_customer_status", change)
    return change


def start_work(ticket: Ticket, actor: User | None) -> TicketStatusChange | None:
    """OPEN / WAITING_RESPONSE / RESOLVED → IN_PROGRESS (someone is on it, or the customer wrote again)."""
    return _move(ticket, TicketStatus.IN_PROGRESS, actor)


def await_customer(ticket: Ticket, actor: User | None) -> TicketStatusChange | None:
    """→ WAITING_RESPONSE: staff answered and wait for the customer."""
    return _move(ticket, TicketStatus.WAITING_RESPONSE, actor)


def resolve(ticket: Ticket, actor: User | None) -> TicketStatusChange | None:
    return _move(ticket, TicketStatus.RESOLVED, actor)


def close(ticket: Ticket, actor: User | None) -> TicketStatusChange | None:
    return _move(ticket, TicketStatus.CLOSED, actor)


MOVES = {
    TicketStatus.IN_PROGRESS: start_work,
    TicketStatus.WAITING_RESPONSE: await_customer,
    TicketStatus.RESOLVED: resolve,
    TicketStatus.CLOSED: close,
}


def allowed_moves(ticket: Ticket) -> frozenset[TicketStatus]:
    """The statuses the ticket may move to from where it is (for the console's buttons)."""
    return TRANSITIONS[ticket.status_enum]


def set_status(ticket: Ticket, status: TicketStatus | str, actor: User) -> TicketStatusChange | None:
    """A status change asked for by a person: staff may make any legal move, a customer may close."""
    try:
        target = TicketStatus(status)
    except ValueError as exc:
        raise invalid("status", "Unknown status") from exc
    if target == ticket.status_enum:
        return None
    if not can_manage_ticket(actor, ticket) and not (ticket.user_id == actor.id and target == TicketStatus.CLOSED):
        raise forbidden("Only staff can set this status", "status")
    move = MOVES.get(target)
    if move is None:  # OPEN is where tickets start, never where they are moved back to
        raise invalid("status", f"A ticket cannot move from {ticket.status} to {target.value}")
    return move(ticket, actor)


def assign(ticket: Ticket, assignee: User | None, actor: User | None) -> None:
    if actor is not None and not can_manage_ticket(actor, ticket):
        raise forbidden("Only staff can assign tickets", "assigned_to")
    if assignee is not None and not can_be_assigned(assignee, ticket):
        raise invalid("assigned_to", "Tickets can only be assigned to the desk's active helpers or admins")
    new_id = assignee.id if assignee else None
    if ticket.assigned_to_id == new_id:
        return
    ticket.assigned_to = assignee
    ticket.assigned_to_id = new_id
    ticket.updated_at = utcnow()
    db.session.flush()
    events.publish_after_commit(
        ticket.id,
        "ticket_updated",
        {"ticket_id": str(ticket.id), "assigned_to": person(assignee), "changed_by": person(actor)},
        events.AUDIENCE_STAFF,
    )


def update_ticket(
    ticket: Ticket,
    actor: User,
    *,
    title: str = UNSET,
    description: str = UNSET,
    priority: str = UNSET,
    category_id: uuid.UUID | None = UNSET,
    status: str = UNSET,
    assigned_to: uuid.UUID | None = UNSET,
) -> Ticket:
    """PUT /tickets/{id}: the customer may retitle, redescribe or close their ticket; staff anything."""
    if not can_view_ticket(actor, ticket):
        raise refusal(actor)
    staff = can_manage_ticket(actor, ticket)
    for name, value in (("priority", priority), ("category_id", category_id), ("assigned_to", assigned_to)):
        if value is not UNSET and not staff:
            raise forbidden(f"Only staff can change {name}", name)
    if title is not UNSET:
        title = (title or "").strip()
        if not title or len(title) > 200:
            raise invalid("title", "Title must be 1 to 200 characters")
        ticket.title = title
    if description is not UNSET:
        ticket.description = (description or "").strip()
    if priority is not UNSET:
        try:
            ticket.priority = TicketPriority(priority).value
        except ValueError as exc:
            raise invalid("priority", "Unknown priority") from exc
    if category_id is not UNSET:
        category = None
        if category_id is not None:
            category = get_category(category_id)
            if category is None or category.organization_id != ticket.organization_id:
                raise invalid("category_id", "No such category")
        ticket.category = category
    if assigned_to is not UNSET:
        assignee = None
        if assigned_to is not None:
            assignee = get_user(assigned_to)
            if assignee is None:
                raise invalid("assigned_to", "No such user")
        assign(ticket, assignee, actor)
    if status is not UNSET:
        set_status(ticket, status, actor)
    db.session.flush()
    return ticket


def delete_ticket(ticket: Ticket, actor: User) -> None:
    if not can_delete_ticket(actor, ticket):
        raise forbidden("Only admins can delete tickets")
    keys = db.session.scalars(
        db.select(HelpdeskFile.storage_key)
        .join(TicketMessage, HelpdeskFile.message_id == TicketMessage.id)
        .where(TicketMessage.ticket_id == ticket.id)
    ).all()
    delete_files_after_commit(keys)
    # Dependants are deleted explicitly: SQLite does not enforce ON DELETE CASCADE by default.
    message_ids = db.select(TicketMessage.id).where(TicketMessage.ticket_id == ticket.id)
    db.session.execute(db.delete(HelpdeskFile).where(HelpdeskFile.message_id.in_(message_ids)))
    for model in (TicketMessage, TicketStatusChange):
        db.session.execute(db.delete(model).where(model.ticket_id == ticket.id))
    # Its Telegram messages go too (sent ones stay sent; pending ones are not sent about a deleted ticket).
    subject = f"helpdesk_ticket:{ticket.id.hex}"
    db.session.execute(db.delete(OutboundMessage).where(OutboundMessage.subject == subject))
    db.session.delete(ticket)
    db.session.flush()


# --- messages --------------------------------------------------------------------------------------


def add_message(
    ticket: Ticket,
    author: User,
    content: str,
    is_internal: bool = False,
    attachment_ids: Iterable[uuid.UUID] = (),
    source: str = "api",
) -> TicketMessage:
    """A message in the conversation.

    Internal notes are staff-only and change nothing for the customer. A public staff reply is the
    ticket's first response if none came before, takes an unassigned ticket, and leaves the ticket
    waiting for the customer; a customer writing again puts it back in progress.
    """
    if not can_view_ticket(author, ticket):
        raise refusal(author)
    staff = can_manage_ticket(author, ticket)
    if is_internal and not staff:
        raise forbidden("Only staff can write internal notes", "is_internal")
    content = clean_text(content)
    attachment_ids = list(attachment_ids)
    if not content and not attachment_ids:
        raise invalid("content", "Write a message or attach a file")
    if len(content) > MAX_CONTENT:
        raise invalid("content", f"A message is at most {MAX_CONTENT} characters")
    if ticket.status_enum == TicketStatus.CLOSED and not is_internal:
        raise invalid("ticket", "The ticket is closed; open a new one")
    now = utcnow()
    message = TicketMessage(
        ticket=ticket, author=author, content=content, is_internal=is_internal, source=source, created_at=now
    )
    db.session.add(message)
    db.session.flush()
    claim_attachments(author, attachment_ids, message)
    audience = events.AUDIENCE_STAFF if is_internal else events.AUDIENCE_ALL
    # Published before any status move it causes, so listeners see the message, then the move.
    events.publish_after_commit(ticket.id, "new_message", message_out(message), audience)
    from_customer = author.id == ticket.user_id
    if not is_internal:
        ticket.last_message_at = now
        ticket.updated_at = now
        if staff and not from_customer:
            if ticket.first_response_at is None:
                ticket.first_response_at = now
            if ticket.assigned_to_id is None and can_be_assigned(author, ticket):
                assign(ticket, author, author)
            if ticket.status_enum in (TicketStatus.OPEN, TicketStatus.IN_PROGRESS):
                await_customer(ticket, author)
        elif from_customer and ticket.status_enum in (TicketStatus.WAITING_RESPONSE, TicketStatus.RESOLVED):
            start_work(ticket, author)
    db.session.flush()
    if not is_internal:
        if from_customer:
            _notify("notify_staff_customer_message", message)
        else:
            _notify("notify_customer_message", message)
    return message


def messages_query(ticket: Ticket, viewer: User):
    query = (
        db.select(TicketMessage)
        .where(TicketMessage.ticket_id == ticket.id)
        .order_by(TicketMessage.created_at, TicketMessage.id)
    )
    if not sees_internal(viewer, ticket):
        query = query.where(TicketMessage.is_internal.is_(False))
    return query


def message_stats(ticket_ids: list[uuid.UUID], include_internal: bool) -> dict[uuid.UUID, tuple[int, Any]]:
    """(messages count, last message time) per ticket, as the viewer may see them."""
    if not ticket_ids:
        return {}
    query = (
        db.select(TicketMessage.ticket_id, db.func.count(TicketMessage.id), db.func.max(TicketMessage.created_at))
        .where(TicketMessage.ticket_id.in_(ticket_ids))
        .group_by(TicketMessage.ticket_id)
    )
    if not include_internal:
        query = query.where(TicketMessage.is_internal.is_(False))
    return {ticket_id: (count, last) for ticket_id, count, last in db.session.execute(query)}
