"""A console menu entry for the sandbox chat page (shown to those who may open it)."""

from __future__ import annotations

from flask import current_app
from flask_admin import Admin
from flask_admin.menu import MenuLink

from webapp.sandbox.access import console_operator
from webapp.sandbox.views import catalog


class SandboxLink(MenuLink):
    def is_accessible(self) -> bool:
        return bool(current_app.config.get("SANDBOX_ENABLED")) and console_operator()


def register_admin(admin: Admin) -> None:
    admin.add_link(SandboxLink(name=catalog.lazy_gettext("Telegram sandbox"), url="/sandbox"))
