"""The sandbox's test/ops API: shapes, and clear 4xx answers to bad input (never a 500)."""

from __future__ import annotations

import base64

import pytest
import requests


@pytest.fixture
def ops(app, live_server):
    key = {"X-Sandbox-Key": app.config["SANDBOX_KEY"]}

    def call(method, path, **kwargs):
        headers = {**key, **kwargs.pop("headers", {})}
        return requests.request(method, f"{live_server.sandbox_url}/api{path}", timeout=10, headers=headers, **kwargs)

    return call


def test_bots_and_users_listing(ops, sandbox_client):
    bot = sandbox_client.create_bot("clinic_demo_bot", first_name="Clinic")
    assert set(bot) == {"token", "id", "username", "first_name"}
    assert bot["username"] == "clinic_demo_bot" and bot["token"].startswith(f"{bot['id']}:")
    assert [b["username"] for b in sandbox_client.bots()] == ["clinic_demo_bot"]
    user = sandbox_client.create_user(bot["token"], "Aruzhan", "aruzhan", "kk", phone_number="+77010000001")
    assert user["user_id"] == user["chat_id"]
    listed = sandbox_client.users(bot["token"])
    assert listed == [{**user, "blocked": False}]
    detail = ops("GET", f"/bots/{bot['token']}").json()
    assert detail["limits"]["per_second"] == 30 and detail["pending_update_count"] == 0

    # The same Telegram user can open a second bot (one identity across bots).
    other = sandbox_client.create_bot("realty_demo_bot")
    again = sandbox_client.create_user(other["token"], "ignored", user_id=user["user_id"])
    assert again["user_id"] == user["user_id"] and again["first_name"] == "Aruzhan"

    given = sandbox_client.create_bot("env_token_bot", token="123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")
    assert given["id"] == 123456789


