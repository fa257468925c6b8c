"""The outbox end to end: each kind of notification is written by its service, then two delivery
workers race over it — each with its own app context and database connection, both running the one
delivery job (the queued per-message run and the sweep) at once — and the Telegram sandbox, over
real HTTP, receives it exactly once. Then the outbox's own rules: dedupe, retry, blocked, stuck."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from tests.fixtures.clinic import MONDAY, at, build_patient
from tests.fixtures.realty import future
from webapp.extensions import db
from webapp.telegram import outbox
from webapp.telegram.jobs import deliver_message, deliver_pending
from webapp.telegram.models import OutboundMessage


def link(bot, chat, user_id) -> None:
    """Make the sandbox chat ``chat`` with ``bot`` the platform user's account (current context)."""
    from webapp.core.services import ensure_telegram_account

    account = ensure_telegram_account(bot.bot_id, chat.user_id, chat_id=chat.chat_id, first_name="Test")
    account.user_id = user_id
    db.session.commit()


def two_workers_deliver(app) -> None:
    """Two workers, released together, each delivering every pending row by id and then sweeping."""
    with app.app_context():
        ids = list(db.session.scalars(db.select(OutboundMessage.id).where(OutboundMessage.status == "pending")))
    assert ids, "nothing was written to the outbox"
    barrier = threading.Barrier(2)
    errors = []

    def work() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=20)
                for message_id in ids:
                    deliver_message(message_id)
                deliver_pending()
                db.session.remove()
        except Exception as exc:  # collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []


def delivered_once(app, sandbox, bot, chat, contains: str) -> None:
    texts = [m.get("text") or "" for m in sandbox.transcript(bot.token, chat.chat_id)]
    assert len(texts) == 1 and contains in texts[0], texts
    with app.app_context():
        rows = db.session.scalars(db.select(OutboundMessage)).all()
        assert [(r.status, r.attempts) for r in rows] == [("sent", 1)]
        assert rows[0].telegram_message_id is not None


def test_reminder_delivered_once_by_racing_workers(app, clinic_data, sandbox, sandbox_bot, tg_user):
    from tests.clinic.test_reminders import TUESDAY, _book
    from webapp.clinic import jobs

    bot = sandbox_bot("clinic")
    chat = tg_user(bot)
    with app.app_context():
        patient = build_patient()
        link(bot, chat, patient.user_id)
        _book(clinic_data, at(TUESDAY, 10), patient_id=patient.id)
        assert jobs.send_appointment_reminders(now=at(MONDAY, 10)) == 1
        assert jobs.send_appointment_reminders(now=at(MONDAY, 10)) == 0
    two_workers_deliver(app)
    delivered_once(app, sandbox, bot, chat, "10:00")


def test_ticket_reply_delivered_once_by_racing_workers(app, sandbox, sandbox_bot, tg_user, make_user, hd_ticket):
    from webapp.core.services import get_user
    from webapp.helpdesk.services import add_message, get_ticket

    bot = sandbox_bot("helpdesk")
    chat = tg_user(bot)
    customer = make_user("user")
    staff = make_user("admin")
    ticket = hd_ticket(customer)
    with app.app_context():
        link(bot, chat, customer.id)
        add_message(get_ticket(ticket.id), get_user(staff.id), "Попробуйте ещё раз")
        db.session.commit()
    two_workers_deliver(app)
    delivered_once(app, sandbox, bot, chat, "Попробуйте ещё раз")


def test_booking_push_delivered_once_by_racing_workers(app, sandbox, sandbox_bot, tg_user, realty, make_user):
    bot = sandbox_bot("realty", organization=None)
    chat = tg_user(bot)
    agency = realty.agency()
    realtor = realty.realtor(agency)
    listing = realty.listing(agency, realtor, title="Racing flat")
    with app.app_context():
        link(bot, chat, realtor.id)
    guest = make_user("user")
    realty.booking(listing, guest, future(10), future(12))
    two_workers_deliver(app)
    delivered_once(app, sandbox, bot, chat, "Racing flat")
    # The console's "Sent to Telegram" reads the outbox: the realtor's push is stamped, while the
    # guest (no realty chat) has notifications that never went to Telegram.
    from webapp.realty.models import Notification
    from webapp.realty.services.notify import pushed_at

    with app.app_context():
        rows = db.session.scalars(db.select(Notification).where(Notification.user_id.in_([realtor.id, guest.id])))
        stamps = {row.user_id: pushed_at([row])[row.id] for row in rows}
        assert stamps[realtor.id] is not None and stamps.get(guest.id) is None


def test_daily_report_delivered_once_by_racing_workers(app, sandbox, sandbox_bot, tg_user, realty):
    from webapp.reports.jobs import send_morning_reports
    from webapp.reports.models import ReportSubscription

    bot = sandbox_bot("reports", organization=None)
    chat = tg_user(bot)
    admin = realty.admin(realty.agency())
    saved = app.config.get("REPORTS_MORNING_HOUR")
    app.config["REPORTS_MORNING_HOUR"] = 0  # any hour counts as morning for this test
    try:
        with app.app_context():
            db.session.add(ReportSubscription(user_id=admin.id, bot_id=bot.bot_id, chat_id=chat.chat_id))
            db.session.commit()
            assert send_morning_reports() == 1
            assert send_morning_reports() == 0
    finally:
        if saved is None:
            app.config.pop("REPORTS_MORNING_HOUR", None)
        else:
            app.config["REPORTS_MORNING_HOUR"] = saved
    two_workers_deliver(app)
    delivered_once(app, sandbox, bot, chat, "")
    with app.app_context():
        assert db.session.scalar(db.select(OutboundMessage.dedupe_key)).startswith(f"report:{admin.id.hex}:")


