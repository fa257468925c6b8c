"""The worker as a whole: which bots it serves, per-bot Bot API URLs, the process and its SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from botworker import common, registry, transport
from tests.fixtures.telegram import inline_data, press, say

ROOT = Path(__file__).resolve().parents[2]


def test_routes_send_each_token_to_its_own_server():
    sender = transport.RoutedSender()
    sender.add_route("1:sandbox", transport.Route("http://127.0.0.1:5000/sandbox/bot{0}/{1}"))
    sender.add_route("2:selfhosted", transport.Route("http://bot-api:8081/bot{0}/{1}"))
    assert sender.route("1:sandbox").file_template == "http://127.0.0.1:5000/sandbox/file/bot{0}/{1}"
    assert sender.route("2:selfhosted").api_template.format("2:selfhosted", "getMe") == (
        "http://bot-api:8081/bot2:selfhosted/getMe"
    )
    assert sender.route("3:unknown").api_template == "https://api.telegram.org/bot{0}/{1}"


def test_environment_bot_is_served_through_telegram_api_url(app, live_server, sandbox, tg_user, monkeypatch):
    """TELEGRAM_BOT_TOKEN + TELEGRAM_BOT_VERTICAL define a bot without the console; TELEGRAM_API_URL
    (a self-hosted Bot API server; here the sandbox plays it) is where a non-sandbox bot goes."""
    from botworker.runner import BotRunner
    from webapp.extensions import db
    from webapp.telegram.models import Bot

    info = sandbox.create_bot("env_defined_bot")
    monkeypatch.setitem(app.config, "TELEGRAM_BOT_TOKEN", info["token"])
    monkeypatch.setitem(app.config, "TELEGRAM_BOT_VERTICAL", "finance")
    monkeypatch.setitem(app.config, "TELEGRAM_API_URL", live_server.sandbox_url + "/bot{0}/{1}")
    runner = BotRunner(app, poll_timeout=1)
    try:
        runner.reconcile()
        [poller] = runner.pollers.values()
        assert poller.spec.name == "default" and not poller.spec.is_sandbox
        bot = type("B", (), {"token": info["token"]})
        user = tg_user(bot)
        assert say(sandbox, bot, user, "/start")["text"] == common.CHOOSE_LANGUAGE_ALL
    finally:
        runner.stop()
    with app.app_context():
        row = db.session.scalar(db.select(Bot).filter_by(name="default"))
        assert row.vertical == "finance" and row.enabled and not row.is_sandbox


def test_runner_follows_the_console(app, sandbox, sandbox_bot, tg_user, compiled_catalogs):
    """Bots enabled, disabled or switched to webhooks in the console are picked up on the next pass."""
    from botworker.runner import BotRunner
    from webapp.extensions import db
    from webapp.telegram.models import Bot

    first, second = sandbox_bot("clinic"), sandbox_bot("realty")
    sandbox_bot("reports", mode="webhook")  # served by the web process, never polled
    sandbox_bot("helpdesk", enabled=False)
    runner = BotRunner(app, poll_timeout=1)
    try:
        runner.reconcile()
        assert {p.spec.name for p in runner.pollers.values()} == {first.name, second.name}
        user = tg_user(second)
        assert say(sandbox, second, user, "/start")["text"] == common.CHOOSE_LANGUAGE_ALL

        with app.app_context():
            db.session.get(Bot, second.bot_id).enabled = False
            db.session.commit()
        runner.reconcile()
        assert {p.spec.name for p in runner.pollers.values()} == {first.name}
        # A stopped bot's route goes with it: a worker that runs for months does not pile them up.
        assert second.token not in transport.SENDER and first.token in transport.SENDER
        sent = sandbox.send_text(second.token, user.user_id, "/help")
        with pytest.raises(TimeoutError):
            sandbox.wait_for_bot_message(second.token, user.chat_id, after_message_id=sent["message_id"], timeout=2)

        with app.app_context():
            db.session.get(Bot, second.bot_id).enabled = True
            db.session.commit()
        runner.reconcile()
        # Back on: the message sent while it was off is answered now.
        assert sandbox.wait_for_bot_message(second.token, user.chat_id, after_message_id=sent["message_id"])
    finally:
        runner.stop()


def start_worker(bot_ns, env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "botworker", "--bot", bot_ns.name, "--poll-timeout", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def text_of(sandbox, bot_ns, user_ns, message_id: int) -> str:
    return next(m for m in sandbox.transcript(bot_ns.token, user_ns.chat_id) if m["message_id"] == message_id)["text"]


def stop_worker(proc: subprocess.Popen) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=30)
    return proc.returncode, output


@pytest.mark.slow
def test_worker_process_answers_and_stops_cleanly_on_sigterm(sandbox, sandbox_bot, tg_user, process_env):
    bot = sandbox_bot("clinic")
    user = tg_user(bot, first_name="Dana")
    worker = start_worker(bot, process_env)
    try:
        offer = say(sandbox, bot, user, "/start", timeout=30)  # the first one waits for the process to start
        assert offer["text"] == common.CHOOSE_LANGUAGE_ALL
    finally:
        started = time.monotonic()
        code, output = stop_worker(worker)
    assert code == 0, output[-3000:]
    assert time.monotonic() - started < 15
    assert "bot " + bot.name + ": stopped" in output

    # A new process continues the conversation: the pending button press is handled once, by it.
    pressed = press(sandbox, bot, user, offer, inline_data(offer)[3])  # English
    worker = start_worker(bot, process_env)
    try:
        reply = sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=pressed["after"], timeout=30)
        assert reply["from_bot"]
        assert text_of(sandbox, bot, user, offer["message_id"]) == "Language: English"  # edited before the reply
    finally:
        code, output = stop_worker(worker)
    assert code == 0, output[-3000:]


def test_unknown_bot_name_exits_with_a_message(process_env):
    result = subprocess.run(
        [sys.executable, "-m", "botworker", "--bot", "no-such-bot"],
        cwd=ROOT,
        env=process_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "no bot named 'no-such-bot'" in result.stderr


def test_defaults_fill_what_a_vertical_package_leaves_out():
    partial = registry.from_module("x", type("M", (), {"help_text": staticmethod(lambda lang: f"only help {lang}")}))
    assert partial.help_text("kk") == "only help kk"
    assert partial.on_start is common.default_on_start and partial.main_menu is common.default_main_menu
    assert registry.vertical_package("not-a-vertical") is None


def test_stop_cuts_a_long_poll_short(app, sandbox, sandbox_bot, tg_user, compiled_catalogs):
    """A worker waiting in a 20 s getUpdates stops at once (a newer getUpdates ends the old one with
    409, as Telegram does), and what it had received before is confirmed, so nothing comes back."""
    from botworker.runner import BotSpec, Poller
    from webapp.extensions import db
    from webapp.telegram.models import Bot

    bot = sandbox_bot("clinic")
    with app.app_context():
        spec = BotSpec.of(db.session.get(Bot, bot.bot_id))
    poller = Poller(app, spec, poll_timeout=20, vertical=registry.defaults()).start()
    user = tg_user(bot)
    say(sandbox, bot, user, "/start")
    time.sleep(0.5)  # back in its long poll
    started = time.monotonic()
    poller.stop()
    assert time.monotonic() - started < 3
    import requests

    pending = requests.get(f"{sandbox.base_url}/bot{bot.token}/getUpdates", params={"timeout": 0}, timeout=5).json()
    assert pending == {"ok": True, "result": []}
