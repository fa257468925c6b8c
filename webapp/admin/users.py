"""Users, organizations and the audit log in the console (issue 12).

- Users: superusers see and manage every account and move staff between organizations (audited
  through ``tenancy.set_membership``); an organization admin sees its own organization's staff and
  the platform's customers, and manages them within ``services.can_manage``. Anyone else's account is
  not found.
- Organizations: superusers only — the list with each one's bots and staff, a new organization with
  its first admin, activate / deactivate.
- Audit log: superusers every entry; an organization admin the entries whose actor or target is one
  of its organization's accounts.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, request
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import PasswordField, SelectField
from wtforms.validators import Length, Optional

from webapp.admin import words
from webapp.admin.base import ScopedModelView
from webapp.core import tenancy
from webapp.core.models import AuditLog, Membership, Organization, User
from webapp.core.roles import ORGANIZATION_ROLES, Role
from webapp.core.services import (
    MANAGED_BY_ADMINS,
    USER_CARD_FIELDS,
    ServiceError,
    change_role,
    record_audit,
    set_user_active,
    update_user_card,
    users_in_reach,
)
from webapp.extensions import db

ROLE_CHOICES = words.choices("user_role")
NO_ORGANIZATION = ""


def users_scope(query, viewer):
    """Accounts ``viewer`` reaches as a manager (``services.users_in_reach``): a superuser every one; an
    organization admin its own organization's staff and the customers."""
    return users_in_reach(query, viewer)


def audit_scope(query, viewer):
    """Entries ``viewer`` may read: a superuser every one; an organization admin those whose actor or
    target account belongs to its organization."""
    if tenancy.sees_every_organization(viewer):
        return query
    own = tenancy.organization_id_of(viewer)
    if own is None or viewer.role != Role.ADMIN.value:
        return query.filter(sa.false())
    members = sa.select(Membership.user_id).where(Membership.organization_id == own)
    # Audit rows name their target as text (``str(uuid)``): the organization's staff, a short list.
    named = [str(user_id) for user_id in db.session.scalars(members)]
    return query.filter(
        sa.or_(
            AuditLog.actor_id.in_(members),
            sa.and_(AuditLog.target_type == "user", AuditLog.target_id.in_(named)),
        )
    )


def organization_choices() -> list[tuple[str, str]]:
    rows = db.session.scalars(sa.select(Organization).order_by(Organization.name))
    return [(NO_ORGANIZATION, str(_l("— none (platform) —")))] + [(str(o.id), o.name) for o in rows]


