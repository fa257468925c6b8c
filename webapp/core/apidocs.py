"""Swagger UI and ReDoc served from the packaged ``offapi`` bundle, so the API docs work offline.

spectree's own offline templates paste megabytes of JavaScript into inline ``<script>`` tags, which
the console's CSP refuses. These pages load the same files from our origin instead, and start
Swagger UI from a static script that reads the document's URL from its ``data-spec-url``, so the
docs pages need no inline script and no third-party origin.
"""

from __future__ import annotations

import sys
from importlib.util import find_spec
from pathlib import Path

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
    # Found, not imported: see import_spectree.
    bundle = Path(find_spec("offapi").origin).parent
    return send_file(bundle / name, mimetype=ASSETS[name], max_age=86400)


def import_spectree() -> None:
    """Import spectree while ``offapi`` looks absent, unless either is already imported.

    spectree's default docs pages import ``offapi``, whose import reads its 9 MB of JavaScript and
    CSS into strings: ~0.1 CPU-s and ~20 MB in every process that builds the app. Our pages
    (PAGE_TEMPLATES) replace those, and the asset view reads the files from the package's directory,
    so nothing needs the import. Absent, it makes spectree fall back to its online templates, which
    our page_templates override as they override the offline ones.
    """
    if "spectree" in sys.modules or "offapi" in sys.modules:
        return
    sys.modules["offapi"] = None  # importing it raises ImportError: what spectree expects without it
    try:
        import spectree  # noqa: F401
    finally:
        del sys.modules["offapi"]


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
