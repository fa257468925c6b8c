"""Who may see and do what in the helpdesk: one layer for the API, the console, the sockets, the bot
and the jobs.

A desk is an organization. Superusers reach every desk; an organization's admin and helpers reach
their own organization's tickets, messages (internal notes included), attachments, categories,
status history and live events; a customer reaches their own tickets (seed 003's contract), never
internal notes. Everyone else — the platform moderator, doctors, realtors, marketers, and the staff
of other organizations — reaches nothing but tickets they opened themselves as customers.
Out of reach is "not found" (``tenancy.not_found``) for anyone working for an organization;
a customer asking for someone else's ticket keeps seed 003's 403.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import current_app

from webapp.core import tenancy
from webapp.core.models import Membership, Organization, TelegramAccount, User
from webapp.core.roles import Role
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.helpdesk.models import (
    CannedReply,
    DeskSettings,
    HelpdeskFile,
    Ticket,
    TicketCategory,
    TicketMessage,
    TicketStatusChange,
)
from webapp.telegram.models import Bot, Vertical

DESK_ROLES = (Role.ADMIN.value, Role.HELPER.value)


def _active(user: User | None) -> bool:
    return isinstance(user, User) and user.id is not None and user.is_active


def is_staff(user: User | None) -> bool:
    """Desk staff somewhere: a superuser, or an active helper or admin working for an organization."""
    if not _active(user):
        return False
    if user.role == Role.SUPERUSER.value:
        return True
    return user.role in DESK_ROLES and tenancy.organization_id_of(user) is not None


def is_admin(user: User | None) -> bool:
    """A desk admin: a superuser, or an organization's admin."""
    if not _active(user):
        return False
    return user.role == Role.SUPERUSER.value or (
        user.role == Role.ADMIN.value and tenancy.organization_id_of(user) is not None
    )


def desk_of(user: User | None) -> int | None:
    """The organization whose desk ``user`` staffs (None for superusers and non-staff)."""
    if not _active(user) or user.role not in DESK_ROLES:
        return None
    return tenancy.organization_id_of(user)


def is_staff_of(user: User | None, organization_id: int | None) -> bool:
    """Staff of the desk owning ``organization_id`` (superusers: of every desk)."""
    if not _active(user):
        return False
    if user.role == Role.SUPERUSER.value:
        return True
    return organization_id is not None and desk_of(user) == organization_id


def is_admin_of(user: User | None, organization_id: int | None) -> bool:
    return is_staff_of(user, organization_id) and user.role in (Role.SUPERUSER.value, Role.ADMIN.value)


# --- tickets and what hangs off them ---------------------------------------------------------------


def can_view_ticket(user: User | None, ticket: Ticket) -> bool:
    """The desk's staff, and the customer who opened it."""
    if not _active(user):
        return False
    return is_staff_of(user, ticket.organization_id) or ticket.user_id == user.id


can_read = can_view_ticket


def can_manage_ticket(user: User | None, ticket: Ticket) -> bool:
    """Staff actions (assign, priority, category, any status move, internal notes)."""
    return is_staff_of(user, ticket.organization_id)


def can_delete_ticket(user: User | None, ticket: Ticket) -> bool:
    return is_admin_of(user, ticket.organization_id)


def sees_internal(user: User | None, ticket: Ticket) -> bool:
    """Internal notes are for the ticket's desk staff only."""
    return is_staff_of(user, ticket.organization_id)


def can_read_message(user: User | None, message: TicketMessage) -> bool:
    ticket = message.ticket
    if message.is_internal:
        return sees_internal(user, ticket)
    return can_view_ticket(user, ticket)


def can_download(user: User | None, file: HelpdeskFile) -> bool:
    """The uploader (before and after attaching), or whoever may read the message it is attached to."""
    if not _active(user):
        return False
    if file.uploaded_by_id == user.id:
        return True
    return file.message is not None and can_read_message(user, file.message)


def can_view_status_change(user: User | None, change: TicketStatusChange) -> bool:
    ticket = db.session.get(Ticket, change.ticket_id)
    return ticket is not None and can_view_ticket(user, ticket)


def can_watch_ticket(user: User | None, ticket: Ticket) -> bool:
    """May open ``/ws/tickets/{id}``; staff events go to ``sees_internal`` sockets only."""
    return can_view_ticket(user, ticket)


def can_use_canned(user: User | None, reply: CannedReply) -> bool:
    """The desk's helpers and admins pick its canned replies; nobody else sees them."""
    return is_staff_of(user, reply.organization_id)


def can_edit_desk(user: User | None, organization_id: int | None) -> bool:
    """Canned replies and desk settings are written by the desk's admin (and superusers)."""
    return is_admin_of(user, organization_id)


