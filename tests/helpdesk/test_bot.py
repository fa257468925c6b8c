"""The helpdesk bot end to end through the sandbox: a customer opens a ticket and talks to support,
a helper answers from the API and from their own Telegram."""

from __future__ import annotations

import uuid

import pytest

from tests.fixtures.helpdesk import PNG_BYTES
from tests.fixtures.telegram import buttons, eventually, inline_data, press, say


@pytest.fixture
def helpdesk_bot(app, sandbox_bot, run_bot):
    bot = sandbox_bot("helpdesk")  # the test organization's desk
    run_bot(bot)
    return bot


def begin(sandbox, bot, user, language: str) -> dict:
    """First contact: /start, pick the language, get the welcome with the main menu."""
    offer = say(sandbox, bot, user, "/start")
    pressed = press(sandbox, bot, user, offer, f"lang:start:{language}")
    return sandbox.wait_for_bot_message(
        bot.token, user.chat_id, after_message_id=pressed["after"], predicate=lambda m: m.get("reply_markup")
    )


def platform_user(app, telegram_user_id: int):
    from webapp.core.services import find_user_by_telegram_id

    with app.app_context():
        user = find_user_by_telegram_id(telegram_user_id)
        return None if user is None else user.id


def make_staff(app, telegram_user_id: int, role: str = "helper"):
    """Make the Telegram user staff of the test organization's desk (the helpdesk bot's)."""
    from tests.organizations import default_organization_id
    from webapp.core.models import Membership
    from webapp.core.services import find_user_by_telegram_id
    from webapp.extensions import db

    with app.app_context():
        user = find_user_by_telegram_id(telegram_user_id)
        user.role = role
        db.session.merge(Membership(user_id=user.id, organization_id=default_organization_id()))
        db.session.commit()
        return user.id


def tickets_of(app, user_id):
    from webapp.extensions import db
    from webapp.helpdesk.models import Ticket

    with app.app_context():
        return [
            (t.id, t.title, t.description, t.category.name if t.category else None, t.bot_id, t.source)
            for t in db.session.scalars(db.select(Ticket).where(Ticket.user_id == user_id))
        ]


def open_uncategorised_ticket(app, sandbox, bot, customer, title: str, description: str):
    """A customer who has started the bot opens a ticket without picking a category or a file;
    returns the ticket id (committed: the last reply came after the commit)."""
    say(sandbox, bot, customer, "📝 Новое обращение")
    say(sandbox, bot, customer, title)
    say(sandbox, bot, customer, description)
    say(sandbox, bot, customer, "⏭ Пропустить")
    customer_id = platform_user(app, customer.user_id)
    [(ticket_id, *_)] = tickets_of(app, customer_id)
    return ticket_id


def open_ticket(sandbox, bot, customer, category_id, title: str, description: str) -> dict:
    categories = say(sandbox, bot, customer, "📝 Новое обращение")
    assert f"hd:cat:{category_id}" in inline_data(categories)
    pressed = press(sandbox, bot, customer, categories, f"hd:cat:{category_id}")
    asked = sandbox.wait_for_bot_message(
        bot.token, customer.chat_id, after_message_id=pressed["after"], predicate=lambda m: "заголовок" in m["text"]
    )
    assert "Кратко" in asked["text"]
    assert "подробно" in say(sandbox, bot, customer, title)["text"]
    attach = say(sandbox, bot, customer, description)
    assert "⏭ Пропустить" in buttons(attach)
    return attach


