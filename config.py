"""Every setting of Botdesk, read from the environment with embedded defaults.

This is the only module that reads ``os.environ``; the rest of the code receives values through
``app.config`` (web, jobs, bot worker all build their app from here).
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

# Secrets a running platform cannot do without. On the embedded default (no DATABASE_URL) they are
# generated once and kept in instance/secrets.json, so restarts keep sessions and tokens valid.
# Anywhere else each must come from the environment: hosts of a scaled deployment generating their
# own keys would reject each other's sessions and tokens.
GENERATED_SECRETS = (
    "SECRET_KEY",
    "JWT_SECRET_KEY",
    "TOKEN_ENCRYPTION_KEY",
    "TELEGRAM_BOT_API_SECRET",
    "PAYMENT_WEBHOOK_SECRET",
    "DOWNLOAD_SIGNING_KEY",
)
# The sandbox's ops/test API key: generated with the others on the embedded default; elsewhere
# required only when the sandbox is switched on.
SANDBOX_SECRET = "SANDBOX_KEY"


BROADCAST_TUNING = {
    "BROADCAST_BATCH_SIZE": int,
    "BROADCAST_MAX_ATTEMPTS": int,
    "BROADCAST_RETRY_BACKOFF": float,
    "BROADCAST_STALE_SECONDS": int,
    "BROADCAST_JOB_SLICE_SECONDS": int,
    "BROADCAST_PARALLEL_JOBS": int,
    "BROADCAST_THREADS": int,
    "BROADCAST_IN_FLIGHT": int,
}


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError as exc:
        raise RuntimeError(f"expected an integer setting, got {value!r}") from exc


class MissingSecrets(RuntimeError):
    """Startup outside the embedded default without secrets the platform needs."""


def _load_or_create_secrets(instance_dir: Path, env: dict[str, str], names: tuple[str, ...]) -> dict[str, str]:
    missing = [name for name in names if not env.get(name)]
    values = {name: env[name] for name in names if env.get(name)}
    if not missing:
        return values
    path = instance_dir / "secrets.json"
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text())
    changed = False
    for name in missing:
        if name not in stored:
            stored[name] = _new_secret(name)
            changed = True
        values[name] = stored[name]
    if changed:
        instance_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored, indent=2))
        path.chmod(0o600)
    return values


def _require_secrets(env: dict[str, str], names: tuple[str, ...]) -> dict[str, str]:
    missing = [name for name in names if not env.get(name)]
    if missing:
        raise MissingSecrets(
            "Botdesk cannot start: set these secrets in the environment (they are generated only on the "
            "embedded default, without DATABASE_URL): " + ", ".join(missing)
        )
    return {name: env[name] for name in names}


def fresh_secrets() -> dict[str, str]:
    """A new value for every secret (benchmarks and scripts that start a non-embedded platform)."""
    return {name: _new_secret(name) for name in (*GENERATED_SECRETS, SANDBOX_SECRET)}


def _new_secret(name: str) -> str:
    if name == "TOKEN_ENCRYPTION_KEY":
        from cryptography.fernet import Fernet

        return Fernet.generate_key().decode()
    return secrets.token_urlsafe(48)


def load_config(env: dict[str, str] | None = None) -> dict:
    """Build the settings mapping for ``app.config`` from ``env`` (default: the process environment)."""
    env = dict(os.environ if env is None else env)
    instance_dir = Path(env.get("BOTDESK_INSTANCE_DIR") or BASE_DIR / "instance")
    instance_dir.mkdir(parents=True, exist_ok=True)

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'botdesk.sqlite3'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgres://") :]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]

    redis_url = env.get("REDIS_URL") or ""  # empty: the in-process substitute (fakeredis)

    env_name = env.get("BOTDESK_ENV", "embedded" if not env.get("DATABASE_URL") else "production")
    # The embedded default: one machine, SQLite, in-process Redis, demo conveniences on.
    embedded = env_name == "embedded"
    cfg: dict = {
        "ENV_NAME": env_name,
        "EMBEDDED": embedded,
        "INSTANCE_DIR": str(instance_dir),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        # Connections per process; a caller waits up to REDIS_POOL_TIMEOUT seconds for a free one.
        "REDIS_MAX_CONNECTIONS": _int(env.get("REDIS_MAX_CONNECTIONS"), 100),
        "REDIS_POOL_TIMEOUT": _int(env.get("REDIS_POOL_TIMEOUT"), 20),
        "TESTING": _bool(env.get("BOTDESK_TESTING")),
        # Auth
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=_int(env.get("JWT_ACCESS_MINUTES"), 60)),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=_int(env.get("JWT_REFRESH_DAYS"), 7)),
        # A refresh token used again within this many seconds of its rotation is a double tap (two
        # requests in flight): it gets the same new pair. Later, it is a replay and ends the session.
        "JWT_REFRESH_REUSE_GRACE_SECONDS": _int(env.get("JWT_REFRESH_REUSE_GRACE_SECONDS"), 10),
        # Headers only: a JWT in a URL lands in access logs. The helpdesk WebSocket (seed 003's
        # /ws/tickets/{id}?token=) alone reads the query string, explicitly.
        "JWT_TOKEN_LOCATION": ["headers"],
        "JWT_QUERY_STRING_NAME": "token",
        "JWT_ERROR_MESSAGE_KEY": "detail",
        "WEBAPP_INITDATA_MAX_AGE": _int(env.get("WEBAPP_INITDATA_MAX_AGE"), 24 * 3600),
        "BOT_TOKEN_DEFAULT_DAYS": _int(env.get("BOT_TOKEN_DEFAULT_DAYS"), 0),  # 0: no expiry
        "LINK_CODE_TTL_MINUTES": _int(env.get("LINK_CODE_TTL_MINUTES"), 10),
        "LINK_CODE_MAX_ATTEMPTS": _int(env.get("LINK_CODE_MAX_ATTEMPTS"), 3),
        "AUTH_RATE_LIMIT": env.get("AUTH_RATE_LIMIT", "20 per minute"),
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        # werkzeug's method string; the test suite uses a cheap one, since scrypt costs ~0.2 s a user.
        "PASSWORD_HASH_METHOD": env.get("PASSWORD_HASH_METHOD", "scrypt"),
        "BOT_API_RATE_LIMIT": env.get("BOT_API_RATE_LIMIT", "120 per minute"),
        "BOT_UPDATE_RATE_LIMIT": env.get("BOT_UPDATE_RATE_LIMIT", "30 per minute"),
        # Console
        "WTF_CSRF_ENABLED": _bool(env.get("WTF_CSRF_ENABLED"), True),
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Outside the embedded default the console is served over HTTPS (behind a proxy): cookies
        # never travel in clear. SESSION_COOKIE_SECURE=0 switches it off for a plain-HTTP staging box.
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), bool(env.get("DATABASE_URL"))),
        "REMEMBER_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE"), bool(env.get("DATABASE_URL"))),
        "LANGUAGES": ["ru", "kk", "uz", "en"],
        "BABEL_DEFAULT_LOCALE": env.get("DEFAULT_LANGUAGE", "ru"),
        "BABEL_TRANSLATION_DIRECTORIES": str(BASE_DIR / "translations"),
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        # Time
        "DEFAULT_TIMEZONE": env.get("DEFAULT_TIMEZONE", "Asia/Tashkent"),
        "CLINIC_DEFAULT_TIMEZONE": env.get("CLINIC_DEFAULT_TIMEZONE", "Asia/Almaty"),
        # Telegram
        "TELEGRAM_BOT_TOKEN": env.get("TELEGRAM_BOT_TOKEN", ""),
        "TELEGRAM_BOT_VERTICAL": env.get("TELEGRAM_BOT_VERTICAL", ""),
        "TELEGRAM_API_URL": env.get("TELEGRAM_API_URL", ""),
        "TELEGRAM_WEBHOOK_BASE_URL": env.get("TELEGRAM_WEBHOOK_BASE_URL", ""),
        "SANDBOX_ENABLED": _bool(env.get("SANDBOX_ENABLED"), embedded),
        "SANDBOX_BASE_URL": env.get("SANDBOX_BASE_URL", "http://127.0.0.1:5000/sandbox"),
        "SANDBOX_PER_SECOND": _int(env.get("SANDBOX_PER_SECOND"), 30),
        "SANDBOX_PER_CHAT_PER_SECOND": _int(env.get("SANDBOX_PER_CHAT_PER_SECOND"), 1),
        # The one send policy (webapp.telegram.policy): a chat gets this many messages at once, then one
        # a second, whether they are a handler's replies or a job's.
        "TELEGRAM_PER_CHAT_BURST": _int(env.get("TELEGRAM_PER_CHAT_BURST"), 3),
        # Chat-id login (seed 000) trusts whoever knows a Telegram id: outside the embedded default
        # only the bot's backend, holding the service credential, may call it.
        "TELEGRAM_LOGIN_REQUIRES_SERVICE_AUTH": _bool(env.get("TELEGRAM_LOGIN_REQUIRES_SERVICE_AUTH"), not embedded),
        # Metrics (webapp.metrics): /metrics answers this bearer token; unset, loopback clients only.
        "METRICS_TOKEN": env.get("METRICS_TOKEN", ""),
        # prometheus_client reads it from the environment too; set, /metrics adds up every process's files.
        "PROMETHEUS_MULTIPROC_DIR": env.get("PROMETHEUS_MULTIPROC_DIR", ""),
        # Files and mail
        "UPLOAD_DIR": env.get("UPLOAD_DIR") or str(instance_dir / "uploads"),
        "MAX_CONTENT_LENGTH": _int(env.get("MAX_UPLOAD_MB"), 20) * 1024 * 1024,
        # JSON bodies: larger ones answer 413, deeper ones 400, before any parser sees them.
        "JSON_MAX_BYTES": _int(env.get("JSON_MAX_KB"), 2048) * 1024,
        "JSON_MAX_DEPTH": _int(env.get("JSON_MAX_DEPTH"), 32),
        "MAIL_SERVER": env.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int(env.get("MAIL_PORT"), 25),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS")),
        "MAIL_FROM": env.get("MAIL_FROM", "Botdesk <no-reply@botdesk.local>"),
        # Speech
        "VOSK_MODEL_PATH": env.get("VOSK_MODEL_PATH", ""),
        # Web
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        "HELPDESK_WRITE_RATE_LIMIT": env.get("HELPDESK_WRITE_RATE_LIMIT", "60 per minute"),
        # The desk (organization name) of a seed 003 ticket that names no category, from a customer
        # no desk knows yet; unset: the platform's only desk, and with several a category is required.
        "HELPDESK_DEFAULT_ORGANIZATION": env.get("HELPDESK_DEFAULT_ORGANIZATION", ""),
        # A desk's defaults until its admin sets its own (console: Helpdesk → Settings).
        "HELPDESK_TIMEZONE": env.get("HELPDESK_TIMEZONE", ""),
        "HELPDESK_FIRST_RESPONSE_MINUTES": _int(env.get("HELPDESK_FIRST_RESPONSE_MINUTES"), 60),
        "REPORTS_MORNING_HOUR": _int(env.get("REPORTS_MORNING_HOUR"), 8),
        # How far ahead a visit or a stay may be booked.
        "CLINIC_BOOKING_HORIZON_DAYS": _int(env.get("CLINIC_BOOKING_HORIZON_DAYS"), 365),
        "REALTY_BOOKING_HORIZON_DAYS": _int(env.get("REALTY_BOOKING_HORIZON_DAYS"), 365),
        # Live sockets (webapp.helpdesk.live): caps across all processes, heartbeat and idle close.
        "LIVE_MAX_SOCKETS_PER_USER": _int(env.get("LIVE_MAX_SOCKETS_PER_USER"), 10),
        "LIVE_MAX_SOCKETS_PER_TICKET": _int(env.get("LIVE_MAX_SOCKETS_PER_TICKET"), 30),
        "LIVE_IDLE_SECONDS": _int(env.get("LIVE_IDLE_SECONDS"), 1800),
        "LIVE_OUTBOX_LIMIT": _int(env.get("LIVE_OUTBOX_LIMIT"), 200),
        "LIVE_SEND_TIMEOUT": _int(env.get("LIVE_SEND_TIMEOUT"), 30),
        "LIVE_REGISTRY_TTL": _int(env.get("LIVE_REGISTRY_TTL"), 90),
        # flask-sock hands these to every socket: the server pings, and closes a silent client.
        "SOCK_SERVER_OPTIONS": {"ping_interval": _int(env.get("LIVE_PING_SECONDS"), 25)},
    }
    # Broadcast delivery tuning: defaults live with the code (webapp.broadcasts.services.delivery);
    # the environment may override each.
    for name, cast in BROADCAST_TUNING.items():
        if env.get(name):
            try:
                cfg[name] = cast(env[name])
            except ValueError as exc:
                raise RuntimeError(f"{name}: expected a number, got {env[name]!r}") from exc
    if embedded:
        cfg.update(_load_or_create_secrets(instance_dir, env, (*GENERATED_SECRETS, SANDBOX_SECRET)))
    else:
        names = (*GENERATED_SECRETS, SANDBOX_SECRET) if cfg["SANDBOX_ENABLED"] else GENERATED_SECRETS
        cfg.update(_require_secrets(env, names))
        cfg.setdefault(SANDBOX_SECRET, "")
    return cfg
