"""The finance bot end to end through the Telegram sandbox: seed 000's texts, records from text and
voice with confirm/undo, the monthly summary, goals and debts, and the seed's webhook."""

from __future__ import annotations

import copy
import time
from decimal import Decimal

import pytest
import requests

from botworker import common
from tests.fixtures.finance import make_ogg_opus
from tests.fixtures.telegram import buttons, callback_answer, inline_data, press, say
from webapp.extensions import db

# Seed 000, "Команда /start", "/balance" and "/help", verbatim (trailing spaces included).
SEED_START = (
    "🎉 Добро пожаловать в OvozPay!\n\nПривет, Имя! 👋\n\n"
    "Я ваш голосовой помощник для управления финансами. \nС моей помощью вы можете:\n\n"
    "💰 Отслеживать доходы и расходы\n🎯 Управлять целями накопления  \n📊 Получать аналитику по тратам\n"
    "💳 Контролировать долги\n\nОсновные команды:\n/balance - показать баланс\n/help - справка по командам\n\n"
    "Для полного функционала зарегистрируйтесь через наше приложение!"
)
SEED_BALANCE = (
    "💰 Ваш баланс\n\nТекущий баланс: {}\n\n📱 Для просмотра подробной статистики используйте наше приложение."
)
SEED_HELP = (
    "🤖 Справка по командам OvozPay\n\nОсновные команды:\n/start - начать работу с ботом\n"
    "/balance - показать текущий баланс\n/help - показать эту справку\n\nГолосовые команды:\n"
    "🎤 Отправьте голосовое сообщение для:\n"
    '• Добавления трат: "Потратил 50000 на продукты"\n'
    '• Добавления доходов: "Получил зарплату 2000000"\n'
    '• Создания целей: "Хочу накопить на телефон 5000000"\n\n'
    "Дополнительные функции:\n📊 Детальная аналитика в приложении\n🎯 Управление целями накопления\n"
    "💳 Отслеживание долгов\n\nДля полного доступа к функциям зарегистрируйтесь в приложении!"
)
SEED_WEBHOOK_UPDATE = {
    "update_id": 123456789,
    "message": {
        "message_id": 123,
        "from": {"id": 123456789, "is_bot": False, "first_name": "Имя", "username": "username"},
        "chat": {"id": 123456789, "first_name": "Имя", "username": "username", "type": "private"},
        "date": 1640995200,
        "text": "/start",
    },
}


def wait_for_edit(sandbox, bot, user, message_id: int, predicate, timeout: float = 10) -> dict:
    """The message ``message_id`` once ``predicate`` holds for it (the bot edits messages in place)."""
    deadline = time.monotonic() + timeout
    while True:
        message = next(m for m in sandbox.transcript(bot.token, user.chat_id) if m["message_id"] == message_id)
        if predicate(message) or time.monotonic() > deadline:
            return message
        time.sleep(0.05)


def press_and_wait(sandbox, bot, user, message: dict, data: str, predicate) -> dict:
    pressed = press(sandbox, bot, user, message, data)
    edited = wait_for_edit(sandbox, bot, user, message["message_id"], predicate)
    assert callback_answer(sandbox, bot, pressed["callback_query_id"])["answered"]
    return edited


def committed(app, check):
    """Run ``check`` in an app context: what an update wrote is committed before its reply is sent."""
    with app.app_context():
        return check()


def button_data(message: dict, prefix: str) -> str:
    return next(d for d in inline_data(message) if d.startswith(prefix))


@pytest.fixture
def finance_bot(sandbox, sandbox_bot, run_bot):
    bot = sandbox_bot("finance")
    # Conversations here are quicker than Telegram's one message per second per chat; limits are tested elsewhere.
    sandbox.set_limits(bot.token, per_second=30, per_chat_per_second=30)
    run_bot(bot)
    return bot


