"""sendMessage in one Redis round trip for a bot the process knows (KnownBot): the same answers and the
same stored messages as the long way, and every change made elsewhere seen by the next send."""

from __future__ import annotations

import json

import pytest

from webapp.sandbox import store

FIXED_DATE = 1_790_000_000


@pytest.fixture
def wsgi(app, monkeypatch):
    """POST a JSON sendMessage to the app as gunicorn would; ``post.long_way`` lists the calls that
    ``_answer`` (the long way) answered."""
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    from webapp.sandbox import api

    monkeypatch.setattr("webapp.sandbox.messages.now", lambda: FIXED_DATE)
    long_way = []
    answer = api._answer

    def counted(token, method_name, req):
        long_way.append(token)
        return answer(token, method_name, req)

    monkeypatch.setattr(api, "_answer", counted)

    def post(token, payload, **kw):
        environ = EnvironBuilder(path=f"/sandbox/bot{token}/sendMessage", method="POST", json=payload, **kw)
        body_iter, status, headers = run_wsgi_app(app, environ.get_environ())
        return status, headers.to_wsgi_list(), b"".join(body_iter)

    post.long_way = long_way
    return post


def _known(app) -> dict:
    return app.extensions.setdefault("sandbox_known_bots", {})


def _stored(app, bot_id: int, chat_id: int, message_id: int) -> bytes:
    from webapp.extensions import redis_store

    with app.app_context():
        return redis_store.client.hget(store.key("bot", bot_id, "chat", chat_id, "msgs"), message_id)


