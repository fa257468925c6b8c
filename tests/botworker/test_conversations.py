"""End to end through the sandbox over HTTP: the real runner, middleware and common handlers."""

from __future__ import annotations

import pytest

from botworker import common, registry
from tests.botworker import fake_vertical
from tests.fixtures.telegram import buttons, callback_answer, eventually, inline_data, press, say

DEFAULTS = registry.defaults()


def account_of(app, bot_ns, user_ns):
    from webapp.core.models import TelegramAccount
    from webapp.extensions import db

    with app.app_context():
        account = db.session.scalar(
            db.select(TelegramAccount).filter_by(bot_id=bot_ns.bot_id, telegram_user_id=user_ns.user_id)
        )
        if account is None:
            return None
        db.session.expunge(account.user)
        db.session.expunge(account)
        return account


def account_when(app, bot_ns, user_ns, check=lambda account: True):
    """The account, checked at once: a reply goes out only after its update has committed."""
    account = account_of(app, bot_ns, user_ns)
    assert account is not None and check(account)
    return account


def account_eventually(app, bot_ns, user_ns, check):
    """The account once the worker has committed what ``check`` looks for (an update with no reply)."""
    return eventually(lambda: (a := account_of(app, bot_ns, user_ns)) is not None and check(a) and a)


def test_start_offers_languages_then_shows_the_menu_in_the_chosen_one(app, sandbox, sandbox_bot, run_bot, tg_user):
    bot = sandbox_bot("clinic")
    run_bot(bot, vertical=DEFAULTS)
    user = tg_user(bot, first_name="Aigerim", language_code="ru")

    offer = say(sandbox, bot, user, "/start")
    assert offer["text"] == common.CHOOSE_LANGUAGE_ALL
    assert buttons(offer) == ["Русский", "Қазақша", "Oʻzbekcha", "English"]

    pressed = press(sandbox, bot, user, offer, inline_data(offer)[1])  # Қазақша
    welcome = sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=pressed["after"])
    assert welcome["text"] == "Қош келдіңіз, Aigerim! Төмендегі мәзірден әрекетті таңдаңыз немесе /help жіберіңіз."
    assert buttons(welcome) == ["❓ Анықтама", "🌐 Тіл"]
    assert callback_answer(sandbox, bot, pressed["callback_query_id"])["answered"]
    edited = next(m for m in sandbox.transcript(bot.token, user.chat_id) if m["message_id"] == offer["message_id"])
    assert edited["text"] == "Тіл: Қазақша"

    account = account_when(app, bot, user, lambda a: a.language == "kk")
    assert account.language == "kk" and account.user.language == "kk"
    assert account.first_name == "Aigerim" and account.chat_id == user.chat_id

    # A known user's /start goes straight to the vertical's start, in their language.
    again = say(sandbox, bot, user, "/start")
    assert again["text"].startswith("Қош келдіңіз, Aigerim!")


def test_help_menu_language_and_unknown_input(app, sandbox, sandbox_bot, run_bot, tg_user):
    bot = sandbox_bot("realty")
    run_bot(bot, vertical=DEFAULTS)
    user = tg_user(bot, language_code="ru")
    say(sandbox, bot, user, "/start")  # first contact: the language offer

    assert say(sandbox, bot, user, "/help")["text"].startswith("Что я умею:\n/start — начать заново")
    menu = say(sandbox, bot, user, "/menu")
    assert menu["text"] == "Главное меню" and buttons(menu) == ["❓ Помощь", "🌐 Язык"]
    assert say(sandbox, bot, user, "❓ Помощь")["text"].startswith("Что я умею:")
    confused = say(sandbox, bot, user, "what is this?")
    assert confused["text"].startswith("Извините, я не понял. Откройте главное меню командой /menu")

    offer = say(sandbox, bot, user, "/language")
    assert offer["text"] == "Выберите язык:"
    pressed = press(sandbox, bot, user, offer, "lang:set:uz")
    menu = sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=pressed["after"])
    assert menu["text"] == "Asosiy menyu" and buttons(menu) == ["❓ Yordam", "🌐 Til"]
    account = account_when(app, bot, user, lambda a: a.language == "uz")
    assert account.language == "uz" and account.user.language == "uz"
    assert say(sandbox, bot, user, "/help")["text"].startswith("Men nimalar qila olaman:")


def test_first_message_that_is_not_start_still_asks_for_the_language(sandbox, sandbox_bot, run_bot, tg_user):
    bot = sandbox_bot("reports")
    run_bot(bot, vertical=DEFAULTS)
    user = tg_user(bot, language_code="en")
    assert say(sandbox, bot, user, "hello")["text"] == common.CHOOSE_LANGUAGE_ALL


