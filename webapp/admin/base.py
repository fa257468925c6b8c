"""Base console views: every view states the roles it needs; access is decided by ``user_has_role``."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import AdminIndexView, BaseView
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla import typefmt as sqla_typefmt
from flask_admin.contrib.sqla.filters import FilterConverter
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.model import typefmt
from flask_admin.model.form import converts
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from sqlalchemy.exc import IntegrityError
from wtforms.validators import ValidationError

from webapp.admin import words
from webapp.core import tenancy
from webapp.core.console import CONSOLE_ROLES
from webapp.core.export import safe_cell
from webapp.core.i18n import format_money
from webapp.core.limits import MAX_BIGINT, in_date_range
from webapp.core.roles import Role, user_has_role
from webapp.core.services import ServiceError, record_audit

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


def vertical_of_module(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "webapp" else ""


class RoleGuard:
    """Mixin for console views. Subclasses set ``required_roles`` (any of them grants access)."""

    required_roles: tuple[Role, ...] = (Role.SUPERUSER,)

    @property
    def vertical(self) -> str:
        """The package the view belongs to (``webapp.<vertical>.admin``)."""
        return vertical_of_module(type(self).__module__)

    def is_accessible(self) -> bool:
        return (
            current_user.is_authenticated
            and user_has_role(current_user, *self.required_roles)
            and tenancy.runs_vertical(current_user, self.vertical)
        )

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


def datetime_text(view, value: datetime, name: str) -> str:
    """A stored time in the platform's zone, to the minute, with the zone named ("2026-12-04 20:59 +05")."""
    if value.tzinfo is None:
        return f"{value:%Y-%m-%d %H:%M}"
    local = value.astimezone(ZoneInfo(current_app.config["DEFAULT_TIMEZONE"]))
    return f"{local:%Y-%m-%d %H:%M} {local:%Z}"


def console_time(value: datetime) -> str:
    """``datetime_text`` for templates of our own views."""
    return datetime_text(None, value, "")


class SecureModelView(RoleGuard, ModelView):
    filter_converter = UTCDateTimeFilters()
    model_form_converter = UTCDateTimeForms
    column_type_formatters = {**sqla_typefmt.DEFAULT_FORMATTERS, datetime: datetime_text}
    column_type_formatters_detail = {**typefmt.DETAIL_FORMATTERS, datetime: datetime_text}

    def __init__(self, model, *args, **kwargs):
        self._derive_words(model)
        super().__init__(model, *args, **kwargs)

    def _derive_words(self, model) -> None:
        """Labels and value words from the model's package vocabulary (webapp.admin.words); what the
        view states itself wins. Dotted search columns take their attribute's label."""
        labels, values = words.vocabulary(model.__module__.split(".")[1])
        own = dict(self.column_labels or {})
        derived = {key: label for key, label in labels.items() if key not in own}
        for name in self.column_searchable_list or ():
            name = str(name)
            if "." in name and name not in own:
                derived[name] = own.get(name.rsplit(".", 1)[1]) or labels.get(name.rsplit(".", 1)[1], name)
        self.column_labels = {**derived, **own}
        column_choices, form_choices = dict(self.column_choices or {}), dict(self.form_choices or {})
        overridden = set(self.form_overrides or {}) | {k for k, v in (self.form_args or {}).items() if "choices" in v}
        for column in model.__table__.columns:
            kind = words.column_kind(column)
            if kind is None or kind not in values:
                continue
            options = list(values[kind].items())
            column_choices.setdefault(column.key, options)
            if column.key not in overridden:
                form_choices.setdefault(column.key, options)
        self.column_choices, self.form_choices = column_choices, form_choices

    def get_export_value(self, model, name):
        """Every console export cell is plain text a spreadsheet will not run (see ``safe_cell``)."""
        return safe_cell(super().get_export_value(model, name))

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
    def action_delete(self, ids):
        return super().action_delete(tuple(key for key in map(self.coerce_pk, ids) if key is not None))

    # Flask-Admin's own name, label and confirmation, so its catalogs (and our kk/uz admin.po) translate them.
    action_delete._action = ModelView.action_delete._action

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