@pytest.fixture
def ru_user(sandbox, finance_bot, tg_user):
    """A sandbox user who has been through /start and chose Russian."""
    user = tg_user(finance_bot, first_name="Имя", language_code="ru")
    offer = say(sandbox, finance_bot, user, "/start")
    pressed = press(sandbox, finance_bot, user, offer, "lang:start:ru")
    sandbox.wait_for_bot_message(finance_bot.token, user.chat_id, after_message_id=pressed["after"])
    return user


def record(sandbox, bot, user, phrase: str) -> dict:
    """Send a phrase, press "Save", return the edited confirmation message."""
    asked = say(sandbox, bot, user, phrase)
    assert "Сохранить?" in asked["text"], asked["text"]
    return press_and_wait(sandbox, bot, user, asked, button_data(asked, "fin:ok:"), lambda m: "✅" in m["text"])


def user_row(app, user_ns):
    from webapp.core.services import find_user_by_telegram_id

    return find_user_by_telegram_id(user_ns.user_id)


def test_start_and_help_are_the_seed_texts(sandbox, finance_bot, tg_user):
    user = tg_user(finance_bot, first_name="Имя", language_code="ru")
    offer = say(sandbox, finance_bot, user, "/start")  # first contact: the language comes first
    pressed = press(sandbox, finance_bot, user, offer, "lang:start:ru")
    welcome = sandbox.wait_for_bot_message(finance_bot.token, user.chat_id, after_message_id=pressed["after"])
    assert welcome["text"] == SEED_START
    assert buttons(welcome) == ["💰 Баланс", "📊 Отчёт", "🎯 Цели", "💳 Долги", "❓ Помощь", "🌐 Язык"]
    assert say(sandbox, finance_bot, user, "/start")["text"] == SEED_START
    assert say(sandbox, finance_bot, user, "/help")["text"] == SEED_HELP
    assert say(sandbox, finance_bot, user, "/balance")["text"] == SEED_BALANCE.format("0 UZS")


def test_spent_phrase_confirm_balance_and_undo(app, sandbox, finance_bot, ru_user):
    bot, user = finance_bot, ru_user
    saved = record(sandbox, bot, user, "Получил зарплату 2000000")
    assert saved["text"].startswith("✅ Сохранено.\nДоход: 2,000,000 UZS\nКатегория: Зарплата")

    asked = say(sandbox, bot, user, "Потратил 50000 на продукты")
    assert asked["text"] == (
        "Проверьте, пожалуйста:\nРасход: 50,000 UZS\nКатегория: Продукты\nОписание: продукты\n\nСохранить?"
    )
    assert buttons(asked) == ["✅ Сохранить", "✖️ Отмена"]
    assert say(sandbox, bot, user, "/balance")["text"] == SEED_BALANCE.format("2,000,000 UZS")  # not saved yet

    saved = press_and_wait(sandbox, bot, user, asked, button_data(asked, "fin:ok:"), lambda m: "✅" in m["text"])
    assert saved["text"].startswith("✅ Сохранено.\nРасход: 50,000 UZS")
    assert buttons(saved) == ["↩️ Отменить"]
    assert say(sandbox, bot, user, "/balance")["text"] == SEED_BALANCE.format("1,950,000 UZS")
    assert say(sandbox, bot, user, "💰 Баланс")["text"] == SEED_BALANCE.format("1,950,000 UZS")

    undone = press_and_wait(sandbox, bot, user, saved, inline_data(saved)[0], lambda m: "↩️" in m["text"])
    assert undone["text"].endswith("↩️ Отменено: запись удалена.") and not inline_data(undone)
    assert say(sandbox, bot, user, "/balance")["text"] == SEED_BALANCE.format("2,000,000 UZS")

    def stored():
        from webapp.finance.models import Transaction

        rows = db.session.scalars(db.select(Transaction)).all()
        assert [(r.type, r.amount, r.source) for r in rows] == [("income", Decimal("2000000.00"), "text")]
        account = user_row(app, user).telegram_accounts[0]
        assert (account.commands_executed, account.messages_count) == (4, 7)  # seed 000 BotSession counters

    committed(app, stored)


