"""Live sockets at scale in the production topology: 1,000 WebSockets held on one web host.

    .venv/bin/python bench/live.py                        # the issue's run: 1,000 sockets
    .venv/bin/python bench/live.py --customers 50 --per-customer 4 --rounds 3

Creates a fresh PostgreSQL database (``--admin-url``), runs the migrations, adds ``--customers``
customers with one ticket each, and starts the web service exactly as docker-compose.yml's ``web``
command (bound to a free loopback port) against that database and Redis (``--redis-url``), with
the server's pings every ``--ping-seconds`` (5; production: 25) so that heartbeats run. Then:

1. ``/api/reports/health/`` p95 over ``--samples`` sequential requests with no socket open;
2. opens ``--customers × --per-customer`` sockets on seed 003's ``/ws/tickets/{id}?token=`` (each
   customer on their own ticket, within the per-user and per-ticket caps) and holds them all;
3. the health p95 again, with every socket held;
4. ``--rounds`` times, publishes one ``status_changed`` event on every ticket's channel (one Redis
   pipeline, as a bot worker or job would) and times its arrival at every socket.

Prints the figures, the health ratio (target at most 2×) and the arrival p99 (target at most 1 s);
exits 1 if a target is missed or a socket fails to open or to receive an event. Everything is on
127.0.0.1; every wait is bounded; the database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import redis
import requests
import yaml
from websockets.protocol import State

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tickets_api import create_database, free_port, shut_down  # noqa: E402

HEALTH = "/api/reports/health/"


def web_command(port: int) -> list[str]:
    """docker-compose's web command, bound to loopback: the server the bench measures is production's."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = list(compose["services"]["web"]["command"])
    command[command.index("--bind") + 1] = f"127.0.0.1:{port}"
    command[0] = str(Path(sys.executable).parent / command[0])
    return command


def raise_open_files(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))  # children inherit it


