"""A marketer in headless Chromium, in Russian: gets a link code in their profile, "opens it in
Telegram" (the sandbox user sends ``/start <code>`` to the running bot over HTTP), composes a
broadcast for a saved segment and sends a test to themself; the test lands in their chat.

Screenshots: ``screenshots/marketer-ru-*.png``.
"""

from __future__ import annotations

from tests.fixtures.browser import SCREENSHOTS, needs_chromium, sign_in
from tests.fixtures.telegram import say
from webapp.broadcasts.services import lifecycle, segments
from webapp.extensions import db

pytestmark = needs_chromium


def test_marketer_links_telegram_and_sends_a_test_to_themself(
    app, live_server, sandbox, sandbox_bot, run_bot, tg_user, bc_factory, make_user, browser_page
):
    SCREENSHOTS.mkdir(exist_ok=True)
    bot = sandbox_bot("finance", name="shopru")
    run_bot(bot)
    with app.app_context():
        segments.create_segment(None, bot.bot_id, "Русскоязычные", {"language": ["ru"]})
        draft = lifecycle.create_broadcast(None, bot_id=bot.bot_id, title="Черновик", text="Привет")
        bc_factory.account(_bot(bot), language="ru")
        bc_factory.account(_bot(bot), language="ru", blocked=True)
        db.session.commit()
        draft_id = draft.id
    me = tg_user(bot, first_name="Марина", language_code="ru")
    marketer = make_user("marketer", language="ru", first_name="Марина", last_name="Маркетолог")
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})

    sign_in(page, live_server.url, marketer)
    # Not linked yet: the test send says, in Russian, how to link.
    page.goto(f"{live_server.url}/admin/broadcasts/{draft_id}")
    page.click("#bd-test")
    page.wait_for_selector(".alert:has-text('Ваш Telegram ещё не привязан к боту shopru. Откройте профиль')")
    page.screenshot(path=str(SCREENSHOTS / "marketer-ru-0-not-linked.png"), full_page=True)
    page.click("#bd-profile")
    page.wait_for_selector(f"#bd-profile-bots tr[data-bot='{bot.bot_id}']:has-text('Не привязан')")
    page.click(f"#bd-link-{bot.bot_id}")
    page.wait_for_selector("#bd-link-code")
    link = page.get_attribute("#bd-link-url", "href")
    command = page.inner_text("#bd-link-command")
    assert link == f"https://t.me/{bot.username}?start={command.removeprefix('/start ')}"
    page.screenshot(path=str(SCREENSHOTS / "marketer-ru-1-profile-link.png"), full_page=True)

    # The marketer opens the link in Telegram: Telegram sends the bot "/start <code>".
    reply = say(sandbox, bot, me, command)
    assert reply["text"].startswith("Готово: этот Telegram привязан к Марина Маркетолог в консоли.")
    page.reload()
    page.wait_for_selector(f"#bd-profile-bots tr[data-bot='{bot.bot_id}'] .text-success")

    page.goto(f"{live_server.url}/admin/broadcasts/new")
    page.select_option("#bot_id", str(bot.bot_id))
    page.fill("#title", "Весенняя распродажа")
    page.fill("#bd-text", "<b>Весна</b>: скидки для вас")
    page.check("input[name=audience][value=segment]")
    # The saved segment shows by name, its filters in words; no field code anywhere.
    page.wait_for_function(
        "() => { const s = document.getElementById('segment_id');"
        " return s.selectedIndex >= 0 && s.options[s.selectedIndex].text === 'Русскоязычные'; }"
    )
    assert page.inner_text("#bd-segment-description") == "Язык: русский"
    page.wait_for_function("() => document.getElementById('bd-audience-count').textContent === '2'")
    page.wait_for_function("() => document.getElementById('bd-left-out').textContent.includes('заблокировал')")
    assert page.inner_text("#bd-left-out") == "Не получат: 1 заблокировал бота"
    assert "segment_id" not in page.inner_text("#bd-compose")
    page.screenshot(path=str(SCREENSHOTS / "marketer-ru-2-compose.png"), full_page=True)
    page.click("#bd-save")

    page.wait_for_selector("#bd-test")
    assert page.inner_text("#bd-filters-words") == "Язык: русский"
    assert page.query_selector("#bd-test-hint") is None  # linked: no hint to link
    page.click("#bd-test")
    page.wait_for_selector(".alert:has-text('Тестовое сообщение отправлено вам в Telegram.')")
    page.screenshot(path=str(SCREENSHOTS / "marketer-ru-3-test-sent.png"), full_page=True)

    received = sandbox.wait_for_bot_message(
        bot.token, me.chat_id, after_message_id=reply["message_id"], predicate=lambda m: "Весна" in m["text"]
    )
    assert received["text"] == "Весна: скидки для вас"


def _bot(bot_ns):
    from webapp.telegram.models import Bot

    return db.session.get(Bot, bot_ns.bot_id)
