"""Seed 003's ticket list under load: ``GET /api/v1/tickets?status=OPEN&page=1`` over 100k tickets,
next to a trivial JSON endpoint of the same app (``GET /api/v1/auth/me``) on the same server.

    .venv/bin/python bench/tickets_api.py                      # PostgreSQL on 127.0.0.1, 100k tickets
    .venv/bin/python bench/tickets_api.py --tickets 20000 --seconds 5 --concurrency 8
    .venv/bin/python bench/tickets_api.py --sqlite             # embedded: a throwaway SQLite file

Creates a fresh database (``--admin-url``), runs the migrations, fills it with tickets (a fifth of
them OPEN, spread over a year, one message each) in bulk SQL, starts gunicorn (``--workers`` ×
``--threads``) on a free port as a separate process, and has ``--concurrency`` client threads call
each endpoint for ``--seconds`` as a helper (staff see every ticket: the heavier case). Prints
requests/s, p50 and p99 per endpoint and the ratio of the two. The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STATUSES = ("OPEN", "IN_PROGRESS", "WAITING_RESPONSE", "RESOLVED", "CLOSED")
STATUS_WEIGHTS = (20, 15, 10, 15, 40)
PRIORITIES = ("LOW", "NORMAL", "HIGH", "CRITICAL")


def create_database(admin_url: str, purpose: str = "tickets") -> tuple[str, str]:
    import psycopg

    name = f"botdesk_bench_{purpose}_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    return name, f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)


def drop_database(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill(app, tickets: int, seed: int) -> str:
    """Bulk rows through SQLAlchemy Core (executemany): the ORM would take minutes for 100k tickets.
    Returns the helper's user id."""
    import sqlalchemy as sa

    from webapp.core.models import User
    from webapp.core.services import create_staff_user
    from webapp.core.tenancy import ensure_organization, set_membership
    from webapp.extensions import db
    from webapp.helpdesk.models import Ticket, TicketCategory, TicketMessage

    rng = random.Random(seed)
    with app.app_context():
        desk = ensure_organization("Bench desk")  # the bench tickets' desk, where the helper works
        helper = create_staff_user("bench_helper", "bench@example.test", "bench-password-1", "helper")
        set_membership(None, helper, desk, source="cli")
        helper_id = helper.id
        categories = [TicketCategory(name=f"Category {n}", sort_order=n, organization_id=desk.id) for n in range(5)]
        db.session.add_all(categories)
        db.session.flush()
        category_ids = [c.id for c in categories]
        customers = [
            {"id": uuid.uuid4(), "username": f"customer{n}", "first_name": f"Customer {n}", "role": "user"}
            for n in range(1000)
        ]
        now = datetime.now(UTC)
        for row in customers:
            row.update(language="ru", is_active=True, created_at=now, updated_at=now)
        db.session.execute(sa.insert(User), customers)
        ticket_rows, message_rows = [], []
        for n in range(tickets):
            created = now - timedelta(minutes=rng.randrange(365 * 24 * 60))
            ticket_id = uuid.uuid4()
            customer = rng.choice(customers)["id"]
            status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
            ticket_rows.append(
                {
                    "id": ticket_id,
                    "title": f"Ticket {n}",
                    "description": "Generated for the benchmark",
                    "status": status,
                    "priority": rng.choice(PRIORITIES),
                    "category_id": rng.choice(category_ids),
                    "organization_id": desk.id,
                    "user_id": customer,
                    "assigned_to_id": helper_id if status != "OPEN" else None,
                    "source": "bench",
                    "created_at": created,
                    "updated_at": created,
                    "last_message_at": created,
                    "closed_at": created + timedelta(days=1) if status == "CLOSED" else None,
                }
            )
            message_rows.append(
                {
                    "id": uuid.uuid4(),
                    "ticket_id": ticket_id,
                    "author_id": customer,
                    "content": "Help, please",
                    "is_internal": False,
                    "source": "bench",
                    "created_at": created,
                }
            )
        for start in range(0, tickets, 5000):
            db.session.execute(sa.insert(Ticket), ticket_rows[start : start + 5000])
            db.session.execute(sa.insert(TicketMessage), message_rows[start : start + 5000])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
        return str(helper_id)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict, workers: int, threads: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/reports/health/", timeout=10).status_code in (200, 503):
                return process, url
        except requests.RequestException:  # still importing the app: not listening or not answering yet
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def load(url: str, headers: dict, seconds: float, concurrency: int) -> list[float]:
    """Latencies (ms) of every request made by ``concurrency`` threads for ``seconds``."""
    latencies: list[float] = []
    errors: list[int] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        session = requests.Session()
        mine, bad = [], []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            response = session.get(url, headers=headers, timeout=30)
            mine.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                bad.append(response.status_code)
        with lock:
            latencies.extend(mine)
            errors.extend(bad)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} non-200 answers from {url}: {sorted(set(errors))}")
    return latencies


