"""Bots in the console are saved through ``services.create_bot_card``/``update_bot_card`` (issue 13,
item 7): each change leaves a ``bot.*`` audit row naming the bot's name, vertical, state or
organization — never its token — a refusal is shown on the form with nothing written, and another
organization's admin cannot change a bot."""

from __future__ import annotations

import sqlalchemy as sa

from tests.telegram.test_admin import bots, form_data


def _audit(app):
    from webapp.core.models import AuditLog
    from webapp.extensions import db

    with app.app_context():
        query = sa.select(AuditLog.action, AuditLog.old_value, AuditLog.new_value, AuditLog.source).where(
            AuditLog.target_type == "bot"
        )
        return sorted(db.session.execute(query).all(), key=lambda row: (row[0], str(row[1]), str(row[2])))


def _edit(client, bot_id, token_page=None, **fields):
    url = f"/admin/bots/edit/?id={bot_id}"
    page = client.get(token_page or url)
    data = form_data(page.text, **fields)
    for name in [name for name, value in fields.items() if value is None]:  # an unticked box is not sent
        data.pop(name, None)
    return client.post(url, data=data)


def _no_secret_in(rows, *secrets):
    text = repr(rows)
    return all(secret not in text for secret in secrets)


def test_an_edited_bot_is_audited_without_its_token(app, client, make_user, console_login, sandbox_bot):
    bot = sandbox_bot("clinic")
    console_login(client, make_user("admin", language="en"))
    saved = _edit(client, bot.bot_id, name="clinic-renamed", vertical="clinic", mode="polling", enabled=None)
    assert saved.status_code == 302, saved.text
    [row] = bots(app)
    assert (row.name, row.enabled) == ("clinic-renamed", False)
    rows = _audit(app)
    assert rows == [
        ("bot.disable", "True", "False", "console"),
        ("bot.update", f"name: {bot.name}", "name: clinic-renamed", "console"),
    ]
    assert _no_secret_in(rows, bot.token, bot.token.split(":")[1])


def test_a_new_token_is_audited_as_replaced_never_with_its_value(
    app, client, make_user, console_login, sandbox, sandbox_bot, live_server
):
    bot = sandbox_bot("clinic")
    fresh = sandbox.create_bot("rotated_bot")
    console_login(client, make_user("superuser", language="en"))
    [row] = bots(app)
    organization = str(row.organization_id)  # as the superuser's form shows it
    saved = _edit(
        client, bot.bot_id, name=bot.name, token=fresh["token"], is_sandbox="y", organization_choice=organization
    )
    assert saved.status_code == 302, saved.text
    rows = _audit(app)
    assert [row[0] for row in rows] == ["bot.token_change"] and rows[0][1:3] == (None, None)
    assert _no_secret_in(rows, fresh["token"], fresh["token"].split(":")[1], bot.token)


def test_a_new_bot_is_audited_with_its_card(app, client, make_user, console_login, sandbox, live_server):
    info = sandbox.create_bot("audited_new_bot")
    console_login(client, make_user("admin", language="en"))
    page = client.get("/admin/bots/new/")
    saved = client.post("/admin/bots/new/", data=form_data(page.text, name="desk-main", token=info["token"],
                                                           vertical="helpdesk", is_sandbox="y"))  # fmt: skip
    assert saved.status_code == 302, saved.text
    [row] = bots(app)
    [(action, old, new, source)] = _audit(app)
    assert (action, old, source) == ("bot.create", None, "console")
    assert new == f"name: desk-main; vertical: helpdesk; enabled: True; organization_id: {row.organization_id}"
    assert info["token"].split(":")[1] not in new


def test_a_taken_name_or_token_is_refused_and_nothing_is_written(app, client, make_user, console_login, sandbox_bot):
    first, second = sandbox_bot("clinic"), sandbox_bot("clinic")
    console_login(client, make_user("admin", language="en"))
    refused = _edit(client, second.bot_id, name=first.name, enabled=None)
    assert refused.status_code == 200 and "Already exists." in refused.text  # the form's unique check
    refused = _edit(client, second.bot_id, name="renamed", token=first.token, enabled=None)
    assert refused.status_code == 200 and "This token belongs to another bot." in refused.text  # the service's
    assert [(b.name, b.enabled) for b in bots(app)] == [(first.name, True), (second.name, True)]
    assert _audit(app) == []


def test_another_organizations_admin_cannot_change_a_bot(
    app, client, make_user, make_organization, console_login, sandbox_bot
):
    bot = sandbox_bot("clinic")
    other = make_organization("Other clinic")
    console_login(client, make_user("admin", organization=other, language="en"))
    forged = _edit(client, bot.bot_id, "/admin/users/", name="hijacked", enabled=None)
    assert forged.status_code == 302  # "not found": back to the list
    assert [(b.name, b.enabled) for b in bots(app)] == [(bot.name, True)]
    assert _audit(app) == []
