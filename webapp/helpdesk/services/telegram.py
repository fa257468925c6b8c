"""The helpdesk's Telegram side: staff alert subscriptions, and finding the ticket a reply-to means."""

from __future__ import annotations

import uuid

from webapp.core.db import insert_missing
from webapp.core.models import User
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.helpdesk.access import is_staff_of
from webapp.helpdesk.models import HelperAlertSubscription, Ticket, TicketStatus
from webapp.helpdesk.services.access import can_view_ticket, is_staff
from webapp.helpdesk.services.categories import get_category
from webapp.helpdesk.services.tickets import get_ticket, messages_query
from webapp.telegram.models import Bot, OutboundMessage


def alerts_enabled(user: User) -> bool:
    subscription = db.session.get(HelperAlertSubscription, user.id)
    return bool(subscription and subscription.enabled)


def set_alerts(user: User, bot_id: int, enabled: bool) -> HelperAlertSubscription:
    """Staff choose whether new tickets are announced in their chat with ``bot_id`` (their own desk's
    bot; a platform bot without an organization serves any desk's staff)."""
    bot = db.session.get(Bot, bot_id)
    desk = bot.organization_id if bot is not None else None
    if not (is_staff_of(user, desk) if desk is not None else is_staff(user)):
        raise ServiceError("Only helpdesk staff receive ticket alerts", 403, "FORBIDDEN")
    subscription = db.session.get(HelperAlertSubscription, user.id)
    if subscription is None:
        values = {"user_id": user.id, "bot_id": bot_id, "enabled": enabled}
        insert_missing(HelperAlertSubscription, values, ("user_id",))
        subscription = db.session.get(HelperAlertSubscription, user.id)
    subscription.bot_id = bot_id
    subscription.enabled = enabled
    db.session.flush()
    return subscription


def ticket_for_reply(user: User, bot_id: int, chat_id: int, replied_message_id: int) -> Ticket | None:
    """The ticket behind a helpdesk message we sent to ``user`` in this chat, if they may still see it."""
    subject = db.session.scalar(
        db.select(OutboundMessage.subject).where(
            OutboundMessage.bot_id == bot_id,
            OutboundMessage.chat_id == chat_id,
            OutboundMessage.telegram_message_id == replied_message_id,
            OutboundMessage.user_id == user.id,
            OutboundMessage.subject.startswith("helpdesk_ticket:"),
        )
    )
    if subject is None:
        return None
    ticket = db.session.get(Ticket, uuid.UUID(subject.partition(":")[2]))
    return ticket if ticket is not None and can_view_ticket(user, ticket) else None


def customer_tickets(user: User, limit: int = 10) -> list[Ticket]:
    """The customer's tickets for the bot's list: open ones first, newest first."""
    closed_last = db.case((Ticket.status == TicketStatus.CLOSED.value, 1), else_=0)
    return list(
        db.session.scalars(
            db.select(Ticket)
            .where(Ticket.user_id == user.id)
            .order_by(closed_last, Ticket.created_at.desc())
            .limit(limit)
        )
    )


# --- what the bot loads from its buttons -------------------------------------------------------------


def bot_ticket(user: User, ticket_id: str) -> Ticket | None:
    """Ticket ``ticket_id`` (a UUID) if ``user`` may see it; None for anyone else's, a missing one or
    a malformed id."""
    ticket = get_ticket(ticket_id) if ticket_id else None
    return ticket if ticket is not None and can_view_ticket(user, ticket) else None


def bot_category(category_id: str, desk_organization_id: int | None):
    """An active category a bot of ``desk_organization_id`` offers (None: a platform bot, every
    desk's); None for another desk's, an inactive or a missing one."""
    category = get_category(category_id)
    if category is None or not category.is_active:
        return None
    return category if desk_organization_id in (None, category.organization_id) else None


def recent_messages(ticket: Ticket, viewer: User, limit: int) -> list:
    """The last ``limit`` messages of ``ticket`` that ``viewer`` may read, oldest first."""
    return list(db.session.scalars(messages_query(ticket, viewer)))[-limit:]
