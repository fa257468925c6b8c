"""The /sandbox chat page: who may open it, and what it hands the browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest


@pytest.fixture
def operator(app, make_user, console_login):
    """A test client signed into the console as a superuser, the one who may open the page."""

    def sign_in(language: str = "en"):
        client = app.test_client()
        console_login(client, make_user("superuser", language=language))
        return client

    return sign_in


def _page_config(html: str) -> dict:
    match = re.search(r'<script id="sandbox-config" type="application/json">(.*?)</script>', html, re.S)
    assert match, "page has no config block"
    return json.loads(match.group(1))


def test_page_renders_with_preselection(operator, sandbox_client):
    client = operator()
    bot = sandbox_client.create_bot("page_demo_bot")
    response = client.get(f"/sandbox?bot={bot['username']}&user=42", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    config = _page_config(response.text)
    assert config["api"] == "/sandbox/api"
    assert config["bot"] == "page_demo_bot" and config["user"] == "42"
    assert config["texts"]["Send"] == "Send" and config["csrf"]
    assert "sandbox/chat.js" in response.text
    assert client.get("/static/sandbox/chat.js").status_code == 200
    # The page's data comes from the ops API it points at.
    assert client.get(config["api"] + "/bots").get_json()[0]["username"] == "page_demo_bot"


def test_page_speaks_the_browser_language(operator):
    response = operator("kk").get("/sandbox", headers={"Accept-Language": "kk"})
    assert _page_config(response.text)["texts"]["Send"] == "Жіберу"
    assert "Telegram құмсалғышы" in response.text


def test_page_needs_a_superuser(app, client, make_user, console_login):
    anonymous = client.get("/sandbox")
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/admin/login?next=/sandbox")

    helper = app.test_client()
    console_login(helper, make_user("helper"))
    assert helper.get("/sandbox").status_code == 403

    moderator = app.test_client()
    console_login(moderator, make_user("moderator"))
    assert moderator.get("/sandbox").status_code == 403
    assert 'href="/sandbox"' not in moderator.get("/admin/").text

    superuser = app.test_client()
    console_login(superuser, make_user("superuser"))
    assert superuser.get("/sandbox").status_code == 200
    assert 'href="/sandbox"' in superuser.get("/admin/").text  # the console links to it


def test_page_script_goes_through_a_bot_flow(live_server, operator, echo_bot, sandbox_bot_ns, sandbox_client):
    """chat.js itself, run by Node against the live sandbox: create a user, /start, press a reply
    keyboard button (shares the contact), press an inline button (callback answer shown), type text."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed; the page script cannot be run without a browser")
    session = operator().get_cookie("session").value  # the page rides on a superuser's console session
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [
            node,
            str(Path(__file__).with_name("page_driver.js")),
            live_server.url,
            sandbox_bot_ns.username,
            str(root / "webapp/static/sandbox/chat.js"),
            f"session={session}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    user = sandbox_client.users(sandbox_bot_ns.token)[0]
    assert user["first_name"] == "Dana" and user["language_code"] == "en"
    sent_by_page = [m for m in sandbox_client.transcript(sandbox_bot_ns.token, user["chat_id"]) if not m["from_bot"]]
    assert [m.get("text") or m["contact"]["phone_number"] for m in sent_by_page] == [
        "/start",
        "+77017654321",
        "hello from the page",
    ]
