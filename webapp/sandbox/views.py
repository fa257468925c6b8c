"""The ``/sandbox`` chat page: a person plays a Telegram user of a sandbox bot.

The page is static HTML + vanilla JS (the machine may be offline); everything it does goes
through the test/ops JSON API, so the page sees exactly what tests see. Staff only (moderator
or above), unless SANDBOX_PUBLIC_PAGE opens it, as the embedded demo does.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.core.i18n import Catalog
from webapp.core.roles import Role, user_has_role

bp = Blueprint("sandbox", __name__)
catalog = Catalog("sandbox")

# Every text the page shows, English msgids translated in translations/<lang>/LC_MESSAGES/sandbox.po.
UI_TEXTS = (
    "Telegram sandbox",
    "Bot",
    "User",
    "Choose a bot",
    "Choose a user",
    "New user",
    "First name",
    "Username (optional)",
    "Language",
    "Phone (optional)",
    "Create",
    "Send",
    "Message",
    "Attach a file",
    "Send as",
    "Document",
    "Photo",
    "Voice",
    "Block the bot",
    "Unblock the bot",
    "You have blocked this bot.",
    "typing…",
    "No sandbox bots yet: run the demo seed or create one through the sandbox API.",
    "Choose or create a user to start chatting.",
    "Your phone number (e.g. +77011234567)",
    "Contact",
    "edited",
    "Could not send",
    "Start",
)


def may_open_page() -> bool:
    if current_app.config.get("SANDBOX_PUBLIC_PAGE"):
        return True
    return current_user.is_authenticated and user_has_role(current_user, Role.MODERATOR)


@bp.get("/sandbox")
@bp.get("/sandbox/")
def chat_page():
    if not current_app.config.get("SANDBOX_ENABLED"):
        abort(404)
    if not may_open_page():
        if current_user.is_authenticated:
            abort(403)
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
    texts = {text: catalog.gettext(text) for text in UI_TEXTS}
    config = {
        "api": url_for("sandbox_api.list_bots").rsplit("/bots", 1)[0],
        "texts": texts,
        "bot": request.args.get("bot"),
        "user": request.args.get("user"),
    }
    return render_template("sandbox/chat.html", texts=texts, config=config)