def test_a_pending_record_is_taken_once(app_ctx):
    from botworker.finance import pending
    from webapp.finance.services.parser import parse_command

    pid = pending.put(1, 42, pending.Pending(parse_command("Потратил 5000 на такси"), "text", 7))
    item = pending.get(1, 42, pid)
    assert (item.parsed.amount, item.parsed.category, item.voice_log_id) == (Decimal("5000.00"), "transport", 7)
    assert pending.take(1, 42, pid) is not None
    assert pending.take(1, 42, pid) is None  # a double tap on "Save" saves once
    assert pending.get(1, 43, pid) is None  # another chat cannot use it


def test_cancel_saves_nothing_and_questions_are_asked(app, sandbox, finance_bot, ru_user):
    bot, user = finance_bot, ru_user
    asked = say(sandbox, bot, user, "Купил хлеб за 5 тыс")
    cancelled = press_and_wait(
        sandbox, bot, user, asked, button_data(asked, "fin:no:"), lambda m: m["text"].startswith("✖️")
    )
    assert cancelled["text"] == "✖️ Отменено. Ничего не сохранено."
    assert say(sandbox, bot, user, "Купил продукты")["text"].startswith("Сколько? Повторите, пожалуйста, с суммой")
    assert say(sandbox, bot, user, "Привет, как дела?")["text"].startswith("Я не понял.")

    # "Expense or income?" (nothing in the phrase tells) is a question with buttons; the answer completes it.
    asked = say(sandbox, bot, user, "5000 сум")
    assert asked["text"] == "Это расход или доход?"
    confirm = press_and_wait(
        sandbox, bot, user, asked, button_data(asked, "fin:as:e:"), lambda m: "Сохранить?" in m["text"]
    )
    assert "Расход: 5,000 UZS\nКатегория: Другое" in confirm["text"]
    press_and_wait(sandbox, bot, user, confirm, button_data(confirm, "fin:ok:"), lambda m: "✅" in m["text"])
    assert say(sandbox, bot, user, "/balance")["text"] == SEED_BALANCE.format("-5,000 UZS")


def test_a_category_without_a_verb_is_an_expense_and_income_words_are_income(app, sandbox, finance_bot, ru_user):
    """ "кофе 15000" and "такси 25 тыс" are recorded as expenses without "expense or income?"; transfers,
    cashback, bonuses and salary words are income."""
    bot, user = finance_bot, ru_user
    coffee = say(sandbox, bot, user, "кофе 15000")
    assert coffee["text"] == (
        "Проверьте, пожалуйста:\nРасход: 15,000 UZS\nКатегория: Кафе и рестораны\nОписание: кофе\n\nСохранить?"
    )
    press_and_wait(sandbox, bot, user, coffee, button_data(coffee, "fin:ok:"), lambda m: "✅" in m["text"])
    taxi = say(sandbox, bot, user, "такси 25 тыс")
    assert taxi["text"].startswith("Проверьте, пожалуйста:\nРасход: 25,000 UZS\nКатегория: Транспорт")
    press_and_wait(sandbox, bot, user, taxi, button_data(taxi, "fin:ok:"), lambda m: "✅" in m["text"])
    assert say(sandbox, bot, user, "/balance")["text"] == SEED_BALANCE.format("-40,000 UZS")

    incomes = {
        "перевели 500000": "Доход: 500,000 UZS\nКатегория: Переводы",
        "кэшбэк 12000": "Доход: 12,000 UZS\nКатегория: Кэшбэк",
        "бонус 100000": "Доход: 100,000 UZS\nКатегория: Премия",
        "оклад 3 млн": "Доход: 3,000,000 UZS\nКатегория: Зарплата",
    }
    for phrase, expected in incomes.items():
        saved = record(sandbox, bot, user, phrase)
        assert saved["text"].startswith("✅ Сохранено.\n" + expected), saved["text"]
    assert say(sandbox, bot, user, "/balance")["text"] == SEED_BALANCE.format("3,572,000 UZS")

    def stored():
        from webapp.finance.models import Transaction

        rows = db.session.scalars(db.select(Transaction)).all()
        assert sorted((r.type, r.category.code) for r in rows) == [
            ("expense", "cafe"),
            ("expense", "transport"),
            ("income", "bonus"),
            ("income", "cashback"),
            ("income", "salary"),
            ("income", "transfer"),
        ]

    committed(app, stored)


