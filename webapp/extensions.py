"""Flask extensions, created unbound and bound to an app in ``create_app``."""

from __future__ import annotations

import redis
from flask import Flask
from flask_babel import Babel
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData

from webapp.core.deferred_migrate import DeferredMigrate

# Deterministic constraint names keep Alembic migrations identical on PostgreSQL and SQLite.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = DeferredMigrate()  # Flask-Migrate itself is imported by its first use
jwt = JWTManager()
babel = Babel()
csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "console.login"
limiter = Limiter(key_func=get_remote_address, default_limits=[])


class RedisConnection:
    """The one Redis client of an app: a real server when REDIS_URL is set, else fakeredis.

    The fakeredis server object is shared by every app created in this process, so web requests,
    bot threads and in-process jobs see one keyspace (as they would with a real server).
    """

    _embedded_server = None

    def init_app(self, app: Flask) -> None:
        url = app.config.get("REDIS_URL")
        if url:
            # Blocking: under gevent workers hundreds of sockets may close or open at once, and a
            # plain pool fails them with "Too many connections" instead of waiting its turn.
            pool = redis.BlockingConnectionPool.from_url(
                url, max_connections=app.config["REDIS_MAX_CONNECTIONS"], timeout=app.config["REDIS_POOL_TIMEOUT"]
            )
            client = redis.Redis(connection_pool=pool)
        else:
            import fakeredis

            if RedisConnection._embedded_server is None:
                RedisConnection._embedded_server = fakeredis.FakeServer()
            client = fakeredis.FakeRedis(server=RedisConnection._embedded_server)
        app.extensions["botdesk_redis"] = client

    @property
    def client(self) -> redis.Redis:
        from flask import current_app

        return current_app.extensions["botdesk_redis"]


redis_store = RedisConnection()
