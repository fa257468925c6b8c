"""CPU per sandbox Bot API ``sendMessage`` in the web process, this tree against a baseline, one run.

    .venv/bin/python bench/sandbox_send.py                      # 20,000 calls over 2,000 chats, vs caaac43
    .venv/bin/python bench/sandbox_send.py --calls 5000 --rounds 3 --baseline none

The sandbox stands in for Telegram in ``bench/broadcast.py``; there the web app is about half of the
CPU per broadcast message. This measures that part alone and in-process: ``create_app``, a sandbox
bot with limits no broadcast reaches and ``--users`` chats, then the WSGI app called directly (no
HTTP server: gunicorn's own share is left out) with the POST a broadcast sends (``webapp/telegram/botapi.py``: a JSON
body with chat_id, text and parse_mode HTML), the chats in turn. Each call's environ is built before
the clock starts; the figure is ``time.process_time()`` over the calls (its Redis round trips
included, Redis's own CPU not) divided by the calls, after a warm-up.

Both trees run in subprocesses of their own, each on its own sandbox bot in the same Redis
(REDIS_URL, default ``redis://127.0.0.1:6379/6``), alternating ``--rounds`` times (a shared machine's
load drifts); the baseline (``--baseline``, a git ref exported with ``git archive`` into a temporary
directory, or another checkout's path) goes first in each round. Every answer must be
``{"ok": true}`` with the next message id of its chat, or the run fails. The bots' keys are deleted
afterwards. DATABASE_URL is only needed by ``create_app`` (nothing is queried); default
PostgreSQL on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BASELINE = "caaac43"  # before the one-round-trip send (issue 15's web-side CPU)
PER_SECOND = 100_000  # limits no run reaches: the bench measures the send, not the 429s
PER_CHAT = 100_000


def environment() -> dict[str, str]:
    sys.path.insert(0, str(ROOT))
    from config import fresh_secrets

    env = os.environ.copy()
    env.setdefault("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/6")
    env.setdefault("BOTDESK_INSTANCE_DIR", tempfile.mkdtemp(prefix="botdesk-bench-sandbox-send-"))
    env["SANDBOX_ENABLED"] = "1"
    for name, value in fresh_secrets().items():
        env.setdefault(name, value)
    return env


# --- one tree, in its own process ------------------------------------------------------------------


def child(calls: int, users: int, warmup: int, profile: str | None = None) -> None:
    """Runs in the tree on PYTHONPATH: set up, measure, print one JSON line, clean up."""
    import io

    from werkzeug.test import EnvironBuilder

    from webapp import create_app
    from webapp.extensions import redis_store
    from webapp.sandbox.store import current_sandbox, key

    app = create_app()
    with app.app_context():
        sb = current_sandbox()
        client = redis_store.client
        bot = sb.create_bot(f"bench_{uuid.uuid4().hex[:12]}")
        sb.set_limits(bot, PER_SECOND, PER_CHAT, PER_CHAT)
        chats = [sb.create_user(bot, f"Reader {n}")["id"] for n in range(users)]
    token = bot["token"]
    path = f"/sandbox/bot{token}/sendMessage"
    bodies = [
        json.dumps({"chat_id": chat, "text": f"<b>Bench</b> {n}, {chat}", "parse_mode": "HTML"}).encode()
        for n, chat in enumerate(chats)
    ]
    template = EnvironBuilder(
        path=path,
        method="POST",
        data=bodies[0],
        headers={"Content-Type": "application/json", "User-Agent": "bench", "Accept": "*/*"},
    ).get_environ()

    def environ(n: int) -> dict:
        body = bodies[n % users]
        return {**template, "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}

    statuses: list[str] = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def call(env: dict) -> bytes:
        result = app(env, start_response)
        try:
            return b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()

    for n in range(warmup):
        answer = json.loads(call(environ(n)))
        assert answer.get("ok"), answer
    prepared = [environ(warmup + n) for n in range(calls)]
    answers: list[bytes] = []
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started_wall = time.perf_counter()
    started = time.process_time()
    for env in prepared:
        answers.append(call(env))
    cpu = time.process_time() - started
    wall = time.perf_counter() - started_wall
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    # Every answer is the message the chat should have got next (the ids are per chat).
    sent: dict[int, int] = {}
    for n in range(warmup):
        sent[chats[n % users]] = sent.get(chats[n % users], 0) + 1
    for n, raw in enumerate(answers):
        answer = json.loads(raw)
        chat = chats[(warmup + n) % users]
        sent[chat] = sent.get(chat, 0) + 1
        result = answer.get("result") or {}
        if not answer.get("ok") or result.get("message_id") != sent[chat] or result["chat"]["id"] != chat:
            raise SystemExit(f"call {n}: unexpected answer {raw[:300]!r}")
    if set(statuses) != {"200 OK"}:
        raise SystemExit(f"statuses: {sorted(set(statuses))}")
    with app.app_context():
        doomed = list(client.scan_iter(match=key("bot", bot["id"]) + ":*", count=1000))
        doomed += [key("user", chat, *part) for chat in chats for part in ((), ("chat",))] + [key("bot", bot["id"])]
        for start in range(0, len(doomed), 1000):
            client.delete(*doomed[start : start + 1000])
        client.hdel(key("tokens"), token)
        client.hdel(key("usernames"), bot["username"].lower())
        client.zrem(key("bots"), bot["id"])
    print(json.dumps({"cpu_us": cpu / calls * 1e6, "wall_us": wall / calls * 1e6}))


def run_tree(tree: Path, env: dict[str, str], args, extra: list[str] = ()) -> dict:
    command = [
        sys.executable,
        str(ROOT / "bench" / "sandbox_send.py"),
        "--child",
        "--calls",
        str(args.calls),
        "--users",
        str(args.users),
        "--warmup",
        str(args.warmup),
        *extra,
    ]
    done = subprocess.run(
        command, cwd=tree, env={**env, "PYTHONPATH": str(tree)}, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{tree}: exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20_000, help="timed sendMessage calls per round")
    parser.add_argument("--users", type=int, default=2_000, help="chats of the bench bot (the calls go round them)")
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git ref or checkout path; 'none': this tree only")
    parser.add_argument("--profile", metavar="FILE", help="this tree only, once: cProfile stats of the timed calls")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.calls, args.users, args.warmup, args.profile)
        return
    env = environment()
    if args.profile:
        figure = run_tree(ROOT, env, args, ["--profile", str(Path(args.profile).resolve())])
        print(f"{figure['cpu_us']:.0f} µs CPU / sendMessage under cProfile; stats in {args.profile}")
        return
    trees: list[tuple[str, Path]] = []
    removable = None
    if args.baseline != "none":
        # Here, not at the top: importing broadcast puts this tree first on sys.path, and the child
        # processes (this script again) must import the tree they are given.
        from broadcast import baseline_tree

        base, removable = baseline_tree(args.baseline)
        trees.append((f"baseline {args.baseline}", base))
    trees.append(("this tree", ROOT))
    figures: dict[str, list[dict]] = {name: [] for name, _ in trees}
    try:
        for round_no in range(1, args.rounds + 1):
            for name, tree in trees:
                figure = run_tree(tree, env, args)
                figures[name].append(figure)
                print(
                    f"round {round_no} {name:>20}: {figure['cpu_us']:7.0f} µs CPU / sendMessage"
                    f" ({figure['wall_us']:.0f} µs wall)",
                    flush=True,
                )
    finally:
        if removable:
            shutil.rmtree(removable, ignore_errors=True)
        shutil.rmtree(env["BOTDESK_INSTANCE_DIR"], ignore_errors=True)
    load = os.getloadavg()[0]
    print(f"\n{args.calls} calls × {args.rounds} rounds over {args.users} chats, load {load:.1f}; median CPU per call:")
    medians = {name: statistics.median(f["cpu_us"] for f in runs) for name, runs in figures.items()}
    for name, value in medians.items():
        print(f"  {name:>20}: {value:7.0f} µs")
    if len(medians) == 2:
        base, ours = medians.values()
        print(f"  ratio this tree / baseline: {ours / base:.2f}")


if __name__ == "__main__":
    main()