def fill(app, customers: int) -> list[tuple[str, str]]:
    """One ticket per customer; returns (ticket id, access token) pairs."""
    import sqlalchemy as sa

    from webapp.core.auth.tokens import issue_tokens
    from webapp.core.models import User
    from webapp.core.tenancy import ensure_organization
    from webapp.extensions import db
    from webapp.helpdesk.models import Ticket

    now = datetime.now(UTC)
    with app.app_context():  # the customers' tickets are one desk's
        desk = ensure_organization("Bench desk").id
        db.session.commit()
    users = [
        {
            "id": uuid.uuid4(),
            "username": f"live{n}",
            "first_name": f"Customer {n}",
            "role": "user",
            "language": "ru",
            "is_active": True,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(customers)
    ]
    tickets = [
        {
            "id": uuid.uuid4(),
            "title": f"Ticket {n}",
            "description": "Generated for the benchmark",
            "status": "OPEN",
            "priority": "NORMAL",
            "user_id": user["id"],
            "organization_id": desk,
            "source": "bench",
            "created_at": now,
            "updated_at": now,
            "last_message_at": now,
        }
        for n, user in enumerate(users)
    ]
    with app.app_context():
        db.session.execute(sa.insert(User), users)
        db.session.execute(sa.insert(Ticket), tickets)
        db.session.commit()
        pairs = []
        for user, ticket in zip(users, tickets, strict=True):
            pairs.append((str(ticket["id"]), issue_tokens(db.session.get(User, user["id"]))["access"]))
        return pairs


def start_server(env: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = web_command(port)
    print("web:", " ".join(Path(command[0]).name if i == 0 else part for i, part in enumerate(command)))
    process = subprocess.Popen([*command, "--log-level", "warning"], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(url + HEALTH, timeout=10).status_code == 200:
                return process, url
        except requests.RequestException:  # still importing the app
            pass
        if process.poll() is not None:
            raise RuntimeError("the web server exited")
        time.sleep(0.5)
    process.kill()
    raise RuntimeError("the web server did not start")


def health_p95(url: str, samples: int) -> float:
    session = requests.Session()
    latencies = []
    for _ in range(samples):
        started = time.perf_counter()
        response = session.get(url + HEALTH, timeout=10)
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"health answered {response.status_code}: {response.text[:200]}")
    return percentile(latencies, 0.95)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def server_connections(client: redis.Redis) -> tuple[int, int]:
    """The web server's Redis connections (those on the bench's database but the bench's own):
    how many are subscriptions, and how many in all."""
    own = client.client_id()
    db = client.connection_pool.connection_kwargs.get("db", 0)
    theirs = [c for c in client.client_list() if int(c["db"]) == int(db) and int(c["id"]) != own]
    return sum(1 for c in theirs if int(c["psub"]) or int(c["sub"])), len(theirs)


async def open_sockets(ws_base: str, pairs, per_customer: int, timeout: float):
    from websockets.asyncio.client import connect

    gate = asyncio.Semaphore(50)  # handshakes in flight, as many browsers reconnecting at once would

    async def one(ticket_id: str, token: str):
        async with gate:
            # Client pings off: the server's heartbeat is what a socket costs in production.
            url = f"{ws_base}/ws/tickets/{ticket_id}?token={token}"
            return await connect(url, open_timeout=timeout, ping_interval=None)

    jobs = [one(ticket_id, token) for ticket_id, token in pairs for _ in range(per_customer)]
    results = await asyncio.gather(*jobs, return_exceptions=True)
    sockets = [r for r in results if not isinstance(r, BaseException)]
    failures = [r for r in results if isinstance(r, BaseException)]
    return sockets, failures


async def fan_out(sockets, pairs, client: redis.Redis, rounds: int, timeout: float) -> tuple[list[float], int]:
    """Arrival latencies (ms) of each round's events at every socket, and how many never arrived."""
    from webapp.helpdesk.events import envelope, ticket_channel

    arrivals: dict[int, list[float]] = {r: [] for r in range(rounds)}
    done = {r: asyncio.Event() for r in range(rounds)}

    async def listen(ws):
        async for raw in ws:
            event = json.loads(raw)
            if event.get("type") == "status_changed":
                number = event["data"]["bench_round"]
                arrivals[number].append(time.perf_counter())
                if len(arrivals[number]) == len(sockets):
                    done[number].set()

    listeners = [asyncio.create_task(listen(ws)) for ws in sockets]
    latencies, missing = [], 0
    for number in range(rounds):
        pipe = client.pipeline(transaction=False)
        for ticket_id, _ in pairs:
            pipe.publish(ticket_channel(ticket_id), envelope("status_changed", _status(ticket_id, number)))
        published = time.perf_counter()
        await asyncio.to_thread(pipe.execute)
        try:
            await asyncio.wait_for(done[number].wait(), timeout)
        except TimeoutError:
            pass
        missing += len(sockets) - len(arrivals[number])
        latencies += [(at - published) * 1000 for at in arrivals[number]]
        await asyncio.sleep(0.5)
    for task in listeners:
        task.cancel()
    return latencies, missing


def _status(ticket_id: str, number: int) -> dict:
    return {
        "ticket_id": ticket_id,
        "old_status": "OPEN",
        "new_status": "IN_PROGRESS",
        "changed_by": None,
        "bench_round": number,
    }


async def measure(args, url: str, pairs, client: redis.Redis) -> bool:
    ws_base = url.replace("http://", "ws://", 1)
    quiet = await asyncio.to_thread(health_p95, url, args.samples)
    started = time.perf_counter()
    sockets, failures = await open_sockets(ws_base, pairs, args.per_customer, args.timeout)
    opened_in = time.perf_counter() - started
    wanted = len(pairs) * args.per_customer
    print(f"sockets open: {len(sockets)}/{wanted} in {opened_in:.1f} s ({len(pairs)} customers × {args.per_customer})")
    for failure in failures[:3]:
        print(f"  refused or failed: {failure!r}")
    # Held over two heartbeats: a socket whose pings went unanswered would be closed by now.
    await asyncio.sleep(2 * args.ping_seconds + 1)
    alive = sum(1 for ws in sockets if ws.state is State.OPEN)
    print(f"still open after {2 * args.ping_seconds + 1} s of heartbeats: {alive}/{len(sockets)}")
    subscriptions, connections = server_connections(client)
    print(
        f"web server's Redis connections with {len(sockets)} sockets held: {subscriptions} subscriptions"
        f" (one per worker process), {connections} in all (pooled, for handshakes and requests)"
    )
    held = await asyncio.to_thread(health_p95, url, args.samples)
    latencies, missing = await fan_out(sockets, pairs, client, args.rounds, args.timeout)
    p99 = percentile(latencies, 0.99) if latencies else float("inf")
    print(
        f"event arrival at {len(sockets)} sockets × {args.rounds} rounds: p50 {percentile(latencies, 0.5):.0f} ms,"
        f" p99 {p99:.0f} ms, max {max(latencies):.0f} ms, missing {missing}"
        if latencies
        else f"event arrival: none of {len(sockets) * args.rounds} arrived"
    )
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    # The machine's load drifts: the no-socket figure is taken before and after, and their mean used.
    await asyncio.sleep(2)
    quiet_after = await asyncio.to_thread(health_p95, url, args.samples)
    baseline = (quiet + quiet_after) / 2
    ratio = held / baseline
    print(
        f"health p95: {quiet:.1f} ms before and {quiet_after:.1f} ms after with no sockets,"
        f" {held:.1f} ms with {len(sockets)} held; ratio {ratio:.2f} (target at most 2;"
        f" against the first figure alone {held / quiet:.2f})"
    )
    checks = {
        f"all {wanted} sockets open, and held": len(sockets) == wanted == alive,
        "health p95 with sockets at most 2× without": ratio <= 2.0,
        "event at every socket within 1 s at p99": missing == 0 and p99 <= 1000,
    }
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return all(checks.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--per-customer", type=int, default=5, help="sockets per customer (within the caps)")
    parser.add_argument("--samples", type=int, default=600, help="health requests per measurement")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ping-seconds", type=int, default=5, help="the server's heartbeat interval")
    parser.add_argument("--timeout", type=float, default=30, help="bound on each handshake and each round")
    parser.add_argument(
        "--admin-url", default=os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10"))
    args = parser.parse_args()

    from flask_migrate import upgrade

    from webapp import create_app

    raise_open_files(args.customers * args.per_customer * 2 + 1024)
    directory = tempfile.mkdtemp(prefix="botdesk-bench-live-")
    db_name, database_url = create_database(args.admin_url)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis_url,
        "BOTDESK_INSTANCE_DIR": directory,
        "SANDBOX_ENABLED": "0",
        # Production pings every 25 s; every 5 s the held sockets' heartbeats run during the bench.
        "LIVE_PING_SECONDS": str(args.ping_seconds),
    }
    os.environ["BOTDESK_INSTANCE_DIR"] = directory  # the server reads the same generated secrets
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": args.redis_url})
    client = redis.Redis.from_url(args.redis_url)
    server = None
    try:
        with app.app_context():
            upgrade(revision="heads")
        pairs = fill(app, args.customers)
        server, url = start_server(env)
        health_p95(url, 50)  # warm up: connections, first imports
        ok = asyncio.run(measure(args, url, pairs, client))
    finally:
        shut_down(server, app, args.admin_url, db_name)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
