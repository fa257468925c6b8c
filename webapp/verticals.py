"""The verticals and the modules each may provide; the app finds them here instead of by hand.

A vertical package ``webapp/<name>/`` may have ``models.py``, ``api.py`` (a blueprint ``bp``),
``admin.py`` (``register_admin(admin)``), ``jobs.py`` (registers periodic jobs on import) and
``demo.py`` (``seed()`` yielding lines, idempotent). Only what exists is loaded, so a vertical
joins the platform by being written, without edits to shared wiring.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

VERTICALS = ("clinic", "realty", "reports", "helpdesk", "finance", "broadcasts")
# Shared packages that follow the same module conventions.
PLATFORM_PACKAGES = ("core", "telegram", "sandbox")


def vertical_module(package: str, module: str) -> ModuleType | None:
    name = f"webapp.{package}.{module}"
    try:
        if importlib.util.find_spec(f"webapp.{package}") is None or importlib.util.find_spec(name) is None:
            return None
    except ModuleNotFoundError:
        return None
    return importlib.import_module(name)


def each_module(module: str) -> list[ModuleType]:
    found = []
    for package in (*PLATFORM_PACKAGES, *VERTICALS):
        mod = vertical_module(package, module)
        if mod is not None:
            found.append(mod)
    return found
