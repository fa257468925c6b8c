"""A helper in headless Chromium: logs in, opens the inbox, replies to a ticket; the reply reaches the
customer's sandbox chat, and the customer's answer appears on the open page without a reload.

Needs Debian's chromium (``apt-get install chromium``) and the ``playwright`` package; skipped
without them (``playwright install`` is never needed: the system browser is used).
"""

from __future__ import annotations

from tests.fixtures.browser import needs_chromium
from tests.fixtures.telegram import say
from tests.helpdesk.test_bot import begin, open_uncategorised_ticket

pytestmark = needs_chromium


def test_helper_replies_in_the_console(
    app, live_server, sandbox, sandbox_bot, run_bot, tg_user, make_user, run_jobs, browser_page
):
    bot = sandbox_bot("helpdesk")
    run_bot(bot)
    customer = tg_user(bot, first_name="Иван", language_code="ru")
    begin(sandbox, bot, customer, "ru")
    ticket_id = open_uncategorised_ticket(app, sandbox, bot, customer, "Не могу войти", "Пишет «неверный пароль»")

    helper = make_user("helper", first_name="Анна", language="en")
    page = browser_page
    page.goto(f"{live_server.url}/admin/login")
    page.fill("input[name=login]", helper.username)
    page.fill("input[name=password]", helper.password)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/admin/helpdesk/")
    page.click(f"a:has-text('#{ticket_id.hex[:8]} Не могу войти')")
    page.wait_for_selector("#hd-live.text-success")  # the page's socket is open

    page.fill("#hd-content", "Сбросьте пароль по ссылке «Забыли пароль?»")
    page.click("#hd-send")
    page.wait_for_selector(".hd-staff:has-text('Сбросьте пароль')")

    # The worker delivers the reply to the customer's Telegram chat.
    before = max(m["message_id"] for m in sandbox.transcript(bot.token, customer.chat_id))
    assert run_jobs() >= 1
    reply = sandbox.wait_for_bot_message(
        bot.token, customer.chat_id, after_message_id=before, predicate=lambda m: "Сбросьте пароль" in m["text"]
    )
    assert "Не могу войти" in reply["text"]

    # The customer answers in Telegram; the open page shows it without a reload.
    say(sandbox, bot, customer, "Получилось, спасибо!")
    page.wait_for_selector(".hd-customer:has-text('Получилось, спасибо!')")
    page.wait_for_selector(".hd-summary:has-text('In progress')")