def refusal(user: User | None, what: str = "Ticket") -> ServiceError:
    """How an unreachable object is refused: 404 to anyone working for an organization or the
    platform (nothing of another desk exists for them), seed 003's 403 to a customer."""
    if _active(user) and user.role == Role.USER.value:
        return ServiceError(f"You do not have access to this {what.lower()}", 403, "FORBIDDEN")
    return tenancy.not_found(what)


# --- queries ---------------------------------------------------------------------------------------


def organization_rule(user: User | None, column) -> sa.ColumnElement[bool] | None:
    """``column`` (an organization id) inside the desk ``user`` staffs; None: every desk; false: none."""
    if _active(user) and user.role == Role.SUPERUSER.value:
        return None
    desk = desk_of(user)
    return sa.false() if desk is None else column == desk


def scope(query: sa.Select, actor: User | None, model=Ticket) -> sa.Select:
    """``query`` over ``model`` cut to what ``actor`` may see."""
    if not _active(actor):
        return query.where(sa.false())
    if model is TicketCategory:
        rule = organization_rule(actor, TicketCategory.organization_id)
        if rule is None:
            return query
        if desk_of(actor) is not None:
            return query.where(rule)
        if actor.role != Role.USER.value:  # other staff and platform roles: their own organization's only
            own = tenancy.organization_id_of(actor)
            return query.where(sa.false() if own is None else TicketCategory.organization_id == own)
        desks = customer_desks(actor)
        if desks:
            return query.where(TicketCategory.organization_id.in_(desks), TicketCategory.is_active.is_(True))
        # A newcomer sees the default desk's menu; only when the platform has several desks and none
        # is the default do they pick among every desk's categories (seed 003's client knows no desk).
        query = query.where(TicketCategory.is_active.is_(True))
        default = default_desk()
        return query if default is None else query.where(TicketCategory.organization_id == default)
    if model is Ticket:  # as seed 003's list cuts it (``list_shape``): every desk, one desk, or one's own
        rule = organization_rule(actor, Ticket.organization_id)
        if rule is None:
            return query
        if desk_of(actor) is not None:
            return query.where(rule)
        return query.where(Ticket.user_id == actor.id)
    if model in (TicketMessage, TicketStatusChange):
        tickets = scope(sa.select(Ticket.id), actor, Ticket)
        query = query.where(model.ticket_id.in_(tickets))
        if model is TicketMessage:
            notes = organization_rule(actor, Ticket.organization_id)
            if notes is not None:
                staffed = sa.select(Ticket.id).where(notes)
                query = query.where(sa.or_(TicketMessage.is_internal.is_(False), TicketMessage.ticket_id.in_(staffed)))
        return query
    if model in (CannedReply, DeskSettings):  # the desk's staff (admins edit: ``can_edit_desk``)
        rule = organization_rule(actor, model.organization_id)
        return query if rule is None else query.where(rule)
    if model is HelpdeskFile:
        readable = scope(sa.select(TicketMessage.id), actor, TicketMessage)
        return query.where(sa.or_(HelpdeskFile.uploaded_by_id == actor.id, HelpdeskFile.message_id.in_(readable)))
    raise TypeError(f"no helpdesk scope for {model!r}")


# Seed 003's list is one statement built once per shape; these are its bound conditions.
SHAPE_ALL, SHAPE_DESK, SHAPE_OWN = "all", "desk", "own"


def list_shape(viewer: User) -> tuple[str, dict]:
    """How ``viewer``'s ticket list is cut, and the values it binds."""
    if _active(viewer) and viewer.role == Role.SUPERUSER.value:
        return SHAPE_ALL, {}
    desk = desk_of(viewer)
    if desk is not None:
        return SHAPE_DESK, {"viewer_org": desk}
    return SHAPE_OWN, {"viewer_id": viewer.id}


def shape_where(shape: str) -> list:
    if shape == SHAPE_DESK:
        return [Ticket.organization_id == sa.bindparam("viewer_org")]
    if shape == SHAPE_OWN:
        return [Ticket.user_id == sa.bindparam("viewer_id")]
    return []


# --- which desk --------------------------------------------------------------------------------------


def desk_organizations() -> list[int]:
    """Organizations running a desk: with a helpdesk bot or a category."""
    by_bot = sa.select(Bot.organization_id).where(
        Bot.vertical == Vertical.HELPDESK.value, Bot.organization_id.is_not(None)
    )
    by_category = sa.select(TicketCategory.organization_id)
    return sorted(set(db.session.scalars(sa.union(by_bot, by_category))))


def customer_desks(user: User) -> list[int]:
    """The desks ``user`` is a customer of: helpdesk bots they wrote to, then desks of their tickets."""
    by_bot = db.session.scalars(
        sa.select(Bot.organization_id)
        .join(TelegramAccount, TelegramAccount.bot_id == Bot.id)
        .where(
            TelegramAccount.user_id == user.id,
            Bot.vertical == Vertical.HELPDESK.value,
            Bot.organization_id.is_not(None),
        )
        .order_by(TelegramAccount.last_seen.desc().nulls_last(), TelegramAccount.id.desc())
    ).all()
    by_ticket = db.session.scalars(
        sa.select(Ticket.organization_id).where(Ticket.user_id == user.id).order_by(Ticket.created_at.desc())
    ).all()
    return list(dict.fromkeys([*by_bot, *by_ticket]))


