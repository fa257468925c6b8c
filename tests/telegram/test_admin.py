"""The Bot console: superusers and organization admins (their own bots), write-only tokens, getMe
check, webhook secret."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_from


def bots(app):
    from webapp.extensions import db
    from webapp.telegram.models import Bot

    with app.app_context():
        rows = db.session.scalars(db.select(Bot).order_by(Bot.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def form_data(page_html: str, **fields) -> dict:
    data = {
        "csrf_token": csrf_from(page_html),
        "vertical": "clinic",
        "mode": "polling",
        "rate_limit_per_second": "30",
        "enabled": "y",
    }
    data.update({k: v for k, v in fields.items() if v is not None})
    return data


@pytest.mark.parametrize("role", ["moderator", "marketer", "doctor"])
def test_only_admins_open_the_bot_console(client, make_user, console_login, role):
    assert client.get("/admin/bots/").status_code == 302  # anonymous: to the login page
    console_login(client, make_user(role))
    assert client.get("/admin/bots/").status_code == 403
    assert client.get("/admin/bots/new/").status_code == 403


def test_create_bot_stores_the_token_encrypted_and_never_shows_it(
    app, client, make_user, console_login, sandbox, live_server
):
    from webapp.telegram.tokens import decrypt_token, fingerprint

    console_login(client, make_user("superuser", language="en"))
    info = sandbox.create_bot("console_made_bot")
    page = client.get("/admin/bots/new/")
    assert page.status_code == 200 and 'type="password"' in page.text
    response = client.post(
        "/admin/bots/new/",
        data=form_data(page.text, name="clinic-main", token=info["token"], is_sandbox="y"),
        follow_redirects=True,
    )
    assert response.status_code == 200, response.text
    [bot] = bots(app)
    assert bot.name == "clinic-main" and bot.token_fingerprint == fingerprint(info["token"])
    assert info["token"] not in bot.token_encrypted
    with app.app_context():
        assert decrypt_token(bot) == info["token"]
    # Saving checked the token with getMe (through the sandbox, as it is a sandbox bot).
    assert bot.username == "console_made_bot" and bot.telegram_bot_id == info["id"]

    secret_part = info["token"].split(":")[1]
    for url in ("/admin/bots/", f"/admin/bots/edit/?id={bot.id}", f"/admin/bots/details/?id={bot.id}"):
        html = client.get(url).text
        assert secret_part not in html and bot.token_encrypted not in html and "token_fingerprint" not in html
    export = client.get("/admin/bots/export/csv/")
    assert export.status_code == 200 and secret_part not in export.text and "clinic-main" in export.text


def test_edit_keeps_the_token_unless_given_and_webhook_mode_gets_a_secret(
    app, client, make_user, console_login, sandbox_bot
):
    from webapp.telegram.tokens import decrypt_token

    bot_ns = sandbox_bot("realty")
    console_login(client, make_user("superuser", language="en"))
    page = client.get(f"/admin/bots/edit/?id={bot_ns.bot_id}")
    assert page.status_code == 200
    response = client.post(
        f"/admin/bots/edit/?id={bot_ns.bot_id}",
        data=form_data(page.text, name=bot_ns.name, vertical="realty", mode="webhook", is_sandbox="y"),
    )
    assert response.status_code == 302, response.text
    [bot] = bots(app)
    assert bot.mode == "webhook" and bot.webhook_secret and len(bot.webhook_secret) >= 32
    with app.app_context():
        assert decrypt_token(bot) == bot_ns.token


@pytest.mark.parametrize(
    ("name", "token", "problem"),
    [
        ("no-token", None, "needs its token"),
        ("bad-token", "not-a-token", "looks like"),
        ("bad name!", "123456:" + "A" * 35, "letters, digits"),
    ],
)
def test_bad_input_creates_nothing(app, client, make_user, console_login, name, token, problem):
    console_login(client, make_user("superuser", language="en"))
    page = client.get("/admin/bots/new/")
    response = client.post("/admin/bots/new/", data=form_data(page.text, name=name, token=token), follow_redirects=True)
    assert response.status_code == 200 and problem in response.text
    assert bots(app) == []


def test_token_of_another_bot_is_refused(app, client, make_user, console_login, sandbox_bot):
    existing = sandbox_bot("clinic")
    console_login(client, make_user("superuser", language="en"))
    page = client.get("/admin/bots/new/")
    response = client.post(
        "/admin/bots/new/", data=form_data(page.text, name="copy", token=existing.token), follow_redirects=True
    )
    assert "belongs to another bot" in response.text
    assert [b.name for b in bots(app)] == [existing.name]


def test_check_token_button_calls_get_me(app, client, make_user, console_login, sandbox_bot):
    from webapp.extensions import db
    from webapp.telegram.models import Bot

    bot_ns = sandbox_bot("helpdesk")
    with app.app_context():
        row = db.session.get(Bot, bot_ns.bot_id)
        row.username, row.telegram_bot_id = None, None
        db.session.commit()
    console_login(client, make_user("superuser", language="en"))
    listing = client.get("/admin/bots/")
    assert f"/admin/bots/check/{bot_ns.bot_id}" in listing.text
    assert client.post(f"/admin/bots/check/{bot_ns.bot_id}").status_code == 400  # no CSRF token
    response = client.post(
        f"/admin/bots/check/{bot_ns.bot_id}", data={"csrf_token": csrf_from(listing.text)}, follow_redirects=True
    )
    assert response.status_code == 200 and f"@{bot_ns.username}" in response.text
    [bot] = bots(app)
    assert bot.username == bot_ns.username and bot.telegram_bot_id == bot_ns.telegram_id


def test_check_token_reports_a_rejected_token(app, client, make_user, console_login, live_server):
    from webapp.extensions import db
    from webapp.telegram.services import create_bot

    with app.app_context():
        bot_id = create_bot("ghost", "clinic", "123456:" + "B" * 35, is_sandbox=True).id
        db.session.commit()
    console_login(client, make_user("superuser", language="en"))
    listing = client.get("/admin/bots/")
    response = client.post(
        f"/admin/bots/check/{bot_id}", data={"csrf_token": csrf_from(listing.text)}, follow_redirects=True
    )
    assert "getMe failed" in response.text and "Unauthorized" in response.text
    assert bots(app)[0].username is None
