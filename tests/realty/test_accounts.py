"""/register and /link: e-mail through a real SMTP server, code TTL and attempts, the outbox fallback."""

from __future__ import annotations

import email
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from webapp.core.db import utcnow
from webapp.core.models import AuditLog, LinkCode, TelegramAccount
from webapp.core.services import ServiceError, ensure_telegram_account, get_user
from webapp.extensions import db
from webapp.realty.jobs import deliver_email
from webapp.realty.models import OutboxEmail
from webapp.realty.services.accounts import LinkOutcome, confirm_link, register_profile, start_link


def deliver_all() -> list[OutboxEmail]:
    rows = db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id)).all()
    for row in rows:
        deliver_email(row.id)
    return db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id)).all()


def code_from(message: dict) -> str:
    body = email.message_from_string(message["data"]).get_payload(decode=True).decode()
    return re.search(r"\b(\d{6})\b", body).group(1)


@pytest.fixture
def telegram_guest(app_ctx):
    account = ensure_telegram_account(None, 777001, first_name="Guest", language_code="en")
    db.session.commit()
    return account


def test_link_code_goes_by_smtp_and_links_every_bot_account(app_ctx, make_user, telegram_guest, smtp_server):
    staff = make_user("realtor", email="realtor@agency.test", language="en")
    start_link(telegram_guest, "Realtor@Agency.test")
    db.session.commit()
    [row] = deliver_all()
    assert row.status == "sent" and row.sent_at is not None
    [message] = smtp_server.messages
    assert message["to"] == ["realtor@agency.test"]
    code = code_from(message)
    result = confirm_link(telegram_guest, code)
    db.session.commit()
    assert result.outcome == LinkOutcome.LINKED and result.user.id == staff.id
    assert db.session.get(TelegramAccount, telegram_guest.id).user_id == staff.id
    assert (
        db.session.scalar(sa.select(AuditLog.action).where(AuditLog.target_id == str(staff.id))) == "user.link_telegram"
    )
    # The code is spent.
    assert confirm_link(telegram_guest, code).outcome == LinkOutcome.NO_CODE


def test_three_wrong_attempts_burn_the_code(app_ctx, make_user, telegram_guest, smtp_server):
    make_user("admin", email="boss@agency.test")
    start_link(telegram_guest, "boss@agency.test")
    db.session.commit()
    deliver_all()
    code = code_from(smtp_server.messages[-1])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    outcomes = []
    for _ in range(3):
        result = confirm_link(telegram_guest, wrong)
        db.session.commit()  # the bot commits after each try, so the count survives
        outcomes.append((result.outcome, result.attempts_left))
    assert outcomes == [
        (LinkOutcome.WRONG_CODE, 2),
        (LinkOutcome.WRONG_CODE, 1),
        (LinkOutcome.TOO_MANY_ATTEMPTS, 0),
    ]
    # Even the right code no longer works; a new code is needed.
    assert confirm_link(telegram_guest, code).outcome == LinkOutcome.TOO_MANY_ATTEMPTS
    start_link(telegram_guest, "boss@agency.test")
    db.session.commit()
    deliver_all()
    assert confirm_link(telegram_guest, code_from(smtp_server.messages[-1])).outcome == LinkOutcome.LINKED


def test_code_expires_after_ttl(app_ctx, make_user, telegram_guest, smtp_server):
    make_user("admin", email="boss@agency.test")
    row = start_link(telegram_guest, "boss@agency.test")
    db.session.commit()
    deliver_all()
    assert row.expires_at - row.created_at == timedelta(minutes=10)
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert confirm_link(telegram_guest, code_from(smtp_server.messages[-1])).outcome == LinkOutcome.EXPIRED


def test_a_new_code_replaces_the_old_one(app_ctx, make_user, telegram_guest, smtp_server):
    make_user("admin", email="boss@agency.test")
    start_link(telegram_guest, "boss@agency.test")
    start_link(telegram_guest, "boss@agency.test")
    db.session.commit()
    deliver_all()
    old, new = (code_from(m) for m in smtp_server.messages)
    assert db.session.scalar(sa.select(sa.func.count(LinkCode.id)).where(LinkCode.used_at.is_(None))) == 1
    if old != new:
        assert confirm_link(telegram_guest, old).outcome == LinkOutcome.WRONG_CODE
    assert confirm_link(telegram_guest, new).outcome == LinkOutcome.LINKED


def test_unknown_email_and_bad_address(app_ctx, telegram_guest):
    with pytest.raises(ServiceError) as err:
        start_link(telegram_guest, "nobody@nowhere.test")
    assert err.value.status == 404
    with pytest.raises(ServiceError) as err:
        start_link(telegram_guest, "not-an-email")
    assert (err.value.status, err.value.field) == (422, "email")


def test_without_mail_server_the_email_stays_in_the_outbox(app_ctx, app, make_user, telegram_guest):
    assert not app.config["MAIL_SERVER"]
    make_user("admin", email="boss@agency.test")
    start_link(telegram_guest, "boss@agency.test")
    db.session.commit()
    [row] = deliver_all()
    assert row.status == "kept" and re.search(r"\b\d{6}\b", row.body)


def test_unreachable_mail_server_is_recorded(app_ctx, app, make_user, telegram_guest):
    make_user("admin", email="boss@agency.test")
    start_link(telegram_guest, "boss@agency.test")
    db.session.commit()
    saved = app.config["MAIL_SERVER"], app.config["MAIL_PORT"]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=1)
    try:
        [row] = deliver_all()
    finally:
        app.config["MAIL_SERVER"], app.config["MAIL_PORT"] = saved
    assert row.status == "failed" and "Connection" in row.error


def test_register_sets_phone_and_email_and_welcomes(app_ctx, make_user, telegram_guest, smtp_server):
    user = get_user(telegram_guest.user_id)
    register_profile(user, "+998 90 555 44 33", "Guest@Mail.test")
    db.session.commit()
    assert (user.phone, user.email) == ("+998905554433", "guest@mail.test")
    deliver_all()
    assert smtp_server.messages[-1]["to"] == ["guest@mail.test"]
    make_user("user", email="taken@mail.test")
    with pytest.raises(ServiceError) as err:
        register_profile(user, "+998905554433", "taken@mail.test")
    assert err.value.code == "EMAIL_TAKEN"
    with pytest.raises(ServiceError) as err:
        register_profile(user, "12", "x@mail.test")
    assert err.value.status == 422
