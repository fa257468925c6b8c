"""Concurrent identical first contacts: N callers at once, through the real HTTP endpoints where one
exists, else through the service in app contexts of their own. Each get-or-create must leave one row,
and no caller may get a 500 or an exception."""

from __future__ import annotations

import json
import threading
import time

import requests

from webapp.core.auth.initdata import sign_init_data
from webapp.extensions import db

N = 10
TG_ID = 700_123_456
BOT_TOKEN = "123456:RACE-default-bot-token"


def race(fn, n: int = N) -> list:
    """Run ``fn(i)`` in ``n`` threads released together; every result, or the exception raised."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as exc:  # collected and asserted on below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racer hung"
    failures = [r for r in results if isinstance(r, Exception)]
    assert not failures, failures
    return results


def post_all(url: str, body: dict, headers: dict | None = None) -> list[requests.Response]:
    return race(lambda i: requests.post(url, json=body, headers=headers or {}, timeout=30))


def statuses(responses: list[requests.Response]) -> list[int]:
    codes = sorted(r.status_code for r in responses)
    assert 500 not in codes, [r.text for r in responses if r.status_code >= 500]
    return codes


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


def in_context(app, fn):
    """``fn`` in an app context of its own that commits, as a request or a bot update does."""

    def call(i: int):
        with app.app_context():
            try:
                value = fn(i)
                db.session.commit()
                return value
            finally:
                db.session.remove()

    return call


# --- Telegram accounts and users --------------------------------------------------------------------


def test_first_patient_upsert_over_http(app, live_server, frozen_clock, clinic_data):
    """A patient belongs to a clinic (``clinic_data``): ten first registrations at once make one."""
    from tests.clinic.test_api import _registration
    from webapp.clinic.models import Patient
    from webapp.core.models import TelegramAccount, User

    headers = {"Authorization": f"Bearer {app.config['TELEGRAM_BOT_API_SECRET']}"}
    responses = post_all(f"{live_server.url}/api/bot/patient/upsert/", _registration(TG_ID), headers)
    assert statuses(responses) == [200] * (N - 1) + [201]
    assert len({r.json()["patient_id"] for r in responses}) == 1
    assert count(app, TelegramAccount, TelegramAccount.telegram_user_id == TG_ID) == 1
    assert count(app, User) == 1
    assert count(app, Patient) == 1


def test_first_webapp_login_over_http(app, live_server):
    from webapp.core.models import TelegramAccount, User

    app.config["TELEGRAM_BOT_TOKEN"] = BOT_TOKEN
    try:
        fields = {
            "auth_date": str(int(time.time())),
            "user": json.dumps({"id": TG_ID, "first_name": "Vlad", "username": "vlad", "language_code": "ru"}),
        }
        fields["hash"] = sign_init_data(fields, BOT_TOKEN)
        from urllib.parse import urlencode

        responses = post_all(f"{live_server.url}/api/v1/auth/telegram", {"initData": urlencode(fields)})
    finally:
        app.config["TELEGRAM_BOT_TOKEN"] = ""
    assert statuses(responses) == [200] * N
    assert len({r.json()["user"]["id"] for r in responses}) == 1
    assert count(app, TelegramAccount, TelegramAccount.telegram_user_id == TG_ID) == 1
    assert count(app, User) == 1


def test_first_telegram_register_over_http(app, live_server):
    from webapp.core.models import TelegramAccount, User

    body = {"telegram_chat_id": TG_ID, "phone_number": "+998901234567", "language": "uz"}
    responses = post_all(f"{live_server.url}/api/auth/telegram-register/", body)
    assert statuses(responses) == [201] + [409] * (N - 1)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"ALREADY_REGISTERED"}
    assert count(app, TelegramAccount, TelegramAccount.telegram_user_id == TG_ID) == 1
    assert count(app, User) == 1


def test_one_phone_registered_by_two_telegram_users_at_once(app, live_server):
    from webapp.core.models import User

    def register(i: int):
        body = {"telegram_chat_id": TG_ID + i, "phone_number": "+998901234567"}
        return requests.post(f"{live_server.url}/api/auth/telegram-register/", json=body, timeout=30)

    responses = race(register)
    assert statuses(responses) == [201] + [409] * (N - 1)
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"PHONE_TAKEN"}
    assert count(app, User) == 1


def test_first_update_of_a_user_to_a_bot(app, sandbox_bot):
    """The bot worker's middleware path (two bot processes may see one user's first updates)."""
    from webapp.core.models import TelegramAccount, User
    from webapp.core.services import ensure_telegram_account

    bot = sandbox_bot("finance")
    ids = race(in_context(app, lambda i: ensure_telegram_account(bot.bot_id, TG_ID, first_name="Aru").id))
    assert len(set(ids)) == 1
    assert count(app, TelegramAccount) == 1
    assert count(app, User) == 1


def test_first_contacts_on_several_bots_at_once_make_one_person(app, sandbox_bot):
    """Telegram ids are global: whichever bots see a person first, at once, the person is one User."""
    from webapp.core.models import TelegramAccount, User
    from webapp.core.services import ServiceError, ensure_telegram_account, register_telegram_user

    bots = [sandbox_bot(vertical) for vertical in ("finance", "clinic", "realty", "helpdesk")]

    def first_contact(i: int):
        if i < len(bots):
            return ensure_telegram_account(bots[i].bot_id, TG_ID, first_name="Aru").user_id
        try:  # seed 000's registration (the default bot) joins the race
            return register_telegram_user(TG_ID, bot_id=None, first_name="Aru").id
        except ServiceError as refused:  # as it is for anyone a bot already knows
            assert refused.code == "ALREADY_REGISTERED"
            return None

    owners = race(in_context(app, first_contact), n=len(bots) + 1)
    registered = owners[-1] is not None
    assert len({owner for owner in owners if owner is not None}) == 1
    assert count(app, User) == 1
    assert count(app, TelegramAccount) == len(bots) + registered


def test_update_counters_lose_no_message(app, sandbox_bot):
    """Seed 000's BotSession counters are increments in SQL, not read-modify-write."""
    from webapp.core.models import TelegramAccount
    from webapp.core.services import count_message, ensure_telegram_account

    bot = sandbox_bot("finance")
    with app.app_context():
        ensure_telegram_account(bot.bot_id, TG_ID)
        db.session.commit()

    def message(i: int):
        count_message(ensure_telegram_account(bot.bot_id, TG_ID), voice=i % 2 == 0, command=i % 5 == 0)

    race(in_context(app, message))
    with app.app_context():
        account = db.session.scalar(db.select(TelegramAccount))
        assert (account.messages_count, account.voice_messages_count, account.commands_executed) == (N, N // 2, 2)


# --- per-vertical get-or-creates -----------------------------------------------------------------


def test_first_favourite_over_http(app, live_server, realty_world, auth_header):
    from webapp.realty.models import Favorite

    url = f"{live_server.url}/api/v1/realty/favorites/"
    responses = post_all(url, {"listing_id": realty_world.listing_a.id}, auth_header(realty_world.guest))
    assert statuses(responses) == [201] * N
    assert count(app, Favorite) == 1


def test_first_categories_over_http(app, live_server, fin_user, auth_header):
    from webapp.finance.models import Category

    headers = auth_header(fin_user)
    responses = race(lambda i: requests.get(f"{live_server.url}/api/categories/", headers=headers, timeout=30))
    assert statuses(responses) == [200] * N
    with app.app_context():
        from webapp.finance.services.ledger import DEFAULT_CATEGORIES

        assert count(app, Category) == len(DEFAULT_CATEGORIES)


def test_first_transaction_creates_one_wallet_over_http(app, live_server, fin_user, auth_header):
    from webapp.finance.models import Transaction, Wallet

    body = {"amount": "1000.00", "type": "expense", "description": "Нон", "date": "2024-01-01T12:00:00Z"}
    responses = post_all(f"{live_server.url}/api/transactions/", body, auth_header(fin_user))
    assert statuses(responses) == [201] * N
    assert count(app, Wallet) == 1
    assert count(app, Transaction) == N


def test_report_subscription(app, make_user):
    from webapp.core.services import get_user
    from webapp.reports.models import ReportSubscription
    from webapp.reports.services import subscribe

    admin = make_user("moderator", telegram_id=TG_ID)  # a reader of every agency's reports
    race(in_context(app, lambda i: subscribe(get_user(admin.id), None, TG_ID)))
    assert count(app, ReportSubscription) == 1


def test_helpdesk_alert_subscription(app, make_user, sandbox_bot):
    from webapp.core.services import get_user
    from webapp.helpdesk.models import HelperAlertSubscription
    from webapp.helpdesk.services.telegram import set_alerts

    bot = sandbox_bot("helpdesk")
    helper = make_user("helper", telegram_id=TG_ID)
    race(in_context(app, lambda i: set_alerts(get_user(helper.id), bot.bot_id, True)))
    assert count(app, HelperAlertSubscription) == 1


def test_environment_bot_registered_by_every_process_at_once(app):
    """``manage.py demo`` starts the web server and the bot worker together; both register the bot."""
    from webapp.telegram.models import Bot
    from webapp.telegram.services import upsert_env_bot

    app.config.update(TELEGRAM_BOT_TOKEN="4242:ENV-bot-token-for-race", TELEGRAM_BOT_VERTICAL="finance")
    try:
        ids = race(in_context(app, lambda i: upsert_env_bot().id))
    finally:
        app.config.update(TELEGRAM_BOT_TOKEN="", TELEGRAM_BOT_VERTICAL="")
    assert len(set(ids)) == 1
    assert count(app, Bot) == 1


def test_realtor_put_in_an_agency_by_two_superusers_at_once(app, realty_world):
    from webapp.core.models import Membership
    from webapp.core.services import get_user
    from webapp.realty.services.agencies import get_agency, set_membership

    w = realty_world
    with app.app_context():
        db.session.execute(db.delete(Membership).where(Membership.user_id == w.realtor_a.id))
        db.session.commit()

    def join(i: int):
        set_membership(get_user(w.superuser.id), get_user(w.realtor_a.id), get_agency(w.b.id))

    race(in_context(app, join))
    with app.app_context():
        [member] = db.session.scalars(db.select(Membership).filter_by(user_id=w.realtor_a.id)).all()
        assert member.organization_id == w.b.organization_id


def test_agency_created_by_two_superusers_at_once(app, realty_world):
    """Two superusers open the same agency at once: one agency, one organization, and the other
    superuser is told the name is taken (never a crash, never an orphan organization)."""
    from webapp.core.models import Organization
    from webapp.core.services import ServiceError, get_user
    from webapp.realty.models import Agency
    from webapp.realty.services.agencies import create_agency

    w = realty_world

    def create(i: int):
        try:
            create_agency(get_user(w.superuser.id), {"name": "Racing Rooms", "city": "Tashkent"})
            return "created"
        except ServiceError as exc:
            return exc.code

    outcomes = race(in_context(app, create))
    assert sorted(set(outcomes)) <= ["CONFLICT", "created"] and outcomes.count("created") >= 1
    with app.app_context():
        [agency] = db.session.scalars(db.select(Agency).filter_by(name="Racing Rooms")).all()
        [organization] = db.session.scalars(db.select(Organization).filter_by(name="Racing Rooms")).all()
        assert agency.organization_id == organization.id


# --- claims: the insert-if-absent that makes a job's side effect happen once -----------------------


def test_reminder_claimed_by_one_of_many_scans(app, clinic_data):
    from tests.clinic.test_reminders import TUESDAY, _book
    from tests.fixtures.clinic import MONDAY, at
    from webapp.clinic.models import ReminderLog
    from webapp.clinic.services import reminders

    with app.app_context():
        _book(clinic_data, at(TUESDAY, 10))
        [due] = reminders.due_reminders(at(MONDAY, 10))
    claims = race(in_context(app, lambda i: reminders.claim(due, at(MONDAY, 10)) is not None))
    assert sorted(claims) == [False] * (N - 1) + [True]
    assert count(app, ReminderLog) == 1


def test_outbox_message_written_once(app, make_user, hd_ticket):
    from webapp.core.services import get_user
    from webapp.helpdesk.services import notify
    from webapp.helpdesk.services.tickets import get_ticket
    from webapp.telegram.models import Bot, OutboundMessage
    from webapp.telegram.outbox import Chat

    customer = make_user("user", telegram_id=TG_ID)
    ticket = hd_ticket(customer)
    with app.app_context():
        bot = Bot(name="race_desk", vertical="helpdesk", token_encrypted="x", token_fingerprint="r" * 64)
        db.session.add(bot)
        db.session.commit()
        bot_id = bot.id
        before = db.session.scalar(db.select(db.func.count(OutboundMessage.id)))

    def write(i: int) -> bool:
        user = get_user(customer.id)
        chat = Chat(bot_id, TG_ID, user.id)
        return notify.deliver("ticket-reply:1", get_ticket(ticket.id), user, chat, "hello") is not None

    assert sorted(race(in_context(app, write))) == [False] * (N - 1) + [True]
    assert count(app, OutboundMessage) == before + 1
