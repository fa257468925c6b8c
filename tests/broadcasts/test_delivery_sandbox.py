"""Delivery end to end: the real send path over HTTP to the Telegram sandbox, real RQ jobs.

The sandbox counts what each user received, so "nobody got it twice" is read from the transcripts.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import BACKEND
from webapp.broadcasts import jobs
from webapp.broadcasts.models import Broadcast
from webapp.broadcasts.services import lifecycle
from webapp.core.models import TelegramAccount
from webapp.extensions import db, redis_store

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7V\xbd\xfa\x00\x00\x00\x00IEND\xaeB`\x82"
)


class Count429(logging.Handler):
    """Counts the send path's "429 from Telegram" warnings; can run a callback at the n-th one."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.at: tuple[int, object] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if "429" in record.getMessage():
            self.count += 1
            if self.at and self.count == self.at[0]:
                threading.Thread(target=self.at[1]).start()


@pytest.fixture
def count_429():
    handler = Count429()
    logger = logging.getLogger("webapp.telegram.send")
    # Alembic's fileConfig (the session's migrations) disables the loggers that existed before it ran.
    was_disabled, logger.disabled = logger.disabled, False
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.disabled = was_disabled


def start(app, bot_id: int, **fields) -> int:
    with app.app_context():
        broadcast = lifecycle.create_broadcast(None, bot_id=bot_id, title="Sale", text="<b>Sale</b> today", **fields)
        lifecycle.start_broadcast(None, broadcast)
        db.session.commit()
        return broadcast.id


def run_workers(app, broadcast_id: int, workers: int) -> list:
    """The delivery job, ``workers`` of them at once (as RQ workers in separate processes would)."""
    results, errors = [], []

    def work():
        try:
            with app.app_context():
                results.append(jobs.deliver_broadcast(broadcast_id))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors
    return results


@pytest.mark.slow
def test_two_thousand_recipients_three_blocked_with_429s(app, bc_sandbox, count_429):
    bot = bc_sandbox.bot("finance", rate_limit_per_second=400)
    # At first Telegram (the sandbox) allows far less than the bot thinks: it answers 429 with
    # retry_after. After a few 429s it allows the bot's full rate again.
    bc_sandbox.client.set_limits(bot.token, per_second=3, per_chat_per_second=1)
    count_429.at = (4, lambda: bc_sandbox.client.set_limits(bot.token, per_second=1000, per_chat_per_second=1))
    people = bc_sandbox.audience(bot, 2000, blocked=3)
    broadcast_id = start(app, bot.bot_id)

    results = run_workers(app, broadcast_id, workers=2)

    assert all(r["finished"] or r["stopped"] == "completed" for r in results)
    assert count_429.count >= 4, "the sandbox was expected to answer some 429s"
    received = bc_sandbox.bot_messages(bot, people.chat_ids)
    copies = Counter(len(messages) for chat, messages in received.items() if chat not in people.blocked)
    assert copies == {1: 1997}
    assert all(received[chat] == [] for chat in people.blocked)
    assert {m[0]["text"] for c, m in received.items() if m} == {"Sale today"}
    with app.app_context():
        broadcast = db.session.get(Broadcast, broadcast_id)
        assert broadcast.status == "completed"
        counters = (broadcast.total_count, broadcast.sent_count, broadcast.blocked_count, broadcast.failed_count)
        assert counters == (2000, 1997, 3, 0) and broadcast.unknown_count == 0 and broadcast.pending_count == 0
        flagged = db.session.scalars(
            sa.select(TelegramAccount.chat_id).where(
                TelegramAccount.bot_id == bot.bot_id, TelegramAccount.blocked_bot.is_(True)
            )
        ).all()
        assert sorted(flagged) == sorted(people.blocked)
        # The next broadcast's segment skips them.
        follow_up = lifecycle.create_broadcast(None, bot_id=bot.bot_id, title="Next", text="Next")
        lifecycle.start_broadcast(None, follow_up)
        db.session.commit()
        assert follow_up.total_count == 1997


