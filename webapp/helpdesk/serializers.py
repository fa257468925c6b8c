"""Seed 003's JSON shapes, shared by the API, the live events and the console."""

from __future__ import annotations

from webapp.core.db import iso
from webapp.core.models import User
from webapp.core.roles import SEED_003_ROLE, Role
from webapp.helpdesk.models import HelpdeskFile, Ticket, TicketCategory, TicketMessage


def seed_role(user: User) -> str:
    return SEED_003_ROLE[Role(user.role)]


def person(user: User | None) -> dict | None:
    """A staff member or author as others see them: no contact details."""
    if user is None:
        return None
    return {"id": str(user.id), "first_name": user.first_name or user.username, "role": seed_role(user)}


def shows_telegram_id(role: str) -> bool:
    """A ticket's author is shown with their Telegram id when a customer: the desk answers them
    there. A staff author's id is a login target (see ``api.may_see_telegram_id``) and stays hidden."""
    return role == Role.USER.value


def customer(user: User) -> dict:
    account = user.primary_telegram
    return {
        "id": str(user.id),
        "telegram_id": account.telegram_user_id if account and shows_telegram_id(user.role) else None,
        "first_name": user.first_name,
        "username": user.username or (account.username if account else None),
    }


def category_brief(category: TicketCategory | None) -> dict | None:
    if category is None:
        return None
    return {"id": str(category.id), "name": category.name, "icon": category.icon, "color": category.color}


def category_out(category: TicketCategory) -> dict:
    return {
        "id": str(category.id),
        "name": category.name,
        "description": category.description,
        "icon": category.icon,
        "color": category.color,
        "is_active": category.is_active,
        "sort_order": category.sort_order,
    }


def file_url(file: HelpdeskFile) -> str:
    # A plain path, not url_for: events are also serialised in bot updates and jobs (no request).
    return f"/api/v1/files/{file.id}"


def file_out(file: HelpdeskFile) -> dict:
    return {
        "id": str(file.id),
        "filename": file.filename,
        "size": file.size,
        "content_type": file.content_type,
        "url": file_url(file),
        "created_at": iso(file.created_at),
    }


def ticket_base(ticket: Ticket) -> dict:
    return {
        "id": str(ticket.id),
        "title": ticket.title,
        "description": ticket.description,
        "status": ticket.status,
        "priority": ticket.priority,
    }


def ticket_created(ticket: Ticket) -> dict:
    return {
        **ticket_base(ticket),
        "category_id": str(ticket.category_id) if ticket.category_id else None,
        "user_id": str(ticket.user_id),
        "created_at": iso(ticket.created_at),
    }


def ticket_detail(ticket: Ticket) -> dict:
    category = category_brief(ticket.category)
    return {
        **ticket_base(ticket),
        "category": category,
        "user": customer(ticket.user),
        "assigned_to": person(ticket.assigned_to),
        "created_at": iso(ticket.created_at),
        "updated_at": iso(ticket.updated_at),
        "closed_at": iso(ticket.closed_at),
        "first_response_at": iso(ticket.first_response_at),
    }


def message_out(message: TicketMessage) -> dict:
    return {
        "id": str(message.id),
        "ticket_id": str(message.ticket_id),
        "content": message.content,
        "user": person(message.author),
        "attachments": [file_out(f) for f in message.attachments],
        "is_internal": message.is_internal,
        "created_at": iso(message.created_at),
    }


def message_created(message: TicketMessage) -> dict:
    return {
        "id": str(message.id),
        "content": message.content,
        "user_id": str(message.author_id) if message.author_id else None,
        "ticket_id": str(message.ticket_id),
        "is_internal": message.is_internal,
        "attachments": [file_out(f) for f in message.attachments],
        "created_at": iso(message.created_at),
    }
