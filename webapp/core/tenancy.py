"""Which organization a staff account works for, and the one condition every access layer adds.

Every vertical's ``access.py`` confines an actor to their organization through
``organization_rule``: the platform itself (``SYSTEM``) and superusers reach every organization,
an organization's staff reach their own, and anyone else — a platform moderator, a customer, an
organization role without a membership — reaches no organization's private rows. What is out of
reach is "not found" to the caller (``not_found``), never "forbidden".
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from webapp.core.actors import SYSTEM, Actor
from webapp.core.db import insert_missing
from webapp.core.models import Membership, Organization, User
from webapp.core.roles import ORGANIZATION_ROLES, Role
from webapp.core.services import ServiceError, record_audit
from webapp.extensions import db


def is_superuser(actor: Actor | None) -> bool:
    return isinstance(actor, User) and actor.is_active and actor.role == Role.SUPERUSER.value


def sees_every_organization(actor: Actor | None) -> bool:
    return actor is SYSTEM or is_superuser(actor)


def organization_id_of(actor: Actor | None) -> int | None:
    """The organization an active staff account works for; None for everyone else."""
    if not isinstance(actor, User) or actor.id is None or not actor.is_active:
        return None
    if Role.parse(actor.role) not in ORGANIZATION_ROLES:
        return None
    return db.session.scalar(sa.select(Membership.organization_id).where(Membership.user_id == actor.id))


def organization_of(actor: Actor | None) -> Organization | None:
    organization_id = organization_id_of(actor)
    return db.session.get(Organization, organization_id) if organization_id is not None else None


def organization_rule(actor: Actor | None, column) -> sa.ColumnElement[bool] | None:
    """The condition on ``column`` (an ``organization_id``) that keeps ``actor`` inside their
    organization; None when the actor reaches every organization."""
    if sees_every_organization(actor):
        return None
    organization_id = organization_id_of(actor)
    return sa.false() if organization_id is None else column == organization_id


def in_organization(actor: Actor | None, organization_id: int | None) -> bool:
    """Whether an object owned by ``organization_id`` is inside ``actor``'s reach."""
    if sees_every_organization(actor):
        return True
    return organization_id is not None and organization_id == organization_id_of(actor)


# --- an organization's customers --------------------------------------------------------------------

# Where an organization's customers come from: a Telegram account on one of its bots, and whatever each
# vertical ties to one (a ticket at its desk, a visit to its clinic, a booking at its agency). A vertical
# adds its source at import with ``customer_source``.
CUSTOMER_SOURCES: list[Callable[[int], sa.Select]] = []


def customer_source(source: Callable[[int], sa.Select]) -> Callable[[int], sa.Select]:
    CUSTOMER_SOURCES.append(source)
    return source


@customer_source
def _bot_customers(organization_id: int) -> sa.Select:
    from webapp.core.models import TelegramAccount
    from webapp.telegram.models import Bot

    return (
        sa.select(TelegramAccount.user_id)
        .join(Bot, Bot.id == TelegramAccount.bot_id)
        .where(Bot.organization_id == organization_id)
    )


def customers_of(organization_id: int) -> sa.ColumnElement[bool]:
    """The condition on User: a customer of ``organization_id``."""
    return sa.and_(
        User.role == Role.USER.value,
        sa.or_(*(User.id.in_(source(organization_id)) for source in CUSTOMER_SOURCES)),
    )


def not_found(what: str, field: str | None = None) -> ServiceError:
    return ServiceError(f"{what} not found", 404, "NOT_FOUND", field)


def require_in_organization(actor: Actor | None, organization_id: int | None, what: str) -> None:
    if not in_organization(actor, organization_id):
        raise not_found(what)


# --- organizations and memberships -----------------------------------------------------------------


def ensure_organization(name: str) -> Organization:
    """The organization called ``name``, created on first use (race-safe: the name is unique)."""
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError("An organization needs a name", 400, "VALIDATION_ERROR", "name")
    insert_missing(Organization, {"name": name, "is_active": True}, ("name",))
    return db.session.scalar(sa.select(Organization).where(Organization.name == name))


def set_membership(actor: User | None, user: User, organization: Organization | None, source: str = "api") -> None:
    """Put ``user`` in ``organization`` (None: take them out), audited. An account works for one
    organization at most; only organization roles belong to one."""
    if organization is not None and Role.parse(user.role) not in ORGANIZATION_ROLES:
        raise ServiceError("Only organization staff belong to an organization", 409, "CONFLICT", "user_id")
    member = db.session.get(Membership, user.id)
    old = member.organization_id if member else None
    new = organization.id if organization else None
    if old == new:
        return
    if organization is None:
        db.session.delete(member)
    else:  # a concurrent move of the same user may insert first: then this one moves that row
        if member is None:
            insert_missing(Membership, {"user_id": user.id, "organization_id": new}, ("user_id",))
            member = db.session.get(Membership, user.id)
        member.organization_id = new
    db.session.flush()
    record_audit(actor, "membership.change", "user", str(user.id), old, new, source)


# --- which verticals an organization runs --------------------------------------------------------

# A vertical declares, with ``declare_vertical``, what shows an organization runs it (a clinic row, an
# agency, a desk category); a bot of the vertical shows it too. Menus and home cards of verticals an
# organization does not run are hidden from its staff: a clinic's admin has no use for empty
# Finance pages. An organization that runs nothing yet is being set up and sees every vertical.
VERTICAL_ANCHORS: dict[str, list[Callable[[int], sa.Select]]] = {}
# Views of one package that serve another vertical's bots too: realty's console moderates the
# reports bot's marketplace.
VERTICAL_BOTS: dict[str, tuple[str, ...]] = {"realty": ("realty", "reports")}


def declare_vertical(vertical: str, *anchors: Callable[[int], sa.Select]) -> None:
    """``vertical``'s console is for the organizations that own one of its bots or any row an
    ``anchor(organization_id)`` selects."""
    VERTICAL_ANCHORS.setdefault(vertical, []).extend(anchors)


def verticals_run_by(organization_id: int) -> frozenset[str]:
    from webapp.telegram.models import Bot

    bot_verticals = set(
        db.session.scalars(sa.select(Bot.vertical).where(Bot.organization_id == organization_id).distinct())
    )
    run = set()
    for vertical, anchors in VERTICAL_ANCHORS.items():
        own_bots = VERTICAL_BOTS.get(vertical, (vertical,))
        if bot_verticals.intersection(own_bots) or any(
            db.session.scalar(sa.select(sa.exists(anchor(organization_id)))) for anchor in anchors
        ):
            run.add(vertical)
    return frozenset(run)


def runs_vertical(actor: Actor | None, vertical: str | None) -> bool:
    """Whether ``actor``'s console shows ``vertical``: platform roles see every vertical, an
    organization's staff the verticals it runs (every one while it runs none)."""
    if vertical not in VERTICAL_ANCHORS:
        return True  # shared parts (users, bots, broadcasts) serve every organization
    organization_id = organization_id_of(actor)
    if organization_id is None:
        return True  # the platform's roles; access layers keep everyone else out of the rows
    from flask import g, has_request_context

    cache = g.setdefault("verticals_run_by", {}) if has_request_context() else {}
    if organization_id not in cache:
        cache[organization_id] = verticals_run_by(organization_id)
    run = cache[organization_id]
    return not run or vertical in run