def test_voice_without_a_model_gets_the_honest_answer(app, sandbox, finance_bot, ru_user, monkeypatch):
    monkeypatch.setitem(app.config, "VOSK_MODEL_PATH", "")
    sent = sandbox.send_voice(finance_bot.token, ru_user.user_id, make_ogg_opus(1.0), duration=1)
    reply = sandbox.wait_for_bot_message(finance_bot.token, ru_user.chat_id, after_message_id=sent["message_id"])
    assert reply["text"].startswith("🎤 Распознавание голоса сейчас недоступно. Пожалуйста, напишите команду текстом")

    def logged():
        from webapp.finance.models import Transaction, VoiceCommandLog

        entry = db.session.scalar(db.select(VoiceCommandLog))
        assert entry is not None
        assert (entry.status, entry.original_audio_duration, entry.text) == ("unavailable", 1.0, "")
        assert db.session.scalar(db.select(db.func.count(Transaction.id))) == 0
        assert user_row(app, ru_user).telegram_accounts[0].voice_messages_count == 1

    committed(app, logged)


def test_voice_with_a_recogniser_follows_the_text_path(app, sandbox, finance_bot, ru_user, speech_engine):
    engine = speech_engine("потратил пятьдесят тысяч на продукты", confidence=0.83)
    sent = sandbox.send_voice(finance_bot.token, ru_user.user_id, make_ogg_opus(1.5), duration=2)
    asked = sandbox.wait_for_bot_message(finance_bot.token, ru_user.chat_id, after_message_id=sent["message_id"])
    assert asked["text"].startswith("🎤 Я услышал: «потратил пятьдесят тысяч на продукты»\n\nПроверьте, пожалуйста:")
    assert "Расход: 50,000 UZS\nКатегория: Продукты" in asked["text"]
    assert engine.heard and engine.heard[0][0] == pytest.approx(1.5, abs=0.05)  # the real note, decoded
    press_and_wait(sandbox, finance_bot, ru_user, asked, button_data(asked, "fin:ok:"), lambda m: "✅" in m["text"])
    assert say(sandbox, finance_bot, ru_user, "/balance")["text"] == SEED_BALANCE.format("-50,000 UZS")

    def confirmed():
        from webapp.finance.models import Transaction, VoiceCommandLog

        tx = db.session.scalar(db.select(Transaction))
        entry = db.session.scalar(db.select(VoiceCommandLog))
        assert tx.source == "voice"
        assert (entry.status, entry.result_type, entry.result_id) == ("confirmed", "transaction", str(tx.id))
        assert entry.confidence_score == 0.83 and entry.original_audio_duration == pytest.approx(1.5, abs=0.05)

    committed(app, confirmed)


def test_voice_that_is_not_a_command_is_not_saved(app, sandbox, finance_bot, ru_user, speech_engine):
    speech_engine("какая сегодня погода")
    sent = sandbox.send_voice(finance_bot.token, ru_user.user_id, make_ogg_opus(1.0), duration=1)
    reply = sandbox.wait_for_bot_message(finance_bot.token, ru_user.chat_id, after_message_id=sent["message_id"])
    assert reply["text"].startswith("🎤 Я услышал: «какая сегодня погода»\n\nЯ не понял.")
    assert not inline_data(reply)


