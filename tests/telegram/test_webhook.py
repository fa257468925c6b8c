"""Webhook mode: the secret check, the same handlers as polling, seed 000's path, set/delete via CLI."""

from __future__ import annotations

import pytest

from botworker import common, registry
from tests.fixtures.telegram import eventually


def bot_row(app, bot_ns):
    from webapp.extensions import db
    from webapp.telegram.models import Bot

    with app.app_context():
        bot = db.session.get(Bot, bot_ns.bot_id)
        db.session.expunge(bot)
        return bot


def start_update(update_id: int, user_ns, text: str = "/start") -> dict:
    sender = {"id": user_ns.user_id, "is_bot": False, "first_name": "Test", "language_code": "ru"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "from": sender,
            "chat": {"id": user_ns.chat_id, "type": "private", "first_name": "Test"},
            "date": 1700000000,
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}] if text.startswith("/") else [],
        },
    }


def bot_texts(sandbox, bot_ns, user_ns) -> list[str]:
    return [m["text"] for m in sandbox.transcript(bot_ns.token, user_ns.chat_id) if m["from_bot"]]


@pytest.fixture
def webhook_bot(app, live_server, sandbox_bot, tg_user, compiled_catalogs):
    bot = sandbox_bot("reports", mode="webhook")
    return bot, tg_user(bot), bot_row(app, bot).webhook_secret


def test_right_secret_hands_the_update_to_the_handlers(app, client, sandbox, webhook_bot):
    bot, user, secret = webhook_bot
    assert secret and len(secret) >= 32
    response = client.post(
        f"/telegram/webhook/{bot.name}",
        json=start_update(500, user),
        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
    )
    assert response.status_code == 200 and response.get_json() == "OK"
    assert eventually(lambda: bot_texts(sandbox, bot, user)) == [common.CHOOSE_LANGUAGE_ALL]

    # Telegram re-sending the same update (no timely 200 seen) does not get it handled twice.
    again = client.post(
        f"/telegram/webhook/{bot.name}",
        json=start_update(500, user),
        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
    )
    assert again.status_code == 200
    client.post(
        f"/telegram/webhook/{bot.name}",
        json=start_update(501, user, "/help"),
        headers={"X-Telegram-Bot-Api-Secret-Token": secret},
    )
    texts = eventually(lambda: len(t := bot_texts(sandbox, bot, user)) >= 2 and t)
    with app.app_context():
        help_text = registry.vertical_bot("reports").help_text("ru")
    # Updates of a chat are handled in order: a second /start would have answered before /help.
    assert texts == [common.CHOOSE_LANGUAGE_ALL, help_text]


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}])
def test_wrong_or_missing_secret_is_403_and_nothing_is_handled(client, sandbox, webhook_bot, headers):
    bot, user, _ = webhook_bot
    response = client.post(f"/telegram/webhook/{bot.name}", json=start_update(600, user), headers=headers)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "FORBIDDEN"
    assert bot_texts(sandbox, bot, user) == []


def test_polling_bot_has_no_webhook(app, client, sandbox_bot, tg_user):
    bot = sandbox_bot("reports")  # polling mode: no secret, so no header can match
    assert bot_row(app, bot).webhook_secret is None
    response = client.post(f"/telegram/webhook/{bot.name}", json={"update_id": 1}, headers={})
    assert response.status_code == 403
    assert client.post("/telegram/webhook/nobody", json={"update_id": 1}).status_code == 404


def test_bad_bodies(client, sandbox, webhook_bot):
    bot, user, secret = webhook_bot
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    not_json = client.post(
        f"/telegram/webhook/{bot.name}", data="{not json", headers={**headers, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 400 and not_json.get_json()["error"]["code"] == "BAD_REQUEST"
    # JSON that is not a usable update: accepted (Telegram would retry a refusal forever) and logged.
    for body in ([1, 2], {"hello": "world"}, {"update_id": "x"}, {"update_id": 5, "message": "garbage"}):
        response = client.post(f"/telegram/webhook/{bot.name}", json=body, headers=headers)
        assert response.status_code == 200, (body, response.text)
    # and the bot still works afterwards
    client.post(f"/telegram/webhook/{bot.name}", json=start_update(700, user), headers=headers)
    assert eventually(lambda: bot_texts(sandbox, bot, user)) == [common.CHOOSE_LANGUAGE_ALL]


def test_seed_000_path_serves_the_finance_bot(app, client, sandbox, live_server, sandbox_bot, tg_user):
    assert client.get("/telegram/webhook/").get_json() == {"status": "no_bot", "bot": None, "mode": None}
    sandbox_bot("clinic", mode="webhook")
    finance = sandbox_bot("finance", mode="webhook")
    user = tg_user(finance)
    secret = bot_row(app, finance).webhook_secret
    status = client.get("/telegram/webhook/").get_json()
    assert status == {"status": "ok", "bot": f"@{finance.username}", "mode": "webhook"}
    response = client.post(
        "/telegram/webhook/", json=start_update(42, user), headers={"X-Telegram-Bot-Api-Secret-Token": secret}
    )
    assert response.status_code == 200 and response.data.strip() == b'"OK"'
    assert eventually(lambda: bot_texts(sandbox, finance, user)) == [common.CHOOSE_LANGUAGE_ALL]


def test_webhook_paths_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert "post" in paths["/telegram/webhook/{name}"] and {"get", "post"} <= set(paths["/telegram/webhook/"])


def test_set_webhook_cli_then_the_sandbox_delivers_updates_to_us(app, sandbox, live_server, sandbox_bot, tg_user):
    from tests.fixtures.telegram import say

    bot = sandbox_bot("helpdesk")
    user = tg_user(bot)
    runner = app.test_cli_runner()
    url = f"{live_server.url}/telegram/webhook/{bot.name}"
    result = runner.invoke(args=["bot", "set-webhook", bot.name, url])
    assert result.exit_code == 0, result.output
    row = bot_row(app, bot)
    assert row.mode == "webhook" and row.webhook_secret

    # The sandbox now POSTs the user's messages to our endpoint (with the secret); no poller runs.
    assert say(sandbox, bot, user, "/start")["text"] == common.CHOOSE_LANGUAGE_ALL

    result = runner.invoke(args=["bot", "delete-webhook", bot.name])
    assert result.exit_code == 0, result.output
    assert bot_row(app, bot).mode == "polling"
    assert runner.invoke(args=["bot", "set-webhook", "nobody", url]).exit_code != 0
