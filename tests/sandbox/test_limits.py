"""Telegram's send limits in the sandbox: per bot, per chat with a burst, 429 + retry_after."""

from __future__ import annotations

import threading
import time

import pytest


def _send(bot_api, token, chat_id, text="x"):
    return bot_api(token, "sendMessage", chat_id=chat_id, text=text)


def test_per_bot_limit_answers_429_with_retry_after(sandbox_client, sandbox_bot_ns, sandbox_user_factory, bot_api):
    token = sandbox_bot_ns.token
    assert sandbox_client.set_limits(token, 5, 100, per_chat_burst=100) == {
        "per_second": 5,
        "per_chat_per_second": 100.0,
        "per_chat_burst": 100,
    }
    users = [sandbox_user_factory(sandbox_bot_ns, first_name=f"U{i}") for i in range(7)]
    started = time.monotonic()
    statuses = [_send(bot_api, token, u.chat_id).status_code for u in users[:5]]
    refused = _send(bot_api, token, users[5].chat_id)
    assert time.monotonic() - started < 1, "the sends must fall into one second for this test to mean anything"
    assert statuses == [200] * 5
    assert refused.status_code == 429
    body = refused.json()
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {body['parameters']['retry_after']}",
        "parameters": {"retry_after": body["parameters"]["retry_after"]},
    }
    assert body["parameters"]["retry_after"] >= 1
    # A refused message is not sent and not charged; after retry_after the bot may send again.
    assert sandbox_client.transcript(token, users[5].chat_id) == []
    time.sleep(body["parameters"]["retry_after"])
    assert _send(bot_api, token, users[6].chat_id).status_code == 200


def test_a_refused_message_takes_no_message_id(sandbox_client, sandbox_bot_ns, sandbox_user_factory, bot_api):
    """Charging, numbering and storing are one step: a 429 leaves no gap in the chat's message ids."""
    token = sandbox_bot_ns.token
    sandbox_client.set_limits(token, 100, 1, per_chat_burst=2)
    user = sandbox_user_factory(sandbox_bot_ns)
    first, second = (_send(bot_api, token, user.chat_id, t).json()["result"]["message_id"] for t in ("a", "b"))
    refused = _send(bot_api, token, user.chat_id, "c")
    assert refused.status_code == 429 and refused.json()["parameters"]["retry_after"] == 1  # the burst is spent
    time.sleep(1.05)
    third = _send(bot_api, token, user.chat_id, "d").json()["result"]
    assert (second, third["message_id"]) == (first + 1, first + 2)
    assert third["text"] == "d" and third["chat"]["id"] == user.chat_id
    transcript = sandbox_client.transcript(token, user.chat_id)
    assert [(m["message_id"], m["text"]) for m in transcript] == [(first, "a"), (second, "b"), (first + 2, "d")]


def test_sender_pacing_under_the_limit_never_sees_429(sandbox_client, sandbox_bot_ns, sandbox_user_factory, bot_api):
    """A sustained rate just under per_second always passes, however requests bunch up; above it, 429s."""
    token = sandbox_bot_ns.token
    sandbox_client.set_limits(token, 20, 100, per_chat_burst=100)
    users = [sandbox_user_factory(sandbox_bot_ns, first_name=f"P{i}") for i in range(5)]
    started = time.monotonic()
    for i in range(40):  # 18 a second for two seconds and more
        time.sleep(max(0.0, started + i / 18 - time.monotonic()))
        response = _send(bot_api, token, users[i % 5].chat_id)
        assert response.status_code == 200, (i, response.text)
    time.sleep(1)  # the bucket refills
    flood_started = time.monotonic()
    statuses = [_send(bot_api, token, users[i % 5].chat_id).status_code for i in range(60)]
    flood_time = time.monotonic() - flood_started
    passed = statuses.count(200)
    assert set(statuses) == {200, 429}
    assert 20 <= passed <= 20 + int(20 * flood_time) + 1


def test_per_chat_limit_allows_a_burst_then_one_per_second(
    sandbox_client, sandbox_bot_ns, sandbox_user_factory, bot_api
):
    token = sandbox_bot_ns.token
    sandbox_client.set_limits(token, 100, 1, per_chat_burst=3)
    busy, other = sandbox_user_factory(sandbox_bot_ns), sandbox_user_factory(sandbox_bot_ns)
    assert [_send(bot_api, token, busy.chat_id).status_code for _ in range(3)] == [200, 200, 200]
    refused = _send(bot_api, token, busy.chat_id)
    assert refused.status_code == 429
    assert refused.json()["description"] == "Too Many Requests: retry after 1"
    assert refused.json()["parameters"] == {"retry_after": 1}
    assert _send(bot_api, token, other.chat_id).status_code == 200  # other chats are not affected
    time.sleep(1.05)
    assert _send(bot_api, token, busy.chat_id).status_code == 200  # one token refilled
    assert _send(bot_api, token, busy.chat_id).status_code == 429
    assert len(sandbox_client.transcript(token, busy.chat_id)) == 4


def test_default_limits_come_from_config(app, sandbox_client, sandbox_bot_ns):
    limits = sandbox_client._request("GET", f"/api/bots/{sandbox_bot_ns.token}/limits")
    assert limits["per_second"] == app.config["SANDBOX_PER_SECOND"]
    assert limits["per_chat_per_second"] == app.config["SANDBOX_PER_CHAT_PER_SECOND"]


def test_limit_holds_under_concurrent_senders(app, sandbox_client, sandbox_bot_ns):
    """Forty senders at once (separate Redis connections, as separate processes have): the ten tokens
    of the bucket go to ten of them, plus at most what refilled while they ran."""
    from webapp.sandbox.store import current_sandbox

    sandbox_client.set_limits(sandbox_bot_ns.token, 10, 1000, per_chat_burst=1000)
    with app.app_context():
        sb = current_sandbox()
        bot = sb.bot_by_token(sandbox_bot_ns.token)
    barrier = threading.Barrier(40)
    results: list[bool] = []

    def sender(chat_id: int) -> None:
        barrier.wait()
        results.append(sb.take_send_slot(bot, chat_id).allowed)

    threads = [threading.Thread(target=sender, args=(1000 + i,)) for i in range(40)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert len(results) == 40
    assert 10 <= results.count(True) <= 10 + int(10 * elapsed)


def test_telebot_sees_retry_after(sandbox_client, sandbox_bot_ns, sandbox_user_factory, telebot_sandbox):
    import telebot
    from telebot.apihelper import ApiTelegramException

    sandbox_client.set_limits(sandbox_bot_ns.token, 30, 1, per_chat_burst=1)
    user = sandbox_user_factory(sandbox_bot_ns)
    bot = telebot.TeleBot(sandbox_bot_ns.token, threaded=False)
    bot.send_message(user.chat_id, "first")
    with pytest.raises(ApiTelegramException) as caught:
        bot.send_message(user.chat_id, "second")
    assert caught.value.error_code == 429
    assert caught.value.result_json["parameters"]["retry_after"] == 1

    sandbox_client.block(sandbox_bot_ns.token, user.user_id)
    with pytest.raises(ApiTelegramException) as blocked:
        bot.send_message(user.chat_id, "third")
    assert blocked.value.error_code == 403
    assert blocked.value.description == "Forbidden: bot was blocked by the user"
