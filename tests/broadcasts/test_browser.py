"""A marketer in headless Chromium: composes, sees the audience count, sends, watches the bar reach 100 %.

Needs Debian's chromium (``apt-get install chromium``) and the ``playwright`` package; skipped
without them (``playwright install`` is never needed: the system browser is used).
"""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from tests.fixtures.browser import needs_chromium, sign_in
from webapp.broadcasts import jobs
from webapp.broadcasts.models import Broadcast, BroadcastStatus
from webapp.extensions import db

pytestmark = needs_chromium


def deliver_when_started(app, stop: threading.Event) -> threading.Thread:
    """What an RQ worker does in production: pick up the started broadcast and deliver it."""

    def work():
        with app.app_context():
            while not stop.is_set():
                started = db.session.scalar(
                    sa.select(Broadcast.id).where(Broadcast.status == BroadcastStatus.SENDING.value)
                )
                db.session.rollback()
                if started:
                    jobs.deliver_broadcast(started)
                    return
                time.sleep(0.2)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_marketer_composes_sends_and_watches_progress(app, live_server, bc_sandbox, make_user, browser_page):
    bot = bc_sandbox.bot("finance", rate_limit_per_second=200)
    bc_sandbox.client.set_limits(bot.token, per_second=200, per_chat_per_second=1)
    russians = bc_sandbox.audience(bot, 24, language="ru")
    bc_sandbox.audience(bot, 5, language="kk")
    marketer = make_user("marketer", language="en")
    page = browser_page

    sign_in(page, live_server.url, marketer)
    page.goto(f"{live_server.url}/admin/broadcasts/")
    page.click("#bd-new")

    page.select_option("#bot_id", str(bot.bot_id))
    page.fill("#title", "Spring sale")
    page.fill("#bd-text", "<b>Spring</b> sale for you")
    page.fill("#buttons", "Shop | https://example.com/shop")
    # The preview renders as Telegram would; the audience count follows the filters.
    page.wait_for_selector("#bd-preview b:has-text('Spring')")
    page.wait_for_selector("#bd-keyboard .bd-button:has-text('Shop')")
    # Predicates are functions: the page's CSP refuses Playwright's eval of a bare expression.
    page.wait_for_function("() => document.getElementById('bd-audience-count').textContent === '29'")
    page.check("input[name=language][value=ru]")
    page.wait_for_function("() => document.getElementById('bd-audience-count').textContent === '24'")
    page.click("#bd-save")

    page.wait_for_selector("#bd-send")
    assert page.inner_text("#bd-audience-now") == "24"
    stop = threading.Event()
    worker = deliver_when_started(app, stop)
    try:
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("#bd-send")
        page.wait_for_selector("#bd-status:has-text('sending'), #bd-status:has-text('completed')")
        page.wait_for_function("() => document.getElementById('bd-bar').getAttribute('aria-valuenow') === '100.0'")
        page.wait_for_selector("#bd-status:has-text('completed')")
        assert page.inner_text("#bd-sent_count") == "24"
        assert page.inner_text("#bd-pending_count") == "0"
    finally:
        stop.set()
        worker.join(timeout=30)
    received = bc_sandbox.bot_messages(bot, russians.chat_ids)
    assert all(len(messages) == 1 and messages[0]["text"] == "Spring sale for you" for messages in received.values())
