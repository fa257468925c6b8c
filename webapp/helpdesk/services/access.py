"""The helpdesk's access rules live in ``webapp.helpdesk.access``; the services import them from here."""

from __future__ import annotations

import sqlalchemy as sa

from webapp.core.models import User
from webapp.helpdesk.access import (
    can_download,
    can_manage_ticket,
    can_view_ticket,
    is_admin,
    is_staff,
    refusal,
    scope,
    sees_internal,
)
from webapp.helpdesk.models import Ticket

__all__ = [
    "can_download",
    "can_manage_ticket",
    "can_view_ticket",
    "is_admin",
    "is_staff",
    "refusal",
    "scope",
    "sees_internal",
    "visible_tickets",
]


def visible_tickets(user: User, query: sa.Select) -> sa.Select:
    return scope(query, user, Ticket)