@pytest.mark.parametrize(
    "body,field",
    [
        ({}, "username"),
        ({"username": "no"}, "username"),
        ({"username": "bad name here"}, None),
        ({"username": "fine_bot", "token": "not-a-token"}, None),
    ],
)
def test_create_bot_bad_input(ops, body, field):
    response = ops("POST", "/bots", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"]
    if field:
        assert error["details"][0]["field"] == field


def test_duplicates_and_unknowns(ops, sandbox_client):
    bot = sandbox_client.create_bot("dup_name_bot")
    assert ops("POST", "/bots", json={"username": "DUP_name_bot"}).status_code == 409
    assert ops("POST", "/bots/123:nope/users", json={"first_name": "A"}).status_code == 404
    assert ops("GET", "/bots/123:nope/users").status_code == 404
    assert ops("GET", f"/bots/{bot['token']}/chats/42/messages").status_code == 404
    assert ops("POST", f"/bots/{bot['token']}/users/42/block").status_code == 404
    assert ops("POST", f"/bots/{bot['token']}/users", json={"first_name": "A", "user_id": 99}).status_code == 404
    assert ops("GET", f"/bots/{bot['token']}/callbacks/123").status_code == 404
    assert ops("GET", f"/bots/{bot['token']}/files/nope").status_code == 404


def test_message_bad_input(ops, sandbox_client):
    bot = sandbox_client.create_bot("input_check_bot")
    token = bot["token"]
    user = sandbox_client.create_user(token, "A")
    png_like = base64.b64encode(b"not an image").decode()
    cases = [
        ("not json", 400),
        ({"user_id": user["user_id"]}, 400),
        ({"user_id": user["user_id"], "text": "a", "contact": {"phone_number": "+77010000000"}}, 400),
        ({"user_id": user["user_id"], "text": "   "}, 400),
        ({"user_id": user["user_id"], "text": "я" * 4097}, 400),
        ({"user_id": user["user_id"], "document": {"content": "%%%", "file_name": "a.pdf"}}, 400),
        ({"user_id": user["user_id"], "photo": {"content": png_like}}, 400),
        ({"user_id": user["user_id"], "contact": {"phone_number": "call me"}}, 400),
        ({"user_id": 1, "text": "hi"}, 404),
        ({"user_id": "abc", "text": "hi"}, 400),
        ({"user_id": user["user_id"], "text": "hi", "reply_to_message_id": 77}, 404),
    ]
    for body, status in cases:
        kwargs = (
            {"data": body, "headers": {"Content-Type": "application/json"}} if isinstance(body, str) else {"json": body}
        )
        response = ops("POST", f"/bots/{token}/messages", **kwargs)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["message"]
    assert sandbox_client.transcript(token, user["chat_id"]) == []  # nothing half-written


def test_callback_and_limits_bad_input(ops, sandbox_client, bot_api):
    bot = sandbox_client.create_bot("press_check_bot")
    token = bot["token"]
    user = sandbox_client.create_user(token, "A")
    own = sandbox_client.send_text(token, user["user_id"], "mine")
    assert ops("POST", f"/bots/{token}/callbacks", json={"user_id": user["user_id"]}).status_code == 400
    body = {"user_id": user["user_id"], "message_id": 50, "data": "x"}
    assert ops("POST", f"/bots/{token}/callbacks", json=body).status_code == 404
    body["message_id"] = own["message_id"]
    refused = ops("POST", f"/bots/{token}/callbacks", json=body)
    assert refused.status_code == 400 and "no inline button" in refused.json()["error"]["message"]
    for limits in ({"per_second": 0, "per_chat_per_second": 1}, {"per_second": 5}, {"per_second": "x"}):
        assert ops("PUT", f"/bots/{token}/limits", json=limits).status_code == 400
    assert ops("GET", f"/bots/{token}/chats/{user['chat_id']}/state", params={"rev": "x"}).status_code == 400


def test_everything_is_404_when_the_sandbox_is_disabled(app, ops, sandbox_client, bot_api):
    bot = sandbox_client.create_bot("soon_hidden_bot")
    app.config["SANDBOX_ENABLED"] = False
    try:
        assert ops("GET", "/bots").status_code == 404
        hidden = bot_api(bot["token"], "getMe")
        assert hidden.status_code == 404 and hidden.json()["ok"] is False
        assert app.test_client().get("/sandbox").status_code == 404
    finally:
        app.config["SANDBOX_ENABLED"] = True
    assert bot_api(bot["token"], "getMe").status_code == 200


# --- issue 12: the ops API is never anonymous ------------------------------------------------------


def test_anonymous_callers_get_no_tokens_transcripts_or_voice(app, live_server, sandbox_client):
    bot = sandbox_client.create_bot("secret_clinic_bot")
    user = sandbox_client.create_user(bot["token"], "Patient")
    sandbox_client.send_text(bot["token"], user["user_id"], "my diagnosis")
    base = f"{live_server.sandbox_url}/api"
    token = bot["token"]
    attempts = [
        ("GET", "/bots", None),
        ("POST", "/bots", {"username": "evil_bot"}),
        ("GET", f"/bots/{token}/chats/{user['chat_id']}/messages", None),
        ("GET", f"/bots/{token}/chats/{user['chat_id']}/state", None),
        ("POST", f"/bots/{token}/messages", {"user_id": user["user_id"], "text": "spoofed"}),
        ("GET", f"/bots/{token}/users", None),
    ]
    for key in (None, "wrong-key"):
        headers = {"X-Sandbox-Key": key} if key else {}
        for method, path, body in attempts:
            r = requests.request(method, base + path, json=body, headers=headers, timeout=10)
            assert r.status_code == 401, (method, path, r.text)
            assert token not in r.text and "diagnosis" not in r.text
    texts = [m.get("text") for m in sandbox_client.transcript(token, user["chat_id"])]
    assert "spoofed" not in texts


def test_console_sessions_below_superuser_are_refused(app, live_server, sandbox_client, make_user, console_login):
    sandbox_client.create_bot("staff_only_bot")
    admin = app.test_client()
    console_login(admin, make_user("admin"))
    assert admin.get("/sandbox/api/bots").status_code == 401
    assert admin.get("/sandbox").status_code == 403
    boss = app.test_client()
    console_login(boss, make_user("superuser"))
    assert [b["username"] for b in boss.get("/sandbox/api/bots").get_json()] == ["staff_only_bot"]
    # A session write needs the CSRF token too: the cookie alone rides on any site's form post.
    assert boss.post("/sandbox/api/bots", json={"username": "forged_bot"}).status_code == 400