def test_monthly_summary_goals_and_debts(app, sandbox, finance_bot, ru_user):
    bot, user = finance_bot, ru_user
    assert say(sandbox, bot, user, "📊 Отчёт")["text"].startswith("📊 За ")
    record(sandbox, bot, user, "Потратил 30000 на такси")
    record(sandbox, bot, user, "Потратил 10000 на продукты")
    report = say(sandbox, bot, user, "📊 Отчёт")["text"]
    assert report.startswith("📊 Расходы за ")
    assert "• Транспорт — 30,000 UZS (75%)\n• Продукты — 10,000 UZS (25%)" in report
    assert "Итого расходов: 40,000 UZS" in report

    # Goals: created from a phrase, filled through the "➕" button.
    assert say(sandbox, bot, user, "🎯 Цели")["text"].startswith("🎯 У вас пока нет целей накопления.")
    record(sandbox, bot, user, "Хочу накопить на телефон 5000000")
    goals = say(sandbox, bot, user, "🎯 Цели")
    assert "телефон\n░░░░░░░░░░ 0%\n0 UZS / 5,000,000 UZS" in goals["text"]
    pressed = press(sandbox, bot, user, goals, button_data(goals, "fin:gd:"))
    prompt = sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=pressed["after"])
    assert prompt["text"] == "Сколько откладываете на «телефон»?"
    assert say(sandbox, bot, user, "немного")["text"] == "Отправьте сумму числом, например: 100000."
    progress = say(sandbox, bot, user, "2 500 000")
    assert progress["text"] == "✅ телефон: ▓▓▓▓▓░░░░░ 50%\n2,500,000 UZS / 5,000,000 UZS"
    goals = say(sandbox, bot, user, "🎯 Цели")
    pressed = press(sandbox, bot, user, goals, button_data(goals, "fin:gd:"))
    sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=pressed["after"])
    assert say(sandbox, bot, user, "2,5 млн")["text"].endswith("🎉 Цель достигнута!")
    assert say(sandbox, bot, user, "🎯 Цели")["text"].startswith("🎯 У вас пока нет целей")  # achieved ones leave

    # Debts: added from a phrase, listed, settled with a button.
    assert say(sandbox, bot, user, "💳 Долги")["text"].startswith("💳 У вас нет открытых долгов.")
    saved = record(sandbox, bot, user, "Ахмед должен мне 300 тыс")
    assert "Мне должны: Ахмед" in saved["text"]
    record(sandbox, bot, user, "Занял у брата 1 млн")
    debts = say(sandbox, bot, user, "💳 Долги")
    assert "Вам должны: 300,000 UZS\nВы должны: 1,000,000 UZS" in debts["text"]
    assert "⬅️ Ахмед — 300,000 UZS" in debts["text"] and "➡️ брата — 1,000,000 UZS" in debts["text"]
    settle = next(d for d, label in zip(inline_data(debts), buttons(debts), strict=True) if "Ахмед" in label)
    pressed = press(sandbox, bot, user, debts, settle)
    done = sandbox.wait_for_bot_message(bot.token, user.chat_id, after_message_id=pressed["after"])
    assert done["text"] == "✅ Долг погашен: Ахмед — 300,000 UZS"
    assert "⬅️ Ахмед" not in say(sandbox, bot, user, "💳 Долги")["text"]


