"""Bot replies wait for the update's commit and follow the one send policy (issue 13).

A handler's replies are held until the update commits and dropped when it rolls back, so a user is
never told "booked" for a booking that did not happen. They go through the same policy as jobs:
the chat's limit, 429 waited out, and a 403 marks the account blocked.
"""

from __future__ import annotations

import logging
import time

import pytest

from botworker import registry
from tests.fixtures.telegram import eventually, say

DEFAULTS = registry.defaults()
APOLOGY_RU = "Извините, что-то пошло не так. Попробуйте ещё раз через минуту."


def register(bot) -> None:
    from botworker.context import current_account
    from webapp.core.services import ServiceError
    from webapp.extensions import db

    @bot.message_handler(commands=["book"])
    def book(message) -> None:
        current_account().first_name = "Booked"
        bot.send_message(message.chat.id, "booked")
        time.sleep(0.5)  # the handler goes on after replying: the reply still waits for the commit

    @bot.message_handler(commands=["book_then_fail"])
    def book_then_fail(message) -> None:
        current_account().first_name = "Booked"
        bot.send_message(message.chat.id, "booked")
        raise RuntimeError("the booking fails after the reply")

    @bot.message_handler(commands=["book_commit_fails"])
    def book_commit_fails(message) -> None:
        current_account().first_name = "Booked"
        current_account().telegram_user_id = None  # NOT NULL: the update's commit itself fails
        bot.send_message(message.chat.id, "booked")

    @bot.message_handler(commands=["savepoint"])
    def savepoint(message) -> None:
        try:
            with db.session.begin_nested():
                current_account().first_name = "Inside"
                bot.send_message(message.chat.id, "inside")
                raise ValueError("the savepoint rolls back")
        except ValueError:
            pass
        bot.send_message(message.chat.id, "outside")

    @bot.message_handler(commands=["refuse"])
    def refuse(message) -> None:
        current_account().first_name = "Refused"
        bot.send_message(message.chat.id, "done")
        raise ServiceError("This button is no longer active.")

    @bot.message_handler(commands=["many"])
    def many(message) -> None:
        for part in range(5):
            bot.send_message(message.chat.id, f"part {part}")

    @bot.message_handler(commands=["tell"])
    def tell(message) -> None:
        bot.send_message(int(message.text.split()[1]), "psst")
        bot.send_message(message.chat.id, "told")


def account_of(app, bot_ns, user_ns):
    from webapp.core.models import TelegramAccount
    from webapp.extensions import db

    with app.app_context():  # a session (and connection) of its own, not the worker's
        account = db.session.scalar(
            db.select(TelegramAccount).filter_by(bot_id=bot_ns.bot_id, telegram_user_id=user_ns.user_id)
        )
        db.session.expunge_all()
        return account


def bot_texts(sandbox, bot_ns, user_ns, after: int = 0) -> list[str]:
    return [
        m["text"]
        for m in sandbox.transcript(bot_ns.token, user_ns.chat_id)
        if m["from_bot"] and m["message_id"] > after
    ]


@pytest.fixture
def chat(app, sandbox, sandbox_bot, run_bot, tg_user):
    bot = sandbox_bot("finance")
    run_bot(bot, vertical=DEFAULTS, extra_handlers=register)
    user = tg_user(bot, first_name="Olga", language_code="ru")
    sent = sandbox.send_text(bot.token, user.user_id, "/start")
    sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=sent["message_id"])
    return bot, user


def test_the_reply_arrives_after_the_change_is_committed(app, sandbox, chat):
    bot, user = chat
    assert say(sandbox, bot, user, "/book")["text"] == "booked"
    # Read at once, from another connection: no eventually(), the reply came after the commit.
    assert account_of(app, bot, user).first_name == "Booked"


def test_a_reply_about_a_change_that_rolls_back_is_never_sent(app, sandbox, chat):
    bot, user = chat
    sent = sandbox.send_text(bot.token, user.user_id, "/book_then_fail")
    apology = sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=sent["message_id"])
    assert apology["text"] == APOLOGY_RU  # the apology still goes: sent after the rollback
    assert bot_texts(sandbox, bot, user, sent["message_id"]) == [APOLOGY_RU]  # and "booked" never
    assert account_of(app, bot, user).first_name == "Olga"

    sent = sandbox.send_text(bot.token, user.user_id, "/book_commit_fails")
    apology = sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=sent["message_id"])
    assert apology["text"] == APOLOGY_RU
    assert say(sandbox, bot, user, "/many")["text"] == "part 0"  # the next update is handled as usual
    assert "booked" not in bot_texts(sandbox, bot, user, sent["message_id"])
    assert account_of(app, bot, user).first_name == "Olga"


def test_a_reply_inside_a_savepoint_that_rolls_back_is_dropped_alone(app, sandbox, chat):
    bot, user = chat
    sent = sandbox.send_text(bot.token, user.user_id, "/savepoint")
    assert sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=sent["message_id"])["text"] == (
        "outside"
    )
    assert bot_texts(sandbox, bot, user, sent["message_id"]) == ["outside"]
    assert account_of(app, bot, user).first_name == "Olga"


