"""The README's permissions table is the one the code generates (scripts/permissions_table.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("permissions_table", ROOT / "scripts" / "permissions_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_permissions_section_is_current(app):
    script = _script()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert script.replace_section(readme, script.render(app)) == readme, (
        "README.md's Permissions section is stale: run python scripts/permissions_table.py --write"
    )


def test_table_lists_every_route_with_its_scope(app):
    from webapp.core import access_map as amap

    table = _script().render(app)
    assert "UNCLASSIFIED" not in table
    for rule in amap.api_rules(app):
        assert f"`{rule.rule}`" in table, rule.rule
    for view in amap.console_views(app):
        assert f"| {view.endpoint} | `{view.url}` |" in table, view.endpoint
    assert "| DELETE | `/api/v1/tickets/<ticket_id>` | admin | — | organization (ticket) |" in table
