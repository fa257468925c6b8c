"""The Bot console (superusers): bots are listed, created and edited here; tokens are write-only."""

from __future__ import annotations

from flask import flash, redirect
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.helpers import get_redirect_target
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField
from wtforms.validators import NumberRange, Optional, ValidationError

from webapp.admin import words
from webapp.admin.base import SecureModelView
from webapp.core.roles import Role
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.telegram import services
from webapp.telegram.models import Bot
from webapp.telegram.tokens import find_bot_by_token, set_bot_token

SECRET_COLUMNS = ("token_encrypted", "token_fingerprint", "webhook_secret")


def matches(pattern, message):
    """A WTForms validator; the lazy message is translated when it fails (Flask-Admin shows only str errors)."""

    def check(form, field) -> None:
        if field.data and not pattern.match(field.data.strip()):
            raise ValidationError(str(message))

    return check


class BotView(SecureModelView):
    required_roles = (Role.SUPERUSER,)
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
        "created_at",
    )
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
    )
    form_extra_fields = {
        # Write-only: a PasswordField never renders its value back.
        "token": PasswordField(
            _l("Token"),
            validators=[Optional(), matches(services.TOKEN_RE, _l("A bot token looks like 123456789:AA…"))],
            description=_l("From @BotFather. Stored encrypted and never shown again; leave empty to keep it."),
        ),
    }
    form_overrides = {"vertical": SelectField, "mode": SelectField}
    form_args = {
        "name": {"validators": [matches(services.NAME_RE, _l("Use letters, digits, _ and -"))]},
        "vertical": {"choices": words.choices("bot_vertical")},
        "mode": {"choices": words.choices("bot_mode")},
        "rate_limit_per_second": {"validators": [NumberRange(min=1, max=1000)], "default": 30},
    }

    def on_model_change(self, form, model: Bot, is_created: bool) -> None:
        token = (form.token.data or "").strip()
        if is_created and not token:
            raise ValidationError(gettext("A new bot needs its token."))
        if token:
            with db.session.no_autoflush:  # the new row has no token yet: it must not be flushed by this query
                owner = find_bot_by_token(token)
            if owner is not None and owner is not model:
                raise ValidationError(gettext("This token belongs to another bot."))
            set_bot_token(model, token)
        services.ensure_webhook_secret(model)

    def after_model_change(self, form, model: Bot, is_created: bool) -> None:
        if form.token.data:
            self._check(model)

    def _check(self, bot: Bot) -> bool:
        try:
            services.check_token(bot)
        except ServiceError as exc:
            db.session.rollback()
            flash(gettext("%(bot)s: %(error)s", bot=bot.name, error=exc.message), "error")
            return False
        db.session.commit()
        flash(gettext("%(bot)s: token is valid, the bot is @%(username)s.", bot=bot.name, username=bot.username))
        return True

    @expose("/check/<int:id>", methods=["POST"])
    def check_token_view(self, id: int):
        bot = db.session.get(Bot, id)
        if bot is None:
            flash(gettext("Record does not exist."), "error")
        else:
            self._check(bot)
        return redirect(get_redirect_target() or self.get_url(".index_view"))

    @action("check_token", _l("Check token (getMe)"))
    def action_check_token(self, ids) -> None:
        for bot in db.session.scalars(db.select(Bot).where(Bot.id.in_([int(i) for i in ids]))).all():
            self._check(bot)


def register_admin(admin) -> None:
    admin.add_view(BotView(Bot, db.session, name=_l("Bots"), category=_l("Telegram"), endpoint="bots"))
