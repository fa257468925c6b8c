"""Base console views: every view states the roles it needs; access is decided by ``user_has_role``."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from flask import abort, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import FilterConverter
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.model.form import converts
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto

from webapp.core.console import CONSOLE_ROLES
from webapp.core.limits import MAX_BIGINT, in_date_range
from webapp.core.roles import Role, user_has_role

MAX_LIST_PAGE = 100_000  # beyond any real list; larger offsets overflow the database's integer


def int_arg(name: str) -> int | None:
    """A non-negative id or number from the query string; None when absent, malformed or beyond BIGINT."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 <= value <= MAX_BIGINT else None


def date_arg(name: str) -> date | None:
    """A YYYY-MM-DD day from the query string; None when absent, malformed or outside 1900-2100."""
    try:
        day = date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None
    return day if in_date_range(day) else None


class ConsoleForm(FlaskForm):
    """Flask-WTF's CSRF token (the one CSRFProtect checks app-wide) plus what Flask-Admin's forms need:
    ``_obj`` for its unique validators and its WTForms translations."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            from flask_admin.babel import Translations

            return Translations()

    def __init__(self, formdata=_Auto, obj=None, prefix="", **kwargs):
        self._obj = obj
        super().__init__(formdata=formdata, obj=obj, prefix=prefix, **kwargs)


class RoleGuard:
    """Mixin for console views. Subclasses set ``required_roles`` (any of them grants access)."""

    required_roles: tuple[Role, ...] = (Role.SUPERUSER,)

    def is_accessible(self) -> bool:
        return current_user.is_authenticated and user_has_role(current_user, *self.required_roles)

    def inaccessible_callback(self, name, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
        abort(403)


class UTCDateTimeFilters(FilterConverter):
    """Our aware-UTC column type filters like a plain DateTime."""

    def convert(self, type_name, column, name, **kwargs):
        return super().convert("DateTime" if type_name == "UTCDateTime" else type_name, column, name, **kwargs)


class UTCDateTimeForms(AdminModelConverter):
    @converts("UTCDateTime")
    def convert_utc_datetime(self, field_args, **extra):
        return self.convert_datetime(field_args, **extra)


class SecureModelView(RoleGuard, ModelView):
    filter_converter = UTCDateTimeFilters()
    model_form_converter = UTCDateTimeForms

    def coerce_pk(self, value):
        """Flask-Admin passes ids from the URL and forms as text; the key's own type (None when malformed)."""
        column = self.model.__mapper__.primary_key[0]
        try:
            if isinstance(column.type, sa.Uuid):
                return uuid.UUID(str(value))
            if isinstance(column.type, sa.Integer):
                return int(value)
        except (TypeError, ValueError):
            return None
        return value

    # PostgreSQL refuses ``integer IN (varchar)``: the stock bulk delete gets typed keys.
    @action("delete", lazy_gettext("Delete"), lazy_gettext("Are you sure you want to delete selected records?"))
    def action_delete(self, ids):
        return super().action_delete(tuple(key for key in map(self.coerce_pk, ids) if key is not None))

    def _get_list_extra_args(self):
        args = super()._get_list_extra_args()
        args.page = min(max(args.page or 0, 0), MAX_LIST_PAGE)
        return args

    def get_one(self, id):
        column = self.model.__mapper__.primary_key[0]
        if not isinstance(column.type, sa.Uuid):
            return super().get_one(id)
        key = self.coerce_pk(id)
        return None if key is None else self.session.get(self.model, key)

    # Flask-WTF's token on every create/edit/action form: the same token CSRFProtect checks app-wide.
    form_base_class = ConsoleForm
    can_export = True
    export_types = ["csv"]
    page_size = 50
    can_set_page_size = True


class SecureView(RoleGuard, BaseView):
    pass


class HomeView(RoleGuard, AdminIndexView):
    required_roles = CONSOLE_ROLES
