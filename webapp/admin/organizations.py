"""The organizations console (superusers only): every organization with its bots and staff, a new
organization together with its first admin (SPEC: the superuser creates organizations and their
first admin), and switching an organization on or off."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, request
from flask_admin import expose
from flask_babel import gettext
from flask_login import current_user

from webapp.admin.base import SecureView
from webapp.core import tenancy
from webapp.core.models import Membership, Organization, User
from webapp.core.roles import Role
from webapp.core.services import ServiceError, create_staff_user, record_audit
from webapp.extensions import db
from webapp.telegram.models import Bot

MIN_PASSWORD = 8


def organizations_overview() -> list[dict]:
    """Each organization with how many bots it owns and how many staff (active of all) work for it."""
    bots = (
        sa.select(Bot.organization_id, sa.func.count(Bot.id).label("n")).group_by(Bot.organization_id).subquery("bots")
    )
    staff = (
        sa.select(
            Membership.organization_id,
            sa.func.count(User.id).label("n"),
            sa.func.sum(sa.case((User.is_active, 1), else_=0)).label("active"),
        )
        .join(User, User.id == Membership.user_id)
        .group_by(Membership.organization_id)
        .subquery("staff")
    )
    rows = db.session.execute(
        sa.select(Organization, bots.c.n, staff.c.n, staff.c.active)
        .outerjoin(bots, bots.c.organization_id == Organization.id)
        .outerjoin(staff, staff.c.organization_id == Organization.id)
        .order_by(Organization.name)
    ).all()
    return [{"organization": o, "bots": b or 0, "staff": s or 0, "active_staff": int(a or 0)} for o, b, s, a in rows]


def create_organization(actor: User, name: str, username: str, email: str, password: str) -> Organization:
    """A new organization and its first admin, audited; ServiceError naming the field otherwise."""
    name = " ".join((name or "").split())
    username, email = (username or "").strip(), (email or "").strip() or None
    if not name:
        raise ServiceError(gettext("Give the organization a name."), 422, "VALIDATION_ERROR", "name")
    if db.session.scalar(sa.select(Organization.id).where(Organization.name == name)) is not None:
        raise ServiceError(gettext("An organization with this name exists."), 409, "CONFLICT", "name")
    if not username:
        raise ServiceError(gettext("Give the admin a username."), 422, "VALIDATION_ERROR", "username")
    if len(password or "") < MIN_PASSWORD:
        raise ServiceError(gettext("The password needs at least 8 characters."), 422, "VALIDATION_ERROR", "password")
    organization = tenancy.ensure_organization(name)
    record_audit(actor, "organization.create", "organization", organization.id, None, organization.name, "console")
    admin = create_staff_user(username, email, password, Role.ADMIN, actor=actor, source="console")
    tenancy.set_membership(actor, admin, organization, "console")
    return organization


def set_organization_active(actor: User, organization: Organization, active: bool) -> None:
    if organization.is_active != active:
        action = "organization.activate" if active else "organization.deactivate"
        record_audit(actor, action, "organization", organization.id, organization.is_active, active, "console")
        organization.is_active = active
        db.session.flush()


class OrganizationConsole(SecureView):
    required_roles = (Role.SUPERUSER,)

    def _index(self, values: dict | None = None, errors: dict | None = None, status: int = 200):
        page = self.render(
            "admin/organizations/index.html",
            rows=organizations_overview(),
            values=values or {},
            errors=errors or {},
        )
        return page, status

    @expose("/")
    def index(self):
        return self._index()

    @expose("/new", methods=("POST",))
    def create(self):
        form = request.form
        values = {key: form.get(key, "") for key in ("name", "username", "email")}
        try:
            organization = create_organization(
                current_user, values["name"], values["username"], values["email"], form.get("password", "")
            )
        except ServiceError as exc:
            db.session.rollback()
            return self._index(values, {exc.field or "name": exc.message}, 422)
        flash(gettext("Organization %(name)s created with its admin.", name=organization.name), "success")
        return redirect(self.get_url(".index"))

    @expose("/<int:organization_id>/<any(activate, deactivate):verb>", methods=("POST",))
    def switch(self, organization_id: int, verb: str):
        organization = db.session.get(Organization, organization_id)
        if organization is None:
            flash(gettext("Record does not exist."), "error")
            return redirect(self.get_url(".index"))
        set_organization_active(current_user, organization, verb == "activate")
        if verb == "activate":
            flash(gettext("Organization %(name)s switched on.", name=organization.name), "success")
        else:
            flash(gettext("Organization %(name)s switched off.", name=organization.name), "success")
        return redirect(self.get_url(".index"))