def test_a_service_error_rolls_back_and_tells_its_message_in_the_users_language(app, sandbox, chat):
    bot, user = chat
    sent = sandbox.send_text(bot.token, user.user_id, "/refuse")
    refusal = sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=sent["message_id"])
    assert refusal["text"] == "⚠️ Эта кнопка больше не активна."
    assert bot_texts(sandbox, bot, user, sent["message_id"]) == [refusal["text"]]
    assert account_of(app, bot, user).first_name == "Olga"


def test_replies_keep_their_order_and_the_chats_limit(app, sandbox, chat, caplog, monkeypatch):
    """Telegram (the sandbox here) lets a chat have a burst of 3, then one message a second: the
    replies are paced under the chat's limit as jobs are, so no 429 is met, and stay in order."""
    from webapp.telegram import policy

    monkeypatch.setitem(app.config, "TELEGRAM_PER_CHAT_BURST", policy.PER_CHAT_BURST)  # production's
    assert policy.PER_CHAT_BURST == 3
    bot, user = chat
    sandbox.set_limits(bot.token, per_second=100, per_chat_per_second=1, per_chat_burst=3)
    time.sleep(1.5)  # the chat's bucket (and our own schedule for it) full again after /start
    caplog.set_level(logging.WARNING, logger="botworker.transport")
    started = time.monotonic()
    sent = sandbox.send_text(bot.token, user.user_id, "/many")
    sandbox.wait_for_bot_message(
        bot.token, user.chat_id, after_message_id=sent["message_id"], predicate=lambda m: m["text"] == "part 4"
    )
    elapsed = time.monotonic() - started
    assert bot_texts(sandbox, bot, user, sent["message_id"]) == [f"part {n}" for n in range(5)]
    assert elapsed >= 1.9, elapsed  # parts 3 and 4 waited a second each
    assert not [r for r in caplog.records if "429" in r.getMessage()]


def test_a_429_on_a_reply_is_waited_out_and_retried(app, sandbox, chat, caplog, monkeypatch):
    """This "Telegram" allows a chat no burst at all: the replies meet 429s, wait retry_after, and
    every one still arrives, in order."""
    monkeypatch.setitem(app.config, "TELEGRAM_PER_CHAT_BURST", 3)
    bot, user = chat
    sandbox.set_limits(bot.token, per_second=100, per_chat_per_second=1, per_chat_burst=1)
    caplog.set_level(logging.WARNING, logger="botworker.transport")
    sent = sandbox.send_text(bot.token, user.user_id, "/many")
    sandbox.wait_for_bot_message(
        bot.token,
        user.chat_id,
        after_message_id=sent["message_id"],
        predicate=lambda m: m["text"] == "part 4",
        timeout=20,
    )
    assert bot_texts(sandbox, bot, user, sent["message_id"]) == [f"part {n}" for n in range(5)]
    assert [r for r in caplog.records if "429 on sendMessage" in r.getMessage()]  # Telegram pushed back


def test_a_403_on_a_reply_marks_the_account_blocked(app, sandbox, chat, tg_user):
    from webapp.core.models import TelegramAccount
    from webapp.core.services import ensure_telegram_account
    from webapp.extensions import db

    bot, user = chat
    other = tg_user(bot, first_name="Gone")
    with app.app_context():
        ensure_telegram_account(bot.bot_id, other.user_id, chat_id=other.chat_id)
        db.session.commit()
    sandbox.block(bot.token, other.user_id)
    # The block's own my_chat_member update marks the account; undo that, so only the 403 can mark it.
    assert eventually(lambda: account_of(app, bot, other).blocked_bot)
    with app.app_context():
        account = db.session.scalar(db.select(TelegramAccount).filter_by(bot_id=bot.bot_id, chat_id=other.chat_id))
        account.blocked_bot, account.blocked_at = False, None
        db.session.commit()

    assert say(sandbox, bot, user, f"/tell {other.chat_id}")["text"] == "told"
    # Marked at the update's boundary, just after its replies went out.
    blocked = eventually(lambda: (a := account_of(app, bot, other)).blocked_bot and a)
    assert blocked and blocked.blocked_at is not None
    assert not account_of(app, bot, user).blocked_bot


def test_a_held_call_answers_what_telebot_builds_its_result_from():
    """Handlers do not use what a send returns, but telebot parses it: the stand-in must parse."""
    from telebot import types

    from botworker.transport import Call, _stand_in

    def held(method: str, **params):
        return _stand_in(Call("1:t", method, "post", params, None, None, None))

    sent = types.Message.de_json(held("sendMessage", chat_id="5", text="hi"))
    assert (sent.message_id, sent.chat.id, sent.chat.type) == (0, 5, "private")
    assert types.Message.de_json(held("sendPhoto", chat_id="-1001", caption="x")).chat.id == -1001
    edited = types.Message.de_json(held("editMessageText", chat_id="5", message_id="7", text="x"))
    assert edited.message_id == 7  # an edit keeps its message's id
    assert held("editMessageText", inline_message_id="abc", text="x") is True
    assert held("answerCallbackQuery", callback_query_id="1") is True
    assert types.MessageID.de_json(held("copyMessage", chat_id="5", from_chat_id="6", message_id="1")).message_id == 0
    album = held("sendMediaGroup", chat_id="5", media='[{"type": "photo"}, {"type": "photo"}]')
    assert [types.Message.de_json(m).chat.id for m in album] == [5, 5]