def organization_for_new_ticket(author: User, category: TicketCategory | None, bot: Bot | None) -> int:
    """A ticket opened through a bot belongs to the bot's desk, through the API to its category's.

    Without a category (seed 003 lets the customer leave it out): the author's own desk if they
    staff one; a customer's desk (the helpdesk bot they came through, else their latest ticket's);
    else the configured default desk (``HELPDESK_DEFAULT_ORGANIZATION``), else the platform's only
    desk. With several desks and no clue, the category is required.
    """
    if bot is not None and bot.organization_id is not None:
        return bot.organization_id
    if category is not None:
        # Customers open tickets at any desk; staff only inside their own organization.
        if author.role != Role.USER.value and not tenancy.in_organization(author, category.organization_id):
            raise ServiceError("Category not found", 404, "NOT_FOUND", "category_id")
        return category.organization_id
    desk = desk_of(author)
    if desk is not None:
        return desk
    desks = customer_desks(author)
    if desks:
        return desks[0]
    default = default_desk(create=True)
    if default is not None:
        return default
    raise ServiceError("Choose a category for the ticket", 422, "VALIDATION_ERROR", "category_id")


def default_desk(create: bool = False) -> int | None:
    """The desk a customer with no other clue belongs to: the configured one
    (``HELPDESK_DEFAULT_ORGANIZATION``, created on first use when ``create``), else the platform's
    only desk; None when there are several and none is configured."""
    configured = (current_app.config.get("HELPDESK_DEFAULT_ORGANIZATION") or "").strip()
    if configured:
        if create:
            return tenancy.ensure_organization(configured).id
        return db.session.scalar(sa.select(Organization.id).where(Organization.name == " ".join(configured.split())))
    every = desk_organizations()
    return every[0] if len(every) == 1 else None


def organization_for_new_category(actor: User | None, organization_id: int | None) -> int:
    """An admin's category is its own desk's; a superuser names the organization (else the configured
    default desk, else the only desk)."""
    desk = desk_of(actor)
    if desk is not None:
        if organization_id is not None and organization_id != desk:
            raise tenancy.not_found("Organization", "organization_id")
        return desk
    if organization_id is not None:
        if db.session.get(Organization, organization_id) is None:
            raise tenancy.not_found("Organization", "organization_id")
        return organization_id
    default = default_desk(create=True)
    if default is not None:
        return default
    raise ServiceError("Choose the organization of the category", 422, "VALIDATION_ERROR", "organization_id")


# --- people ----------------------------------------------------------------------------------------


def desk_staff_query(organization_id: int) -> sa.Select:
    """Active helpers and admins of the desk (who tickets may be assigned to)."""
    return (
        sa.select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.organization_id == organization_id,
            User.is_active.is_(True),
            User.role.in_(DESK_ROLES),
        )
        .order_by(User.first_name, User.username, User.id)
    )


def can_be_assigned(user: User | None, ticket: Ticket) -> bool:
    return _active(user) and user.role in DESK_ROLES and desk_of(user) == ticket.organization_id


def organization_people(organization_id: int) -> sa.ColumnElement[bool]:
    """Users of an organization: its members, and its customers (a ticket in its desk, or a
    Telegram account on one of its bots)."""
    members = sa.select(Membership.user_id).where(Membership.organization_id == organization_id)
    return sa.or_(User.id.in_(members), tenancy.customers_of(organization_id))


@tenancy.customer_source
def _desk_customers(organization_id: int) -> sa.Select:
    return sa.select(Ticket.user_id).where(Ticket.organization_id == organization_id)


def scope_users(query: sa.Select, actor: User | None) -> sa.Select:
    """Seed 003's user directory: a superuser sees everyone, a desk admin its organization's people."""
    if _active(actor) and actor.role == Role.SUPERUSER.value:
        return query
    if not is_admin(actor):
        return query.where(sa.false())
    return query.where(organization_people(desk_of(actor)))


def can_see_user(actor: User | None, user: User) -> bool:
    if _active(actor) and actor.role == Role.SUPERUSER.value:
        return True
    if not is_admin(actor):
        return False
    query = sa.select(User.id).where(User.id == user.id, organization_people(desk_of(actor)))
    return db.session.scalar(query) is not None


def visible_ticket_ids(actor: User, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    return set(db.session.scalars(scope(sa.select(Ticket.id).where(Ticket.id.in_(ids)), actor)))


tenancy.declare_vertical(
    "helpdesk",
    lambda organization_id: sa.select(TicketCategory.id).where(TicketCategory.organization_id == organization_id),
)
