"""Issue 12's auth findings, each written as the attack it was on the old code."""

from __future__ import annotations

import pytest

from tests.conftest import make_app


def _unknown(response):
    """What seed 000's client gets for an id nobody registered: 404 and no token."""
    assert response.status_code == 404, response.text
    assert "access" not in response.get_json()


@pytest.mark.parametrize("role", ["superuser", "admin", "moderator", "doctor", "realtor", "helper", "marketer"])
def test_chat_id_login_never_reaches_a_staff_account(client, make_user, role):
    make_user(role, telegram_id=9100)
    _unknown(client.post("/api/auth/telegram-login/", json={"telegram_chat_id": "9100"}))


def test_chat_id_login_refuses_a_customer_with_a_password(client, make_user):
    """A password means a console login exists for the account: it is not a bot customer's."""
    make_user(telegram_id=9101)
    _unknown(client.post("/api/auth/telegram-login/", json={"telegram_chat_id": "9101"}))


def test_chat_id_login_serves_a_customer(client, make_user):
    make_user(telegram_id=9102, password=None)
    r = client.post("/api/auth/telegram-login/", json={"telegram_chat_id": "9102"})
    assert r.status_code == 200 and r.get_json()["access"]


def test_chat_id_register_over_a_staff_account_issues_nothing(client, make_user):
    make_user("admin", telegram_id=9103)
    r = client.post("/api/auth/telegram-register/", json={"telegram_chat_id": "9103"})
    assert r.status_code == 409 and "access" not in r.get_json()


def test_chat_id_login_needs_the_service_credential_outside_embedded(make_user, app):
    guarded = make_app(TELEGRAM_LOGIN_REQUIRES_SERVICE_AUTH=True)
    client = guarded.test_client()
    make_user(telegram_id=9104, password=None)
    for path in ("/api/auth/telegram-login/", "/api/auth/telegram-register/"):
        assert client.post(path, json={"telegram_chat_id": "9104"}).status_code == 401
    secret = {"Authorization": f"Bearer {guarded.config['TELEGRAM_BOT_API_SECRET']}"}
    r = client.post("/api/auth/telegram-login/", json={"telegram_chat_id": "9104"}, headers=secret)
    assert r.status_code == 200 and r.get_json()["access"]


def test_telegram_auth_tells_an_anonymous_caller_nothing(client, make_user):
    make_user(telegram_id=9105, password=None, phone="+998901110099")
    registered = client.post("/api/auth/telegram-auth/", json={"telegram_chat_id": "9105"})
    unknown = client.post("/api/auth/telegram-auth/", json={"telegram_chat_id": "9106"})
    assert registered.status_code == unknown.status_code == 200
    assert registered.get_json() == unknown.get_json() == {"authenticated": False, "user": None}


def test_telegram_auth_answers_the_account_holder_and_the_bot_backend(app, client, make_user, auth_header):
    user = make_user(telegram_id=9107, password=None)
    other = make_user(telegram_id=9108, password=None)
    mine = client.post("/api/auth/telegram-auth/", json={"telegram_chat_id": "9107"}, headers=auth_header(user))
    assert mine.get_json()["authenticated"] is True and mine.get_json()["user"]["id"] == str(user.id)
    theirs = client.post("/api/auth/telegram-auth/", json={"telegram_chat_id": "9107"}, headers=auth_header(other))
    assert theirs.get_json() == {"authenticated": False, "user": None}
    secret = {"Authorization": f"Bearer {app.config['TELEGRAM_BOT_API_SECRET']}"}
    backend = client.post("/api/auth/telegram-auth/", json={"telegram_chat_id": "9107"}, headers=secret)
    assert backend.get_json()["authenticated"] is True


# --- tokens -------------------------------------------------------------------------------------------


def test_jwt_in_query_string_is_refused_on_api_routes(client, make_user, tokens_for):
    access = tokens_for(make_user())["access"]
    assert client.get(f"/api/v1/auth/me?token={access}").status_code == 401
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {access}"}).status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_family(client, make_user, tokens_for):
    first = tokens_for(make_user())
    second = client.post("/api/token/refresh/", json={"refresh": first["refresh"]}).get_json()
    third = client.post("/api/token/refresh/", json={"refresh": second["refresh"]}).get_json()
    # Someone replays the stolen first refresh token: refused, and the whole family dies.
    assert client.post("/api/token/refresh/", json={"refresh": first["refresh"]}).status_code == 401
    assert client.post("/api/token/refresh/", json={"refresh": third["refresh"]}).status_code == 401
    for pair in (second, third):
        assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {pair['access']}"}).status_code == 401


def test_logout_revokes_every_token_of_the_session(client, make_user, tokens_for):
    user = make_user()
    login = tokens_for(user)
    rotated = client.post("/api/token/refresh/", json={"refresh": login["refresh"]}).get_json()
    other_session = tokens_for(user)
    headers = {"Authorization": f"Bearer {rotated['access']}"}
    assert client.post("/api/auth/logout/", json={}, headers=headers).status_code == 200
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {login['access']}"}).status_code == 401
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert client.post("/api/token/refresh/", json={"refresh": rotated["refresh"]}).status_code == 401
    # Another login (another device) is another session and stays valid.
    other = {"Authorization": f"Bearer {other_session['access']}"}
    assert client.get("/api/v1/auth/me", headers=other).status_code == 200


def test_a_double_tapped_refresh_gets_the_same_pair_and_keeps_the_session(app, live_server, make_user, tokens_for):
    import threading

    import requests

    from webapp.core.auth.tokens import ROTATED_KEY
    from webapp.extensions import redis_store

    login = tokens_for(make_user())
    barrier, answers = threading.Barrier(4), []

    def refresh() -> None:
        barrier.wait()
        answers.append(requests.post(f"{live_server.url}/api/token/refresh/", json={"refresh": login["refresh"]}))

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * 4
    pairs = {(a.json()["access"], a.json()["refresh"]) for a in answers}
    assert len(pairs) == 1  # one rotation, one new pair, whoever asked
    ((access, refresh),) = pairs
    me = requests.get(f"{live_server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 200
    # Once the grace is over, the old token coming back is a replay: the whole session ends.
    with app.app_context():
        from flask_jwt_extended import decode_token

        redis_store.client.delete(ROTATED_KEY.format(jti=decode_token(login["refresh"])["jti"]))
    replay = requests.post(f"{live_server.url}/api/token/refresh/", json={"refresh": login["refresh"]})
    assert replay.status_code == 401
    me = requests.get(f"{live_server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 401
    assert requests.post(f"{live_server.url}/api/token/refresh/", json={"refresh": refresh}).status_code == 401
