"""CLI: create-superuser (flags and prompts), idempotent demo data, and the one-command platform."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def users(app):
    from webapp.core.models import AuditLog, User
    from webapp.extensions import db

    with app.app_context():
        return (
            {u.username: (u.role, u.email) for u in db.session.scalars(db.select(User))},
            db.session.scalar(db.select(db.func.count(AuditLog.id))),
        )


def test_create_superuser_with_flags(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-superuser", "--username", "root", "--email", "r@x.test", "--password", "long-enough-1"]
    )
    assert result.exit_code == 0, result.output
    assert users(app)[0] == {"root": ("superuser", "r@x.test")}
    again = runner.invoke(
        args=["create-superuser", "--username", "root", "--email", "q@x.test", "--password", "long-enough-1"]
    )
    assert again.exit_code != 0 and "taken" in again.output
    short = runner.invoke(args=["create-superuser", "--username", "r2", "--email", "r2@x.test", "--password", "x"])
    assert short.exit_code != 0 and len(users(app)[0]) == 1


def test_create_superuser_prompts(app):
    result = app.test_cli_runner().invoke(
        args=["create-superuser"], input="root\nr@x.test\nlong-enough-1\nlong-enough-1\n"
    )
    assert result.exit_code == 0, result.output
    assert users(app)[0]["root"][0] == "superuser"


def test_seed_demo_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    snapshot = users(app)
    assert snapshot[0]["superuser"][0] == "superuser" and snapshot[0]["marketer"][0] == "marketer"
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert users(app) == snapshot


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_run_all_starts_the_platform():
    """`flask run-all` (what `manage.py demo` runs) on the embedded default: the console login answers."""
    port = _free_port()
    instance = tempfile.mkdtemp(prefix="botdesk-runall-")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["BOTDESK_INSTANCE_DIR"] = instance
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "run-all", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status = requests.get(f"http://127.0.0.1:{port}/admin/login", timeout=2).status_code
                if status == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        assert status == 200, f"console did not answer; run-all exited with {process.poll()}"
        health = requests.get(f"http://127.0.0.1:{port}/api/reports/health/", timeout=5).json()
        assert health["db"] == "ok" and health["redis"] == "ok"
        time.sleep(3)
        assert process.poll() is None, "a platform process died after start"
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert "Botdesk console:" in output and "Demo logins" in output
    # Every business's logins are printed with its name, not only the platform's roles.
    assert "Platform: " in output and "superuser (superuser)" in output
    for organization_login in (
        "clinic_admin (admin)",
        "desk_admin (admin)",
        "finance_admin (admin)",
        "realty_admin_kz",
    ):
        assert organization_login in output