class ScopedModelView(SecureModelView):
    """A console view over one vertical's tenant data: the one place a console view is confined to
    what the signed-in account reaches.

    ``access`` is the vertical's access module (``webapp.<vertical>.access``); its ``scope(query,
    actor, model)`` narrows the list, its counts and CSV export (``get_query``/``get_count_query``)
    AND ``get_one``, which reads the row through the same rule — so a hand-typed details,
    edit or delete URL (or a forged id in a bulk action) of another organization's row is "not
    found", as Flask-Admin's tenant example asks. ``reaches(row)`` adds a view's stricter per-row
    rule (an edit only managers may open). A list that shows only part of what is reachable (the
    moderation queue) narrows ``get_query``/``get_count_query`` itself; its rows' pages stay open.

    Writes go through ``create_record``/``update_record``/``delete_record``: a view that saves
    business data overrides them to call its vertical's service (which audits); the defaults write
    the form onto the row as Flask-Admin does, with an audit row of their own. Either way the write
    runs in a savepoint and only flushes: the request commits once at its end
    (``webapp.core.unit_of_work``), and a refusal (a ``ServiceError`` or a ``ValidationError``) is
    shown on the form with nothing of it written.
    """

    access = None  # the vertical's access module

    def scope(self, query):
        return self.access.scope(query, current_user, self.model)

    def reaches(self, row) -> bool:
        return True

    def get_query(self):
        return self.scope(super().get_query())

    def get_count_query(self):
        return self.scope(super().get_count_query())

    def get_one(self, id):
        key = self.coerce_pk(id)
        if key is None:
            return None
        column = self.model.__mapper__.primary_key[0]
        row = self.scope(self.session.query(self.model)).filter(column == key).first()
        return row if row is not None and self.reaches(row) else None

    # --- writes ---------------------------------------------------------------------------------------

    def refusal_text(self, exc: ServiceError) -> str:
        """A service's refusal as the form shows it (a vertical with its own catalog translates it)."""
        return exc.message

    def create_record(self, form):
        """The new row, written and flushed (default: the form onto a new row, audited)."""
        model = self.build_new_instance()
        form.populate_obj(model)
        self.session.add(model)
        self._on_model_change(form, model, True)
        self.session.flush()
        self._audit(model, "create")
        return model

    def update_record(self, form, model) -> None:
        form.populate_obj(model)
        self._on_model_change(form, model, False)
        self.session.flush()
        self._audit(model, "update")

    def delete_record(self, model) -> None:
        self.on_model_delete(model)
        self._audit(model, "delete")
        self.session.delete(model)
        self.session.flush()

    def _audit(self, model, verb: str) -> None:
        table = self.model.__tablename__
        record_audit(current_user, f"{table}.{verb}", table, self.get_pk_value(model), source="console")

    def _write(self, write):
        """Run ``write`` in a savepoint; a refusal undoes only it, is flashed, and answers False."""
        try:
            with self.session.begin_nested():
                return write()
        except ServiceError as exc:
            flash(self.refusal_text(exc), "error")
        except (ValidationError, IntegrityError) as exc:
            self.handle_view_exception(exc)
        return False

    def create_model(self, form):
        model = self._write(lambda: self.create_record(form))
        if model is not False:
            self.after_model_change(form, model, True)
        return model

    def update_model(self, form, model) -> bool:
        def write():
            self.update_record(form, model)
            return True

        if self._write(write):
            self.after_model_change(form, model, False)
            return True
        return False

    def delete_model(self, model) -> bool:
        def write():
            self.delete_record(model)
            return True

        if self._write(write):
            self.after_model_delete(model)
            return True
        return False

    def action_delete(self, ids):
        """The stock bulk delete, row by row through ``delete_model`` (each in its savepoint, through
        the view's delete hook), without the stock action's commit: the request commits."""
        from flask_admin.babel import ngettext as _ngettext  # Flask-Admin's own catalog ("admin")

        column = self.model.__mapper__.primary_key[0]
        keys = [key for key in map(self.coerce_pk, ids) if key is not None]
        count = sum(1 for row in self.get_query().filter(column.in_(keys)).all() if self.delete_model(row))
        flash(
            _ngettext(
                "Record was successfully deleted.", "%(count)s records were successfully deleted.", count, count=count
            ),
            "success",
        )

    action_delete._action = ModelView.action_delete._action


class SecureView(RoleGuard, BaseView):
    pass


class HomeView(RoleGuard, AdminIndexView):
    required_roles = CONSOLE_ROLES


CURRENCY_PARENTS = ("agency", "listing", "booking", "wallet", "clinic", "branch", "appointment")


def currency_of(model, default: str) -> str:
    """The currency an amount on ``model`` is in: its own, or the nearest parent's that has one."""
    seen = [model]
    while seen:
        row = seen.pop(0)
        if isinstance(getattr(row, "currency", None), str):
            return row.currency
        seen.extend(p for p in (getattr(row, name, None) for name in CURRENCY_PARENTS) if p is not None)
    return default


def money_formatter(default_currency: str):
    """A column formatter: the amount with its currency, in the reader's locale (one way for the console)."""

    def formatter(view, context, model, name) -> str:
        value = getattr(model, name)
        return "" if value is None else format_money(value, currency_of(model, default_currency))

    return formatter
