"""Bot round trip: N sandbox users each send M messages to an echo handler run by the real runner.

    .venv/bin/python bench/bot_roundtrip.py --users 20 --messages 10

Prints updates handled per second (and its ratio to the bot's send limit with ``--telegram-limits``),
p50/p99 latency from a user's send to the bot's reply, and exits 1 if any message went unanswered.
Without ``--url`` it starts the app on a free local port, sandbox on (DATABASE_URL/REDIS_URL when
set — an empty database, the migrations are run — else a throwaway SQLite file and in-process Redis);
with ``--url http://host:port`` it uses that server's sandbox and the database/Redis of this
environment (DATABASE_URL, REDIS_URL), which must be the server's. The sandbox's Telegram limits
are lifted for the bot unless ``--telegram-limits`` is given (then 30 msg/s and 1 msg/s per chat
shape the result, as they would in production).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MAX_USERS = 200
MAX_MESSAGES = 100
REDIS_CONNECTIONS = 3 * MAX_USERS + 100


def start_local_server():
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from webapp import create_app

    directory = tempfile.mkdtemp(prefix="botdesk-bench-")
    os.environ.setdefault("BOTDESK_INSTANCE_DIR", directory)
    # In the environment, not only an override: the sandbox's key is read with the config only when
    # the sandbox is on there (outside the embedded default its ops API then answered 401).
    os.environ["SANDBOX_ENABLED"] = "1"
    overrides = {"SANDBOX_ENABLED": True}
    if os.environ.get("REDIS_URL"):  # every waiting user holds a pub/sub connection of this process
        url = os.environ["REDIS_URL"]
        overrides["REDIS_URL"] = f"{url}{'&' if '?' in url else '?'}max_connections={REDIS_CONNECTIONS}"
    if os.environ.get("DATABASE_URL"):  # outside the embedded default secrets must be given: make some
        from config import fresh_secrets

        for name, value in fresh_secrets().items():
            os.environ.setdefault(name, value)
    else:  # embedded: a throwaway SQLite file and in-process Redis
        overrides.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{directory}/bench.sqlite3", REDIS_URL="")
    app = create_app(overrides)
    with app.app_context():
        upgrade(revision="heads")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["SANDBOX_BASE_URL"] = f"{url}/sandbox"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return app, url


def echo_vertical():
    from botworker import registry

    def register_handlers(bot) -> None:
        @bot.message_handler(func=lambda m: (m.text or "").startswith("echo "))
        def echo(message) -> None:
            bot.send_message(message.chat.id, message.text)

    return registry.from_module("bench", SimpleNamespace(register_handlers=register_handlers))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--url", help="use this running server instead of starting one")
    parser.add_argument("--telegram-limits", action="store_true", help="keep the sandbox's Telegram limits")
    parser.add_argument("--timeout", type=float, default=120, help="give up after this many seconds")
    args = parser.parse_args()
    users = max(1, min(args.users, MAX_USERS))
    count = max(1, min(args.messages, MAX_MESSAGES))

    import logging

    logging.getLogger("botworker").setLevel(logging.WARNING)
    if args.url:
        from webapp import create_app

        app, url = create_app(), args.url.rstrip("/")
        app.config["SANDBOX_BASE_URL"] = f"{url}/sandbox"
    else:
        app, url = start_local_server()

    from botworker.runner import BotSpec, Poller
    from webapp.extensions import db
    from webapp.sandbox.client import SandboxClient
    from webapp.telegram.models import Bot
    from webapp.telegram.tokens import set_bot_token

    sandbox = SandboxClient(f"{url}/sandbox", key=app.config["SANDBOX_KEY"])
    stamp = int(time.time())
    info = sandbox.create_bot(f"bench{stamp}_bot")
    if not args.telegram_limits:
        sandbox.set_limits(info["token"], 100_000, 100_000, per_chat_burst=100_000)
        app.config["TELEGRAM_PER_CHAT_BURST"] = 100_000  # our own pacing of a chat's replies, lifted too
    with app.app_context():
        row = Bot(
            name=f"bench-{stamp}",
            vertical="clinic",
            is_sandbox=True,
            username=info["username"],
            rate_limit_per_second=30 if args.telegram_limits else 100_000,
        )
        set_bot_token(row, info["token"])
        db.session.add(row)
        db.session.commit()
        spec = BotSpec.of(row)
    poller = Poller(app, spec, poll_timeout=5, vertical=echo_vertical()).start()

    people = [sandbox.create_user(info["token"], f"User{i}", language_code="en") for i in range(users)]
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + args.timeout

    def converse(person: dict) -> None:
        client = SandboxClient(f"{url}/sandbox", key=app.config["SANDBOX_KEY"])
        for n in range(count):
            text = f"echo {person['user_id']}-{n}"
            started = time.perf_counter()
            sent = client.send_text(info["token"], person["user_id"], text)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                with lock:
                    failures.append("time budget exhausted")
                return
            try:
                client.wait_for_bot_message(
                    info["token"],
                    person["chat_id"],
                    after_message_id=sent["message_id"],
                    timeout=min(remaining, 30),
                    predicate=lambda m, text=text: m.get("text") == text,
                )
            except Exception as exc:  # a timeout, or the sandbox failing: the message counts as unanswered
                with lock:
                    failures.append(str(exc))
                return
            with lock:
                latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=converse, args=(p,)) for p in people]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    poller.stop(grace=10)

    unanswered = users * count - len(latencies)
    rate = len(latencies) / elapsed
    print(f"users: {users}, messages each: {count}, answered: {len(latencies)}/{users * count}")
    print(f"unanswered: {unanswered}")
    print(f"elapsed: {elapsed:.2f} s")
    print(f"updates handled per second: {rate:.1f}")
    if args.telegram_limits:
        limit = spec.rate_limit_per_second
        print(f"ratio to the bot's send limit ({limit}/s): {rate / limit:.3f}")
    if latencies:
        print(f"latency p50: {percentile(latencies, 0.50) * 1000:.1f} ms")
        print(f"latency p99: {percentile(latencies, 0.99) * 1000:.1f} ms")
        print(f"latency mean: {statistics.fmean(latencies) * 1000:.1f} ms")
    if failures:
        print(f"failures: {len(failures)}; first: {failures[0]}")
    return 1 if unanswered or failures else 0


if __name__ == "__main__":
    sys.exit(main())
