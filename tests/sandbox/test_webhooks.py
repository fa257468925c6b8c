"""setWebhook: the sandbox POSTs updates to the bot's URL, as Telegram does."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Receiver:
    """A tiny webhook endpoint: records every POST, refuses the first ``fail_first`` with a 500."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[tuple[dict, dict]] = []
        self.fail_first = fail_first
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.attempts += 1
                if receiver.attempts <= receiver.fail_first:
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.received.append((json.loads(body), dict(self.headers)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 10) -> list[tuple[dict, dict]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.received


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(fail_first: int = 0) -> Receiver:
        made.append(Receiver(fail_first))
        return made[-1]

    yield make
    for item in made:
        item.server.shutdown()


def test_updates_are_posted_with_the_secret_header(
    sandbox_client, sandbox_bot_ns, sandbox_user_factory, bot_api, receiver, telebot_sandbox
):
    import telebot

    hook = receiver()
    token = sandbox_bot_ns.token
    bot = telebot.TeleBot(token, threaded=False)
    assert bot.set_webhook(hook.url, secret_token="s3cr3t-Token_1") is True
    user = sandbox_user_factory(sandbox_bot_ns)
    first = sandbox_client.send_text(token, user.user_id, "hello hook")
    second = sandbox_client.send_text(token, user.user_id, "second")
    received = hook.wait_for(2)
    assert [update["update_id"] for update, _ in received] == [first["update_id"], second["update_id"]]
    update, headers = received[0]
    assert update["message"]["text"] == "hello hook" and update["message"]["chat"]["id"] == user.chat_id
    assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cr3t-Token_1"
    assert headers["Content-Type"] == "application/json"

    info = bot.get_webhook_info()
    assert info.url == hook.url and info.pending_update_count == 0
    conflict = bot_api(token, "getUpdates")
    assert conflict.status_code == 409
    assert conflict.json()["description"] == (
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
    )

    assert bot.delete_webhook() is True
    sandbox_client.send_text(token, user.user_id, "polling again")
    updates = bot.get_updates(timeout=5)
    assert [u.message.text for u in updates] == ["polling again"]
    assert len(hook.received) == 2


def test_failed_delivery_is_retried_and_reported(
    sandbox_client, sandbox_bot_ns, sandbox_user_factory, bot_api, receiver
):
    hook = receiver(fail_first=1)
    token = sandbox_bot_ns.token
    assert bot_api(token, "setWebhook", url=hook.url).json() == {
        "ok": True,
        "result": True,
        "description": "Webhook was set",
    }
    user = sandbox_user_factory(sandbox_bot_ns)
    sent = sandbox_client.send_text(token, user.user_id, "retry me")
    deadline = time.monotonic() + 5
    info = {}
    while time.monotonic() < deadline and "last_error_message" not in info:
        info = bot_api(token, "getWebhookInfo").json()["result"]
        time.sleep(0.05)
    assert info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
    assert info["pending_update_count"] == 1
    received = hook.wait_for(1)
    assert [u["update_id"] for u, _ in received] == [sent["update_id"]]
    assert hook.attempts == 2
    info = bot_api(token, "getWebhookInfo").json()["result"]
    assert info["pending_update_count"] == 0 and "last_error_message" not in info


def test_set_webhook_ends_a_waiting_poll_and_validates(sandbox_bot_ns, bot_api, receiver):
    token = sandbox_bot_ns.token
    result = {}
    thread = threading.Thread(target=lambda: result.update(response=bot_api(token, "getUpdates", timeout=15)))
    thread.start()
    time.sleep(0.5)
    assert bot_api(token, "setWebhook", url=receiver().url).json()["ok"] is True
    thread.join(5)
    assert result["response"].status_code == 409
    assert result["response"].json()["description"] == "Conflict: terminated by setWebhook request"

    bad_url = bot_api(token, "setWebhook", url="ftp://example.test/hook")
    assert bad_url.status_code == 400
    assert bad_url.json()["description"] == "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
    bad_secret = bot_api(token, "setWebhook", url="https://example.test/hook", secret_token="has space")
    assert bad_secret.json()["description"] == "Bad Request: secret token contains unallowed characters"
    assert bot_api(token, "deleteWebhook").json()["description"] == "Webhook was deleted"
    assert bot_api(token, "deleteWebhook").json()["description"] == "Webhook is already deleted"
