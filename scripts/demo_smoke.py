"""Start the whole platform as a newcomer would, on a fresh database, and wait for its first page.

    python scripts/demo_smoke.py                    # embedded default: SQLite + embedded Redis + sandbox
    python scripts/demo_smoke.py --backend services # PostgreSQL + Redis on 127.0.0.1 (a fresh database)

It runs ``flask run-all`` (what ``python3 manage.py demo`` runs) on a free port, waits until the
console's login page, the sandbox page and the health check answer, logs in to the API as the
demo superuser, prints the time to the first page, and stops the platform. It exits non-zero when
the demo cannot start (a failed migration or seed ends ``run-all`` before it serves), so CI fails
on a demo that a newcomer could not start.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _services_env(env: dict[str, str], database: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    env["DATABASE_URL"] = f"{PG_ADMIN_URL.rpartition('/')[0]}/{database}"
    redis_url = os.environ.get("DEMO_SMOKE_REDIS_URL", "redis://127.0.0.1:6379/13")
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env["REDIS_URL"] = redis_url
    env["SANDBOX_ENABLED"] = "1"
    sys.path.insert(0, str(ROOT))
    import config

    for name, value in config.fresh_secrets().items():  # thrown away with the database afterwards
        env.setdefault(name, value)


def _drop(database: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _wait_ready(base: str, platform: subprocess.Popen, deadline: float) -> float:
    pages = ("/api/reports/health/", "/admin/login")
    started = time.monotonic()
    while time.monotonic() < deadline:
        if platform.poll() is not None:
            raise SystemExit(f"the platform exited with {platform.returncode} before serving a page")
        try:
            if all(requests.get(base + page, timeout=5).status_code == 200 for page in pages):
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit("the platform did not serve its pages in time")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("embedded", "services"), default="embedded")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args(argv)

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["BOTDESK_INSTANCE_DIR"] = tempfile.mkdtemp(prefix="botdesk-demo-smoke-")
    database = f"botdesk_demo_smoke_{os.getpid()}"
    if args.backend == "services":
        _services_env(env, database)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "run-all", "--port", str(port)]
    started = time.monotonic()
    platform = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    try:
        import threading

        reader = threading.Thread(target=lambda: output.extend(platform.stdout), daemon=True)
        reader.start()
        _wait_ready(base, platform, started + args.timeout)
        first_page = time.monotonic() - started
        login = requests.post(
            f"{base}/api/login/", json={"username": "superuser", "password": "botdesk-demo"}, timeout=10
        )
        if login.status_code != 200:
            raise SystemExit(f"demo superuser login answered {login.status_code}")
        print(f"demo ({args.backend}): first page after {first_page:.1f} s; demo login works")
        return 0
    except SystemExit as failure:
        print("".join(output[-60:]), file=sys.stderr)
        print(f"demo ({args.backend}): {failure}", file=sys.stderr)
        return 1
    finally:
        if platform.poll() is None:
            platform.send_signal(signal.SIGTERM)
            try:
                platform.wait(timeout=30)
            except subprocess.TimeoutExpired:
                platform.kill()
        if args.backend == "services":
            _drop(database)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
