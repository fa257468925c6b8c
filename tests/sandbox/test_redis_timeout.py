"""A Redis that times out in the middle of long polling: the poll ends empty, as Telegram's does."""

from __future__ import annotations

import pytest
import redis

from tests.conftest import BACKEND


class TimingOutFakeRedis:
    """The embedded backend has no socket to time out: its BLPOP raises what redis-py raises then."""

    def __init__(self, client) -> None:
        self._client = client

    def blpop(self, *args, **kwargs):
        raise redis.TimeoutError("Timeout reading from socket")

    def __getattr__(self, name: str):
        return getattr(self._client, name)


@pytest.fixture
def slow_redis(app, monkeypatch):
    """The app's Redis client, swapped for one whose BLPOP outlives its socket timeout."""
    original = app.extensions["botdesk_redis"]
    if BACKEND.redis_url:
        # A real server and a socket timeout shorter than the sandbox's 0.5 s BLPOP slice.
        client = redis.Redis.from_url(BACKEND.redis_url, socket_timeout=0.1)
    else:
        client = TimingOutFakeRedis(original)
    monkeypatch.setitem(app.extensions, "botdesk_redis", client)
    client.original = original
    return client


def test_get_updates_answers_empty_on_a_redis_timeout(app, sandbox_bot_ns, sandbox_client, bot_api, slow_redis):
    response = bot_api(sandbox_bot_ns.token, "getUpdates", timeout=2)
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True, "result": []}
    # Redis answers in time again: the next poll is not refused as a rival poller and gets the update.
    app.extensions["botdesk_redis"] = slow_redis.original
    user = sandbox_client.create_user(sandbox_bot_ns.token, "Aigerim")
    sandbox_client.send_text(sandbox_bot_ns.token, user["user_id"], "salom")
    updates = bot_api(sandbox_bot_ns.token, "getUpdates", timeout=2).json()["result"]
    assert [u["message"]["text"] for u in updates] == ["salom"]
