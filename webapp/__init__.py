"""The Botdesk application factory: wiring only."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from config import load_config
from webapp.core import logs


def create_app(overrides: dict | None = None) -> Flask:
    with _collector_paused():
        return _build_app(overrides)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Building the app allocates ~0.5M long-lived objects (models, routes, views, schemas) and only
    a few thousand garbage ones, yet the cyclic collector scans them over and over while they pile
    up: ~0.4 CPU-s of every process's start (RQ workers, web, cron, tests). So it is paused meanwhile,
    and what exists then is frozen (moved to the collector's permanent generation): no later full
    collection scans it again, nor dirties its pages in a forked RQ work horse. The price is that
    startup's little garbage is never collected. A caller that paused the collector manages it."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    except BaseException:
        if was_enabled:
            gc.enable()
        raise
    if was_enabled:
        gc.freeze()
        gc.enable()


def _build_app(overrides: dict | None) -> Flask:
    from webapp.core.apidocs import import_spectree

    import_spectree()  # before any schema module imports it
    app = Flask(__name__, instance_path=None)
    app.config.update(load_config())
    if overrides:
        app.config.update(overrides)
    app.instance_path = app.config["INSTANCE_DIR"]
    app.json.sort_keys = False  # bodies keep the seeds' key order
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logs.install()  # web, bot worker, RQ and cron all build their app here

    if app.config.get("SANDBOX_ENABLED") and not app.config.get("EMBEDDED"):
        logging.getLogger(__name__).warning(
            "The Telegram sandbox is enabled outside the embedded default (SANDBOX_ENABLED): "
            "its fake Bot API is served at /sandbox; do not run it on a public deployment"
        )
    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    return app


def _init_extensions(app: Flask) -> None:
    import webapp.models  # noqa: F401 - every model registered before migrations/admin look
    from webapp.core import i18n, ratelimit, unit_of_work
    from webapp.core.auth.jwt_callbacks import init_jwt_callbacks
    from webapp.core.errors import register_error_handlers
    from webapp.core.limits import register_input_limits
    from webapp.core.security import init_security
    from webapp.extensions import babel, csrf, db, jwt, limiter, login_manager, migrate, redis_store

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"), render_as_batch=True)
    redis_store.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", _limiter_storage(app.config["REDIS_URL"]))
    limiter.init_app(app)
    ratelimit.init_app(app)
    jwt.init_app(app)
    init_jwt_callbacks(jwt)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    app.jinja_env.globals["get_locale"] = i18n.current_language
    csrf.init_app(app)
    login_manager.init_app(app)
    init_security(app)
    register_error_handlers(app)
    unit_of_work.install(app)
    register_input_limits(app)


def _limiter_storage(redis_url: str) -> str:
    """Flask-Limiter's storage URI for our Redis; the `limits` library spells unix sockets its own way."""
    if not redis_url:
        return "memory://"
    if redis_url.startswith("unix://"):
        return "redis+unix://" + redis_url[len("unix://") :]
    return redis_url


def _register_blueprints(app: Flask) -> None:
    from webapp.admin import init_admin
    from webapp.core.apidocs import bp as apidoc_assets
    from webapp.core.apispec import spec
    from webapp.core.auth.api import bp as auth_api
    from webapp.core.console import bp as console_bp
    from webapp.core.security import relax_for_api_docs
    from webapp.extensions import csrf
    from webapp.metrics.views import init_metrics
    from webapp.verticals import each_module

    # JSON APIs authenticate with headers, not cookies, so cookie-CSRF does not apply to them.
    api_blueprints = [auth_api, *(m.bp for m in each_module("api"))]
    for blueprint in api_blueprints:
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    app.register_blueprint(console_bp)
    for module in each_module("views"):  # HTML pages of a package (e.g. the sandbox chat)
        app.register_blueprint(module.bp)
    init_admin(app)
    app.register_blueprint(apidoc_assets)
    spec.register(app)
    relax_for_api_docs(app)
    init_metrics(app)


def _register_cli(app: Flask) -> None:
    from webapp.cli import register_cli

    register_cli(app)