def test_debt_reminder_delivered_once_by_racing_workers(app, sandbox, sandbox_bot, tg_user, make_user):
    from webapp.core.services import get_user
    from webapp.finance.jobs import send_debt_reminders
    from webapp.finance.services import ledger

    bot = sandbox_bot("finance")
    chat = tg_user(bot)
    owner = make_user("user", language="ru")
    with app.app_context():
        link(bot, chat, owner.id)
        ledger.add_debt(get_user(owner.id), "Ахмед", "owed_to_me", "300000", due_date=date(2024, 3, 11))
        db.session.commit()
        assert send_debt_reminders("2024-03-10") == 1
        assert send_debt_reminders("2024-03-10") == 0
    two_workers_deliver(app)
    delivered_once(app, sandbox, bot, chat, "Ахмед")


# --- the outbox's own rules --------------------------------------------------------------------------


@pytest.fixture
def chat_ns(app, sandbox_bot, tg_user, make_user):
    bot = sandbox_bot("finance")
    chat = tg_user(bot)
    user = make_user("user")
    with app.app_context():
        link(bot, chat, user.id)
    return bot, chat, user


def test_a_second_write_of_a_key_is_a_no_op_and_queues_nothing(app_ctx, chat_ns):
    from webapp.jobs.queues import get_queue

    bot, chat, user = chat_ns
    target = outbox.chat_for(user.id, bot.bot_id)
    assert target == outbox.Chat(bot.bot_id, chat.chat_id, user.id)
    first = outbox.write("test:1", "test", target, "hello")
    assert first is not None
    assert outbox.write("test:1", "test", target, "hello again") is None
    db.session.commit()
    assert len(get_queue("notifications").get_job_ids()) == 1  # one delivery, queued after the commit
    assert outbox.written(["test:1", "test:2"]) == {"test:1"}


def test_a_rolled_back_change_leaves_no_message_and_queues_no_delivery(app_ctx, chat_ns):
    from webapp.jobs.queues import get_queue

    bot, chat, user = chat_ns
    outbox.write("test:rollback", "test", outbox.Chat(bot.bot_id, chat.chat_id, user.id), "never")
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(OutboundMessage.id))) == 0
    assert get_queue("notifications").get_job_ids() == []


def test_chat_for_skips_blocked_and_disabled_and_falls_back_to_the_vertical(app_ctx, chat_ns, sandbox_bot, tg_user):
    from webapp.core.models import TelegramAccount
    from webapp.telegram.models import Bot

    bot, chat, user = chat_ns
    other = sandbox_bot("finance")
    other_chat = tg_user(other)
    link(other, other_chat, user.id)
    assert outbox.chat_for(user.id, bot.bot_id).bot_id == bot.bot_id
    account = db.session.scalar(db.select(TelegramAccount).filter_by(bot_id=bot.bot_id, user_id=user.id))
    account.blocked_bot = True
    db.session.flush()
    assert outbox.chat_for(user.id, bot.bot_id) is None
    assert outbox.chat_for(user.id, bot.bot_id, vertical="finance").bot_id == other.bot_id
    db.session.get(Bot, other.bot_id).enabled = False
    db.session.flush()
    assert outbox.chat_for(user.id, bot.bot_id, vertical="finance") is None
    assert outbox.chat_for(user.id, vertical="clinic") is None


def test_blocked_transient_and_stuck(app_ctx, chat_ns, monkeypatch):
    from webapp.core.db import utcnow
    from webapp.telegram import send

    bot, chat, user = chat_ns
    target = outbox.Chat(bot.bot_id, chat.chat_id, user.id)
    blocked = outbox.write("test:blocked", "test", target, "b")
    flaky = outbox.write("test:flaky", "test", target, "f")
    stuck = outbox.write("test:stuck", "test", target, "s")
    db.session.commit()
    results = {
        "b": send.SendResult(False, blocked=True, error="Forbidden"),
        "f": send.SendResult(False, error="network error: ConnectionError"),
    }
    monkeypatch.setattr(send, "send_message", lambda bot_id, chat_id, text, **kw: results[text])
    assert deliver_message(blocked) == "blocked"
    assert deliver_message(flaky) == "pending"  # surely not delivered: tried again after a back-off
    assert deliver_message(flaky) is None  # not due yet
    row = db.session.get(OutboundMessage, flaky)
    assert (row.attempts, row.next_attempt_at > utcnow()) == (1, True)
    # A delivery that died between its claim and its record: never sent again (at-most-once).
    assert outbox.claim(stuck) == stuck
    db.session.commit()
    later = utcnow() + outbox.SENDING_TIMEOUT + timedelta(minutes=1)
    results["f"] = send.SendResult(True, message_id=5)
    assert deliver_pending(now=later) == 1  # the flaky one, now due
    statuses = dict(db.session.execute(db.select(OutboundMessage.dedupe_key, OutboundMessage.status)).all())
    assert statuses == {"test:blocked": "blocked", "test:flaky": "sent", "test:stuck": "unknown"}