def test_rq_worker_delivers_photo_buttons_and_languages(app, bc_sandbox):
    from rq import SimpleWorker

    from webapp.jobs.queues import get_queue

    bot = bc_sandbox.bot("finance")
    ru = bc_sandbox.audience(bot, 3, language="ru")
    kk = bc_sandbox.audience(bot, 2, language="kk")
    buttons = [[{"text": "Open", "url": "https://example.com/sale"}, {"text": "Later", "callback_data": "later"}]]
    broadcast_id = start(
        app, bot.bot_id, texts={"kk": "<i>Жеңілдік</i> бүгін"}, buttons=buttons, photo=PNG, photo_name="sale.png"
    )
    with app.app_context():
        queue = get_queue("broadcasts")
        assert queue.count == 2  # two delivery jobs, enqueued after the start committed
        SimpleWorker([queue], connection=redis_store.client).work(burst=True)
        assert db.session.get(Broadcast, broadcast_id).status == "completed"

    received = bc_sandbox.bot_messages(bot, ru.chat_ids + kk.chat_ids)
    for chat in ru.chat_ids + kk.chat_ids:
        (message,) = received[chat]
        assert message["photo"], "sent as a photo"
        expected = "Жеңілдік бүгін" if chat in kk.chat_ids else "Sale today"
        assert message["caption"] == expected
        keyboard = message["reply_markup"]["inline_keyboard"]
        assert keyboard[0][0]["url"] == "https://example.com/sale" and keyboard[0][1]["callback_data"] == "later"
    # Uploaded once; every other recipient got it by the first upload's file_id (one stored file).
    files = {received[chat][0]["photo"][-1]["file_unique_id"] for chat in ru.chat_ids + kk.chat_ids}
    assert len(files) == 1, files
    assert sends_counted(app, bot) == 5  # the workers' windows added them to the bot's sends metric


def sends_counted(app, bot_ns) -> int:
    from webapp import metrics
    from webapp.telegram.models import Bot

    with app.app_context():
        name = db.session.get(Bot, bot_ns.bot_id).name
        return int(redis_store.client.hget(metrics.HASH, f"sends|{name}|jobs") or 0)


def test_a_photo_id_telegram_no_longer_knows_is_replaced_by_an_upload(app, bc_sandbox):
    from webapp.broadcasts.services import delivery

    bot = bc_sandbox.bot("finance")
    people = bc_sandbox.audience(bot, 3)
    with app.app_context():
        broadcast = lifecycle.create_broadcast(None, bot_id=bot.bot_id, title="P", text="Photo", photo=PNG)
        db.session.commit()
        content = delivery.load_content(broadcast)
        content.remember_photo_id("AgACAgIAAxkBAAstale")  # e.g. kept from before the bot's files were lost
        lifecycle.start_broadcast(None, broadcast)
        db.session.commit()
        report = delivery.run_worker(broadcast.id, threads=1)
    assert report.finished and report.outcomes == Counter({"sent": 3})
    received = bc_sandbox.bot_messages(bot, people.chat_ids)
    files = {received[chat][0]["photo"][-1]["file_unique_id"] for chat in people.chat_ids}
    assert len(files) == 1  # one new upload, then its file_id
    assert sends_counted(app, bot) == 3  # the refused file_id was no send


def test_a_scheduled_broadcast_starts_at_its_time(app, bc_sandbox):
    from rq.registry import ScheduledJobRegistry

    from webapp.jobs.queues import get_queue

    bot = bc_sandbox.bot("finance")
    people = bc_sandbox.audience(bot, 3)
    when = datetime.now(UTC) + timedelta(minutes=10)
    with app.app_context():
        broadcast = lifecycle.create_broadcast(None, bot_id=bot.bot_id, title="Later", text="Later")
        lifecycle.schedule_broadcast(None, broadcast, when)
        db.session.commit()
        broadcast_id = broadcast.id
        registry = ScheduledJobRegistry(queue=get_queue("broadcasts"))
        (job_id,) = registry.get_job_ids()
        assert abs(registry.get_scheduled_time(job_id) - when) < timedelta(seconds=1)
        # Not yet due: the scan leaves it alone.
        assert jobs.scan_broadcasts()["started"] == []
        # Its time comes (the database decides): the scan — or RQ's scheduled job — starts it.
        db.session.execute(
            sa.update(Broadcast).where(Broadcast.id == broadcast_id).values(scheduled_at=datetime.now(UTC))
        )
        db.session.commit()
        assert jobs.start_due_broadcasts() == [broadcast_id]
        assert jobs.start_due_broadcasts() == []  # a second run starts nothing twice
        broadcast = db.session.get(Broadcast, broadcast_id)
        assert (broadcast.status, broadcast.total_count) == ("sending", 3)
    run_workers(app, broadcast_id, workers=1)
    assert all(len(m) == 1 for m in bc_sandbox.bot_messages(bot, people.chat_ids).values())