def test_vertical_hooks_inline_button_and_stale_button(sandbox, sandbox_bot, run_bot, tg_user):
    bot = sandbox_bot("helpdesk")
    run_bot(bot, vertical=fake_vertical)
    user = tg_user(bot, first_name="Ann", language_code="en")
    offer = say(sandbox, bot, user, "/start")
    pressed = press(sandbox, bot, user, offer, "lang:start:en")
    start = sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=pressed["after"])
    assert start["text"] == "fake start en Ann"  # on_start sees the user who pressed, not the bot
    assert say(sandbox, bot, user, "/help")["text"] == "fake help (en)"

    keyboard = say(sandbox, bot, user, "/buttons")
    pressed = press(sandbox, bot, user, keyboard, "ping")
    assert sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=pressed["after"])["text"] == "pong"
    assert callback_answer(sandbox, bot, pressed["callback_query_id"])["text"] == "pong"

    stale = press(sandbox, bot, user, keyboard, "retired:1")
    answer = callback_answer(sandbox, bot, stale["callback_query_id"])
    assert answer["answered"] and answer["text"] == "This button is no longer active."


def test_a_failing_handler_rolls_back_apologises_and_the_next_update_is_answered(
    app, sandbox, sandbox_bot, run_bot, tg_user
):
    bot = sandbox_bot("finance")
    run_bot(bot, vertical=fake_vertical)
    user = tg_user(bot, first_name="Olga", language_code="ru")
    say(sandbox, bot, user, "/start")
    before = account_when(app, bot, user)

    apology = say(sandbox, bot, user, "/boom")
    assert apology["text"] == "Извините, что-то пошло не так. Попробуйте ещё раз через минуту."
    assert say(sandbox, bot, user, "/help")["text"] == "fake help (ru)"

    after = account_when(app, bot, user, lambda a: a.messages_count > before.messages_count)
    assert after.first_name == "Olga"  # the failing handler's write was rolled back
    assert after.messages_count == before.messages_count + 1  # /help counted, /boom rolled back


def test_counters_and_last_seen(app, sandbox, sandbox_bot, run_bot, tg_user):
    bot = sandbox_bot("finance")
    run_bot(bot, vertical=DEFAULTS)
    user = tg_user(bot, language_code="ru")
    say(sandbox, bot, user, "/start")
    say(sandbox, bot, user, "/help")
    say(sandbox, bot, user, "just text")
    sent = sandbox.send_voice(bot.token, user.user_id, b"OggS fake voice", duration=2)
    sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=sent["message_id"])

    account = account_when(app, bot, user, lambda a: a.messages_count == 4)
    assert (account.messages_count, account.commands_executed, account.voice_messages_count) == (4, 2, 1)
    assert account.last_seen is not None and account.last_seen.tzinfo is not None


def test_blocked_user_gets_a_short_refusal_and_nothing_else(app, sandbox, sandbox_bot, run_bot, tg_user):
    from webapp.core.models import User
    from webapp.extensions import db

    bot = sandbox_bot("clinic")
    run_bot(bot, vertical=fake_vertical)
    user = tg_user(bot, language_code="ru")
    say(sandbox, bot, user, "/start")
    account = account_when(app, bot, user)
    with app.app_context():
        db.session.get(User, account.user_id).is_active = False
        db.session.commit()

    refusal = say(sandbox, bot, user, "/order")
    assert refusal["text"] == "Ваш аккаунт заблокирован. Обратитесь в поддержку."
    with pytest.raises(TimeoutError):  # and the /order handler did not run
        sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=refusal["message_id"], timeout=1.5)


def test_conversation_state_survives_a_worker_restart(sandbox, sandbox_bot, run_bot, tg_user):
    bot = sandbox_bot("realty")
    worker = run_bot(bot, vertical=fake_vertical)
    user = tg_user(bot, language_code="en")
    say(sandbox, bot, user, "/start")
    assert say(sandbox, bot, user, "/order")["text"] == "Your name?"
    assert say(sandbox, bot, user, "Alice")["text"] == "Size?"

    worker.stop()
    run_bot(bot, vertical=fake_vertical)
    assert say(sandbox, bot, user, "XL")["text"] == "Order: Alice, XL"


