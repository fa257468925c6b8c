"""The console home: cards and charts that verticals contribute, each shown only to its roles.

A card's figure is the viewer's organization's (a superuser's: the platform's): a card's value takes
the viewer (``value(viewer)``) and scopes its query through its vertical's access layer. A value that
takes no argument cannot know whose figures to count, so it is a platform figure shown to the platform's
roles only (superuser, moderator), never to an organization's staff.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from flask import url_for
from flask_admin import expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from webapp.admin.base import HomeView as _GuardedHome
from webapp.admin.base import vertical_of_module
from webapp.admin.words import audit_target, audit_value
from webapp.core import tenancy
from webapp.core.models import AuditLog, Membership, User
from webapp.core.roles import PLATFORM_ROLES, Role, user_has_role
from webapp.extensions import db


@dataclass(frozen=True)
class Card:
    title: object
    value: Callable[..., object]
    roles: tuple[Role, ...]
    endpoint: str | None = None  # the console view the card opens, if any

    @property
    def per_viewer(self) -> bool:
        return bool(inspect.signature(self.value).parameters)

    def shown_to(self, viewer) -> bool:
        if not user_has_role(viewer, *self.roles):
            return False
        if not tenancy.runs_vertical(viewer, vertical_of_module(self.value.__module__)):
            return False
        return self.per_viewer or Role.parse(viewer.role) in PLATFORM_ROLES

    def figure(self, viewer) -> object:
        return self.value(viewer) if self.per_viewer else self.value()


CARDS: list[Card] = []


def add_card(title, value: Callable[[], object], *roles: Role, endpoint: str | None = None) -> None:
    """Verticals call this at import time to put a figure on the home page (a link to ``endpoint``)."""
    CARDS.append(Card(title, value, roles or (Role.ADMIN,), endpoint))


def users_of(viewer, query):
    """``query`` over User narrowed to the viewer's organization's staff (a superuser: everyone)."""
    rule = tenancy.organization_rule(viewer, Membership.organization_id)
    if rule is None:
        return query
    return query.where(User.id.in_(db.select(Membership.user_id).where(rule)))


def _users_by_role(viewer) -> dict[str, int]:
    rows = db.session.execute(users_of(viewer, db.select(User.role, db.func.count()).group_by(User.role))).all()
    return {role: count for role, count in rows}


def _users(viewer) -> int:
    return db.session.scalar(users_of(viewer, db.select(db.func.count(User.id))))


def _blocked_users(viewer) -> int:
    return db.session.scalar(users_of(viewer, db.select(db.func.count(User.id)).where(User.is_active.is_(False))))


def recent_changes(viewer, limit: int = 10) -> list[AuditLog]:
    from webapp.admin.users import audit_scope

    return db.session.scalars(audit_scope(db.select(AuditLog), viewer).order_by(AuditLog.id.desc()).limit(limit)).all()


add_card(_l("Users"), _users, Role.ADMIN)
add_card(_l("Blocked users"), _blocked_users, Role.ADMIN)


class HomeView(_GuardedHome):
    @expose("/")
    def index(self):
        cards = [
            (c.title, c.figure(current_user), url_for(c.endpoint) if c.endpoint else None)
            for c in CARDS
            if c.shown_to(current_user)
        ]
        by_role = _users_by_role(current_user) if user_has_role(current_user, Role.ADMIN) else {}
        recent = recent_changes(current_user) if user_has_role(current_user, Role.ADMIN) else []
        return self.render(
            "admin/home.html",
            cards=cards,
            by_role=by_role,
            recent=recent,
            audit_value=audit_value,
            audit_target=audit_target,
        )
