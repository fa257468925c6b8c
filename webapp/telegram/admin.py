"""The Bot console: bots are listed, created and edited here; tokens are write-only.

A bot belongs to an organization (issue 12): an organization's admin lists, creates (for its own
organization), edits, switches on and off and rotates the tokens of its own organization's bots only;
platform bots (no organization: the realty marketplace, reports) and every other organization's are
the superuser's, who chooses a bot's organization. Another organization's bot is not found.
"""

from __future__ import annotations

from flask import flash, redirect
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import PasswordField, SelectField
from wtforms.validators import NumberRange, Optional, ValidationError

from webapp.admin import words
from webapp.admin.base import ScopedModelView
from webapp.core import tenancy
from webapp.core.models import Organization
from webapp.core.roles import Role
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.telegram import services
from webapp.telegram.models import Bot

SECRET_COLUMNS = ("token_encrypted", "token_fingerprint", "webhook_secret")


def bots_scope(query, actor):
    """The bots ``actor`` manages: a superuser every one; an organization admin its organization's."""
    rule = tenancy.organization_rule(actor, Bot.organization_id)
    return query if rule is None else query.filter(rule)


def can_manage_bot(actor, bot: Bot | None) -> bool:
    return bot is not None and tenancy.in_organization(actor, bot.organization_id)


def _organization_choices() -> list[tuple[str, str]]:
    rows = db.session.scalars(db.select(Organization).order_by(Organization.name))
    return [("", gettext("— none (platform) —"))] + [(str(o.id), o.name) for o in rows]


def matches(pattern, message):
    """A WTForms validator; the lazy message is translated when it fails (Flask-Admin shows only str errors)."""

    def check(form, field) -> None:
        if field.data and not pattern.match(field.data.strip()):
            raise ValidationError(str(message))

    return check


class BotView(ScopedModelView):
    required_roles = (Role.SUPERUSER, Role.ADMIN)
    list_template = "admin/telegram/bot_list.html"
    edit_template = "admin/telegram/bot_edit.html"
    can_delete = False  # accounts and history hang off a bot: disable it instead
    column_list = (
        "name",
        "vertical",
        "username",
        "telegram_bot_id",
        "enabled",
        "is_sandbox",
        "mode",
        "rate_limit_per_second",
        "paid_broadcast",
        "organization",
        "created_at",
    )
    column_formatters = {"organization": lambda view, context, model, name: view.organization_name(model)}
    column_export_list = tuple(name for name in column_list if name != "organization")
    column_exclude_list = SECRET_COLUMNS
    column_details_exclude_list = SECRET_COLUMNS
    column_export_exclude_list = SECRET_COLUMNS
    column_searchable_list = ("name", "username")
    column_filters = ("vertical", "enabled", "is_sandbox", "mode")
    column_default_sort = "name"
    column_labels = {
        "telegram_bot_id": _l("Telegram id"),
        "is_sandbox": _l("Sandbox"),
        "rate_limit_per_second": _l("Messages per second"),
        "paid_broadcast": _l("Paid broadcasts"),
        "organization": _l("Organization"),
        "organization_choice": _l("Organization"),
    }
    form_columns = (
        "name",
        "token",
        "vertical",
        "enabled",
        "is_sandbox",
        "mode",
        "rate_limit_per_second",
        "paid_broadcast",
        "organization_choice",
    )
    form_extra_fields = {
        # Write-only: a PasswordField never renders its value back.
        "token": PasswordField(
            _l("Token"),
            validators=[Optional(), matches(services.TOKEN_RE, _l("A bot token looks like 123456789:AA…"))],
            description=_l("From @BotFather. Stored encrypted and never shown again; leave empty to keep it."),
        ),
        # Not the column's name: the generic populate must not write the raw choice into the row.
        "organization_choice": SelectField(_l("Organization"), choices=[], validate_choice=False, default=""),
    }
    form_overrides = {"vertical": SelectField, "mode": SelectField}
    form_args = {
        "name": {"validators": [matches(services.NAME_RE, _l("Use letters, digits, _ and -"))]},
        "vertical": {"choices": words.choices("bot_vertical")},
        "mode": {"choices": words.choices("bot_mode")},
        "rate_limit_per_second": {"validators": [NumberRange(min=1, max=1000)], "default": 30},
    }

    # --- scope: the list, its count, one row, the edit form, the actions ---------------------------

    def scope(self, query):
        return bots_scope(query, current_user)

    def organization_name(self, bot: Bot) -> str:
        organization = db.session.get(Organization, bot.organization_id) if bot.organization_id else None
        return organization.name if organization else ""

    def _adjust(self, form, bot: Bot | None):
        if tenancy.is_superuser(current_user):
            form.organization_choice.choices = _organization_choices()
            if bot is not None and not form.is_submitted():
                form.organization_choice.data = str(bot.organization_id or "")
        else:  # an organization admin's bots are its organization's: no choice to make
            del form.organization_choice
        return form

    def create_form(self, obj=None):
        return self._adjust(super().create_form(obj), None)

    def edit_form(self, obj=None):
        return self._adjust(super().edit_form(obj), obj)

    def _organization_from(self, form):
        """The superuser's choice (None: a platform bot); ``services.KEEP`` when the form has none."""
        field = getattr(form, "organization_choice", None)
        if field is None:
            return services.KEEP
        raw = (field.data or "").strip()
        if not raw:
            return None
        if not raw.isdigit():
            raise ServiceError("Choose an organization from the list.", 422, "VALIDATION_ERROR")
        return int(raw)

    def _card(self, form) -> dict:
        return {name: getattr(form, name).data for name in services.BOT_CARD_FIELDS}

    def refusal_text(self, exc: ServiceError) -> str:
        return gettext(exc.message)

    def create_record(self, form):
        organization_id = self._organization_from(form)
        organization_id = None if organization_id is services.KEEP else organization_id
        return services.create_bot_card(
            current_user, self._card(form), form.token.data or "", organization_id, source="console"
        )

    def update_record(self, form, model: Bot) -> None:
        organization_id = self._organization_from(form)
        services.update_bot_card(
            current_user, model, self._card(form), form.token.data, organization_id, source="console"
        )

    def after_model_change(self, form, model: Bot, is_created: bool) -> None:
        if form.token.data:
            self._check(model)

    def _check(self, bot: Bot) -> bool:
        try:
            with db.session.begin_nested():  # a failed check undoes only itself, never the bot just saved
                services.check_token(bot)
        except ServiceError as exc:
            flash(gettext("%(bot)s: %(error)s", bot=bot.name, error=exc.message), "error")
            return False
        flash(gettext("%(bot)s: token is valid, the bot is @%(username)s.", bot=bot.name, username=bot.username))
        return True

    @expose("/check/<int:id>", methods=["POST"])
    def check_token_view(self, id: int):
        bot = db.session.get(Bot, id)
        if not can_manage_bot(current_user, bot):
            flash(gettext("Record does not exist."), "error")
        else:
            self._check(bot)
        return redirect(get_redirect_target() or self.get_url(".index_view"))

    @action("check_token", _l("Check token (getMe)"))
    def action_check_token(self, ids) -> None:
        keys = [int(i) for i in ids if str(i).isdigit()]
        for bot in self.get_query().filter(Bot.id.in_(keys)).all():  # only the viewer's bots
            self._check(bot)


def register_admin(admin) -> None:
    admin.add_view(BotView(Bot, db.session, name=_l("Bots"), category=_l("Telegram"), endpoint="bots"))
