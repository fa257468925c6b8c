"""Who may drive the sandbox's test/ops API: the sandbox key, or a superuser's console session.

The ops API lists bot tokens, reads every transcript and speaks as any user; a listed token signs
WebApp initData that logs in as anyone. So it is never anonymous, even on the embedded demo. The
Bot API itself (``/sandbox/bot<token>/...``) needs no more than Telegram does: the token.
"""

from __future__ import annotations

import hmac

from flask import current_app, request
from flask_login import current_user

from webapp.core.errors import ApiError
from webapp.core.roles import Role, user_has_role
from webapp.extensions import csrf

KEY_HEADER = "X-Sandbox-Key"


def key_matches(given: str | None) -> bool:
    expected = current_app.config.get("SANDBOX_KEY") or ""
    return bool(expected and given) and hmac.compare_digest(given.encode(), expected.encode())


def console_operator() -> bool:
    """A superuser signed into the console (the /sandbox chat page's person)."""
    return current_user.is_authenticated and user_has_role(current_user, Role.SUPERUSER)


def require_credential() -> None:
    if key_matches(request.headers.get(KEY_HEADER)):
        return
    if console_operator():
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            csrf.protect()  # the session cookie rides along on any site's form post
        return
    message = f"The sandbox API needs the {KEY_HEADER} header or a superuser's console session"
    raise ApiError(401, message, "UNAUTHORIZED")