def test_updates_of_one_chat_are_handled_in_order(sandbox, sandbox_bot, run_bot, tg_user):
    bot = sandbox_bot("realty")
    run_bot(bot, vertical=fake_vertical)
    user = tg_user(bot, language_code="en")
    say(sandbox, bot, user, "/start")
    sandbox.send_text(bot.token, user.user_id, "/order")
    sandbox.send_text(bot.token, user.user_id, "Bob")
    last = sandbox.send_text(bot.token, user.user_id, "M")
    done = sandbox.wait_for_bot_message(
        bot.token, user.chat_id, after_message_id=last["message_id"] - 3, predicate=lambda m: "Order" in m["text"]
    )
    assert done["text"] == "Order: Bob, M"


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_no_update_is_handled_twice_across_a_crash_and_restart(sandbox, sandbox_bot, run_bot, tg_user):
    """The worker dies after handing a batch to its handlers but before its next getUpdates told
    Telegram the batch is done: the restarted worker must not handle that batch again."""
    import requests

    class Crash(BaseException):
        pass

    fake_vertical.HANDLED.clear()
    bot = sandbox_bot("helpdesk")
    user = tg_user(bot, language_code="en")
    worker = run_bot(bot, vertical=fake_vertical)
    dispatch = worker.bot.process_new_updates

    def dispatch_then_die(updates):
        dispatch(updates)
        raise Crash

    worker.bot.process_new_updates = dispatch_then_die
    reply = say(sandbox, bot, user, "/count")
    assert reply["text"] == "counted 1"
    worker.thread.join(timeout=5)
    assert not worker.thread.is_alive()
    # Telegram (the sandbox) still offers the update: it was never confirmed.
    pending = requests.get(f"{sandbox.base_url}/bot{bot.token}/getUpdates", params={"timeout": 0}, timeout=5).json()
    assert [u["update_id"] for u in pending["result"]] == fake_vertical.HANDLED
    worker.stop()

    run_bot(bot, vertical=fake_vertical)
    assert say(sandbox, bot, user, "/count")["text"] == "counted 2"
    assert len(fake_vertical.HANDLED) == len(set(fake_vertical.HANDLED)) == 2


def test_stopping_lets_the_handler_in_flight_finish(app, sandbox, sandbox_bot, run_bot, tg_user):
    fake_vertical.SLOW_STARTED.clear()
    bot = sandbox_bot("clinic")
    worker = run_bot(bot, vertical=fake_vertical)
    user = tg_user(bot, first_name="Zed", language_code="en")
    sent = sandbox.send_text(bot.token, user.user_id, "/slow")
    assert fake_vertical.SLOW_STARTED.wait(10)
    worker.stop()  # returns only once the handler has replied and the worker has committed
    reply = sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=sent["message_id"], timeout=0.5)
    assert reply["text"] == "slow done"
    assert account_of(app, bot, user).first_name == "Finished"


def test_blocking_and_unblocking_the_bot_is_recorded(app, sandbox, sandbox_bot, run_bot, tg_user):
    """Telegram tells the bot with a my_chat_member update; the account follows it."""
    bot = sandbox_bot("realty")
    run_bot(bot, vertical=DEFAULTS)
    user = tg_user(bot, language_code="ru")
    say(sandbox, bot, user, "/start")
    sandbox.block(bot.token, user.user_id)
    blocked = account_eventually(app, bot, user, lambda a: a.blocked_bot)
    assert blocked and blocked.blocked_at is not None
    sandbox.unblock(bot.token, user.user_id)
    assert account_eventually(app, bot, user, lambda a: not a.blocked_bot).blocked_at is None


def test_handlers_download_files_from_their_own_bot_api_server(sandbox, sandbox_bot, run_bot, tg_user):
    bot = sandbox_bot("helpdesk")
    run_bot(bot, vertical=fake_vertical)
    user = tg_user(bot, language_code="en")
    sent = sandbox.send_document(bot.token, user.user_id, "Шағым мәтіні".encode(), "complaint.txt", "text/plain")
    reply = sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=sent["message_id"])
    assert reply["text"] == "got complaint.txt: Шағым мәтіні"


def test_many_chats_writing_at_once_are_all_answered_in_parallel(app, sandbox, sandbox_bot, run_bot, tg_user):
    """Every message of every chat gets its reply, each chat in order, different chats side by side."""
    import threading
    import time

    bot = sandbox_bot("realty")
    busy, peak, lock = [0], [0], threading.Lock()

    def echo_slowly(telebot) -> None:
        @telebot.message_handler(func=lambda m: (m.text or "").startswith("echo "))
        def echo(message) -> None:
            with lock:
                busy[0] += 1
                peak[0] = max(peak[0], busy[0])
            time.sleep(0.05)  # long enough for another chat's update to start meanwhile
            with lock:
                busy[0] -= 1
            telebot.send_message(message.chat.id, message.text)

    run_bot(bot, vertical=fake_vertical, extra_handlers=echo_slowly)
    users = [tg_user(bot, first_name=f"U{i}", language_code="en") for i in range(12)]
    missing: list[str] = []

    def converse(user) -> None:
        texts = [f"echo {user.user_id}-{n}" for n in range(5)]
        for text in texts:
            sandbox.send_text(bot.token, user.user_id, text)
        try:
            last = texts[-1]
            sandbox.wait_for_bot_message(bot.token, user.chat_id, timeout=30, predicate=lambda m: m["text"] == last)
        except TimeoutError:
            missing.append(str(user.user_id))
        replies = [m["text"] for m in sandbox.transcript(bot.token, user.chat_id) if m["from_bot"]]
        if replies != texts:
            missing.append(f"{user.user_id}: {replies}")

    threads = [threading.Thread(target=converse, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert missing == []
    from webapp.extensions import db

    with app.app_context():
        single_writer = db.engine.dialect.name == "sqlite"  # each update's transaction waits for the last
    assert single_writer or peak[0] > 1
