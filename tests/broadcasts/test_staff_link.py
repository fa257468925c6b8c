"""Staff link their own Telegram to a bot by a one-time deep link from their console profile
(``/start <code>``): expiry, single use, their own organization's bots only; then a test send works,
and without a link the error says how to make one, in the marketer's language."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from botworker import registry
from tests.conftest import csrf_from
from tests.fixtures.telegram import eventually, say
from webapp.broadcasts.services import lifecycle
from webapp.core import link_codes
from webapp.core.db import utcnow
from webapp.core.link_codes import StaffLink
from webapp.core.models import AuditLog, LinkCode, TelegramAccount, User
from webapp.core.tenancy import ensure_organization
from webapp.extensions import db

T0 = utcnow().replace(microsecond=0)


def _staff(make_user, role="marketer", **fields) -> User:
    return db.session.get(User, make_user(role, **fields).id)


# --- the service ---------------------------------------------------------------------------------


def test_a_code_links_the_senders_account_once(bc, make_user):
    marketer = _staff(make_user)
    bot = bc.bot("finance")
    account, stranger = bc.account(bot), bc.account(bot)
    customer_id = account.user_id
    code, expires_at = link_codes.issue_staff_code(marketer, now=T0)
    assert link_codes.is_staff_code(code) and len(code) <= 64 and expires_at == T0 + timedelta(minutes=10)
    assert code not in str(db.session.scalars(sa.select(LinkCode.code_hash)).all())  # only its digest is kept

    assert link_codes.redeem_staff_code(account, bot, code, now=T0 + timedelta(minutes=1)) == (
        StaffLink.LINKED,
        marketer,
    )
    assert account.user_id == marketer.id
    audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "user.link_telegram"))
    assert (audit.old_value, audit.new_value, audit.source) == (str(customer_id), str(account.telegram_user_id), "bot")
    # Single use: the same code from another chat (or again) links nothing.
    assert link_codes.redeem_staff_code(stranger, bot, code, now=T0 + timedelta(minutes=2))[0] == StaffLink.INVALID
    assert stranger.user_id != marketer.id


def test_a_code_expires_and_a_newer_one_replaces_it(bc, make_user):
    marketer = _staff(make_user)
    bot = bc.bot("finance")
    account = bc.account(bot)
    old, _ = link_codes.issue_staff_code(marketer, now=T0)
    late = T0 + timedelta(minutes=10)
    assert link_codes.redeem_staff_code(account, bot, old, now=late)[0] == StaffLink.EXPIRED

    first, _ = link_codes.issue_staff_code(marketer, now=late)
    second, _ = link_codes.issue_staff_code(marketer, now=late)
    assert link_codes.redeem_staff_code(account, bot, first, now=late)[0] == StaffLink.INVALID
    assert link_codes.redeem_staff_code(account, bot, "link-made-up", now=late)[0] == StaffLink.INVALID
    assert account.user_id != marketer.id
    assert link_codes.redeem_staff_code(account, bot, second, now=late)[0] == StaffLink.LINKED


def test_a_code_of_organization_a_is_refused_at_organization_bs_bot(bc, make_user):
    marketer = _staff(make_user)  # organization A: the test organization
    other = ensure_organization("Organization B")
    b_bot, a_bot = bc.bot("finance", organization=other.id), bc.bot("finance")
    at_b, at_a = bc.account(b_bot), bc.account(a_bot)
    code, _ = link_codes.issue_staff_code(marketer, now=T0)

    assert link_codes.redeem_staff_code(at_b, b_bot, code, now=T0)[0] == StaffLink.OTHER_ORGANIZATION
    assert at_b.user_id != marketer.id
    # Refused there, the code still works on the organization's own bot.
    assert link_codes.redeem_staff_code(at_a, a_bot, code, now=T0)[0] == StaffLink.LINKED


def test_a_blocked_staff_members_code_links_nothing(bc, make_user):
    marketer = _staff(make_user)
    bot = bc.bot("finance")
    account = bc.account(bot)
    code, _ = link_codes.issue_staff_code(marketer, now=T0)
    marketer.is_active = False
    assert link_codes.redeem_staff_code(account, bot, code, now=T0)[0] == StaffLink.INVALID


# --- the bots: /start <code> in the shared layer -------------------------------------------------


def _code_for(app, user_ns) -> str:
    with app.app_context():
        code, _ = link_codes.issue_staff_code(db.session.get(User, user_ns.id))
        db.session.commit()
        return code


@pytest.mark.parametrize("vertical", ["clinic", "realty", "helpdesk", "finance", "reports"])
def test_every_verticals_bot_links_on_start_with_a_code(
    app, sandbox, sandbox_bot, run_bot, tg_user, make_user, vertical
):
    marketer = make_user("marketer", language="kk", first_name="Dana", last_name="Marketer")
    bot = sandbox_bot(vertical)
    run_bot(bot)  # the vertical's own handlers: /start <code> is still the shared layer's
    user = tg_user(bot, language_code="ru")

    reply = say(sandbox, bot, user, f"/start {_code_for(app, marketer)}")

    assert reply["text"] == (
        "Дайын: бұл Telegram консольдегі Dana Marketer есептік жазбасына байланыстырылды. "
        "Осы боттың сынақ таратулары осында келеді."
    )

    def linked():
        with app.app_context():
            return (
                db.session.scalar(
                    sa.select(TelegramAccount.user_id).where(
                        TelegramAccount.bot_id == bot.bot_id, TelegramAccount.telegram_user_id == user.user_id
                    )
                )
                == marketer.id
            )

    assert eventually(linked)


def test_another_organizations_bot_refuses_the_code(app, sandbox, sandbox_bot, run_bot, tg_user, make_user):
    marketer = make_user("marketer")
    with app.app_context():
        other = ensure_organization("Organization B").id
        db.session.commit()
    bot = sandbox_bot("finance", organization=other)
    run_bot(bot, vertical=registry.defaults())
    user = tg_user(bot, language_code="ru")
    reply = say(sandbox, bot, user, f"/start {_code_for(app, marketer)}")
    assert reply["text"] == ("Эта ссылка не для этого бота: откройте ссылку бота вашей организации из профиля консоли.")
    with app.app_context():
        assert not db.session.scalars(sa.select(TelegramAccount).where(TelegramAccount.user_id == marketer.id)).all()


# --- the console ---------------------------------------------------------------------------------


@pytest.fixture
def two_bots(app, bc_factory):
    with app.app_context():
        other = ensure_organization("Organization B").id
        own = bc_factory.bot("finance", name="own-shop", username="own_shop_bot")
        foreign = bc_factory.bot("finance", name="zqx-foreign-shop", username="foreign_bot", organization=other)
        db.session.commit()
        return own.id, foreign.id


def test_profile_gives_a_link_for_the_own_organizations_bots_only(app, client, make_user, console_login, two_bots):
    own, foreign = two_bots
    console_login(client, make_user("marketer", language="ru"))
    page = client.get("/admin/profile/")
    assert page.status_code == 200
    assert "own-shop" in page.text and "zqx-foreign-shop" not in page.text and "Не привязан" in page.text

    refused = client.post("/admin/profile/link", data={"bot_id": foreign, "csrf_token": csrf_from(page.text)})
    assert refused.status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(LinkCode.id))) == 0

    issued = client.post("/admin/profile/link", data={"bot_id": own, "csrf_token": csrf_from(page.text)})
    assert issued.status_code == 200
    url = re.search(r'id="bd-link-url"[^>]*>(https://t\.me/own_shop_bot\?start=(link-[\w-]+))<', issued.text)
    assert url, issued.text
    assert f'<code id="bd-link-command">/start {url.group(2)}</code>' in issued.text
    assert "Действует один раз, до" in issued.text


def test_test_send_without_a_link_says_how_to_link(app, client, make_user, console_login, two_bots):
    own, _foreign = two_bots
    with app.app_context():
        broadcast = lifecycle.create_broadcast(None, bot_id=own, title="T", text="T")
        db.session.commit()
        broadcast_id = broadcast.id
    console_login(client, make_user("marketer", language="ru"))
    page = client.get(f"/admin/broadcasts/{broadcast_id}")
    assert 'id="bd-test-hint"' in page.text and 'href="/admin/profile/"' in page.text
    answer = client.post(
        f"/admin/broadcasts/{broadcast_id}/test", data={"csrf_token": csrf_from(page.text)}, follow_redirects=True
    )
    assert "Ваш Telegram ещё не привязан к боту own-shop. Откройте профиль" in answer.text
