"""Helpdesk jobs: Telegram notifications of replies, status changes and new tickets; file clean-up.

Every notification is claimed by a unique ``dedupe_key`` row before it is sent, so a job that runs
twice (worker crash, retry) never sends a message twice. The delivery row also remembers the
Telegram message id, which is how a reply-to in Telegram finds its ticket.
"""

from __future__ import annotations

import logging
import uuid

from webapp.core.db import insert_missing
from webapp.core.models import TelegramAccount, User
from webapp.extensions import db
from webapp.helpdesk.access import sees_internal
from webapp.helpdesk.models import (
    HelpdeskDelivery,
    HelperAlertSubscription,
    Ticket,
    TicketMessage,
    TicketStatus,
    TicketStatusChange,
)
from webapp.helpdesk.texts import priority_label, status_label, t
from webapp.jobs.context import with_app_context
from webapp.jobs.schedule import periodic
from webapp.telegram.models import Bot, Vertical

log = logging.getLogger(__name__)
EXCERPT = 3000  # leaves room for the frame text within Telegram's 4096


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[:EXCERPT] + "…"


def customer_chat(ticket: Ticket) -> TelegramAccount | None:
    """Where the customer talks to us: the bot of the ticket first, else any helpdesk bot of theirs."""
    accounts = [a for a in ticket.user.telegram_accounts if a.bot_id is not None and not a.blocked_bot and a.chat_id]
    for account in accounts:
        if account.bot_id == ticket.bot_id:
            return account
    helpdesk_bots = set(
        db.session.scalars(db.select(Bot.id).where(Bot.vertical == Vertical.HELPDESK.value, Bot.enabled.is_(True)))
    )
    return next((a for a in accounts if a.bot_id in helpdesk_bots), None)


def staff_chat(user: User) -> TelegramAccount | None:
    """A staff member's chat for alerts: the bot they subscribed with, if they still have it."""
    subscription = db.session.get(HelperAlertSubscription, user.id)
    if subscription is None or not subscription.enabled or not user.is_active:
        return None
    return db.session.scalar(
        db.select(TelegramAccount).where(
            TelegramAccount.user_id == user.id,
            TelegramAccount.bot_id == subscription.bot_id,
            TelegramAccount.blocked_bot.is_(False),
        )
    )


def _claim(dedupe_key: str, ticket: Ticket, recipient: User, account: TelegramAccount) -> HelpdeskDelivery | None:
    values = {
        "ticket_id": ticket.id,
        "recipient_id": recipient.id,
        "bot_id": account.bot_id,
        "chat_id": account.chat_id,
    }
    if not insert_missing(HelpdeskDelivery, {"dedupe_key": dedupe_key, **values}, ("dedupe_key",)):
        return None  # sent, or being sent, by an earlier or concurrent run
    db.session.commit()  # the claim stands before the message leaves, so a second run never re-sends it
    return db.session.scalar(db.select(HelpdeskDelivery).filter_by(dedupe_key=dedupe_key))


def deliver(
    dedupe_key: str,
    ticket: Ticket,
    recipient: User,
    account: TelegramAccount | None,
    text: str,
    attachments: list | None = None,
) -> HelpdeskDelivery | None:
    """Send ``text`` (then the files) once per ``dedupe_key``; None when already sent or no chat."""
    from webapp.helpdesk.services.files import read_file
    from webapp.telegram.send import send_document, send_message, send_photo

    if account is None:
        return None
    row = _claim(dedupe_key, ticket, recipient, account)
    if row is None:
        return None
    result = send_message(account.bot_id, account.chat_id, text)
    row.status = "sent" if result.ok else "failed"
    row.telegram_message_id = result.message_id
    if not result.ok:
        row.error = ("blocked" if result.blocked else (result.error or "failed"))[:255]
    db.session.commit()
    for file in attachments if result.ok and attachments else []:
        try:
            content = read_file(file)
        except OSError:
            log.exception("helpdesk file %s is missing from storage", file.id)
            continue
        if file.content_type in ("image/jpeg", "image/png"):
            send_photo(account.bot_id, account.chat_id, content, filename=file.filename, mime_type=file.content_type)
        else:
            send_document(account.bot_id, account.chat_id, content, file.filename, mime_type=file.content_type)
    db.session.commit()
    return row


def _get(model, key: str):
    try:
        return db.session.get(model, uuid.UUID(key) if model is not TicketStatusChange else int(key))
    except ValueError:
        return None


@with_app_context
def notify_customer_message(message_id: str) -> None:
    """A public staff reply reaches the customer's Telegram, with its attachments."""
    message = _get(TicketMessage, message_id)
    if message is None or message.is_internal:
        return
    ticket = message.ticket
    customer = ticket.user
    lang = customer.language
    text = t(lang, "💬 Reply to your ticket #%(ref)s «%(title)s»:", ref=ticket.ref, title=ticket.title)
    if message.content:
        text += "\n\n" + _excerpt(message.content)
    text += "\n\n" + t(lang, "Reply to this message to answer.")
    deliver(f"reply:{message.id}", ticket, customer, customer_chat(ticket), text, list(message.attachments))


@with_app_context
def notify_customer_status(change_id: str) -> None:
    """The customer hears of status changes made by staff; "waiting for you" comes with the reply itself."""
    change = _get(TicketStatusChange, change_id)
    if change is None or change.new_status == TicketStatus.WAITING_RESPONSE.value:
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
    deliver(f"status:{change.id}", ticket, customer, customer_chat(ticket), text)


@with_app_context
def alert_helpers_new_ticket(ticket_id: str) -> None:
    """Every subscribed staff member gets the new ticket in their Telegram; a reply-to answers it."""
    ticket = _get(Ticket, ticket_id)
    if ticket is None:
        return
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
        deliver(f"new:{ticket.id}:{staff.id}", ticket, staff, staff_chat(staff), text)


@with_app_context
def notify_staff_customer_message(message_id: str) -> None:
    """A customer's message goes to the assignee's Telegram (or, unassigned, to every subscriber)."""
    message = _get(TicketMessage, message_id)
    if message is None or message.is_internal:
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
        deliver(f"customer:{message.id}:{staff.id}", ticket, staff, staff_chat(staff), text)


@with_app_context
def purge_orphan_files() -> int:
    from webapp.helpdesk.services.files import purge_orphan_files as purge

    count = purge()
    db.session.commit()
    return count


periodic("helpdesk.purge_orphan_files", purge_orphan_files, queue="default", interval=3600)
