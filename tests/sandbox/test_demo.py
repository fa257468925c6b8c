"""The sandbox demo seed: a sandbox bot and a Bot row per vertical, idempotent and self-repairing."""

from __future__ import annotations

import requests


def _bot_rows(app):
    from webapp.extensions import db
    from webapp.telegram.models import Bot
    from webapp.telegram.tokens import decrypt_token

    with app.app_context():
        return {b.vertical: (b.username, b.is_sandbox, decrypt_token(b)) for b in db.session.scalars(db.select(Bot))}


def _seed(app) -> list[str]:
    from webapp.extensions import db
    from webapp.sandbox.demo import seed

    with app.app_context():
        lines = list(seed())
        db.session.commit()
        return lines


def test_seed_creates_one_bot_per_vertical_once(app, live_server):
    lines = _seed(app)
    assert len(lines) == 5 and all(line.startswith("created demo bot") for line in lines)
    rows = _bot_rows(app)
    assert set(rows) == {"clinic", "realty", "reports", "helpdesk", "finance"}
    for vertical, (username, is_sandbox, token) in rows.items():
        assert username == f"botdesk_{vertical}_bot" and is_sandbox
        me = requests.get(f"{live_server.sandbox_url}/bot{token}/getMe", timeout=10).json()
        assert me["result"]["username"] == username
    assert _seed(app) == []
    assert _bot_rows(app) == rows


def test_seed_reregisters_bots_after_the_sandbox_lost_its_state(app, live_server):
    from webapp.extensions import redis_store

    _seed(app)
    rows = _bot_rows(app)
    with app.app_context():
        redis_store.client.flushdb()  # the embedded Redis starts empty on every run
    lines = _seed(app)
    assert len(lines) == 5 and all("again" in line for line in lines)
    assert _bot_rows(app) == rows
    token = rows["clinic"][2]
    assert requests.get(f"{live_server.sandbox_url}/bot{token}/getMe", timeout=10).json()["ok"] is True
