"""Updates sent at once by many users all reach a long-polling bot that confirms by offset.

Telegram numbers updates in the order it queues them, so a bot that confirms up to the highest id
it has seen never skips one. The sandbox must keep that promise under concurrent senders (the bot
worker's bench lost updates when an id was taken before its update was queued).
"""

from __future__ import annotations

import threading
import time

import requests

SENDERS = 16
MESSAGES_EACH = 15


def test_no_update_is_skipped_by_offset_confirmation(app, live_server, sandbox_client, sandbox_bot_ns):
    token, sandbox_key = sandbox_bot_ns.token, app.config["SANDBOX_KEY"]
    users = [sandbox_client.create_user(token, f"Sender{i}") for i in range(SENDERS)]
    received: set[int] = set()
    stop = threading.Event()

    def poll() -> None:  # what a bot does: getUpdates from the highest id seen + 1
        offset = 0
        with requests.Session() as http:
            while not stop.is_set():
                reply = http.post(
                    f"{live_server.sandbox_url}/bot{token}/getUpdates",
                    json={"offset": offset, "timeout": 1},
                    timeout=10,
                ).json()
                ids = [u["update_id"] for u in reply["result"]]
                received.update(ids)
                if ids:
                    offset = max(ids) + 1

    sent: list[int] = []
    lock = threading.Lock()

    def send(user: dict) -> None:
        from webapp.sandbox.client import SandboxClient

        client = SandboxClient(live_server.sandbox_url, key=sandbox_key)
        for n in range(MESSAGES_EACH):
            update_id = client.send_text(token, user["user_id"], f"hello {n}")["update_id"]
            with lock:
                sent.append(update_id)

    poller = threading.Thread(target=poll)
    poller.start()
    senders = [threading.Thread(target=send, args=(user,)) for user in users]
    try:
        for thread in senders:
            thread.start()
        for thread in senders:
            thread.join()
        deadline = time.monotonic() + 10
        while not received.issuperset(sent) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        poller.join()
    assert len(sent) == SENDERS * MESSAGES_EACH
    assert sorted(set(sent) - received) == []
