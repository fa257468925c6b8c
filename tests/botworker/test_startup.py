"""The worker starts before the web server answers (``manage.py demo``): one line, then it waits,
bounded, until the Telegram API (here the sandbox) answers or it is asked to stop."""

from __future__ import annotations

import logging
import queue
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from botworker import startup
from tests.botworker.test_runner import ROOT
from tests.fixtures.telegram import eventually

WAITING = "waiting for the Telegram API at"


def free_port() -> int:
    """A local port nothing listens on (connecting to it is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_origin_keeps_no_token_and_no_credentials():
    template = "https://user:secret@api.example.test:8443/bot123456:AAH-token/{1}"
    assert startup.api_origin(template) == "https://api.example.test:8443"
    assert startup.api_origin("http://[::1]:5000/sandbox/bot{0}/{1}") == "http://[::1]:5000"


def test_wait_is_bounded(caplog):
    caplog.set_level(logging.INFO, logger="botworker")
    ticks = iter([0.0, 0.5, 1.0, 1.5])  # a clock, so the bound is checked without timing anything
    port = free_port()
    assert not startup.wait_for_api([f"http://127.0.0.1:{port}/bot{{0}}/{{1}}"], threading.Event(), 1.0, ticks.__next__)
    assert [r.getMessage() for r in caplog.records if r.name == "botworker"] == [
        f"{WAITING} http://127.0.0.1:{port}",
        f"the Telegram API at http://127.0.0.1:{port} did not answer in 1.0s; polling anyway",
    ]


def test_runner_waits_quietly_then_serves_when_the_sandbox_answers(app, sandbox_bot, monkeypatch, caplog):
    from werkzeug.serving import make_server

    from botworker.runner import BotRunner

    caplog.set_level(logging.INFO, logger="botworker")
    bot = sandbox_bot("finance")
    port = free_port()
    monkeypatch.setitem(app.config, "SANDBOX_BASE_URL", f"http://127.0.0.1:{port}/sandbox")
    runner = BotRunner(app, poll_timeout=1)
    thread = threading.Thread(target=runner.serve, kwargs={"reload_seconds": 1}, daemon=True)
    thread.start()
    server = None
    try:
        assert eventually(lambda: any(WAITING in r.getMessage() for r in caplog.records), timeout=30)
        time.sleep(2)  # several polls' worth of back-off steps would have been logged by now
        assert not runner.pollers
        server = make_server("127.0.0.1", port, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        assert eventually(lambda: bot.bot_id in runner.pollers, timeout=30)
    finally:
        runner.stopping.set()
        thread.join(timeout=30)
        if server is not None:
            server.shutdown()
    assert not thread.is_alive()
    messages = [r.getMessage() for r in caplog.records if r.name == "botworker"]
    assert [m for m in messages if WAITING in m] == [f"{WAITING} http://127.0.0.1:{port}"]
    assert not [m for m in messages if "getUpdates failed" in m], messages
    assert not [m for m in messages if bot.token in m]


def _lines(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line)


@pytest.mark.slow
def test_worker_process_says_one_line_and_stops_while_waiting(sandbox_bot, process_env):
    """The real process, with nothing answering where its sandbox should be: one line, no warnings,
    no token, and SIGTERM ends the wait."""
    bot = sandbox_bot("clinic")
    port = free_port()
    env = {**process_env, "SANDBOX_BASE_URL": f"http://127.0.0.1:{port}/sandbox"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "botworker", "--poll-timeout", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(worker.stdout, lines), daemon=True).start()
    output = []
    try:
        deadline = time.monotonic() + 60
        while not any(WAITING in line or "getUpdates failed" in line for line in output):
            assert time.monotonic() < deadline, "".join(output)
            try:
                output.append(lines.get(timeout=1))
            except queue.Empty:
                pass
        time.sleep(4)  # the old worker logged a warning per back-off step (0.5 s, 1 s, 2 s …)
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(timeout=30)
    time.sleep(0.2)
    while not lines.empty():
        output.append(lines.get())
    text = "".join(output)
    assert code == 0, text
    assert text.count(WAITING) == 1, text
    assert f"{WAITING} http://127.0.0.1:{port}\n" in text
    assert "getUpdates failed" not in text
    assert bot.token not in text and "/sandbox/bot" not in text


def test_poll_errors_do_not_log_the_token(app, sandbox_bot, monkeypatch, caplog):
    """Past the wait (the API went away later), a failed poll is logged without the URL's token."""
    from botworker.runner import BotSpec, Poller
    from webapp.extensions import db
    from webapp.telegram.models import Bot

    caplog.set_level(logging.INFO, logger="botworker")
    bot = sandbox_bot("finance")
    monkeypatch.setitem(app.config, "SANDBOX_BASE_URL", f"http://127.0.0.1:{free_port()}/sandbox")
    with app.app_context():
        spec = BotSpec.of(db.session.get(Bot, bot.bot_id))
    poller = Poller(app, spec, poll_timeout=1).start()
    try:
        assert eventually(lambda: any("getUpdates failed" in r.getMessage() for r in caplog.records), timeout=30)
    finally:
        poller.stop(grace=5)
    messages = [r.getMessage() for r in caplog.records if r.name == "botworker"]
    assert any("<token>" in m for m in messages), messages
    assert not [m for m in messages if bot.token in m]
