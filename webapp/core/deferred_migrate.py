"""Flask-Migrate, imported when it is first used rather than by every process that builds the app.

Importing Flask-Migrate imports Alembic with every dialect's DDL, autogenerate and Mako (~0.07 CPU-s
and ~110 modules), yet only ``flask db …``, ``flask_migrate.upgrade()`` (tests, benches) and
``migrations/env.py`` use it; RQ workers, cron and the web processes never do. So ``init_app`` puts
two stand-ins where Flask-Migrate's ``init_app`` puts its own: the ``db`` command group and
``app.extensions["migrate"]``. The first touch of either runs Flask-Migrate's ``init_app``, which
replaces both with the real ones.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask


class DeferredMigrate:
    """``Migrate``'s ``init_app`` signature, for ``webapp.extensions.migrate``."""

    def init_app(self, app: Flask, db: Any, **options: Any) -> None:
        state = _MigrateOnFirstUse(app, db, options)
        app.extensions["migrate"] = state
        app.cli.add_command(_DbCommands(state), name="db")


class _MigrateOnFirstUse:
    """``app.extensions["migrate"]`` until Flask-Migrate is loaded: any attribute loads it."""

    def __init__(self, app: Flask, db: Any, options: dict[str, Any]) -> None:
        self._app, self._db, self._options = app, db, options

    def load(self) -> Any:
        if self._app.extensions.get("migrate") is self:
            from flask_migrate import Migrate

            Migrate().init_app(self._app, self._db, **self._options)  # replaces us and the db group
        return self._app.extensions["migrate"]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.load(), name)


class _DbCommands(click.Group):
    """``flask db``: stands for Flask-Migrate's group (same help) and hands every use over to it."""

    def __init__(self, state: _MigrateOnFirstUse) -> None:
        super().__init__(name="db", help="Perform database migrations.")
        self._state = state

    def _real(self) -> click.Group:
        self._state.load()
        from flask_migrate.cli import db

        return db

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any):
        return self._real().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._real().get_command(ctx, cmd_name)
