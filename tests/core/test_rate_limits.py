"""Rate limits of issue 12: the bot API (seed 002) per caller, bot updates per Telegram user."""

from __future__ import annotations

import pytest

from botworker import registry
from tests.botworker.test_conversations import account_eventually
from tests.fixtures.telegram import eventually, say

SLOW_DOWN = "Вы отправляете сообщения слишком часто. Подождите немного и попробуйте снова."


@pytest.fixture
def limits(app):
    saved = {k: app.config[k] for k in ("BOT_API_RATE_LIMIT", "BOT_UPDATE_RATE_LIMIT")}

    def set_limits(**values) -> None:
        app.config.update(values)

    yield set_limits
    app.config.update(saved)


def test_bot_api_is_rate_limited_per_caller(app, client, limits, make_user, auth_header):
    limits(BOT_API_RATE_LIMIT="3 per minute")
    backend = {"Authorization": f"Bearer {app.config['TELEGRAM_BOT_API_SECRET']}"}
    statuses = [client.get("/api/bot/branches/", headers=backend).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/bot/branches/", headers=backend)
    assert refused.get_json()["error"]["code"] == "RATE_LIMITED" and int(refused.headers["Retry-After"]) >= 1
    # Another caller has its own budget.
    assert client.get("/api/bot/branches/", headers=auth_header(make_user("doctor"))).status_code == 200


def test_other_api_routes_do_not_share_the_bot_api_budget(app, client, limits, make_user, auth_header):
    limits(BOT_API_RATE_LIMIT="1 per minute")
    headers = auth_header(make_user())
    assert [client.get("/api/v1/auth/me", headers=headers).status_code for _ in range(3)] == [200, 200, 200]


def test_a_flooding_user_is_told_once_and_the_bot_keeps_serving(app, limits, sandbox, sandbox_bot, run_bot, tg_user):
    limits(BOT_UPDATE_RATE_LIMIT="3 per minute")
    bot = sandbox_bot("realty")
    run_bot(bot, vertical=registry.defaults())
    flooder = tg_user(bot, language_code="ru")
    say(sandbox, bot, flooder, "/start")
    say(sandbox, bot, flooder, "/help")
    say(sandbox, bot, flooder, "/help")
    assert say(sandbox, bot, flooder, "/help")["text"] == SLOW_DOWN
    sandbox.send_text(bot.token, flooder.user_id, "/help")
    account_eventually(app, bot, flooder, lambda a: a.messages_count == 5)  # the fifth: handled, unanswered
    replies = [m["text"] for m in sandbox.transcript(bot.token, flooder.chat_id) if m["from_bot"]]
    assert replies.count(SLOW_DOWN) == 1 and replies[-1] == SLOW_DOWN
    # Polling goes on: someone else is served at once.
    other = tg_user(bot, language_code="ru")
    assert eventually(lambda: say(sandbox, bot, other, "/start")["text"] != SLOW_DOWN)