def test_customer_opens_ticket_helper_replies_customer_answers(
    app, client, sandbox, helpdesk_bot, tg_user, hd_category, make_user, auth_header, run_jobs
):
    category = hd_category("Оплата и подписка", icon="💳")
    customer = tg_user(helpdesk_bot, first_name="Иван", language_code="ru")
    welcome = begin(sandbox, helpdesk_bot, customer, "ru")
    assert "📝 Новое обращение" in buttons(welcome) and "📋 Мои обращения" in buttons(welcome)

    open_ticket(sandbox, helpdesk_bot, customer, category.id, "Не проходит оплата", "Карта отклонена, скрин ниже")
    sent = sandbox.send_photo(helpdesk_bot.token, customer.user_id, PNG_BYTES, caption="Скриншот ошибки")
    created = sandbox.wait_for_bot_message(helpdesk_bot.token, customer.chat_id, after_message_id=sent["message_id"])
    assert created["text"].startswith("✅ Обращение #")

    customer_id = platform_user(app, customer.user_id)
    [(ticket_id, title, description, category_name, bot_id, source)] = tickets_of(app, customer_id)
    assert (title, description, category_name, bot_id, source) == (
        "Не проходит оплата",
        "Карта отклонена, скрин ниже",
        "Оплата и подписка",
        helpdesk_bot.bot_id,
        "bot",
    )
    helper = make_user("helper", first_name="Анна")
    h = auth_header(helper)
    [first] = client.get(f"/api/v1/tickets/{ticket_id}/messages", headers=h).get_json()["items"]
    assert first["content"] == "Скриншот ошибки" and first["attachments"][0]["content_type"] == "image/png"
    assert client.get(first["attachments"][0]["url"], headers=h).data == PNG_BYTES

    # The helper answers through the API; a worker delivers it to the customer's Telegram.
    url = f"/api/v1/tickets/{ticket_id}/messages"
    client.post(url, json={"content": "Проверьте лимит карты", "is_internal": True}, headers=h)
    posted = client.post(url, json={"content": "Здравствуйте! Попробуйте ещё раз"}, headers=h)
    assert posted.status_code == 201
    before = max(m["message_id"] for m in sandbox.transcript(helpdesk_bot.token, customer.chat_id))
    assert run_jobs() >= 1
    reply = sandbox.wait_for_bot_message(
        helpdesk_bot.token, customer.chat_id, after_message_id=before, predicate=lambda m: "Ответ по" in m["text"]
    )
    assert "Здравствуйте! Попробуйте ещё раз" in reply["text"]
    transcript = sandbox.transcript(helpdesk_bot.token, customer.chat_id)
    assert not any("лимит карты" in (m.get("text") or "") for m in transcript)  # internal notes stay inside
    # Writing the notification again (a retried change) and running the delivery again send nothing.
    from webapp.extensions import db
    from webapp.helpdesk.models import TicketMessage
    from webapp.helpdesk.services.notify import notify_customer_message
    from webapp.telegram.jobs import deliver_pending

    with app.app_context():
        notify_customer_message(db.session.get(TicketMessage, uuid.UUID(posted.get_json()["id"])))
        db.session.commit()
        assert deliver_pending() == 0
    assert run_jobs() == 0
    assert len(sandbox.transcript(helpdesk_bot.token, customer.chat_id)) == len(transcript)

    # The customer keeps writing in the chat: it lands in the ticket.
    added = say(sandbox, helpdesk_bot, customer, "Всё равно не работает")
    assert added["text"].startswith("✅ Добавлено")
    # ... and answering the notification with Telegram's reply does too.
    answered = sandbox._send(
        helpdesk_bot.token, customer.user_id, text="Отвечаю на ответ", reply_to_message_id=reply["message_id"]
    )
    confirmation = sandbox.wait_for_bot_message(
        helpdesk_bot.token, customer.chat_id, after_message_id=answered["message_id"]
    )
    assert "Добавлено" in confirmation["text"]

    items = client.get(url, headers=h).get_json()["items"]
    assert [m["content"] for m in items] == [
        "Скриншот ошибки",
        "Проверьте лимит карты",
        "Здравствуйте! Попробуйте ещё раз",
        "Всё равно не работает",
        "Отвечаю на ответ",
    ]
    detail = client.get(f"/api/v1/tickets/{ticket_id}", headers=h).get_json()
    assert detail["status"] == "IN_PROGRESS" and detail["assigned_to"]["id"] == str(helper.id)


