"""Shared fixtures: one app per session on a fresh database built by the migrations, a clean
database and Redis for every test, and factories for users and their tokens."""

from __future__ import annotations

import os
import re
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

os.environ.setdefault("BOTDESK_INSTANCE_DIR", tempfile.mkdtemp(prefix="botdesk-instance-"))

from tests.backends import select_backend  # noqa: E402
from tests.clock import skip_real_clock_tests, travel_from_environment  # noqa: E402
from tests.organizations import DEFAULT  # noqa: E402

travel_from_environment()

# Fixture modules of each area (tests/fixtures/<area>.py) load without editing this file.
pytest_plugins = sorted(
    f"tests.fixtures.{p.stem}" for p in (Path(__file__).parent / "fixtures").glob("*.py") if p.stem != "__init__"
)

BACKEND = select_backend()
TEST_PASSWORD = "correct-horse-battery"


def pytest_report_header(config):
    return f"botdesk backend: {BACKEND.name} ({BACKEND.database_url.split('@')[-1]})"


def pytest_collection_modifyitems(config, items):
    skip_real_clock_tests(items)


def pytest_sessionfinish(session, exitstatus):
    if BACKEND.cleanup:
        from webapp.extensions import db

        app = session.config.stash.get(APP_KEY, None)
        if app is not None:
            with app.app_context():
                db.engine.dispose()
        BACKEND.cleanup()


APP_KEY = pytest.StashKey()


def child_process_secrets() -> dict[str, str]:
    """The test app's secrets, for a child process: it runs with DATABASE_URL set, and outside the
    embedded default secrets are not generated but must be given."""
    from config import GENERATED_SECRETS, SANDBOX_SECRET, load_config

    settings = load_config()  # this process is on the embedded default: the instance's stored secrets
    return {name: settings[name] for name in (*GENERATED_SECRETS, SANDBOX_SECRET)}


def make_app(**overrides):
    from webapp import create_app

    config = {
        "SQLALCHEMY_DATABASE_URI": BACKEND.database_url,
        "REDIS_URL": BACKEND.redis_url,
        "TESTING": True,
        "AUTH_RATE_LIMIT": "10000 per minute",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        # Tests fire faster than people; the limits' own tests set them low (tests/core/test_rate_limits.py).
        "BOT_API_RATE_LIMIT": "10000 per minute",
        "BOT_UPDATE_RATE_LIMIT": "10000 per minute",
        # A bot's replies to a test's quick conversation would wait a second each (tests/botworker/test_replies.py
        # sets the production burst back).
        "TELEGRAM_PER_CHAT_BURST": 1000,
        "SANDBOX_ENABLED": True,
        "SERVER_NAME": None,
        # Seed 003 tickets without a category go to the test organization's desk.
        "HELPDESK_DEFAULT_ORGANIZATION": "Test organization",
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def app(request):
    from flask_migrate import upgrade

    application = make_app()
    request.config.stash[APP_KEY] = application
    with application.app_context():
        upgrade(revision="heads")
    return application


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over real HTTP on a free local port (sandbox, webhooks, browser tests).

    The sandbox base URL in the app's config points at it, so bot code reaches the sandbox the way
    it reaches Telegram: over HTTP.
    """
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    app.config["PUBLIC_BASE_URL"] = base_url
    app.config["SANDBOX_BASE_URL"] = f"{base_url}/sandbox"
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield SimpleNamespace(url=base_url, sandbox_url=f"{base_url}/sandbox")
    server.shutdown()


def _clean_database(application) -> None:
    """Empty the tables a test wrote to (one query finds them; truncating all of them is slow)."""
    from webapp.extensions import db

    with application.app_context():
        db.session.remove()
        tables = [t.name for t in db.metadata.sorted_tables]
        probe = " UNION ALL ".join(f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in tables)
        with db.engine.begin() as conn:
            dirty = {row[0] for row in conn.exec_driver_sql(probe)}
            if not dirty:
                return
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"TRUNCATE {', '.join(sorted(dirty))} RESTART IDENTITY CASCADE")
            else:
                for name in reversed(tables):
                    if name in dirty:
                        conn.exec_driver_sql(f"DELETE FROM {name}")


@pytest.fixture(autouse=True)
def _clean_state(request):
    """Every test starts with empty tables and an empty Redis database."""
    if "app" not in request.fixturenames:
        yield
        return
    application = request.getfixturevalue("app")
    from webapp.extensions import redis_store

    with application.app_context():
        redis_store.client.flushdb()
    yield
    _clean_database(application)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def app_ctx(app):
    """An app context for calling services directly. Do not make client requests inside it."""
    with app.app_context() as ctx:
        yield ctx


@pytest.fixture
def make_user(app):
    """Create a committed user; returns a plain namespace (safe to use outside an app context).

    An organization role joins ``organization`` (an id; default: the test organization every
    fixture's data belongs to unless a test says otherwise); ``organization=None`` leaves the
    account without one."""
    from tests.organizations import default_organization_id
    from webapp.core.models import Membership, TelegramAccount, User
    from webapp.core.roles import ORGANIZATION_ROLES, Role
    from webapp.extensions import db

    counter = iter(range(1, 10_000))

    def factory(
        role: str = "user",
        *,
        active: bool = True,
        telegram_id: int | None = None,
        password=TEST_PASSWORD,
        language: str = "ru",
        organization=DEFAULT,
        **fields,
    ):
        n = next(counter)
        with app.app_context():
            user = User(
                username=fields.pop("username", f"{role}{n}"),
                email=fields.pop("email", f"{role}{n}@example.test"),
                role=role,
                is_active=active,
                language=language,
                first_name=fields.pop("first_name", role.capitalize()),
                **fields,
            )
            if password is not None:  # None: a bot customer, who has no console login
                user.set_password(password)
            if telegram_id is not None:
                user.telegram_accounts.append(TelegramAccount(telegram_user_id=telegram_id, chat_id=telegram_id))
            db.session.add(user)
            if organization is DEFAULT:
                organization = default_organization_id() if Role.parse(role) in ORGANIZATION_ROLES else None
            if organization is not None:
                db.session.flush()
                db.session.add(Membership(user_id=user.id, organization_id=organization))
            db.session.commit()
            return SimpleNamespace(
                id=user.id,
                username=user.username,
                email=user.email,
                role=role,
                password=password,
                telegram_id=telegram_id,
                organization_id=organization,
            )

    return factory


@pytest.fixture
def tokens_for(app):
    """Issue a real access/refresh pair for a user namespace made by ``make_user``."""
    from webapp.core.auth.tokens import issue_tokens
    from webapp.core.services import get_user

    def factory(user_ns) -> dict:
        with app.app_context():
            return issue_tokens(get_user(user_ns.id))

    return factory


@pytest.fixture
def auth_header(tokens_for):
    def factory(user_ns) -> dict:
        return {"Authorization": f"Bearer {tokens_for(user_ns)['access']}"}

    return factory


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "page has no csrf_token field"
    return match.group(1) or match.group(2)


@pytest.fixture
def console_login(app):
    """Sign a test client into the console through the real login form (CSRF included)."""

    def login(client, user_ns) -> None:
        page = client.get("/admin/login")
        response = client.post(
            "/admin/login",
            data={"login": user_ns.username, "password": user_ns.password, "csrf_token": csrf_from(page.text)},
        )
        assert response.status_code == 302, response.text

    return login
