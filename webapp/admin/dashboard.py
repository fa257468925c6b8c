"""The console home: cards and charts that verticals contribute, each shown only to its roles."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import url_for
from flask_admin import expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from webapp.admin.base import HomeView as _GuardedHome
from webapp.admin.words import audit_value
from webapp.core.models import AuditLog, User
from webapp.core.roles import Role, user_has_role
from webapp.extensions import db


@dataclass(frozen=True)
class Card:
    title: object
    value: Callable[[], object]
    roles: tuple[Role, ...]
    endpoint: str | None = None  # the console view the card opens, if any


CARDS: list[Card] = []


def add_card(title, value: Callable[[], object], *roles: Role, endpoint: str | None = None) -> None:
    """Verticals call this at import time to put a figure on the home page (a link to ``endpoint``)."""
    CARDS.append(Card(title, value, roles or (Role.ADMIN,), endpoint))


def _users_by_role() -> dict[str, int]:
    rows = db.session.execute(db.select(User.role, db.func.count()).group_by(User.role)).all()
    return {role: count for role, count in rows}


add_card(_l("Users"), lambda: db.session.scalar(db.select(db.func.count(User.id))), Role.ADMIN)
add_card(
    _l("Blocked users"),
    lambda: db.session.scalar(db.select(db.func.count(User.id)).where(User.is_active.is_(False))),
    Role.ADMIN,
)


class HomeView(_GuardedHome):
    @expose("/")
    def index(self):
        cards = [
            (c.title, c.value(), url_for(c.endpoint) if c.endpoint else None)
            for c in CARDS
            if user_has_role(current_user, *c.roles)
        ]
        by_role = _users_by_role() if user_has_role(current_user, Role.ADMIN) else {}
        recent = []
        if user_has_role(current_user, Role.ADMIN):
            recent = db.session.scalars(db.select(AuditLog).order_by(AuditLog.id.desc()).limit(10)).all()
        return self.render("admin/home.html", cards=cards, by_role=by_role, recent=recent, audit_value=audit_value)