PAYLOADS = [
    {"text": "<b>Bench</b> and <i>more</i> /start", "parse_mode": "HTML"},
    {"text": "Сәлем, «друг» — 👋", "reply_markup": {"inline_keyboard": [[{"text": "Да", "callback_data": "yes"}]]}},
    {"text": "keyboard", "reply_markup": json.dumps({"keyboard": [["A"], [{"text": "B"}]], "resize_keyboard": True})},
    {"text": "plain", "entities": [{"type": "bold", "offset": 0, "length": 5}]},
    {"text": "gone", "reply_markup": {"remove_keyboard": True}},
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_one_step_send_answers_and_stores_what_the_long_way_does(
    app, wsgi, sandbox_bot_ns, sandbox_user_factory, payload
):
    user = sandbox_user_factory(sandbox_bot_ns, "Dana", username="dana_b", last_name='O"Neil')
    token = sandbox_bot_ns.token
    _known(app).pop(token, None)

    long_status, long_headers, long_body = wsgi(token, {"chat_id": user.chat_id, **payload})
    assert wsgi.long_way == [token] and token in _known(app)  # the long way, which remembers the bot
    short_status, short_headers, short_body = wsgi(token, {"chat_id": str(user.chat_id), **payload})
    assert wsgi.long_way == [token]  # one step, no bot read

    assert (short_status, short_headers) == (long_status, long_headers)
    assert long_status == "200 OK"
    assert short_body == long_body.replace(b'"message_id":1,', b'"message_id":2,')
    assert json.loads(short_body)["result"]["chat"]["last_name"] == 'O"Neil'
    first, second = (_stored(app, sandbox_bot_ns.id, user.chat_id, n) for n in (1, 2))
    assert second == first.replace(b'"message_id": 1,', b'"message_id": 2,')


def test_one_step_send_refuses_as_the_long_way_does(app, wsgi, sandbox_client, sandbox_bot_ns, sandbox_user_factory):
    user = sandbox_user_factory(sandbox_bot_ns)
    blocked = sandbox_user_factory(sandbox_bot_ns, "Blocker")
    token = sandbox_bot_ns.token
    sandbox_client.set_limits(token, 1000, 1, per_chat_burst=2)
    assert wsgi(token, {"chat_id": user.chat_id, "text": "one"})[0] == "200 OK"  # now known
    sandbox_client.block(token, blocked.user_id)
    answers = {
        "unknown chat": wsgi(token, {"chat_id": 42, "text": "x"}),
        "blocked": wsgi(token, {"chat_id": blocked.chat_id, "text": "x"}),
        "second": wsgi(token, {"chat_id": user.chat_id, "text": "two"}),
        "over the burst": wsgi(token, {"chat_id": user.chat_id, "text": "three"}),
    }
    assert wsgi.long_way == [token]
    # The long way's answers to the same calls (nothing the one step refused was charged or stored).
    for name, chat_id in (("unknown chat", 42), ("blocked", blocked.chat_id)):
        _known(app).clear()
        assert wsgi(token, {"chat_id": chat_id, "text": "x"}) == answers[name], name
    assert len(wsgi.long_way) == 3
    assert answers["unknown chat"][0] == "400 BAD REQUEST"
    assert json.loads(answers["blocked"][2])["description"] == "Forbidden: bot was blocked by the user"
    assert json.loads(answers["second"][2])["result"]["message_id"] == 2
    status, _, body = answers["over the burst"]
    assert status == "429 TOO MANY REQUESTS"
    assert json.loads(body) == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    assert [m["text"] for m in sandbox_client.transcript(token, user.chat_id)] == ["one", "two"]


def test_errors_before_the_chat_take_the_long_way(app, wsgi, sandbox_bot_ns, sandbox_user_factory):
    """Telegram checks the chat before the text: a bad text to a missing chat is "chat not found"."""
    user = sandbox_user_factory(sandbox_bot_ns)
    token = sandbox_bot_ns.token
    wsgi(token, {"chat_id": user.chat_id, "text": "known now"})
    bad_html = {"text": "<b>unclosed", "parse_mode": "HTML"}
    missing = json.loads(wsgi(token, {"chat_id": 42, **bad_html})[2])
    assert missing["description"] == "Bad Request: chat not found"
    unparsable = json.loads(wsgi(token, {"chat_id": user.chat_id, **bad_html})[2])
    assert unparsable["error_code"] == 400 and "can't parse entities" in unparsable["description"]
    reply = json.loads(wsgi(token, {"chat_id": user.chat_id, "text": "re", "reply_to_message_id": 1})[2])
    assert reply["result"]["reply_to_message"]["text"] == "known now"
    assert wsgi.long_way == [token] * 4


def test_changes_made_elsewhere_are_seen_by_the_next_send(
    app, wsgi, sandbox_client, sandbox_bot_ns, sandbox_user_factory
):
    """The ops API (another process, as far as this cache knows: it never touches it) changes the limits
    or the bot itself; the bot's version in Redis tells the next one-step send."""
    user = sandbox_user_factory(sandbox_bot_ns)
    token = sandbox_bot_ns.token
    wsgi(token, {"chat_id": user.chat_id, "text": "known now"})
    known = _known(app)[token]
    sandbox_client.set_limits(token, 1, 1000, per_chat_burst=1000)
    assert _known(app)[token] is known  # unchanged here: Redis says it is stale
    first = wsgi(token, {"chat_id": user.chat_id, "text": "a"})
    second = wsgi(token, {"chat_id": user.chat_id, "text": "b"})
    assert first[0] == "200 OK" and second[0] == "429 TOO MANY REQUESTS"
    assert wsgi.long_way == [token, token]  # the stale send went the long way, the next one did not
    assert _known(app)[token].fields["per_second"] == "1"

    # The sandbox emptied and the bot made again under the same token and id: a new bot to everyone.
    from webapp.extensions import redis_store

    with app.app_context():
        redis_store.client.flushdb()
    again = sandbox_client.create_bot("renamed_bot", "Renamed", token=token)
    other = sandbox_user_factory(sandbox_bot_ns, "Other")
    answer = json.loads(wsgi(token, {"chat_id": other.chat_id, "text": "hi"})[2])
    assert answer["result"]["from"]["username"] == again["username"] == "renamed_bot"
    assert answer["result"]["message_id"] == 1
    with app.app_context():
        redis_store.client.flushdb()
    gone = wsgi(token, {"chat_id": other.chat_id, "text": "hi"})
    assert gone[0] == "401 UNAUTHORIZED" and token not in _known(app)


def test_users_saved_before_chat_json_still_get_messages(
    app, wsgi, sandbox_client, sandbox_bot_ns, sandbox_user_factory
):
    from webapp.extensions import redis_store

    user = sandbox_user_factory(sandbox_bot_ns, "Legacy", username="legacy_user")
    token = sandbox_bot_ns.token
    with app.app_context():
        redis_store.client.delete(store.key("user", user.user_id, "chat"))
    first = json.loads(wsgi(token, {"chat_id": user.chat_id, "text": "one"})[2])
    second = json.loads(wsgi(token, {"chat_id": user.chat_id, "text": "two"})[2])
    assert first["result"]["chat"] == second["result"]["chat"]
    assert second["result"]["chat"] == {
        "id": user.chat_id,
        "first_name": "Legacy",
        "username": "legacy_user",
        "type": "private",
    }
    assert wsgi.long_way == [token, token]
    # Such a user opening another bot gets the chat JSON kept from then on.
    other = sandbox_client.create_bot("second_fidelity_bot")
    sandbox_client.create_user(other["token"], "Legacy", user_id=user.user_id)
    third = json.loads(wsgi(token, {"chat_id": user.chat_id, "text": "three"})[2])
    assert third["result"]["chat"] == second["result"]["chat"] and third["result"]["message_id"] == 3
    assert wsgi.long_way == [token, token]
