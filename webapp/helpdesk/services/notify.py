"""Helpdesk notifications in Telegram: replies and status changes to the customer, new tickets and
customer messages to staff. Each is an outbox row written in the transaction of the change that
causes it (``webapp.telegram.outbox``), once per dedupe key; the outbox row also keeps the Telegram
message id, which is how a reply-to in Telegram finds its ticket (``ticket_for_reply``).
"""

from __future__ import annotations

import uuid

from webapp.core.models import User
from webapp.extensions import db
from webapp.helpdesk.access import sees_internal
from webapp.helpdesk.models import (
    HelpdeskFile,
    HelperAlertSubscription,
    Ticket,
    TicketMessage,
    TicketStatus,
    TicketStatusChange,
)
from webapp.helpdesk.services.files import read_file
from webapp.helpdesk.texts import priority_label, status_label, t
from webapp.telegram import outbox
from webapp.telegram.models import Vertical
from webapp.telegram.outbox import Chat, chat_for

EXCERPT = 3000  # leaves room for the frame text within Telegram's 4096


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "…"


def customer_chat(ticket: Ticket) -> Chat | None:
    """Where the customer talks to us: the bot of the ticket first, else any helpdesk bot of theirs."""
    return chat_for(ticket.user_id, ticket.bot_id, vertical=Vertical.HELPDESK.value)


def staff_chat(user: User) -> Chat | None:
    """A staff member's chat for alerts: the bot they subscribed with, if they still have it."""
    subscription = db.session.get(HelperAlertSubscription, user.id)
    if subscription is None or not subscription.enabled or not user.is_active:
        return None
    return chat_for(user, subscription.bot_id)


def ticket_subject(ticket_id: uuid.UUID) -> str:
    """The outbox ``subject`` of a ticket's messages: how a reply-to finds its ticket again."""
    return f"helpdesk_ticket:{ticket_id.hex}"


def file_attachment(file_id: str) -> tuple[str, bytes, str, str]:
    """An attachment of an outbox message, read at delivery time (see ``webapp.telegram.outbox``)."""
    file = db.session.get(HelpdeskFile, uuid.UUID(file_id))
    if file is None:
        raise LookupError(file_id)
    kind = "photo" if file.content_type in ("image/jpeg", "image/png") else "document"
    return kind, read_file(file), file.filename, file.content_type


def deliver(
    dedupe_key: str,
    ticket: Ticket,
    recipient: User,
    chat: Chat | None,
    text: str,
    attachments: list | None = None,
) -> int | None:
    """Put ``text`` (then the files) in the outbox once per ``dedupe_key``; None when written before
    or when there is no chat."""
    if chat is None:
        return None
    files = [{"source": f"{__name__}:file_attachment", "ref": str(file.id)} for file in attachments or []]
    return outbox.write(
        dedupe_key,
        "helpdesk",
        Chat(chat.bot_id, chat.chat_id, recipient.id),
        text,
        organization_id=ticket.organization_id,
        subject=ticket_subject(ticket.id),
        attachments=files,
    )


def notify_customer_message(message: TicketMessage) -> None:
    """A public staff reply reaches the customer's Telegram, with its attachments."""
    if message.is_internal:
        return
    ticket = message.ticket
    customer = ticket.user
    lang = customer.language
    text = t(lang, "💬 Reply to your ticket #%(ref)s «%(title)s»:", ref=ticket.ref, title=ticket.title)
    if message.content:
        text += "\n\n" + _excerpt(message.content)
    text += "\n\n" + t(lang, "Reply to this message to answer.")
    deliver(f"ticket-reply:{message.id}", ticket, customer, customer_chat(ticket), text, list(message.attachments))


def notify_customer_status(change: TicketStatusChange) -> None:
    """The customer hears of status changes made by staff; "waiting for you" comes with the reply itself."""
    if change.new_status == TicketStatus.WAITING_RESPONSE.value:
        return
    ticket = db.session.get(Ticket, change.ticket_id)
    if ticket is None:
        return
    customer = ticket.user
    lang = customer.language
    text = t(
        lang,
        "Ticket #%(ref)s «%(title)s»: %(status)s",
        ref=ticket.ref,
        title=ticket.title,
        status=status_label(lang, change.new_status),
    )
    deliver(f"ticket-status:{change.id}", ticket, customer, customer_chat(ticket), text)


def alert_helpers_new_ticket(ticket: Ticket) -> None:
    """Every subscribed staff member gets the new ticket in their Telegram; a reply-to answers it."""
    subscribers = db.session.scalars(
        db.select(HelperAlertSubscription).where(HelperAlertSubscription.enabled.is_(True))
    ).all()
    for subscription in subscribers:
        staff = subscription.user
        if staff.id == ticket.user_id or not sees_internal(staff, ticket):  # the ticket's own desk only
            continue
        lang = staff.language
        category = str(ticket.category) if ticket.category else "—"
        text = t(
            lang,
            "🆕 New ticket #%(ref)s · %(category)s · %(priority)s\nFrom: %(customer)s\n\n%(title)s",
            ref=ticket.ref,
            category=category,
            priority=priority_label(lang, ticket.priority),
            customer=ticket.user.display_name,
            title=ticket.title,
        )
        if ticket.description:
            text += "\n\n" + _excerpt(ticket.description)
        text += "\n\n" + t(lang, "Reply to this message to answer the customer.")
        deliver(f"ticket-new:{ticket.id}:{staff.id}", ticket, staff, staff_chat(staff), text)


def notify_staff_customer_message(message: TicketMessage) -> None:
    """A customer's message goes to the assignee's Telegram (or, unassigned, to every subscriber)."""
    if message.is_internal:
        return
    ticket = message.ticket
    if ticket.assigned_to is not None:
        recipients = [ticket.assigned_to]
    else:
        recipients = [
            s.user
            for s in db.session.scalars(
                db.select(HelperAlertSubscription).where(HelperAlertSubscription.enabled.is_(True))
            )
        ]
    for staff in recipients:
        if staff.id == message.author_id or not sees_internal(staff, ticket):  # the ticket's own desk only
            continue
        lang = staff.language
        text = t(
            lang,
            "✉️ Ticket #%(ref)s «%(title)s» — %(name)s wrote:",
            ref=ticket.ref,
            title=ticket.title,
            name=ticket.user.display_name,
        )
        if message.content:
            text += "\n\n" + _excerpt(message.content)
        if message.attachments:
            text += "\n📎 " + ", ".join(f.filename for f in message.attachments)
        text += "\n\n" + t(lang, "Reply to this message to answer.")
        deliver(f"ticket-customer:{message.id}:{staff.id}", ticket, staff, staff_chat(staff), text)