def test_my_tickets_status_and_close(app, client, sandbox, helpdesk_bot, tg_user, make_user, auth_header, run_jobs):
    customer = tg_user(helpdesk_bot, language_code="ru")
    begin(sandbox, helpdesk_bot, customer, "ru")
    assert "нет обращений" in say(sandbox, helpdesk_bot, customer, "📋 Мои обращения")["text"]
    categories = say(sandbox, helpdesk_bot, customer, "📝 Новое обращение")
    assert "Кратко" in categories["text"]  # no categories yet: straight to the title
    say(sandbox, helpdesk_bot, customer, "Не приходит код")
    say(sandbox, helpdesk_bot, customer, "SMS с кодом не приходит")
    created = say(sandbox, helpdesk_bot, customer, "⏭ Пропустить")
    assert created["text"].startswith("✅ Обращение #")
    customer_id = platform_user(app, customer.user_id)
    [(ticket_id, *_)] = tickets_of(app, customer_id)

    helper = make_user("helper")
    client.put(f"/api/v1/tickets/{ticket_id}", json={"status": "RESOLVED"}, headers=auth_header(helper))
    before = max(m["message_id"] for m in sandbox.transcript(helpdesk_bot.token, customer.chat_id))
    run_jobs()
    status = sandbox.wait_for_bot_message(helpdesk_bot.token, customer.chat_id, after_message_id=before)
    assert "Решён" in status["text"] and ticket_id.hex[:8] in status["text"]

    listing = say(sandbox, helpdesk_bot, customer, "📋 Мои обращения")
    assert any("Решён" in b and "Не приходит код" in b for b in buttons(listing))
    pressed = press(sandbox, helpdesk_bot, customer, listing, f"hd:t:{ticket_id}")
    card = sandbox.wait_for_bot_message(helpdesk_bot.token, customer.chat_id, after_message_id=pressed["after"])
    assert "Статус: ✅ Решён" in card["text"]
    pressed = press(sandbox, helpdesk_bot, customer, card, f"hd:x:{ticket_id}")
    closed = sandbox.wait_for_bot_message(helpdesk_bot.token, customer.chat_id, after_message_id=pressed["after"])
    assert "закрыто" in closed["text"]
    detail = client.get(f"/api/v1/tickets/{ticket_id}", headers=auth_header(helper)).get_json()
    assert detail["status"] == "CLOSED" and detail["closed_at"] is not None


def test_helper_gets_alert_and_answers_with_reply(app, client, sandbox, helpdesk_bot, tg_user, auth_header, run_jobs):
    staff_tg = tg_user(helpdesk_bot, first_name="Anna", language_code="en")
    begin(sandbox, helpdesk_bot, staff_tg, "en")
    refused = say(sandbox, helpdesk_bot, staff_tg, "/alerts")
    assert "for support staff" in refused["text"]
    make_staff(app, staff_tg.user_id)
    switched = say(sandbox, helpdesk_bot, staff_tg, "/alerts")
    assert "Alerts are on" in switched["text"] and "🔔 Ticket alerts" in buttons(switched)

    customer = tg_user(helpdesk_bot, first_name="Ivan", language_code="ru")
    begin(sandbox, helpdesk_bot, customer, "ru")
    ticket_id = open_uncategorised_ticket(
        app, sandbox, helpdesk_bot, customer, "Приложение вылетает", "При запуске на Android 14"
    )

    before = max(m["message_id"] for m in sandbox.transcript(helpdesk_bot.token, staff_tg.chat_id))
    run_jobs()
    alert = sandbox.wait_for_bot_message(helpdesk_bot.token, staff_tg.chat_id, after_message_id=before)
    assert alert["text"].startswith("🆕 New ticket #" + ticket_id.hex[:8])
    assert "Приложение вылетает" in alert["text"] and "Android 14" in alert["text"]

    # The helper answers the alert with Telegram's reply: a public staff reply in the ticket.
    answered = sandbox._send(
        helpdesk_bot.token, staff_tg.user_id, text="Обновите приложение до 2.1", reply_to_message_id=alert["message_id"]
    )
    confirmation = sandbox.wait_for_bot_message(
        helpdesk_bot.token, staff_tg.chat_id, after_message_id=answered["message_id"]
    )
    assert "Added to ticket" in confirmation["text"]
    before = max(m["message_id"] for m in sandbox.transcript(helpdesk_bot.token, customer.chat_id))
    eventually(lambda: run_jobs())
    reply = sandbox.wait_for_bot_message(
        helpdesk_bot.token, customer.chat_id, after_message_id=before, predicate=lambda m: "Ответ по" in m["text"]
    )
    assert "Обновите приложение до 2.1" in reply["text"]

    # The customer writes again: the assigned helper hears it in Telegram.
    say(sandbox, helpdesk_bot, customer, "Обновил, теперь работает")
    before = max(m["message_id"] for m in sandbox.transcript(helpdesk_bot.token, staff_tg.chat_id))
    eventually(lambda: run_jobs())
    forwarded = sandbox.wait_for_bot_message(helpdesk_bot.token, staff_tg.chat_id, after_message_id=before)
    assert "Ivan wrote" in forwarded["text"] and "Обновил, теперь работает" in forwarded["text"]