def report(name: str, latencies: list[float], seconds: float) -> float:
    ordered = sorted(latencies)
    rps = len(ordered) / seconds
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"{name:<44} {rps:>9.1f} req/s   p50 {statistics.median(ordered):>7.1f} ms   p99 {p99:>7.1f} ms")
    return rps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--sqlite", action="store_true", help="a throwaway SQLite file instead of PostgreSQL")
    parser.add_argument(
        "--admin-url", default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from webapp import create_app

    directory = tempfile.mkdtemp(prefix="botdesk-bench-tickets-")
    db_name = None
    if args.sqlite:
        database_url = f"sqlite:///{directory}/bench.sqlite3"
    else:
        db_name, database_url = create_database(args.admin_url)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "BOTDESK_INSTANCE_DIR": directory,
        "SANDBOX_ENABLED": "0",
    }
    from config import fresh_secrets  # outside the embedded default secrets must be given

    for name, value in fresh_secrets().items():
        env.setdefault(name, value)
    # This process issues the tokens the server checks: both sign with the same secrets.
    os.environ.update({"BOTDESK_INSTANCE_DIR": directory, **{k: env[k] for k in fresh_secrets()}})
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": env["REDIS_URL"]})
    server = None
    try:
        with app.app_context():
            upgrade(revision="heads")
        started = time.perf_counter()
        helper_id = fill(app, args.tickets, args.seed)
        backend = app.config["SQLALCHEMY_DATABASE_URI"].split(":")[0]
        print(f"filled {args.tickets} tickets in {time.perf_counter() - started:.1f} s ({backend})")
        with app.app_context():
            from webapp.core.auth.tokens import issue_tokens
            from webapp.core.services import get_user

            headers = {"Authorization": f"Bearer {issue_tokens(get_user(helper_id))['access']}"}
        server, base = start_server(env, args.workers, args.threads)
        endpoints = [
            ("GET /api/v1/auth/me (trivial)", f"{base}/api/v1/auth/me"),
            ("GET /api/v1/tickets?status=OPEN&page=1", f"{base}/api/v1/tickets?status=OPEN&page=1"),
        ]
        for _name, url in endpoints:  # warm both up: connections, caches, first imports
            load(url, headers, 1, 2)
        print(
            f"gunicorn {args.workers} workers × {args.threads} threads, "
            f"{args.concurrency} clients, {args.seconds:g} s each"
        )
        rates = [
            report(name, load(url, headers, args.seconds, args.concurrency), args.seconds) for name, url in endpoints
        ]
        print(f"ratio tickets / trivial: {rates[1] / rates[0]:.2f}")
    finally:
        shut_down(server, app, args.admin_url, db_name)


def shut_down(server: subprocess.Popen | None, app, admin_url: str, db_name: str | None) -> None:
    """Stop the bench's web server, release the app's connections and drop the bench database."""
    if server is not None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    with app.app_context():
        from webapp.extensions import db

        db.engine.dispose()
    if db_name:
        drop_database(admin_url, db_name)


if __name__ == "__main__":
    main()
