"""A real pyTelegramBotAPI bot, polling the sandbox over HTTP, handled end to end."""

from __future__ import annotations

import pytest

from tests.sandbox.test_bot_api import tiny_png


def test_start_inline_button_and_callback_answer(sandbox_client, sandbox_bot_ns, sandbox_user_factory, echo_bot):
    token = sandbox_bot_ns.token
    user = sandbox_user_factory(sandbox_bot_ns, first_name="Dana")
    sent = sandbox_client.send_text(token, user.user_id, "/start")
    question = sandbox_client.wait_for_bot_message(
        token, user.chat_id, sent["message_id"], predicate=lambda m: "inline_keyboard" in m.get("reply_markup", {})
    )
    greeting = sandbox_client.transcript(token, user.chat_id)[1]
    assert greeting["text"] == "Hello, Dana"
    assert greeting["reply_markup"]["keyboard"] == [[{"text": "Share phone", "request_contact": True}]]

    pressed = sandbox_client.press(token, user.user_id, question["message_id"], "confirm:42")
    sandbox_client.wait_for_bot_message(
        token, user.chat_id, question["message_id"] - 1, predicate=lambda m: m["text"] == "Booked for 10:00"
    )
    transcript = sandbox_client.transcript(token, user.chat_id)
    edited = next(m for m in transcript if m["message_id"] == question["message_id"])
    assert edited["text"] == "Booked for 10:00" and "reply_markup" not in edited
    answer = sandbox_client.callback_answer(token, pressed["callback_query_id"])
    assert answer["answered"] is True and answer["text"] == "Booked"

    with pytest.raises(Exception, match="400"):
        sandbox_client.press(token, user.user_id, question["message_id"], "confirm:42")  # the keyboard is gone


def test_contact_reply_and_file_round_trip(sandbox_client, sandbox_bot_ns, sandbox_user_factory, echo_bot):
    token = sandbox_bot_ns.token
    user = sandbox_user_factory(sandbox_bot_ns)
    shared = sandbox_client.send_contact(token, user.user_id, "+77017654321")
    reply = sandbox_client.wait_for_bot_message(token, user.chat_id, shared["message_id"])
    assert reply["text"] == "Phone +77017654321 saved"
    assert reply["reply_to_message"]["message_id"] == shared["message_id"]

    payload = bytes(range(256)) * 64
    sent = sandbox_client.send_document(token, user.user_id, payload, "scan.bin")
    echoed = sandbox_client.wait_for_bot_message(token, user.chat_id, sent["message_id"])
    assert echoed["caption"] == f"{len(payload)} bytes" and echoed["document"]["file_name"] == "echo.bin"
    assert sandbox_client.download(token, echoed["document"]["file_id"]) == payload

    photo = tiny_png(4, 4)
    sent = sandbox_client.send_photo(token, user.user_id, photo)
    echoed = sandbox_client.wait_for_bot_message(token, user.chat_id, sent["message_id"])
    assert sandbox_client.download(token, echoed["document"]["file_id"]) == photo


def test_wait_for_bot_message_times_out(sandbox_client, sandbox_bot_ns, sandbox_user_factory):
    user = sandbox_user_factory(sandbox_bot_ns)
    sandbox_client.send_text(sandbox_bot_ns.token, user.user_id, "anyone?")
    with pytest.raises(TimeoutError, match="anyone"):
        sandbox_client.wait_for_bot_message(sandbox_bot_ns.token, user.chat_id, timeout=1)
