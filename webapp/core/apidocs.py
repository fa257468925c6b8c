"""Swagger UI and ReDoc served from the packaged ``offapi`` bundle, so the API docs work offline.

spectree's own offline templates paste megabytes of JavaScript into inline ``<script>`` tags, which
the console's CSP refuses. These pages load the same files from our origin instead, and start
Swagger UI from a static script that reads the document's URL from its ``data-spec-url``, so the
docs pages need no inline script and no third-party origin.
"""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, abort, send_file

ASSETS_PREFIX = "/apidoc/assets"
# Only the bundle's files the pages load; nothing else in the package is reachable.
ASSETS = {
    "swagger_bundle.js": "text/javascript",
    "swagger_preset.js": "text/javascript",
    "swagger_style.css": "text/css",
    "redoc.js": "text/javascript",
}

bp = Blueprint("apidoc_assets", __name__, url_prefix=ASSETS_PREFIX)


@bp.get("/<name>")
def asset(name: str):
    if name not in ASSETS:
        abort(404)
    with resources.as_file(resources.files("offapi") / name) as path:
        return send_file(path, mimetype=ASSETS[name], max_age=86400)


# spectree fills these with str.format (spec_url, spec_path, OAuth settings): braces are doubled.
PAGE_TEMPLATES: dict[str, str] = {
    "swagger": f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Botdesk API · Swagger UI</title>
    <link rel="stylesheet" href="{ASSETS_PREFIX}/swagger_style.css">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="{ASSETS_PREFIX}/swagger_bundle.js"></script>
    <script src="{ASSETS_PREFIX}/swagger_preset.js"></script>
    <script src="/static/apidoc/swagger-init.js" data-spec-url="{{spec_url}}"></script>
  </body>
</html>""",
    "redoc": f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Botdesk API · ReDoc</title>
    <style>body {{{{ margin: 0; padding: 0; }}}}</style>
  </head>
  <body>
    <redoc spec-url="{{spec_url}}"></redoc>
    <script type="module" src="{ASSETS_PREFIX}/redoc.js"></script>
  </body>
</html>""",
}
