"""Console session: staff sign-in with password, sign-out, language choice (remembered per user)."""

from __future__ import annotations

from urllib.parse import urlparse

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from webapp.core.roles import STAFF_ROLES, Role, user_has_role
from webapp.core.services import authenticate_staff, get_user, mark_login
from webapp.extensions import limiter, login_manager

bp = Blueprint("console", __name__)

# Roles that may open the console at all; a plain user (guest, patient, customer) may not.
CONSOLE_ROLES = (Role.MODERATOR, *STAFF_ROLES)


@login_manager.user_loader
def _load_user(user_id: str):
    return get_user(user_id)


class LoginForm(FlaskForm):
    login = StringField(_l("Username or e-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=512)])


def _safe_next(target: str | None) -> str:
    if target:
        parsed = urlparse(target)
        if not parsed.netloc and not parsed.scheme and target.startswith("/"):
            return target
    return url_for("admin.index")


@bp.route("/admin/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["AUTH_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user = authenticate_staff(form.login.data, form.password.data)
        if user is None:
            error = _l("Invalid username or password.")
        elif not user.is_active:
            error = _l("This account is blocked.")
        elif not user_has_role(user, *CONSOLE_ROLES):
            error = _l("This account has no access to the console.")
        else:
            login_user(user)
            mark_login(user)
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("console/login.html", form=form, error=error), status


@bp.post("/admin/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("console.login"))


@bp.post("/admin/language")
@login_required
def set_language():
    language = request.form.get("language", "")
    if language not in current_app.config["LANGUAGES"]:
        abort(400)
    current_user.language = language
    return redirect(_safe_next(request.form.get("next")))
