"""The ``/sandbox`` chat page: a person plays a Telegram user of a sandbox bot.

The page is static HTML + vanilla JS (the machine may be offline); everything it does goes
through the test/ops JSON API, so the page sees exactly what tests see. The API is never
anonymous (it hands out bot tokens), so the page is for a superuser signed into the console: the
demo prints that login. Its calls ride on the console session, with the CSRF token.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from webapp.core.i18n import Catalog
from webapp.sandbox.access import console_operator

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


@bp.get("/sandbox")
@bp.get("/sandbox/")
def chat_page():
    if not current_app.config.get("SANDBOX_ENABLED"):
        abort(404)
    if not console_operator():
        if current_user.is_authenticated:
            abort(403)
        return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
    texts = {text: catalog.gettext(text) for text in UI_TEXTS}
    config = {
        "api": url_for("sandbox_api.list_bots").rsplit("/bots", 1)[0],
        "texts": texts,
        "bot": request.args.get("bot"),
        "csrf": generate_csrf(),
        "user": request.args.get("user"),
    }
    return render_template("sandbox/chat.html", texts=texts, config=config)
