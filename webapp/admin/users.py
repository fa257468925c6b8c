"""Users and audit log views (superusers manage users; admins read the audit log)."""

from __future__ import annotations

from flask import flash
from flask_admin.actions import action
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import PasswordField, SelectField
from wtforms.validators import Length, Optional

from webapp.admin import words
from webapp.admin.base import SecureModelView
from webapp.core.models import AuditLog, User
from webapp.core.roles import Role
from webapp.core.services import ServiceError, change_role, record_audit, set_user_active
from webapp.extensions import db

ROLE_CHOICES = words.choices("user_role")


class UserView(SecureModelView):
    required_roles = (Role.SUPERUSER,)
    column_list = (
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
    column_searchable_list = ("username", "email", "phone", "first_name", "last_name")
    column_filters = ("role", "is_active", "language", "created_at")
    column_sortable_list = ("username", "email", "role", "is_active", "created_at", "last_login_at")
    column_default_sort = ("created_at", True)
    column_labels = {"is_active": _l("Active"), "first_name": _l("First name"), "last_name": _l("Last name")}
    form_columns = (
        "username",
        "email",
        "phone",
        "first_name",
        "last_name",
        "language",
        "role",
        "is_active",
        "new_password",
    )
    form_extra_fields = {
        "new_password": PasswordField(_l("New password"), validators=[Optional(), Length(min=8, max=512)]),
    }
    form_overrides = {"role": SelectField, "language": SelectField}
    form_args = {
        "role": {"choices": ROLE_CHOICES},
        "language": {"choices": words.choices("language")},
    }
    column_export_exclude_list = ("password_hash",)
    can_delete = False  # users are blocked, not deleted: their history stays attributable

    def on_form_prefill(self, form, id):
        form.new_password.data = ""

    def update_model(self, form, model):
        """Role and status changes go through the audited services, never a raw column write."""
        new_role, new_active = form.role.data, form.is_active.data
        try:
            if new_role != model.role:
                change_role(current_user, model, new_role, source="console")
            if new_active != model.is_active:
                set_user_active(current_user, model, new_active, source="console")
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return False
        # The services already applied what they allowed; the generic populate must not undo it.
        form.role.data, form.is_active.data = model.role, model.is_active
        return super().update_model(form, model)

    def on_model_change(self, form, model, is_created):
        if form.new_password.data:
            model.set_password(form.new_password.data)
        if is_created:
            db.session.flush()
            record_audit(current_user, "user.create", "user", model.id, None, model.role, "console")

    def _bulk_status(self, ids, active: bool) -> None:
        changed = 0
        keys = [k for k in map(self.coerce_pk, ids) if k is not None]
        for user in db.session.scalars(db.select(User).where(User.id.in_(keys))):
            try:
                set_user_active(current_user, user, active, source="console")
                changed += 1
            except ServiceError as exc:
                flash(f"{user}: {exc.message}", "error")
        db.session.commit()
        flash(gettext("%(count)s user(s) updated.", count=changed), "success")

    @action("block", _l("Block"), _l("Block the selected users?"))
    def action_block(self, ids):
        self._bulk_status(ids, False)

    @action("unblock", _l("Unblock"), _l("Unblock the selected users?"))
    def action_unblock(self, ids):
        self._bulk_status(ids, True)


class AuditLogView(SecureModelView):
    required_roles = (Role.ADMIN,)
    can_create = can_edit = can_delete = False
    column_list = ("created_at", "actor", "action", "target_type", "target_id", "old_value", "new_value", "source")
    column_filters = ("action", "target_type", "source", "created_at")
    column_searchable_list = ("target_id", "action")
    column_default_sort = ("created_at", True)
    column_formatters = {
        "old_value": lambda view, context, model, name: words.audit_value(model, model.old_value),
        "new_value": lambda view, context, model, name: words.audit_value(model, model.new_value),
    }


def register_admin(admin) -> None:
    admin.add_view(UserView(User, db.session, name=_l("Users"), category=_l("Accounts"), endpoint="users"))
    admin.add_view(AuditLogView(AuditLog, db.session, name=_l("Audit log"), category=_l("Accounts"), endpoint="audit"))
