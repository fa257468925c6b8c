"""Who may see and do what in the helpdesk: one module, used by API, console, sockets and bot."""

from __future__ import annotations

import sqlalchemy as sa

from webapp.core.models import User
from webapp.core.roles import Role, user_has_role
from webapp.helpdesk.models import HelpdeskFile, Ticket


def is_staff(user: User | None) -> bool:
    """Helpdesk staff: helpers and everyone ranked above them (moderators, admins, superusers)."""
    return user_has_role(user, Role.HELPER)


def is_admin(user: User | None) -> bool:
    return user_has_role(user, Role.ADMIN)


def can_view_ticket(user: User | None, ticket: Ticket) -> bool:
    """Staff see every ticket; a customer only their own."""
    if user is None or not user.is_active:
        return False
    return is_staff(user) or ticket.user_id == user.id


def visible_tickets(user: User, query: sa.Select) -> sa.Select:
    return query if is_staff(user) else query.where(Ticket.user_id == user.id)


def visible_tickets_where(staff: bool) -> list:
    """``visible_tickets`` as clauses of a statement built once: the viewer is bound as ``viewer_id``."""
    return [] if staff else [Ticket.user_id == sa.bindparam("viewer_id")]


def can_download(user: User | None, file: HelpdeskFile) -> bool:
    """The uploader, or whoever may read the message the file is attached to."""
    if user is None or not user.is_active:
        return False
    if file.uploaded_by_id == user.id:
        return True
    message = file.message
    if message is None:
        return False
    if message.is_internal and not is_staff(user):
        return False
    return can_view_ticket(user, message.ticket)
