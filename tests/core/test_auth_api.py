"""Every auth path of seeds 000, 003 and 004: success, bad input, tokens' life cycle."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from webapp.core.auth.initdata import sign_init_data

SEED_000_TOKEN_ERROR = {
    "detail": "Given token not valid for any token type",
    "code": "token_not_valid",
}


def count_users(app):
    from webapp.core.models import User
    from webapp.extensions import db

    with app.app_context():
        return db.session.scalar(db.select(db.func.count(User.id)))


def assert_error(response, status, field=None):
    assert response.status_code == status, response.text
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}
    if field:
        assert field in [d["field"] for d in body["error"]["details"]], body


# --- seed 000 ----------------------------------------------------------------------------------------


def test_register_returns_tokens_and_seed_user(client, app):
    r = client.post(
        "/api/auth/telegram-register/",
        json={"telegram_chat_id": "123456789", "phone_number": "+998 90 123 45 67", "language": "ru"},
    )
    assert r.status_code == 201, r.text
    body = r.get_json()
    assert body["access"] and body["refresh"]
    assert body["user"]["phone_number"] == "+998901234567"
    assert body["user"]["language"] == "ru" and body["user"]["is_active"] is True
    assert len(body["user"]["id"]) == 36  # uuid


def test_register_twice_is_a_conflict_and_writes_nothing(client, app):
    payload = {"telegram_chat_id": "555", "language": "uz"}
    assert client.post("/api/auth/telegram-register/", json=payload).status_code == 201
    before = count_users(app)
    assert_error(client.post("/api/auth/telegram-register/", json=payload), 409)
    assert count_users(app) == before


@pytest.mark.parametrize(
    "payload,field",
    [
        ({}, "telegram_chat_id"),
        ({"telegram_chat_id": "abc"}, "telegram_chat_id"),
        ({"telegram_chat_id": ["1"]}, "telegram_chat_id"),
        ({"telegram_chat_id": "1", "phone_number": "not a phone"}, "phone_number"),
        ({"telegram_chat_id": "1", "phone_number": 12}, "phone_number"),
    ],
)
def test_register_rejects_bad_input(client, app, payload, field):
    assert_error(client.post("/api/auth/telegram-register/", json=payload), 422, field)
    assert count_users(app) == 0


def test_garbage_json_is_a_400(client, app):
    r = client.post("/api/auth/telegram-register/", data="{not json", content_type="application/json")
    assert_error(r, 400)
    r = client.post("/api/auth/telegram-register/", data=json.dumps([1, 2]), content_type="application/json")
    assert r.status_code in (400, 422)
    assert count_users(app) == 0


def test_login_by_chat_id(client, make_user):
    make_user(telegram_id=777, phone="+998901112233", password=None)
    r = client.post("/api/auth/telegram-login/", json={"telegram_chat_id": "777"})
    assert r.status_code == 200 and r.get_json()["access"]
    r = client.post("/api/auth/telegram-login/", json={"telegram_chat_id": 777, "phone_number": "+998901112233"})
    assert r.status_code == 200
    assert_error(
        client.post("/api/auth/telegram-login/", json={"telegram_chat_id": "777", "phone_number": "+998901112299"}),
        401,
    )
    assert_error(client.post("/api/auth/telegram-login/", json={"telegram_chat_id": "778"}), 404)


def test_blocked_user_cannot_log_in(client, make_user):
    make_user(telegram_id=42, active=False, password=None)
    assert_error(client.post("/api/auth/telegram-login/", json={"telegram_chat_id": "42"}), 403)


def test_telegram_auth_check(app, client, make_user):
    make_user(telegram_id=31, password=None)
    backend = {"Authorization": f"Bearer {app.config['TELEGRAM_BOT_API_SECRET']}"}
    check = client.post("/api/auth/telegram-auth/", json={"telegram_chat_id": "31"}, headers=backend).get_json()
    assert check["authenticated"] and set(check["user"]) == {"id", "phone_number", "language", "is_active"}
    missing = client.post("/api/auth/telegram-auth/", json={"telegram_chat_id": "32"}, headers=backend).get_json()
    assert missing == {"authenticated": False, "user": None}


def test_refresh_rotates_and_old_refresh_is_dead(client, make_user, tokens_for):
    user = make_user()
    pair = tokens_for(user)
    r = client.post("/api/token/refresh/", json={"refresh": pair["refresh"]})
    assert r.status_code == 200, r.text
    fresh = r.get_json()
    assert fresh["access"] and fresh["refresh"] and fresh["refresh"] != pair["refresh"]
    fresh = client.post("/api/token/refresh/", json={"refresh": fresh["refresh"]}).get_json()
    assert fresh["refresh"]
    again = client.post("/api/token/refresh/", json={"refresh": pair["refresh"]})
    assert again.status_code == 401
    assert again.get_json()["code"] == "token_not_valid"
    assert again.get_json()["messages"][0]["token_type"] == "refresh"


def test_refresh_refuses_an_access_token(client, make_user, tokens_for):
    pair = tokens_for(make_user())
    r = client.post("/api/token/refresh/", json={"refresh": pair["access"]})
    assert r.status_code == 401 and r.get_json()["code"] == "token_not_valid"


def test_expired_access_token_gets_seed_000_body(client, app, make_user):
    from flask_jwt_extended import create_access_token

    user = make_user()
    with app.app_context():
        token = create_access_token(identity=str(user.id), expires_delta=timedelta(seconds=-5))
    r = client.post("/api/auth/logout/", json={}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    body = r.get_json()
    assert {k: body[k] for k in SEED_000_TOKEN_ERROR} == SEED_000_TOKEN_ERROR
    assert body["messages"] == [
        {"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid or expired"}
    ]


def test_garbage_token_gets_seed_000_body(client):
    r = client.post("/api/auth/logout/", json={}, headers={"Authorization": "Bearer abc.def.ghi"})
    assert r.status_code == 401 and r.get_json()["code"] == "token_not_valid"


def test_logout_revokes_access_and_refresh(client, make_user, tokens_for):
    user = make_user()
    pair = tokens_for(user)
    headers = {"Authorization": f"Bearer {pair['access']}"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert client.post("/api/auth/logout/", json={"refresh": pair["refresh"]}, headers=headers).status_code == 200
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert client.post("/api/token/refresh/", json={"refresh": pair["refresh"]}).status_code == 401


def test_blocked_user_token_stops_working(client, app, make_user, auth_header):
    from webapp.core.services import get_user
    from webapp.extensions import db

    user = make_user()
    headers = auth_header(user)
    with app.app_context():
        get_user(user.id).is_active = False
        db.session.commit()
    assert_error(client.get("/api/v1/auth/me", headers=headers), 403)


# --- seed 003: WebApp initData -----------------------------------------------------------------------

BOT_TOKEN = "123456:TEST-default-bot-token"


@pytest.fixture
def webapp_app(app):
    app.config["TELEGRAM_BOT_TOKEN"] = BOT_TOKEN
    yield app
    app.config["TELEGRAM_BOT_TOKEN"] = ""


def init_data(token=BOT_TOKEN, auth_date=None, user=None, include_hash=True):
    from urllib.parse import urlencode

    fields = {
        "auth_date": str(int(auth_date if auth_date is not None else time.time())),
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(user or {"id": 279058397, "first_name": "Vlad", "username": "vlad", "language_code": "ru"}),
    }
    digest = sign_init_data(fields, token)
    if include_hash:
        fields["hash"] = digest
    return urlencode(fields), digest


def test_webapp_login_creates_user_and_returns_seed_shape(client, webapp_app):
    data, _ = init_data()
    r = client.post("/api/v1/auth/telegram", json={"initData": data})
    assert r.status_code == 200, r.text
    body = r.get_json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["user"]["telegram_id"] == 279058397 and body["user"]["role"] == "USER"
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.get_json()["username"] == "vlad"
    again = client.post("/api/v1/auth/telegram", json={"initData": data})
    assert again.get_json()["user"]["id"] == body["user"]["id"]


def test_webapp_hash_in_separate_field(client, webapp_app):
    data, digest = init_data(include_hash=False)
    assert client.post("/api/v1/auth/telegram", json={"initData": data, "hash": digest}).status_code == 200


def test_webapp_wrong_hash_stale_or_foreign_refused(client, app, webapp_app):
    data, digest = init_data()
    assert_error(client.post("/api/v1/auth/telegram", json={"initData": data.replace("Vlad", "Evil")}), 401)
    stale, _ = init_data(auth_date=time.time() - 25 * 3600)
    assert_error(client.post("/api/v1/auth/telegram", json={"initData": stale}), 401)
    foreign, _ = init_data(token="999:other-bot")
    assert_error(client.post("/api/v1/auth/telegram", json={"initData": foreign}), 401)
    assert_error(client.post("/api/v1/auth/telegram", json={"initData": "%%%"}), 401)
    assert_error(client.post("/api/v1/auth/telegram", json={}), 422, "initData")
    assert count_users(app) == 0


def test_webapp_accepts_any_enabled_bot_token(client, app):
    from webapp.extensions import db
    from webapp.telegram.models import Bot
    from webapp.telegram.tokens import set_bot_token

    with app.app_context():
        bot = Bot(name="clinic", vertical="clinic")
        set_bot_token(bot, "777:clinic-token")
        db.session.add(bot)
        db.session.commit()
    data, _ = init_data(token="777:clinic-token")
    assert client.post("/api/v1/auth/telegram", json={"initData": data}).status_code == 200


def test_profile_update(client, make_user, auth_header):
    user = make_user()
    other = make_user(username="taken_name")
    headers = auth_header(user)
    r = client.put("/api/v1/auth/profile", json={"first_name": "Ann", "username": "ann_1"}, headers=headers)
    assert r.status_code == 200 and r.get_json()["first_name"] == "Ann"
    assert_error(client.put("/api/v1/auth/profile", json={"username": other.username}, headers=headers), 409)
    assert_error(client.put("/api/v1/auth/profile", json={"username": "a b"}, headers=headers), 422, "username")


# --- seed 004 ----------------------------------------------------------------------------------------


def test_staff_login_by_username_and_email(client, make_user):
    user = make_user("admin")
    for login in (user.username, user.email.upper()):
        key = "email" if "@" in login else "username"
        r = client.post("/api/login/", json={key: login, "password": user.password})
        assert r.status_code == 200, r.text
        assert r.get_json()["access"]


def test_staff_login_wrong_password(client, make_user):
    user = make_user("admin")
    r = client.post("/api/login/", json={"username": user.username, "password": "nope"})
    assert r.status_code == 401 and r.get_json() == {"detail": "Invalid credentials"}
    r = client.post("/api/login/", json={"username": "1", "password": "1"})
    assert r.status_code == 401 and r.get_json() == {"detail": "Invalid credentials"}
    assert client.post("/api/login/", json={"username": user.username}).status_code == 422


def test_bot_token_life_cycle(client, make_user, auth_header):
    admin = make_user("admin")
    r = client.post("/api/generate_bot_token/", json={}, headers=auth_header(admin))
    assert r.status_code == 201, r.text
    body = r.get_json()
    assert body["bot_token"].startswith("bot_") and body["expires_at"] is None
    token = body["bot_token"]
    assert client.get("/api/auth/service/", headers={"X-Bot-Token": token}).status_code == 200
    r = client.get("/api/auth/service/", headers={"X-Bot-Token": "test_token"})
    assert r.status_code == 401 and r.get_json() == {"detail": "Invalid bot token"}
    listed = client.get("/api/bot_tokens/", headers=auth_header(admin)).get_json()
    assert token not in json.dumps(listed)
    assert client.delete(f"/api/bot_tokens/{body['id']}/", headers=auth_header(admin)).status_code == 200
    r = client.get("/api/auth/service/", headers={"X-Bot-Token": token})
    assert r.status_code == 401 and r.get_json() == {"detail": "Invalid bot token"}


def test_bot_token_with_expiry(client, make_user, auth_header):
    admin = make_user("admin")
    r = client.post("/api/generate_bot_token/", json={"expires_in_days": 30}, headers=auth_header(admin))
    assert r.get_json()["expires_at"].endswith("Z")
    r = client.post("/api/generate_bot_token/", json={"expires_in_days": 0}, headers=auth_header(admin))
    assert_error(r, 422, "expires_in_days")


def test_only_admins_generate_bot_tokens(client, make_user, auth_header):
    r = client.post("/api/generate_bot_token/", json={}, headers=auth_header(make_user("moderator")))
    assert r.status_code == 403 and "detail" in r.get_json()
    assert client.post("/api/generate_bot_token/", json={}).status_code == 401


def test_shared_secret_service_auth(client, app):
    secret = app.config["TELEGRAM_BOT_API_SECRET"]
    r = client.get("/api/auth/service/", headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 200 and r.get_json()["service"] == "shared_secret"


def test_health(client, app):
    r = client.get("/api/reports/health/")
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "ok" and body["tz"] == "Asia/Tashkent"
    assert body["db"] == "ok" and body["redis"] == "ok" and "T" in body["server_time"]


def test_login_is_rate_limited():
    from tests.conftest import make_app

    limited = make_app(AUTH_RATE_LIMIT="3 per minute")
    client = limited.test_client()
    statuses = [client.post("/api/login/", json={"username": "x", "password": "y"}).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    body = client.post("/api/login/", json={"username": "x", "password": "y"}).get_json()
    assert body == {"detail": "Request was throttled."}
    r = client.post("/api/auth/telegram-login/", json={"telegram_chat_id": "1"})
    r = [client.post("/api/auth/telegram-login/", json={"telegram_chat_id": "1"}) for _ in range(4)][-1]
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "RATE_LIMITED"


def test_nul_characters_and_nulls_are_refused(client, make_user, auth_header):
    headers = auth_header(make_user())
    r = client.put("/api/v1/auth/profile", json={"first_name": "A\x00B"}, headers=headers)
    assert_error(r, 422, "first_name")
    assert_error(client.put("/api/v1/auth/profile", json={"language": None}, headers=headers), 422, "language")
    huge = client.post("/api/auth/telegram-login/", json={"telegram_chat_id": "-17008228664296166118"})
    assert_error(huge, 422, "telegram_chat_id")


def test_health_documents_its_answer(client):
    """The OpenAPI document says what the health check answers, in success and when degraded."""
    operation = client.get("/api/openapi.json").get_json()["paths"]["/api/reports/health/"]["get"]
    for status in ("200", "503"):
        schema = operation["responses"][status]["content"]["application/json"]["schema"]
        assert "$ref" in schema or schema.get("properties"), (status, schema)
