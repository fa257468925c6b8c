"""Log lines carry no bot token, JWT or customer's message text (issue 12), whichever logger writes."""

from __future__ import annotations

import logging

import pytest

VISIT = "Aigerim Seitkali, your visit with Dr Nurlanov on 12 May at 10:00"


@pytest.fixture
def everything(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def test_access_log_of_the_bot_api_shows_neither_token_nor_text(app, everything, sandbox_bot_ns, telebot_sandbox):
    import telebot

    bot = telebot.TeleBot(sandbox_bot_ns.token, threaded=False)
    bot.get_me()
    with pytest.raises(telebot.apihelper.ApiTelegramException):  # nobody to write to: still logged
        bot.send_message(424242, VISIT)
    access = [r.getMessage() for r in everything.records if r.name == "werkzeug"]
    assert any("/sandbox/bot[REDACTED]/sendMessage?[REDACTED]" in line for line in access), access
    assert sandbox_bot_ns.token not in everything.text
    assert "Nurlanov" not in everything.text and "Seitkali" not in everything.text


def test_ops_api_paths_and_query_tokens_are_redacted(app, everything, sandbox_client, sandbox_bot_ns):
    sandbox_client.bots()
    sandbox_client.users(sandbox_bot_ns.token)
    logging.getLogger("gunicorn.access").info("%(r)s", {"r": "GET /ws/tickets/7?token=eyJhbGciOi.payload.sig HTTP/1.1"})
    logging.getLogger("rq.worker").info("calling with Authorization: Bearer eyJhbGciOi.payload.sig")
    logging.getLogger("werkzeug").info('"GET /api/bot/documents/download/eyJkb2MiOjF9.sig/ HTTP/1.1" 200 -')
    assert "/sandbox/api/bots/[REDACTED]/users" in everything.text
    assert sandbox_bot_ns.token not in everything.text
    assert "eyJhbGciOi" not in everything.text and "token=[REDACTED]" in everything.text
    assert "eyJkb2Mi" not in everything.text and "/documents/download/[REDACTED]/" in everything.text


def test_tracebacks_are_redacted(app, everything):
    token = "7000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawx"
    try:
        raise ConnectionError(f"Max retries exceeded with url: /sandbox/bot{token}/getUpdates?offset=5")
    except ConnectionError:
        logging.getLogger("botworker.runner").exception("getUpdates failed")
    assert "getUpdates failed" in everything.text and "ConnectionError" in everything.text
    assert token not in everything.text and "AAHdqTcv" not in everything.text


def test_webhook_garbage_is_logged_without_its_text(app, client, everything, sandbox, webhook_bot_for_logs):
    name, secret = webhook_bot_for_logs
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    for body in ({"update_id": 5, "message": VISIT}, {"hello": VISIT}):
        assert client.post(f"/telegram/webhook/{name}", json=body, headers=headers).status_code == 200
    assert any("webhook" in r.getMessage() for r in everything.records if r.levelname == "WARNING")
    assert "Nurlanov" not in everything.text


@pytest.fixture
def webhook_bot_for_logs(app, live_server, sandbox_bot):
    from tests.telegram.test_webhook import bot_row

    bot = sandbox_bot("reports", mode="webhook")
    return bot.name, bot_row(app, bot).webhook_secret
