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

# Secrets a running platform cannot do without. When the environment does not give them they are
# generated once and kept in instance/secrets.json, so restarts keep sessions and tokens valid.
GENERATED_SECRETS = (
    "SECRET_KEY",
    "JWT_SECRET_KEY",
    "TOKEN_ENCRYPTION_KEY",
    "TELEGRAM_BOT_API_SECRET",
    "PAYMENT_WEBHOOK_SECRET",
    "DOWNLOAD_SIGNING_KEY",
)


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


def _load_or_create_secrets(instance_dir: Path, env: dict[str, str]) -> dict[str, str]:
    missing = [name for name in GENERATED_SECRETS if not env.get(name)]
    values = {name: env[name] for name in GENERATED_SECRETS if env.get(name)}
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

    cfg: dict = {
        "ENV_NAME": env.get("BOTDESK_ENV", "embedded" if not env.get("DATABASE_URL") else "production"),
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
        "JWT_TOKEN_LOCATION": ["headers", "query_string"],
        "JWT_QUERY_STRING_NAME": "token",  # seed 003's WebSocket: /ws/tickets/{id}?token=
        "JWT_ERROR_MESSAGE_KEY": "detail",
        "WEBAPP_INITDATA_MAX_AGE": _int(env.get("WEBAPP_INITDATA_MAX_AGE"), 24 * 3600),
        "BOT_TOKEN_DEFAULT_DAYS": _int(env.get("BOT_TOKEN_DEFAULT_DAYS"), 0),  # 0: no expiry
        "LINK_CODE_TTL_MINUTES": _int(env.get("LINK_CODE_TTL_MINUTES"), 10),
        "LINK_CODE_MAX_ATTEMPTS": _int(env.get("LINK_CODE_MAX_ATTEMPTS"), 3),
        "AUTH_RATE_LIMIT": env.get("AUTH_RATE_LIMIT", "20 per minute"),
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        # werkzeug's method string; the test suite uses a cheap one, since scrypt costs ~0.2 s a user.
        "PASSWORD_HASH_METHOD": env.get("PASSWORD_HASH_METHOD", "scrypt"),
        # Console
        "WTF_CSRF_ENABLED": _bool(env.get("WTF_CSRF_ENABLED"), True),
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("SESSION_COOKIE_SECURE")),
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
        "SANDBOX_ENABLED": _bool(env.get("SANDBOX_ENABLED"), not env.get("DATABASE_URL")),
        "SANDBOX_BASE_URL": env.get("SANDBOX_BASE_URL", "http://127.0.0.1:5000/sandbox"),
        "SANDBOX_PER_SECOND": _int(env.get("SANDBOX_PER_SECOND"), 30),
        "SANDBOX_PER_CHAT_PER_SECOND": _int(env.get("SANDBOX_PER_CHAT_PER_SECOND"), 1),
        "SANDBOX_PUBLIC_PAGE": _bool(env.get("SANDBOX_PUBLIC_PAGE"), not env.get("DATABASE_URL")),
        "TELEGRAM_LOGIN_REQUIRES_SERVICE_AUTH": _bool(env.get("TELEGRAM_LOGIN_REQUIRES_SERVICE_AUTH")),
        # Files and mail
        "UPLOAD_DIR": env.get("UPLOAD_DIR") or str(instance_dir / "uploads"),
        "MAX_CONTENT_LENGTH": _int(env.get("MAX_UPLOAD_MB"), 20) * 1024 * 1024,
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
        "REPORTS_MORNING_HOUR": _int(env.get("REPORTS_MORNING_HOUR"), 8),
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
    cfg.update(_load_or_create_secrets(instance_dir, env))
    return cfg
