"""Seed 003's ticket list as two plain SQL statements: the count, and one page of rows.

The list is the helpdesk's hottest read. Loading it through the ORM (tickets with three joined
relationships, the customers' Telegram accounts by a second query, message counts by a third) cost
about four times a trivial request, mostly in Python. So the page is one Core select of exactly the
columns the JSON shows: the ticket's own, its category's, the customer's and their first Telegram
account's, the assignee's, and the message count and last message time the viewer may see. The
page (ORDER BY … LIMIT) is cut from the tickets alone first, so the joins and the per-row
sub-queries run for that page's rows only.

Both statements are built once per shape (which filters are set, staff or customer) with bound
parameters and reused: building and cache-keying a select of this size per request cost more
CPU than running it. LIMIT and OFFSET are rendered as literals so PostgreSQL plans for a page.
Staff counts come from ``counts.cached_count`` (see there why that is exact).
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from webapp.core.db import iso
from webapp.core.models import TelegramAccount, User
from webapp.core.pagination import page_of, page_window
from webapp.core.roles import SEED_003_ROLE, Role
from webapp.extensions import db
from webapp.helpdesk.access import SHAPE_OWN, list_shape, shape_where
from webapp.helpdesk.models import Ticket, TicketCategory, TicketMessage
from webapp.helpdesk.serializers import shows_telegram_id
from webapp.helpdesk.services.counts import cached_count

# The list's filters: query name → the ticket column it compares.
FILTERS = {
    "status": Ticket.status,
    "category_id": Ticket.category_id,
    "priority": Ticket.priority,
    "assigned_to": Ticket.assigned_to_id,
}


def ticket_page(viewer: User, *, page: int, size: int, **filters: Any) -> dict[str, Any]:
    """The tickets ``viewer`` may see, newest first, filtered by ``FILTERS`` given (None: any):
    seed 003's page shape."""
    values = {name: value for name, value in filters.items() if value is not None}
    unknown = set(values) - set(FILTERS)
    if unknown:
        raise TypeError(f"unknown ticket filters: {sorted(unknown)}")
    cut, bound = list_shape(viewer)  # every desk, the viewer's desk, or the viewer's own tickets
    staff = cut != SHAPE_OWN
    values.update(bound)
    shape = (frozenset(values) - set(bound), cut)

    def count() -> int:
        return db.session.scalar(_count_statement(*shape), values) or 0

    total = cached_count(values, count) if staff else count()
    limit, offset = page_window(page, size)
    items = []
    if total > offset:
        rows = db.session.execute(_page_statement(*shape), {**values, "limit": limit, "offset": offset})
        items = [_item(row) for row in rows]
    return page_of(items, total, page, size)


def _where(names: frozenset[str], cut: str) -> list:
    return [FILTERS[name] == sa.bindparam(name) for name in sorted(names)] + shape_where(cut)


@functools.cache
def _count_statement(names: frozenset[str], cut: str) -> sa.Select:
    # count(*) straight over the tickets, not over a sub-select of entity columns: index-only when it can be.
    return sa.select(sa.func.count()).select_from(Ticket).where(*_where(names, cut))


@functools.cache
def _page_statement(names: frozenset[str], cut: str) -> sa.Select:
    page = (
        sa.select(
            Ticket.id,
            Ticket.title,
            Ticket.description,
            Ticket.status,
            Ticket.priority,
            Ticket.created_at,
            Ticket.updated_at,
            Ticket.category_id,
            Ticket.user_id,
            Ticket.assigned_to_id,
        )
        .where(*_where(names, cut))
        .order_by(Ticket.created_at.desc(), Ticket.id)
        .limit(sa.bindparam("limit", type_=sa.Integer, literal_execute=True))
        .offset(sa.bindparam("offset", type_=sa.Integer, literal_execute=True))
        .subquery("page")
    )
    customer = aliased(User, name="customer")
    assignee = aliased(User, name="assignee")
    columns = [
        *(page.c[name] for name in ("id", "title", "description", "status", "priority", "created_at", "updated_at")),
        TicketCategory.id.label("category_id"),
        TicketCategory.name.label("category_name"),
        TicketCategory.icon.label("category_icon"),
        TicketCategory.color.label("category_color"),
        customer.id.label("customer_id"),
        customer.first_name.label("customer_first_name"),
        customer.username.label("customer_username"),
        customer.role.label("customer_role"),
        assignee.id.label("assignee_id"),
        assignee.first_name.label("assignee_first_name"),
        assignee.username.label("assignee_username"),
        assignee.role.label("assignee_role"),
        *_message_columns(page.c.id, include_internal=cut != SHAPE_OWN),
    ]
    for column, label in ((TelegramAccount.telegram_user_id, "tg_id"), (TelegramAccount.username, "tg_username")):
        # The customer's first Telegram account (User.primary_telegram), one index probe per row.
        columns.append(
            sa.select(column)
            .where(TelegramAccount.user_id == page.c.user_id)
            .order_by(TelegramAccount.id)
            .limit(1)
            .scalar_subquery()
            .label(label)
        )
    return (
        sa.select(*columns)
        .select_from(page)
        .join(customer, customer.id == page.c.user_id)
        .outerjoin(TicketCategory, TicketCategory.id == page.c.category_id)
        .outerjoin(assignee, assignee.id == page.c.assigned_to_id)
        .order_by(page.c.created_at.desc(), page.c.id)
    )


def _message_columns(ticket_id, include_internal: bool) -> list:
    """Per ticket: how many messages the viewer may read, and when the last of them was written."""
    visible = [TicketMessage.ticket_id == ticket_id]
    if not include_internal:
        visible.append(TicketMessage.is_internal.is_(False))
    return [
        sa.select(sa.func.count()).where(*visible).scalar_subquery().label("messages_count"),
        sa.select(sa.func.max(TicketMessage.created_at)).where(*visible).scalar_subquery().label("last_message_at"),
    ]


def _item(row) -> dict[str, Any]:
    """Seed 003's list item: the shapes of ``serializers.ticket_base``, ``category_brief``, ``customer``
    and ``person``, from the row's columns."""
    category = (
        {"id": str(row.category_id), "name": row.category_name, "icon": row.category_icon, "color": row.category_color}
        if row.category_id is not None
        else None
    )
    assignee = (
        {
            "id": str(row.assignee_id),
            "first_name": row.assignee_first_name or row.assignee_username,
            "role": SEED_003_ROLE[Role(row.assignee_role)],
        }
        if row.assignee_id is not None
        else None
    )
    return {
        "id": str(row.id),
        "title": row.title,
        "description": row.description,
        "status": row.status,
        "priority": row.priority,
        "category": category,
        "user": {
            "id": str(row.customer_id),
            "telegram_id": row.tg_id if shows_telegram_id(row.customer_role) else None,
            "first_name": row.customer_first_name,
            "username": row.customer_username or row.tg_username,
        },
        "assigned_to": assignee,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "messages_count": row.messages_count,
        "last_message_at": iso(row.last_message_at),
    }