def test_uzbek_user_gets_uzbek_texts_and_phrases(app, sandbox, finance_bot, tg_user):
    user = tg_user(finance_bot, first_name="Aziz", language_code="uz")
    offer = say(sandbox, finance_bot, user, "/start")
    pressed = press(sandbox, finance_bot, user, offer, "lang:start:uz")
    welcome = sandbox.wait_for_bot_message(finance_bot.token, user.chat_id, after_message_id=pressed["after"])
    assert welcome["text"].startswith("🎉 OvozPayʼga xush kelibsiz!\n\nSalom, Aziz! 👋")
    assert say(sandbox, finance_bot, user, "/help")["text"].startswith("🤖 OvozPay buyruqlari boʻyicha yordam")
    asked = say(sandbox, finance_bot, user, "Taksiga 20 ming toʻladim")
    assert asked["text"].startswith("Iltimos, tekshiring:\nXarajat: 20,000 UZS\nToifa: Transport")
    press_and_wait(sandbox, finance_bot, user, asked, button_data(asked, "fin:ok:"), lambda m: "✅" in m["text"])
    balance = say(sandbox, finance_bot, user, "💰 Balans")["text"]
    assert (
        balance
        == "💰 Sizning balansingiz\n\nJoriy balans: -20,000 UZS\n\n📊 Batafsil statistika — «📊 Hisobot» tugmasida."
    )
    for phrase, expected in {
        "keshbek 5000": "Daromad: 5,000 UZS\nToifa: Keshbek",
        "oʻtkazma 100 ming": "Daromad: 100,000 UZS\nToifa: Oʻtkazmalar",
        "bonus 300 ming": "Daromad: 300,000 UZS\nToifa: Mukofot",
        "ish haqi 2 mln": "Daromad: 2,000,000 UZS\nToifa: Oylik maosh",
        "kofe 15 ming": "Xarajat: 15,000 UZS\nToifa: Kafe va restoranlar",
    }.items():
        asked = say(sandbox, finance_bot, user, phrase)
        assert asked["text"].startswith("Iltimos, tekshiring:\n" + expected), asked["text"]


def test_uzbek_texts_send_users_to_the_bot_not_to_an_app(sandbox, finance_bot, tg_user):
    """There is no OvozPay app: the Uzbek /start, /balance and /help point at the bot's own menu."""
    user = tg_user(finance_bot, first_name="Aziz", language_code="uz")
    offer = say(sandbox, finance_bot, user, "/start")
    pressed = press(sandbox, finance_bot, user, offer, "lang:start:uz")
    welcome = sandbox.wait_for_bot_message(finance_bot.token, user.chat_id, after_message_id=pressed["after"])
    assert welcome["text"].endswith("Hammasi shu botning oʻzida: pastdagi menyudan foydalaning!")
    assert buttons(welcome)[:4] == ["💰 Balans", "📊 Hisobot", "🎯 Maqsadlar", "💳 Qarzlar"]
    help_text = say(sandbox, finance_bot, user, "/help")["text"]
    assert "📊 «📊 Hisobot» tugmasida oylik tahlil" in help_text
    assert help_text.endswith("Barcha imkoniyatlar shu botning oʻzida — roʻyxatdan oʻtish shart emas!")
    balance = say(sandbox, finance_bot, user, "/balance")["text"]
    assert balance.endswith("📊 Batafsil statistika — «📊 Hisobot» tugmasida.")
    for text in (welcome["text"], help_text, balance):
        assert "ilova" not in text.lower(), text


def test_seed_webhook_accepts_the_seed_update_only_with_the_secret(app, live_server, sandbox, sandbox_bot, tg_user):
    bot = sandbox_bot("finance", mode="webhook")
    with app.app_context():
        from webapp.telegram.models import Bot

        secret = db.session.get(Bot, bot.bot_id).webhook_secret
    # The seed's update, from a user the sandbox knows (so the bot's reply has somewhere to go).
    user = tg_user(bot, first_name="Имя", username="username")
    update = copy.deepcopy(SEED_WEBHOOK_UPDATE)
    update["message"]["from"]["id"] = update["message"]["chat"]["id"] = user.user_id
    url = f"{live_server.url}/telegram/webhook/"
    assert requests.post(url, json=update, timeout=10).status_code == 403
    wrong = requests.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "x"}, timeout=10)
    assert wrong.status_code == 403
    assert sandbox.transcript(bot.token, user.chat_id) == []
    accepted = requests.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}, timeout=10)
    assert accepted.status_code == 200 and accepted.json() == "OK"
    reply = sandbox.wait_for_bot_message(bot.token, user.chat_id)
    assert reply["text"] == common.CHOOSE_LANGUAGE_ALL  # the finance bot's /start, first contact

    def counted():
        from webapp.core.services import find_telegram_account

        account = find_telegram_account(user.user_id, bot.bot_id)
        assert account is not None and account.commands_executed == 1

    committed(app, counted)
