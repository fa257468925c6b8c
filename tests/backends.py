"""Which database and Redis the tests use.

BOTDESK_TEST_BACKEND=services: the PostgreSQL and Redis on 127.0.0.1 (CI), failing loudly when
they cannot be reached. =embedded: a SQLite file and fakeredis. Unset: services when reachable,
else embedded, so a newcomer can run the suite anywhere.
"""

from __future__ import annotations

import os
import socket
import tempfile
from dataclasses import dataclass

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@dataclass
class Backend:
    name: str
    database_url: str
    redis_url: str  # empty: fakeredis in-process
    cleanup: callable = None


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _postgres_backend() -> Backend:
    import psycopg

    name = f"botdesk_test_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    url = f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)

    def drop() -> None:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return Backend("services", url, REDIS_URL, drop)


def _embedded_backend() -> Backend:
    directory = tempfile.mkdtemp(prefix="botdesk-test-")
    return Backend("embedded", f"sqlite:///{directory}/test.sqlite3", "")


def select_backend() -> Backend:
    wanted = os.environ.get("BOTDESK_TEST_BACKEND", "auto")
    if wanted == "embedded":
        return _embedded_backend()
    if wanted == "services":
        if not (_reachable("127.0.0.1", 5432) and _reachable("127.0.0.1", 6379)):
            raise RuntimeError("BOTDESK_TEST_BACKEND=services but PostgreSQL/Redis on 127.0.0.1 are not reachable")
        return _postgres_backend()
    if _reachable("127.0.0.1", 5432) and _reachable("127.0.0.1", 6379):
        return _postgres_backend()
    return _embedded_backend()