def test_writing_into_a_closed_ticket_is_refused_in_the_helpdesks_words_and_nothing_is_kept(
    app, sandbox, helpdesk_bot, tg_user
):
    """A refusal raised out of the handler: the update's boundary rolls it back and tells the
    customer "⚠️ " and the helpdesk's own words for it."""
    from webapp.core.services import get_user
    from webapp.extensions import db
    from webapp.helpdesk.models import Ticket, TicketMessage, TicketStatus
    from webapp.helpdesk.services import set_status

    customer = tg_user(helpdesk_bot, language_code="ru")
    begin(sandbox, helpdesk_bot, customer, "ru")
    ticket_id = open_uncategorised_ticket(app, sandbox, helpdesk_bot, customer, "Не приходит код", "SMS нет")
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        set_status(ticket, TicketStatus.CLOSED, get_user(ticket.user_id))
        db.session.commit()
        before = db.session.scalar(db.select(db.func.count(TicketMessage.id)))

    refused = say(sandbox, helpdesk_bot, customer, "А код так и не пришёл")  # still in the ticket's chat
    assert refused["text"] == "⚠️ Это обращение закрыто. Создайте новое из меню."
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(TicketMessage.id))) == before


def test_a_too_large_file_for_a_new_ticket_is_refused_and_the_draft_waits(
    app, sandbox, helpdesk_bot, tg_user, monkeypatch
):
    """The ticket created with the draft is rolled back with the refused file, and the refusal is
    told (the handler's own rollback used to drop that reply); the draft stays for another try."""
    from types import SimpleNamespace

    from botworker.helpdesk import handlers

    # The bot's limit only (the app's own would refuse the sandbox's upload first): any photo is too large.
    monkeypatch.setattr(handlers, "current_app", SimpleNamespace(config={"MAX_CONTENT_LENGTH": 10}))
    customer = tg_user(helpdesk_bot, language_code="ru")
    begin(sandbox, helpdesk_bot, customer, "ru")
    say(sandbox, helpdesk_bot, customer, "📝 Новое обращение")
    say(sandbox, helpdesk_bot, customer, "Не проходит оплата")
    say(sandbox, helpdesk_bot, customer, "Карта отклонена, скрин ниже")
    sent = sandbox.send_photo(helpdesk_bot.token, customer.user_id, PNG_BYTES, caption="Скриншот ошибки")
    refused = sandbox.wait_for_bot_message(helpdesk_bot.token, customer.chat_id, after_message_id=sent["message_id"])
    assert refused["text"] == "⚠️ Файл слишком большой (до 0 МБ)."
    customer_id = platform_user(app, customer.user_id)
    assert tickets_of(app, customer_id) == []

    created = say(sandbox, helpdesk_bot, customer, "⏭ Пропустить")
    assert created["text"].startswith("✅ Обращение #")
    [(_, title, description, *_)] = tickets_of(app, customer_id)
    assert (title, description) == ("Не проходит оплата", "Карта отклонена, скрин ниже")