def test_test_send_reaches_the_marketer_only(app, client, bc_sandbox, make_user, auth_header):
    from webapp.core.services import get_user

    bot = bc_sandbox.bot("finance")
    audience = bc_sandbox.audience(bot, 2)
    me = bc_sandbox.client.create_user(bot.token, "Marketer")
    marketer = make_user("marketer")
    with app.app_context():
        db.session.add(
            TelegramAccount(
                user_id=get_user(marketer.id).id,
                bot_id=bot.bot_id,
                telegram_user_id=me["user_id"],
                chat_id=me["chat_id"],
            )
        )
        broadcast = lifecycle.create_broadcast(None, bot_id=bot.bot_id, title="T", text="<u>Preview</u> me")
        db.session.commit()
        broadcast_id = broadcast.id
    response = client.post(f"/api/broadcasts/{broadcast_id}/test/", headers=auth_header(marketer))
    assert response.status_code == 200, response.text
    (message,) = [m for m in bc_sandbox.client.transcript(bot.token, me["chat_id"]) if m["from_bot"]]
    assert message["text"] == "Preview me" and message["message_id"] == response.get_json()["message_id"]
    assert all(m == [] for m in bc_sandbox.bot_messages(bot, audience.chat_ids).values())
    with app.app_context():
        assert db.session.get(Broadcast, broadcast_id).status == "draft"


def slow_bot_api(seconds: float):
    """The real send path behind a Bot API that takes ``seconds`` to answer (as a far-away Telegram)."""
    import time

    from webapp.broadcasts.services import delivery

    def send(bot, chat_id, language, content):
        time.sleep(seconds)
        return delivery.send_counted_by_window(bot, chat_id, language, content)

    return send


def sandbox_limits(app, live_server, bot_ns, per_second: int) -> None:
    from webapp.sandbox.client import SandboxClient
    from webapp.telegram.models import Bot

    SandboxClient(live_server.sandbox_url, key=app.config["SANDBOX_KEY"]).set_limits(
        bot_ns.token, per_second=per_second, per_chat_per_second=1
    )
    with app.app_context():
        db.session.get(Bot, bot_ns.bot_id).rate_limit_per_second = per_second
        db.session.commit()


needs_redis = pytest.mark.skipif(not BACKEND.redis_url, reason="one sender per job on the embedded Redis substitute")


@needs_redis
def test_a_job_adds_senders_while_the_bot_api_is_slower_than_the_limit(app, live_server, bc_sandbox):
    from webapp.broadcasts.services import delivery

    bot = bc_sandbox.bot("finance")
    sandbox_limits(app, live_server, bot, 100)  # one sender waiting 50 ms per answer manages 20/s
    people = bc_sandbox.audience(bot, 150)
    broadcast_id = start(app, bot.bot_id)
    with app.app_context():
        report = delivery.run_worker(broadcast_id, sender=slow_bot_api(0.05), threads=4)
    assert report.finished and report.outcomes == Counter({"sent": 150})
    assert len(report.token.split(",")) > 1, "the job should have added senders"
    received = bc_sandbox.bot_messages(bot, people.chat_ids)
    assert all(len(received[chat]) == 1 for chat in people.chat_ids)


@needs_redis
def test_one_sender_is_enough_while_the_limit_paces_it(app, live_server, bc_sandbox):
    from webapp.broadcasts.services import delivery

    bot = bc_sandbox.bot("finance")
    sandbox_limits(app, live_server, bot, 4)  # a send every 250 ms; the Bot API answers in 50
    people = bc_sandbox.audience(bot, 12)
    broadcast_id = start(app, bot.bot_id)
    with app.app_context():
        report = delivery.run_worker(broadcast_id, sender=slow_bot_api(0.05), threads=4)
    assert report.finished and report.outcomes == Counter({"sent": 12})
    assert len(report.token.split(",")) == 1
    received = bc_sandbox.bot_messages(bot, people.chat_ids)
    assert all(len(received[chat]) == 1 for chat in people.chat_ids)
