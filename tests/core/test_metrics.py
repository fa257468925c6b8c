"""``/metrics``: who may read it, and that each figure moves when the thing it counts happens —
request latency by URL rule, updates per bot, sends and 429s per bot on both send paths, queue
lengths, open live sockets — including across processes in prometheus_client's multiprocess mode."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from simple_websocket import Client

from botworker import registry
from tests.fixtures.telegram import eventually, say

ROOT = Path(__file__).resolve().parents[2]


def scrape(client, **kwargs) -> dict[tuple, float]:
    """Every sample of /metrics as {(name, sorted label items): value}."""
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.status_code
    assert response.content_type.startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_need_the_token_or_a_local_unproxied_client(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", "")
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code == 404

    monkeypatch.setitem(app.config, "METRICS_TOKEN", "metrics-s3cret")
    assert client.get("/metrics").status_code == 404  # loopback alone is no longer enough
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 404
    ok = client.get(
        "/metrics", headers={"Authorization": "Bearer metrics-s3cret"}, environ_base={"REMOTE_ADDR": "203.0.113.7"}
    )
    assert ok.status_code == 200


def test_request_latency_is_labelled_by_url_rule_not_path(client):
    ticket_id = uuid.uuid4()
    before = scrape(client)
    for _ in range(3):
        assert client.get(f"/api/v1/tickets/{ticket_id}").status_code == 401
    client.get(f"/no/such/page/{ticket_id}")
    response = client.get("/metrics")
    text = response.get_data(as_text=True)
    assert str(ticket_id) not in text
    after = scrape(client)
    labels = {"endpoint": "/api/v1/tickets/<ticket_id>", "method": "GET", "status": "401"}
    name = "botdesk_http_request_duration_seconds_count"
    assert value(after, name, **labels) - value(before, name, **labels) == 3
    unmatched = {"endpoint": "<unmatched>", "method": "GET", "status": "404"}
    assert value(after, name, **unmatched) - value(before, name, **unmatched) == 1


def test_queue_lengths(app, client):
    from webapp.jobs.queues import get_queue

    with app.app_context():
        queue = get_queue("email")
        queue.enqueue("webapp.core.services.get_user", "nobody")
        queue.enqueue("webapp.core.services.get_user", "nobody")
    samples = scrape(client)
    assert value(samples, "botdesk_rq_queue_length", queue="email") == 2
    assert value(samples, "botdesk_rq_queue_length", queue="broadcasts") == 0


def test_sends_and_429s_per_bot_on_the_jobs_path(app, client, sandbox, sandbox_bot, tg_user):
    """Telegram (the sandbox) allows 2/s while the bot believes 30/s: 429s are met and counted."""
    import threading

    from webapp.telegram.send import send_message

    bot = sandbox_bot("clinic")
    sandbox.set_limits(bot.token, per_second=2, per_chat_per_second=100)
    users = [tg_user(bot, first_name=f"U{i}") for i in range(5)]
    results = []

    def send(user):
        with app.app_context():
            results.append(send_message(bot.bot_id, user.chat_id, "hi"))

    threads = [threading.Thread(target=send, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 5 and all(r.ok for r in results)
    samples = scrape(client)
    assert value(samples, "botdesk_telegram_sends_total", bot=bot.name, path="jobs") == 5
    assert value(samples, "botdesk_telegram_rate_limited_total", bot=bot.name, path="jobs") >= 1
    assert bot.token not in client.get("/metrics").get_data(as_text=True)


def test_updates_and_replies_per_bot_on_the_bot_path(client, sandbox, sandbox_bot, run_bot, tg_user):
    bot, other = sandbox_bot("reports"), sandbox_bot("reports")
    run_bot(bot, vertical=registry.defaults())
    user = tg_user(bot, language_code="en")
    say(sandbox, bot, user, "hello")
    say(sandbox, bot, user, "/start")

    def counted():
        samples = scrape(client)
        return (
            value(samples, "botdesk_telegram_updates_total", bot=bot.name),
            value(samples, "botdesk_telegram_sends_total", bot=bot.name, path="bot"),
            value(samples, "botdesk_telegram_updates_total", bot=other.name),
        )

    assert eventually(lambda: counted()[0] == 2)
    updates, sends, others = counted()
    assert updates == 2 and sends >= 2 and others == 0


def test_open_live_sockets(client, live_server, make_user, tokens_for, hd_ticket):
    customer = make_user("user")
    ticket = hd_ticket(customer)
    url = live_server.url.replace("http://", "ws://", 1) + f"/ws/tickets/{ticket.id}?token="
    before = value(scrape(client), "botdesk_live_sockets", kind="ticket")
    sockets = [Client.connect(url + tokens_for(customer)["access"]) for _ in range(2)]
    try:
        assert eventually(lambda: value(scrape(client), "botdesk_live_sockets", kind="ticket") == before + 2)
    finally:
        for ws in sockets:
            ws.close()
    assert eventually(lambda: value(scrape(client), "botdesk_live_sockets", kind="ticket") == before)


WORKER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {root!r})
    from webapp import create_app
    app = create_app({{"SQLALCHEMY_DATABASE_URI": "sqlite://", "REDIS_URL": ""}})
    client = app.test_client()
    for _ in range(2):
        assert client.get("/api/v1/auth/me").status_code == 401
    """
)


def test_multiprocess_mode_adds_up_every_process(app, client, tmp_path, monkeypatch):
    """Two processes (as two gunicorn workers) record requests in PROMETHEUS_MULTIPROC_DIR; one
    scrape, answered by either, shows the sum."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "BOTDESK_INSTANCE_DIR": str(tmp_path / "i")}
    for _ in range(2):
        subprocess.run(
            [sys.executable, "-c", WORKER.format(root=str(ROOT))], env=env, check=True, cwd=ROOT, timeout=120
        )
    monkeypatch.setitem(app.config, "PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    samples = scrape(client)
    labels = {"endpoint": "/api/v1/auth/me", "method": "GET", "status": "401"}
    assert value(samples, "botdesk_http_request_duration_seconds_count", **labels) == 4