class UserView(ScopedModelView):
    required_roles = (Role.SUPERUSER, Role.ADMIN)
    column_list = (
        "username",
        "email",
        "phone",
        "first_name",
        "last_name",
        "role",
        "organization",
        "is_active",
        "language",
        "created_at",
        "last_login_at",
    )
    column_searchable_list = ("username", "email", "phone", "first_name", "last_name")
    column_filters = ("role", "is_active", "language", "created_at")
    column_sortable_list = ("username", "email", "role", "is_active", "created_at", "last_login_at")
    column_default_sort = ("created_at", True)
    column_labels = {
        "is_active": _l("Active"),
        "first_name": _l("First name"),
        "last_name": _l("Last name"),
        "organization": _l("Organization"),
        "organization_id": _l("Organization"),
    }
    column_formatters = {"organization": lambda view, context, model, name: view.organization_name(model)}
    column_export_list = (
        "username",
        "email",
        "phone",
        "first_name",
        "last_name",
        "role",
        "is_active",
        "language",
        "created_at",
        "last_login_at",
    )
    form_columns = (
        "username",
        "email",
        "phone",
        "first_name",
        "last_name",
        "language",
        "role",
        "is_active",
        "organization_id",
        "new_password",
    )
    form_extra_fields = {
        "new_password": PasswordField(_l("New password"), validators=[Optional(), Length(min=8, max=512)]),
        "organization_id": SelectField(_l("Organization"), choices=[], validate_choice=False, default=""),
    }
    form_overrides = {"role": SelectField, "language": SelectField}
    form_args = {
        "role": {"choices": ROLE_CHOICES},
        "language": {"choices": words.choices("language")},
    }
    column_export_exclude_list = ("password_hash",)
    can_delete = False  # users are blocked, not deleted: their history stays attributable

    # --- scope -----------------------------------------------------------------------------------

    @property
    def can_create(self) -> bool:  # accounts with their organization are the superuser's to create
        return tenancy.is_superuser(current_user)

    def scope(self, query):
        return users_scope(query, current_user)

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if not tenancy.is_superuser(current_user):
            abort(403)
        return super().create_view()

    def organization_name(self, user: User) -> str:
        member = db.session.get(Membership, user.id)
        return member.organization.name if member else ""

    # --- forms -----------------------------------------------------------------------------------

    def _adjust(self, form, user: User | None):
        if tenancy.is_superuser(current_user):
            form.organization_id.choices = organization_choices()
            if user is not None and request.method == "GET":
                member = db.session.get(Membership, user.id)
                form.organization_id.data = str(member.organization_id) if member else NO_ORGANIZATION
        else:  # an organization admin grants the staff roles of its own organization only
            del form.organization_id
            allowed = {r.value for r in MANAGED_BY_ADMINS}
            if user is not None:
                allowed.add(user.role)
            form.role.choices = [(value, label) for value, label in ROLE_CHOICES if value in allowed]
        return form

    def create_form(self, obj=None):
        return self._adjust(super().create_form(obj), None)

    def edit_form(self, obj=None):
        return self._adjust(super().edit_form(obj), obj)

    def on_form_prefill(self, form, id):
        form.new_password.data = ""

    def _chosen_organization(self, form) -> Organization | None | bool:
        """The organization the superuser chose (None: none); False when the form has no such field."""
        field = getattr(form, "organization_id", None)
        if field is None:
            return False
        raw = (field.data or "").strip()
        if not raw:
            return None
        organization = db.session.get(Organization, int(raw)) if raw.isdigit() else None
        if organization is None:
            raise ServiceError(gettext("Choose an organization from the list."), 422, "VALIDATION_ERROR")
        return organization

    def refusal_text(self, exc: ServiceError) -> str:
        return gettext(exc.message)

    def update_record(self, form, model) -> None:
        """Every field through the audited services, never a raw write: the card (``update_user_card``),
        the role, the status and the membership."""
        new_role, new_active = form.role.data, form.is_active.data
        chosen = self._chosen_organization(form)
        card = {name: getattr(form, name).data for name in USER_CARD_FIELDS}
        update_user_card(current_user, model, card, form.new_password.data or None, source="console")
        if new_role != model.role:
            change_role(current_user, model, new_role, source="console")
        if new_active != model.is_active:
            set_user_active(current_user, model, new_active, source="console")
        if chosen is not False:
            self._move(model, chosen)
        self.session.flush()

    def _move(self, user: User, organization: Organization | None) -> None:
        if Role.parse(user.role) not in ORGANIZATION_ROLES:
            # A platform role or a customer works for no organization (change_role took it out).
            if organization is not None and db.session.get(Membership, user.id) is None and user.id:
                flash(gettext("Only organization staff belong to an organization."), "warning")
            organization = None
        tenancy.set_membership(current_user, user, organization, "console")

    def create_record(self, form):
        """The account (audited as ``user.create``) and its membership, or neither."""
        chosen = self._chosen_organization(form)
        if hasattr(form, "organization_id"):
            del form.organization_id
        model = self.build_new_instance()
        form.populate_obj(model)
        self.session.add(model)
        self._on_model_change(form, model, True)
        if chosen:
            self._move(model, chosen)
        return model

    def on_model_change(self, form, model, is_created):
        if form.new_password.data:
            model.set_password(form.new_password.data)
        if is_created:
            db.session.flush()
            record_audit(current_user, "user.create", "user", model.id, None, model.role, "console")

    def _bulk_status(self, ids, active: bool) -> None:
        changed = 0
        keys = [k for k in map(self.coerce_pk, ids) if k is not None]
        # Only rows the viewer reaches: ids from the form are never trusted.
        for user in self.get_query().filter(User.id.in_(keys)).all():
            try:
                with db.session.begin_nested():  # a refused account undoes only itself
                    set_user_active(current_user, user, active, source="console")
                changed += 1
            except ServiceError as exc:
                flash(f"{user}: {exc.message}", "error")
        flash(gettext("%(count)s user(s) updated.", count=changed), "success")

    @action("block", _l("Block"), _l("Block the selected users?"))
    def action_block(self, ids):
        self._bulk_status(ids, False)

    @action("unblock", _l("Unblock"), _l("Unblock the selected users?"))
    def action_unblock(self, ids):
        self._bulk_status(ids, True)


class AuditLogView(ScopedModelView):
    required_roles = (Role.ADMIN,)
    can_create = can_edit = can_delete = False
    column_list = ("created_at", "actor", "action", "target_type", "target_id", "old_value", "new_value", "source")
    column_filters = ("action", "target_type", "source", "created_at")
    column_searchable_list = ("target_id", "action")
    column_default_sort = ("created_at", True)
    column_formatters = {
        "target_id": lambda view, context, model, name: words.audit_target(model),
        "old_value": lambda view, context, model, name: words.audit_value(model, model.old_value),
        "new_value": lambda view, context, model, name: words.audit_value(model, model.new_value),
    }

    def scope(self, query):
        return audit_scope(query, current_user)


def register_admin(admin) -> None:
    from webapp.admin.organizations import OrganizationConsole

    admin.add_view(UserView(User, db.session, name=_l("Users"), category=_l("Accounts"), endpoint="users"))
    admin.add_view(OrganizationConsole(name=_l("Organizations"), category=_l("Accounts"), endpoint="organizations"))
    admin.add_view(AuditLogView(AuditLog, db.session, name=_l("Audit log"), category=_l("Accounts"), endpoint="audit"))
