"""Print the permissions table, generated from the code: each API route and console view, who may
call it and whose data it reaches.

    python scripts/permissions_table.py           # print the Markdown
    python scripts/permissions_table.py --write   # rewrite the README's "Permissions" section
    python scripts/permissions_table.py --check   # exit 1 when the README's section is stale

Roles come from the views themselves (``require_role`` records ``required_roles`` and
``accepted_services``; console views carry ``required_roles``), scopes from
``webapp/core/access_map.py``. Only the URL map is read: no database or Redis is touched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START = "<!-- permissions:start -->"
END = "<!-- permissions:end -->"

SERVICE_NAMES = {"bot_token": "X-Bot-Token", "shared_secret": "bot service secret"}


def _app():
    # The table needs the URL map only: an embedded app on a throwaway instance directory.
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ.setdefault("BOTDESK_INSTANCE_DIR", tempfile.mkdtemp(prefix="botdesk-permissions-"))
    sys.path.insert(0, str(ROOT))
    import logging

    from webapp import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SANDBOX_ENABLED": True, "TESTING": True})
    logging.disable(logging.CRITICAL)
    return app


def _roles(required) -> str:
    if required is None:
        return "anyone"
    if not required:
        return "any signed-in user"
    from webapp.core.roles import Role

    order = list(Role)  # a canonical order: some views hold their roles in a set
    return ", ".join(r.value for r in sorted((Role.parse(r) for r in required), key=order.index))


def _services(accepted) -> str:
    return ", ".join(SERVICE_NAMES.get(s, s) for s in sorted(accepted or ())) or "—"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(app) -> str:
    from webapp.core import access_map as amap

    lines = [
        "Generated from the code by `python scripts/permissions_table.py --write` (roles: `require_role` on",
        "each view; scope: `webapp/core/access_map.py`). Superusers may use every route. Across",
        "organizations an organization-scoped route answers 404 (API) or refused / not found (console).",
        "",
        "### API",
        "",
        "| Method | Path | Roles | Services | Scope |",
        "|---|---|---|---|---|",
    ]
    for rule in amap.api_rules(app):
        view = app.view_functions[rule.endpoint]
        access = amap.API.get(rule.endpoint)
        scope = access.describe() if access else "UNCLASSIFIED"
        roles = _roles(getattr(view, "required_roles", None)) if hasattr(view, "required_roles") else "sandbox key"
        if access and access.scope == amap.SERVICE and not hasattr(view, "required_roles"):
            roles = "service"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            lines.append(
                f"| {method} | `{_cell(rule.rule)}` | {roles} | "
                f"{_services(getattr(view, 'accepted_services', None))} | {scope} |"
            )
    lines += [
        "",
        "### Console",
        "",
        "| View | URL | Roles | Scope | Routes |",
        "|---|---|---|---|---|",
    ]
    for view in amap.console_views(app):
        access = amap.CONSOLE.get(view.endpoint)
        scope = access.describe() if access else "UNCLASSIFIED"
        routes = []
        for rule in amap.console_rules(app, view):
            name = rule.endpoint.split(".", 1)[1]
            if name == "static":
                continue
            own = amap.CONSOLE_ROUTES.get(rule.endpoint)
            routes.append(f"{name} → {own.describe()}" if own and own != access else name)
        lines.append(
            f"| {view.endpoint} | `{view.url}` | {_roles(getattr(view, 'required_roles', None))} | {scope} | "
            f"{', '.join(routes)} |"
        )
    return "\n".join(lines) + "\n"


def replace_section(readme: str, table: str) -> str:
    head, found, rest = readme.partition(START)
    if not found or END not in rest:
        raise SystemExit(f"README.md has no {START} … {END} section")
    _old, _end, tail = rest.partition(END)
    return f"{head}{START}\n{table}{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the README's Permissions section")
    parser.add_argument("--check", action="store_true", help="exit 1 when the README's section is stale")
    args = parser.parse_args(argv)
    table = render(_app())
    if args.write or args.check:
        readme = README.read_text(encoding="utf-8")
        wanted = replace_section(readme, table)
        if args.check:
            if wanted != readme:
                print("README.md's Permissions section is stale: run python scripts/permissions_table.py --write")
                return 1
            return 0
        README.write_text(wanted, encoding="utf-8")
        return 0
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
