"""The console profile: who you are, and your Telegram on each bot of your organization.

Staff link their own Telegram to a bot here (the test send of a broadcast goes there): the page
issues a one-time deep link ``https://t.me/<bot>?start=<code>`` (``webapp.core.link_codes``). The
code is shown once, in the answer to the POST that made it; only its digest is stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, request
from flask_admin import expose
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from webapp.admin.base import SecureView
from webapp.core import link_codes, tenancy
from webapp.core.console import CONSOLE_ROLES
from webapp.core.models import TelegramAccount
from webapp.extensions import db
from webapp.telegram.models import Bot


def _bots() -> list[Bot]:
    """The bots of the viewer's organization (a superuser: every bot)."""
    query = sa.select(Bot).order_by(Bot.name)
    rule = tenancy.organization_rule(current_user, Bot.organization_id)
    return list(db.session.scalars(query if rule is None else query.where(rule)))


def _linked(bots: list[Bot]) -> dict[int, TelegramAccount]:
    """The viewer's own Telegram account on each of ``bots`` that has one."""
    accounts = db.session.scalars(
        sa.select(TelegramAccount)
        .where(TelegramAccount.user_id == current_user.id, TelegramAccount.bot_id.in_([b.id for b in bots]))
        .order_by(TelegramAccount.id)
    )
    return {a.bot_id: a for a in reversed(list(accounts))}


def deep_link(bot: Bot, code: str) -> str | None:
    return f"https://t.me/{bot.username}?start={code}" if bot.username else None


class ProfileConsole(SecureView):
    required_roles = CONSOLE_ROLES

    def is_visible(self) -> bool:
        return False  # reached from the user's name in the navigation bar

    def _page(self, issued: dict | None = None):
        bots = _bots()
        return self.render(
            "console/profile.html",
            organization=tenancy.organization_of(current_user),
            bots=bots,
            linked=_linked(bots),
            issued=issued,
        )

    @expose("/")
    def index(self):
        return self._page()

    @expose("/link", methods=("POST",))
    def link(self):
        bot = db.session.get(Bot, request.form.get("bot_id", type=int) or 0)
        if bot is None or not tenancy.in_organization(current_user, bot.organization_id):
            abort(404)
        code, expires_at = link_codes.issue_staff_code(current_user)
        return self._page({"bot": bot, "code": code, "url": deep_link(bot, code), "expires_at": expires_at})


def register_admin(admin) -> None:
    admin.add_view(ProfileConsole(name=_l("Profile"), endpoint="profile", url="/admin/profile"))
