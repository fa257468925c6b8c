"""Seed 003's user directory: filters by seed role, activity and name; ticket counts; last activity."""

from __future__ import annotations

import sqlalchemy as sa

from webapp.core.models import Organization, TelegramAccount, User
from webapp.core.roles import ORGANIZATION_ROLES, SEED_003_ROLE, Role
from webapp.extensions import db
from webapp.helpdesk.models import Ticket, TicketMessage


def platform_roles_for(seed_role: str) -> list[str]:
    """The platform role shown as ``seed_role``."""
    return [role.value for role, shown in SEED_003_ROLE.items() if shown == seed_role]


def users_query(role: str | None = None, is_active: bool | None = None, search: str | None = None) -> sa.Select:
    query = db.select(User).order_by(User.created_at.desc(), User.id)
    if role:
        query = query.where(User.role.in_(platform_roles_for(role)))
    if is_active is not None:
        query = query.where(User.is_active.is_(is_active))
    if search:
        pattern = f"%{search.lower()}%"
        by_telegram = db.select(TelegramAccount.user_id).where(sa.func.lower(TelegramAccount.username).like(pattern))
        query = query.where(
            sa.or_(
                sa.func.lower(User.first_name).like(pattern),
                sa.func.lower(User.last_name).like(pattern),
                sa.func.lower(User.username).like(pattern),
                User.id.in_(by_telegram),
            )
        )
    return query


def activity_of(user_ids: list) -> dict:
    """user id → (tickets count, last activity): latest of login, Telegram contact, helpdesk message."""
    if not user_ids:
        return {}
    tickets = dict(
        db.session.execute(
            db.select(Ticket.user_id, sa.func.count()).where(Ticket.user_id.in_(user_ids)).group_by(Ticket.user_id)
        ).all()
    )
    seen = dict(
        db.session.execute(
            db.select(TelegramAccount.user_id, sa.func.max(TelegramAccount.last_seen))
            .where(TelegramAccount.user_id.in_(user_ids))
            .group_by(TelegramAccount.user_id)
        ).all()
    )
    wrote = dict(
        db.session.execute(
            db.select(TicketMessage.author_id, sa.func.max(TicketMessage.created_at))
            .where(TicketMessage.author_id.in_(user_ids))
            .group_by(TicketMessage.author_id)
        ).all()
    )
    logins = dict(db.session.execute(db.select(User.id, User.last_login_at).where(User.id.in_(user_ids))).all())
    result = {}
    for user_id in user_ids:
        moments = [m for m in (logins.get(user_id), seen.get(user_id), wrote.get(user_id)) if m is not None]
        result[user_id] = (tickets.get(user_id, 0), max(moments) if moments else None)
    return result


def change_desk_role(actor: User, target: User, new_role: Role) -> User:
    """Seed 003's role change, kept inside the desk: a desk admin's new helper (or other staff) joins
    the admin's organization; whoever becomes a customer or a platform role leaves theirs. A
    superuser's change keeps the target's organization (a new member joins the one desk they are a
    customer of, if exactly one)."""
    from webapp.core import tenancy
    from webapp.core.services import change_role
    from webapp.helpdesk.access import customer_desks, desk_of

    change_role(actor, target, new_role, source="api")
    db.session.flush()
    if new_role not in ORGANIZATION_ROLES:
        tenancy.set_membership(actor, target, None, source="api")
        return target
    organization_id = desk_of(actor)
    if organization_id is None:  # a superuser
        if tenancy.organization_id_of(target) is not None:
            return target
        desks = customer_desks(target)
        if len(desks) != 1:
            return target
        organization_id = desks[0]
    tenancy.set_membership(actor, target, db.session.get(Organization, organization_id), source="api")
    return target
