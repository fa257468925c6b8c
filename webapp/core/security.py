"""Response headers that keep the console and APIs out of other sites' frames and scripts.

Flask-Talisman sets them on every response (pages, JSON, files): a Content-Security-Policy whose
scripts come only from our origin or carry the response's nonce, ``frame-ancestors 'none'`` (with
``X-Frame-Options: DENY`` for older browsers), ``nosniff`` and a Referrer-Policy that never sends a
path to another site. TLS is terminated in front of the app, so Talisman does not redirect to
https; secure cookies are decided in ``config.py``.
"""

from __future__ import annotations

import functools

from flask import Flask
from flask_talisman import Talisman

SELF = "'self'"
CSP: dict[str, str | list[str]] = {
    "default-src": SELF,
    "script-src": SELF,  # plus the per-response nonce
    # Inline style attributes are everywhere in Flask-Admin's templates; styles cannot run code.
    "style-src": [SELF, "'unsafe-inline'"],
    "img-src": [SELF, "data:", "blob:", "https:"],  # listing photos may be links to other hosts
    "font-src": [SELF, "data:"],
    "connect-src": SELF,  # fetch and the helpdesk WebSocket, same origin
    "object-src": "'none'",
    "base-uri": SELF,
    "form-action": SELF,
    "frame-ancestors": "'none'",
}

# Swagger UI and ReDoc (webapp.core.apidocs) load their bundles from our origin with no inline script;
# ReDoc alone starts its search worker from a blob: URL.
DOCS_CSP: dict[str, str | list[str]] = {**CSP, "worker-src": [SELF, "blob:"]}
DOCS_PREFIX = "/apidoc"


def init_security(app: Flask) -> Talisman:
    talisman = Talisman(
        app,
        force_https=False,
        content_security_policy=CSP,
        content_security_policy_nonce_in=["script-src"],
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        session_cookie_secure=False,  # config.py decides; Talisman would otherwise force it on
        session_cookie_samesite=app.config.get("SESSION_COOKIE_SAMESITE", "Lax"),
        x_xss_protection=False,  # obsolete header; the CSP is the protection
    )
    app.extensions["talisman"] = talisman
    return talisman


def relax_for_api_docs(app: Flask) -> None:
    """Give the API documentation pages (registered by spectree) their own policy."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(DOCS_PREFIX + "/"):
            continue
        view = app.view_functions[rule.endpoint]

        @functools.wraps(view)
        def docs_view(*args, _view=view, **kwargs):
            return _view(*args, **kwargs)

        docs_view.talisman_view_options = {"content_security_policy": DOCS_CSP, "content_security_policy_nonce_in": []}
        app.view_functions[rule.endpoint] = docs_view
