"""The console: one Flask-Admin per app, each vertical adding its own views."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request
from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from webapp.admin import words
from webapp.admin.base import console_time
from webapp.core.i18n import format_money
from webapp.verticals import each_module

TRANSLATIONS = str(Path(__file__).resolve().parents[2] / "translations")


def init_admin(app: Flask) -> Admin:
    from webapp.admin import jobs, users
    from webapp.admin.dashboard import HomeView

    admin = Admin(
        app,
        name="Botdesk",
        url="/admin",
        index_view=HomeView(url="/admin"),
        # Fluid: a fixed 1110 px container left a 1366 px screen's wide lists cut off beside empty margins.
        theme=Bootstrap4Theme(base_template="admin/botdesk_master.html", fluid=True),
        translations_path=TRANSLATIONS,
        # Flask-Admin's own <script> tags carry the response's CSP nonce (webapp.core.security).
        csp_nonce_generator=lambda: getattr(request, "csp_nonce", ""),
    )
    users.register_admin(admin)
    jobs.register_admin(admin)
    for module in each_module("admin"):
        module.register_admin(admin)
    app.jinja_env.filters["word"] = words.word
    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["console_time"] = console_time
    app.jinja_env.globals["count_rows"] = words.count_rows
    app.extensions["botdesk_admin"] = admin
    return admin
