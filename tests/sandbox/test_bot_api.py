"""The sandbox's Bot API over real HTTP: shapes, getUpdates semantics, errors, files, editing."""

from __future__ import annotations

import json
import struct
import threading
import time
import zlib

import pytest
import requests


def tiny_png(width: int = 3, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def test_get_me_unknown_token_and_unknown_method(sandbox_bot_ns, bot_api, live_server):
    me = bot_api(sandbox_bot_ns.token, "getMe", http="get")
    assert me.status_code == 200
    result = me.json()["result"]
    assert me.json()["ok"] is True
    assert result["id"] == sandbox_bot_ns.id == int(sandbox_bot_ns.token.split(":")[0])
    assert result["is_bot"] is True and result["username"] == sandbox_bot_ns.username

    unknown = bot_api("123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "getMe")
    assert unknown.status_code == 401
    assert unknown.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}

    missing = bot_api(sandbox_bot_ns.token, "sendTelepathy")
    assert missing.status_code == 404
    assert missing.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    # Method names are case-insensitive in Telegram.
    assert bot_api(sandbox_bot_ns.token, "GETME").json()["result"]["id"] == sandbox_bot_ns.id


def test_send_message_shapes_and_transcript(sandbox_client, sandbox_bot_ns, sandbox_user_factory, bot_api):
    user = sandbox_user_factory(sandbox_bot_ns, username="aigerim_k", language_code="kk")
    sent = sandbox_client.send_text(sandbox_bot_ns.token, user.user_id, "/start")
    keyboard = {"keyboard": [["Записаться"], [{"text": "Телефон", "request_contact": True}]], "resize_keyboard": True}
    reply = bot_api(
        sandbox_bot_ns.token,
        "sendMessage",
        chat_id=user.chat_id,
        text="Сәлем!",
        reply_markup=json.dumps(keyboard),
    ).json()
    assert reply["ok"] is True
    message = reply["result"]
    assert message["message_id"] == sent["message_id"] + 1  # one id sequence per chat
    assert message["from"] == {
        "id": sandbox_bot_ns.id,
        "is_bot": True,
        "first_name": message["from"]["first_name"],
        "username": sandbox_bot_ns.username,
    }
    assert message["chat"] == {"id": user.chat_id, "first_name": "Aigerim", "username": "aigerim_k", "type": "private"}
    assert message["text"] == "Сәлем!" and isinstance(message["date"], int)
    assert "reply_markup" not in message  # Telegram only echoes inline keyboards

    transcript = sandbox_client.transcript(sandbox_bot_ns.token, user.chat_id)
    assert [(m["message_id"], m["from_bot"]) for m in transcript] == [(1, False), (2, True)]
    assert transcript[0]["text"] == "/start"
    assert transcript[0]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert transcript[0]["from"]["language_code"] == "kk"
    assert transcript[1]["reply_markup"] == keyboard  # the transcript keeps every keyboard

    state = sandbox_client.state(sandbox_bot_ns.token, user.chat_id)
    assert state["keyboard"] == keyboard
    remove = '{"remove_keyboard":true}'
    bot_api(sandbox_bot_ns.token, "sendMessage", chat_id=user.chat_id, text="ok", reply_markup=remove)
    assert sandbox_client.state(sandbox_bot_ns.token, user.chat_id)["keyboard"] is None


def test_parameters_as_json_body_and_form(sandbox_bot_ns, sandbox_user_factory, live_server):
    user = sandbox_user_factory(sandbox_bot_ns)
    url = f"{live_server.sandbox_url}/bot{sandbox_bot_ns.token}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    as_json = requests.post(url, json={"chat_id": user.chat_id, "text": "json", "reply_markup": markup}, timeout=10)
    assert as_json.json()["result"]["reply_markup"] == markup
    as_form = requests.post(url, data={"chat_id": str(user.chat_id), "text": "form"}, timeout=10)
    assert as_form.json()["result"]["text"] == "form"


def test_get_updates_offset_limit_and_timeout(sandbox_client, sandbox_bot_ns, sandbox_user_factory, bot_api):
    user = sandbox_user_factory(sandbox_bot_ns)
    ids = [sandbox_client.send_text(sandbox_bot_ns.token, user.user_id, f"m{i}")["update_id"] for i in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3

    def poll(**params):
        response = bot_api(sandbox_bot_ns.token, "getUpdates", **params)
        assert response.status_code == 200, response.text
        return response.json()["result"]

    everything = poll()
    assert [u["update_id"] for u in everything] == ids
    assert [u["message"]["text"] for u in everything] == ["m0", "m1", "m2"]
    assert [u["update_id"] for u in poll()] == ids  # not confirmed yet: returned again
    assert [u["update_id"] for u in poll(offset=ids[1])] == ids[1:]  # confirms ids[0]
    assert [u["update_id"] for u in poll()] == ids[1:]  # ids[0] never comes back
    assert [u["update_id"] for u in poll(limit=1)] == [ids[1]]

    started = time.monotonic()
    assert poll(offset=ids[2] + 1, timeout=1) == []
    assert time.monotonic() - started >= 0.9  # long polling waited for the timeout
    assert poll() == []  # all confirmed

    sandbox_client.send_text(sandbox_bot_ns.token, user.user_id, "later")
    assert [u["message"]["text"] for u in poll()] == ["later"]


def test_negative_offset_keeps_only_the_latest(sandbox_client, sandbox_bot_ns, sandbox_user_factory, bot_api):
    user = sandbox_user_factory(sandbox_bot_ns)
    ids = [sandbox_client.send_text(sandbox_bot_ns.token, user.user_id, str(i))["update_id"] for i in range(4)]
    latest = bot_api(sandbox_bot_ns.token, "getUpdates", offset=-1).json()["result"]
    assert [u["update_id"] for u in latest] == ids[-1:]
    assert [u["update_id"] for u in bot_api(sandbox_bot_ns.token, "getUpdates").json()["result"]] == ids[-1:]


def test_long_poll_returns_as_soon_as_an_update_arrives(sandbox_client, sandbox_bot_ns, sandbox_user_factory, bot_api):
    user = sandbox_user_factory(sandbox_bot_ns)
    result = {}

    def poller():
        started = time.monotonic()
        result["response"] = bot_api(sandbox_bot_ns.token, "getUpdates", timeout=20)
        result["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=poller)
    thread.start()
    time.sleep(0.5)
    sandbox_client.send_text(sandbox_bot_ns.token, user.user_id, "wake up")
    thread.join(10)
    assert result["response"].json()["result"][0]["message"]["text"] == "wake up"
    assert 0.4 <= result["elapsed"] < 3


def test_second_poller_terminates_the_first_with_409(sandbox_bot_ns, bot_api):
    first = {}

    def poller():
        first["response"] = bot_api(sandbox_bot_ns.token, "getUpdates", timeout=15)
        first["at"] = time.monotonic()

    thread = threading.Thread(target=poller)
    thread.start()
    time.sleep(0.5)
    second_started = time.monotonic()
    second = bot_api(sandbox_bot_ns.token, "getUpdates", timeout=2)
    thread.join(10)
    assert first["response"].status_code == 409
    assert first["response"].json() == {
        "ok": False,
        "error_code": 409,
        "description": "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
        "is running",
    }
    assert first["at"] - second_started < 1.5  # terminated promptly, not at its own timeout
    assert second.status_code == 200 and second.json()["result"] == []


def test_text_limits_and_empty_text(sandbox_bot_ns, sandbox_user_factory, bot_api):
    user = sandbox_user_factory(sandbox_bot_ns)
    too_long = bot_api(sandbox_bot_ns.token, "sendMessage", chat_id=user.chat_id, text="я" * 4097)
    assert too_long.status_code == 400
    assert too_long.json() == {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"}
    assert bot_api(sandbox_bot_ns.token, "sendMessage", chat_id=user.chat_id, text="я" * 4096).status_code == 200
    empty = bot_api(sandbox_bot_ns.token, "sendMessage", chat_id=user.chat_id, text="")
    assert empty.status_code == 400 and empty.json()["description"] == "Bad Request: message text is empty"


def test_callback_data_over_64_bytes_is_refused(sandbox_bot_ns, sandbox_user_factory, bot_api, sandbox_client):
    user = sandbox_user_factory(sandbox_bot_ns)

    def send(data):
        markup = json.dumps({"inline_keyboard": [[{"text": "B", "callback_data": data}]]})
        return bot_api(sandbox_bot_ns.token, "sendMessage", chat_id=user.chat_id, text="x", reply_markup=markup)

    refused = send("ж" * 33)  # 66 bytes in UTF-8, though only 33 characters
    assert refused.status_code == 400
    assert refused.json()["description"] == "Bad Request: BUTTON_DATA_INVALID"
    assert send("ж" * 32).status_code == 200  # exactly 64 bytes
    assert len(sandbox_client.transcript(sandbox_bot_ns.token, user.chat_id)) == 1  # nothing half-sent

    bad_markup = bot_api(sandbox_bot_ns.token, "sendMessage", chat_id=user.chat_id, text="x", reply_markup="{oops")
    assert bad_markup.status_code == 400
    assert bad_markup.json()["description"] == "Bad Request: can't parse reply keyboard markup JSON object"


def test_unknown_chat(sandbox_bot_ns, sandbox_user_factory, bot_api, sandbox_client):
    stranger = bot_api(sandbox_bot_ns.token, "sendMessage", chat_id=123456789, text="hi")
    assert stranger.status_code == 400
    assert stranger.json()["description"] == "Bad Request: chat not found"
    # A user of another bot has no chat with this one.
    other = sandbox_client.create_bot("some_other_bot")
    user = sandbox_client.create_user(other["token"], "Other")
    assert bot_api(sandbox_bot_ns.token, "sendMessage", chat_id=user["chat_id"], text="hi").status_code == 400
    no_chat = bot_api(sandbox_bot_ns.token, "sendMessage", text="hi")
    assert no_chat.json()["description"] == "Bad Request: chat_id is empty"


def test_blocked_user_gets_403_and_bot_is_told(sandbox_client, sandbox_bot_ns, sandbox_user_factory, bot_api):
    user = sandbox_user_factory(sandbox_bot_ns)
    sandbox_client.block(sandbox_bot_ns.token, user.user_id)
    refused = bot_api(sandbox_bot_ns.token, "sendMessage", chat_id=user.chat_id, text="promo")
    assert refused.status_code == 403
    assert refused.json() == {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
    png = bot_api(sandbox_bot_ns.token, "sendPhoto", chat_id=user.chat_id, files={"photo": ("p.png", tiny_png())})
    assert png.status_code == 403
    assert [u["user_id"] for u in sandbox_client.users(sandbox_bot_ns.token) if u["blocked"]] == [user.user_id]
    with pytest.raises(Exception, match="409"):
        sandbox_client.send_text(sandbox_bot_ns.token, user.user_id, "hi")  # must unblock first

    sandbox_client.unblock(sandbox_bot_ns.token, user.user_id)
    assert bot_api(sandbox_bot_ns.token, "sendMessage", chat_id=user.chat_id, text="welcome back").status_code == 200
    updates = bot_api(sandbox_bot_ns.token, "getUpdates").json()["result"]
    statuses = [u["my_chat_member"]["new_chat_member"]["status"] for u in updates]
    assert statuses == ["kicked", "member"]


def test_edit_and_delete(sandbox_client, sandbox_bot_ns, sandbox_user_factory, bot_api):
    user = sandbox_user_factory(sandbox_bot_ns)
    token = sandbox_bot_ns.token
    markup = json.dumps({"inline_keyboard": [[{"text": "Yes", "callback_data": "yes"}]]})
    sent = bot_api(token, "sendMessage", chat_id=user.chat_id, text="Confirm?", reply_markup=markup).json()["result"]

    edited = bot_api(
        token, "editMessageText", chat_id=user.chat_id, message_id=sent["message_id"], text="Done", reply_markup=markup
    ).json()
    assert edited["ok"] and edited["result"]["text"] == "Done" and "edit_date" in edited["result"]
    same = bot_api(
        token, "editMessageText", chat_id=user.chat_id, message_id=sent["message_id"], text="Done", reply_markup=markup
    )
    assert same.status_code == 400 and same.json()["description"].startswith("Bad Request: message is not modified")

    cleared = bot_api(token, "editMessageReplyMarkup", chat_id=user.chat_id, message_id=sent["message_id"]).json()
    assert "reply_markup" not in cleared["result"]
    stored = sandbox_client.transcript(token, user.chat_id)[-1]
    assert stored["text"] == "Done" and "reply_markup" not in stored

    mine = sandbox_client.send_text(token, user.user_id, "my words")
    not_bots = bot_api(token, "editMessageText", chat_id=user.chat_id, message_id=mine["message_id"], text="x")
    assert not_bots.json()["description"] == "Bad Request: message can't be edited"
    missing = bot_api(token, "editMessageText", chat_id=user.chat_id, message_id=999, text="x")
    assert missing.json()["description"] == "Bad Request: message to edit not found"

    assert bot_api(token, "deleteMessage", chat_id=user.chat_id, message_id=sent["message_id"]).json()["result"] is True
    again = bot_api(token, "deleteMessage", chat_id=user.chat_id, message_id=sent["message_id"])
    assert again.json()["description"] == "Bad Request: message to delete not found"
    assert [m["message_id"] for m in sandbox_client.transcript(token, user.chat_id)] == [mine["message_id"]]


def test_parse_mode_turns_markup_into_entities(sandbox_bot_ns, sandbox_user_factory, bot_api):
    user = sandbox_user_factory(sandbox_bot_ns)
    html = bot_api(
        sandbox_bot_ns.token,
        "sendMessage",
        chat_id=user.chat_id,
        parse_mode="HTML",
        text='Запись <b>подтверждена</b>: <a href="https://example.test/a?b=1&amp;c=2">билет</a>',
    ).json()
    assert html["result"]["text"] == "Запись подтверждена: билет"
    assert html["result"]["entities"] == [
        {"type": "bold", "offset": 7, "length": 12},
        {"type": "text_link", "offset": 21, "length": 5, "url": "https://example.test/a?b=1&c=2"},
    ]
    broken = bot_api(
        sandbox_bot_ns.token, "sendMessage", chat_id=user.chat_id, parse_mode="MarkdownV2", text="Итого: 5000 тг."
    )
    assert broken.status_code == 400
    assert broken.json()["description"] == (
        "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'"
    )


def test_chat_action_commands_and_get_chat(sandbox_client, sandbox_bot_ns, sandbox_user_factory, bot_api):
    user = sandbox_user_factory(sandbox_bot_ns)
    token = sandbox_bot_ns.token
    assert bot_api(token, "sendChatAction", chat_id=user.chat_id, action="typing").json()["result"] is True
    assert sandbox_client.state(token, user.chat_id)["action"] == "typing"
    assert bot_api(token, "sendChatAction", chat_id=user.chat_id, action="dancing").status_code == 400

    commands = [{"command": "start", "description": "Start"}, {"command": "help", "description": "Help"}]
    assert bot_api(token, "setMyCommands", commands=json.dumps(commands)).json()["result"] is True
    assert bot_api(token, "getMyCommands").json()["result"] == commands
    assert bot_api(token, "getMyCommands", language_code="ru").json()["result"] == []
    bad = bot_api(token, "setMyCommands", commands=json.dumps([{"command": "Bad Command", "description": "x"}]))
    assert bad.json()["description"] == "Bad Request: BOT_COMMAND_INVALID"
    assert bot_api(token, "getChat", chat_id=user.chat_id).json()["result"]["type"] == "private"


def test_files_upload_download_and_resend(sandbox_client, sandbox_bot_ns, sandbox_user_factory, bot_api, live_server):
    user = sandbox_user_factory(sandbox_bot_ns)
    token = sandbox_bot_ns.token
    content = bytes(range(256)) * 40
    doc = bot_api(
        token, "sendDocument", chat_id=user.chat_id, caption="Ваш талон", files={"document": ("талон.pdf", content)}
    ).json()["result"]
    assert doc["document"]["file_name"] == "талон.pdf"
    assert doc["document"]["mime_type"] == "application/pdf"
    assert doc["document"]["file_size"] == len(content) and doc["caption"] == "Ваш талон"

    info = bot_api(token, "getFile", file_id=doc["document"]["file_id"]).json()["result"]
    assert info["file_path"].startswith("documents/") and info["file_size"] == len(content)
    downloaded = requests.get(f"{live_server.sandbox_url}/file/bot{token}/{info['file_path']}", timeout=10)
    assert downloaded.status_code == 200 and downloaded.content == content
    assert sandbox_client.download(token, doc["document"]["file_id"]) == content

    again = bot_api(token, "sendDocument", chat_id=user.chat_id, document=doc["document"]["file_id"]).json()["result"]
    assert again["document"]["file_unique_id"] == doc["document"]["file_unique_id"]

    photo = bot_api(token, "sendPhoto", chat_id=user.chat_id, files={"photo": ("p.png", tiny_png(5, 4))}).json()
    sizes = photo["result"]["photo"]
    assert (sizes[-1]["width"], sizes[-1]["height"]) == (5, 4)
    resent = bot_api(token, "sendPhoto", chat_id=user.chat_id, photo=sizes[-1]["file_id"]).json()["result"]
    assert resent["photo"][-1]["file_unique_id"] == sizes[-1]["file_unique_id"]

    mismatch = bot_api(token, "sendPhoto", chat_id=user.chat_id, photo=doc["document"]["file_id"])
    assert mismatch.json()["description"] == "Bad Request: type of file mismatch"
    junk = bot_api(token, "sendPhoto", chat_id=user.chat_id, files={"photo": ("x.png", b"not an image")})
    assert junk.json()["description"] == "Bad Request: IMAGE_PROCESS_FAILED"
    unknown = bot_api(token, "sendDocument", chat_id=user.chat_id, document="BQACnope")
    assert unknown.json()["description"] == "Bad Request: wrong file identifier/HTTP URL specified"
    no_file = requests.get(f"{live_server.sandbox_url}/file/bot{token}/documents/file_999.pdf", timeout=10)
    assert no_file.status_code == 404

    voice = bot_api(
        token, "sendVoice", chat_id=user.chat_id, duration=3, files={"voice": ("v.ogg", b"OggS-voice")}
    ).json()["result"]["voice"]
    assert voice["duration"] == 3 and voice["mime_type"] == "audio/ogg"
    audio = bot_api(
        token, "sendAudio", chat_id=user.chat_id, title="Song", files={"audio": ("song.mp3", b"ID3-audio")}
    ).json()["result"]["audio"]
    assert audio["file_name"] == "song.mp3" and audio["title"] == "Song"


def test_user_sent_files_reach_the_bot(sandbox_client, sandbox_bot_ns, sandbox_user_factory, bot_api):
    user = sandbox_user_factory(sandbox_bot_ns)
    token = sandbox_bot_ns.token
    sandbox_client.send_document(token, user.user_id, b"%PDF-1.4 scan", "анализ.pdf", caption="results")
    sandbox_client.send_photo(token, user.user_id, tiny_png(7, 9))
    sandbox_client.send_voice(token, user.user_id, b"OggS....", duration=4)
    sandbox_client.send_contact(token, user.user_id, "+77011234567")
    messages = [u["message"] for u in bot_api(token, "getUpdates").json()["result"]]
    document, photo, voice, contact = messages
    assert document["document"]["file_name"] == "анализ.pdf" and document["caption"] == "results"
    assert sandbox_client.download(token, document["document"]["file_id"]) == b"%PDF-1.4 scan"
    assert (photo["photo"][-1]["width"], photo["photo"][-1]["height"]) == (7, 9)
    assert voice["voice"]["duration"] == 4 and voice["voice"]["mime_type"] == "audio/ogg"
    assert sandbox_client.download(token, voice["voice"]["file_id"]) == b"OggS...."
    assert contact["contact"] == {"phone_number": "+77011234567", "first_name": "Aigerim", "user_id": user.user_id}


BAD_CALLS = [
    ("sendMessage", {"chat_id": "abc", "text": "x"}),
    ("sendMessage", {"chat_id": "@channel", "text": "x"}),
    ("sendMessage", {"chat_id": "{chat}", "text": "x", "reply_markup": "[]"}),
    ("sendMessage", {"chat_id": "{chat}", "text": "x", "reply_markup": '{"inline_keyboard": "no"}'}),
    ("sendMessage", {"chat_id": "{chat}", "text": "x", "reply_markup": '{"inline_keyboard": [[{"text": "a"}]]}'}),
    ("sendMessage", {"chat_id": "{chat}", "text": "x", "reply_markup": '{"keyboard": [[{"x": 1}]]}'}),
    ("sendMessage", {"chat_id": "{chat}", "text": "x", "entities": '{"a": 1}'}),
    ("sendMessage", {"chat_id": "{chat}", "text": "x", "parse_mode": "XML"}),
    ("sendMessage", {"chat_id": "{chat}", "text": "x", "reply_parameters": '{"message_id": 999}'}),
    ("sendMessage", {"chat_id": "{chat}", "text": "x", "reply_to_message_id": "abc"}),
    ("getUpdates", {"offset": "1e5"}),
    ("getUpdates", {"allowed_updates": '"message"'}),
    ("editMessageText", {"chat_id": "{chat}", "message_id": "x", "text": "y"}),
    ("editMessageText", {"chat_id": "{chat}", "text": "y"}),
    ("editMessageText", {"chat_id": "{chat}", "inline_message_id": "abc", "text": "y"}),
    ("editMessageReplyMarkup", {"chat_id": "{chat}", "message_id": 1, "reply_markup": '{"keyboard": [["a"]]}'}),
    ("deleteMessage", {"chat_id": "{chat}", "message_id": "x"}),
    ("answerCallbackQuery", {}),
    ("getFile", {}),
    ("getFile", {"file_id": "nope"}),
    ("sendDocument", {"chat_id": "{chat}"}),
    ("sendPhoto", {"chat_id": "{chat}", "photo": "http://127.0.0.1:9/none.png"}),
    ("sendChatAction", {"chat_id": "{chat}"}),
    ("setMyCommands", {"commands": "{}"}),
    ("setMyCommands", {"commands": "not json"}),
    ("getMyCommands", {"scope": '"x"'}),
    ("setWebhook", {"url": "https://example.test/hook", "max_connections": 1000}),
]


@pytest.mark.parametrize("method,params", BAD_CALLS)
def test_bad_parameters_get_telegram_errors_not_500(sandbox_bot_ns, sandbox_user_factory, bot_api, method, params):
    user = sandbox_user_factory(sandbox_bot_ns)
    params = {k: (str(user.chat_id) if v == "{chat}" else v) for k, v in params.items()}
    response = bot_api(sandbox_bot_ns.token, method, **params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["ok"] is False and body["error_code"] == 400 and body["description"].startswith("Bad Request: ")


def test_malformed_bodies(sandbox_bot_ns, live_server):
    url = f"{live_server.sandbox_url}/bot{sandbox_bot_ns.token}/sendMessage"
    as_list = requests.post(url, json=[1, 2], timeout=10)
    assert as_list.status_code == 400 and as_list.json()["ok"] is False
    no_boundary = requests.post(url, data=b"x", headers={"Content-Type": "multipart/form-data"}, timeout=10)
    assert no_boundary.status_code == 400 and no_boundary.json()["ok"] is False


def test_everyday_calls_skip_the_platform_pipeline_and_the_rest_take_it(app, sandbox_bot_ns, sandbox_user_factory):
    """BotApiShortcut answers GETs and JSON POSTs itself; any other body, a body over the JSON limits
    and anything not a Bot API call go on to the platform (Flask), with the body intact."""
    from prometheus_client import REGISTRY
    from werkzeug.test import EnvironBuilder, run_wsgi_app

    from webapp.sandbox.api import BotApiShortcut

    long_way = []

    def platform(environ, start_response):
        long_way.append((environ["PATH_INFO"], environ["wsgi.input"].read()))
        start_response("204 No Content", [])
        return [b""]

    shortcut = BotApiShortcut(app, platform)

    def call(path, **kw):
        app_iter, status, _ = run_wsgi_app(shortcut, EnvironBuilder(path=path, **kw).get_environ())
        body = b"".join(app_iter)
        return int(status.split()[0]), (json.loads(body) if body else None)

    def answered(status: str) -> float:  # the platform's latency metric still sees the Bot API
        labels = {"endpoint": "/sandbox/bot<token>/<method_name>", "method": "POST", "status": status}
        return REGISTRY.get_sample_value("botdesk_http_request_duration_seconds_count", labels) or 0

    token = sandbox_bot_ns.token
    user = sandbox_user_factory(sandbox_bot_ns)
    before = answered("200"), answered("400")
    status, sent = call(f"/sandbox/bot{token}/sendMessage", method="POST", json={"chat_id": user.chat_id, "text": "hi"})
    assert status == 200 and sent["result"]["text"] == "hi" and sent["result"]["chat"]["id"] == user.chat_id
    status, me = call(f"/sandbox/bot{token}/getMe")
    assert status == 200 and me["result"]["username"] == sandbox_bot_ns.username
    status, query = call(f"/sandbox/bot{token}/sendMessage", method="POST", query_string={"chat_id": user.chat_id})
    assert status == 400 and query["description"] == "Bad Request: message text is empty"
    assert call("/sandbox/bot1:nobody/getMe") == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    # The token is checked first, the body second (the bot and the chat are read in one step).
    not_json_object = {"method": "POST", "data": b"[1]", "content_type": "application/json"}
    assert call("/sandbox/bot1:nobody/sendMessage", **not_json_object)[0] == 401
    status, unreadable = call(f"/sandbox/bot{token}/sendMessage", **not_json_object)
    assert status == 400 and unreadable["description"] == "Bad Request: request body must be a JSON object"
    assert long_way == []
    assert (answered("200"), answered("400")) == (before[0] + 1, before[1] + 2)

    deep = json.dumps({"chat_id": user.chat_id, "text": "x", "entities": [[[[[]]]]]}).encode()
    depth = app.config["JSON_MAX_DEPTH"]
    app.config["JSON_MAX_DEPTH"] = 3
    try:
        status, _ = call(f"/sandbox/bot{token}/sendMessage", method="POST", data=deep, content_type="application/json")
        assert status == 204
    finally:
        app.config["JSON_MAX_DEPTH"] = depth
    form = {"chat_id": str(user.chat_id), "text": "form"}
    assert call(f"/sandbox/bot{token}/sendMessage", method="POST", data=form)[0] == 204
    assert call(f"/sandbox/bot{token}/sendMessage", method="PUT", json={})[0] == 204
    assert call(f"/sandbox/bot{token}/sendMessage/", method="POST", json={})[0] == 204
    assert call("/sandbox/api/bots")[0] == 204
    app.config["SANDBOX_ENABLED"] = False
    try:
        assert call(f"/sandbox/bot{token}/getMe")[0] == 204
    finally:
        app.config["SANDBOX_ENABLED"] = True
    assert [path for path, _ in long_way] == [
        f"/sandbox/bot{token}/sendMessage",
        f"/sandbox/bot{token}/sendMessage",
        f"/sandbox/bot{token}/sendMessage",
        f"/sandbox/bot{token}/sendMessage/",
        "/sandbox/api/bots",
        f"/sandbox/bot{token}/getMe",
    ]
    assert long_way[0][1] == deep and long_way[1][1] == f"chat_id={user.chat_id}&text=form".encode()
