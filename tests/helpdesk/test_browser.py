"""A helper in headless Chromium: logs in, opens the inbox, replies to a ticket; the reply reaches the
customer's sandbox chat, and the customer's answer appears on the open page without a reload.

Needs Debian's chromium (``apt-get install chromium``) and the ``playwright`` package; skipped
without them (``playwright install`` is never needed: the system browser is used).
"""

from __future__ import annotations

from tests.fixtures.browser import SCREENSHOTS, needs_chromium, sign_in
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
    sign_in(page, live_server.url, helper)
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


def test_helper_answers_with_a_canned_reply(
    app, live_server, sandbox, sandbox_bot, run_bot, tg_user, make_user, run_jobs, browser_page
):
    """Issue 14: "/greet" in the reply box offers the desk's canned reply; picked and sent, it reaches
    the customer, and the ticket's first-response badge goes."""
    from webapp.extensions import db
    from webapp.helpdesk.models import CannedReply, Ticket

    bot = sandbox_bot("helpdesk")
    run_bot(bot)
    customer = tg_user(bot, first_name="Ivan", language_code="en")
    begin(sandbox, bot, customer, "en")
    ticket_id = open_uncategorised_ticket(app, sandbox, bot, customer, "Cannot log in", "It says wrong password")
    greeting = "Hello! Thanks for writing to us, we are looking into it."
    with app.app_context():
        organization_id = db.session.get(Ticket, ticket_id).organization_id
        db.session.add_all(
            [
                CannedReply(organization_id=organization_id, short_code="greet", content=greeting),
                CannedReply(organization_id=organization_id, short_code="goodbye", content="Glad we could help."),
                CannedReply(organization_id=organization_id, short_code="reset", content="Reset your password."),
            ]
        )
        db.session.commit()

    helper = make_user("helper", first_name="Anna", language="en")
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server.url, helper)
    page.goto(f"{live_server.url}/admin/helpdesk/")
    page.wait_for_selector(".hd-due:has-text('due in')")
    page.screenshot(path=str(SCREENSHOTS / "helpdesk-en-inbox.png"), full_page=True)
    page.click(f"a:has-text('#{ticket_id.hex[:8]} Cannot log in')")
    page.wait_for_selector("#hd-live.text-success")
    page.wait_for_selector("#hd-due:has-text('due in')")

    page.click("#hd-content")
    page.keyboard.type("/g")
    page.wait_for_selector("#hd-canned:not([hidden]) .hd-canned-item")
    offered = [item.get_attribute("data-code") for item in page.locator(".hd-canned-item").all()]
    assert offered == ["goodbye", "greet"]  # "reset" does not start with g
    page.keyboard.type("re")
    page.wait_for_function("() => document.querySelectorAll('.hd-canned-item').length === 1")
    page.screenshot(path=str(SCREENSHOTS / "helpdesk-en-canned.png"), full_page=True)
    page.click(".hd-canned-item:has-text('/greet')")
    assert page.input_value("#hd-content") == greeting
    assert page.is_hidden("#hd-canned")
    page.click("#hd-send")
    page.wait_for_selector(f".hd-staff:has-text('{greeting}')")
    assert page.locator("#hd-due").count() == 0  # answered: no deadline any more
    page.wait_for_selector(".hd-summary:has-text('First response after 1 min')")
    page.screenshot(path=str(SCREENSHOTS / "helpdesk-en-sent.png"), full_page=True)

    before = max(m["message_id"] for m in sandbox.transcript(bot.token, customer.chat_id))
    assert run_jobs() >= 1
    reply = sandbox.wait_for_bot_message(
        bot.token, customer.chat_id, after_message_id=before, predicate=lambda m: greeting in m["text"]
    )
    assert "Cannot log in" in reply["text"]
