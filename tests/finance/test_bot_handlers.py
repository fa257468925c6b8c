"""The finance bot's module-level handlers registered alone on a sandbox bot: the debts list and
its buttons, and buttons forged with another user's debt or an unknown action."""

from __future__ import annotations

import pytest

from tests.fixtures.handlers import press_forged
from tests.fixtures.telegram import eventually, say

STALE_RU = "Эта кнопка больше не активна."


def _register(bot) -> None:
    from botworker.finance import handlers

    bot.register_message_handler(handlers.show_debts, commands=["debts"], pass_bot=True)
    bot.register_callback_query_handler(handlers.button, func=handlers.FIN.matches, pass_bot=True)


@pytest.fixture
def debts_bot(handler_bot):
    return handler_bot("finance", _register)


def _debt_of(app, make_user, telegram_id=None):
    from webapp.core.models import User
    from webapp.extensions import db
    from webapp.finance.models import DebtDirection
    from webapp.finance.services import ledger

    owner = make_user("user", telegram_id=telegram_id)
    with app.app_context():
        debt = ledger.add_debt(db.session.get(User, owner.id), "Ахмед", DebtDirection.OWED_TO_ME.value, 300000)
        db.session.commit()
        return debt.id


def _settled(app, debt_id) -> bool:
    from webapp.extensions import db
    from webapp.finance.models import Debt

    with app.app_context():
        return db.session.get(Debt, debt_id).settled


def test_show_debts_alone_lists_the_users_open_debts(sandbox, debts_bot, tg_user):
    user = tg_user(debts_bot)
    assert say(sandbox, debts_bot, user, "/debts")["text"].startswith("💳 У вас нет открытых долгов.")


def test_a_forged_settle_button_with_another_users_debt_is_refused(app, sandbox, debts_bot, tg_user, make_user):
    user = tg_user(debts_bot)
    say(sandbox, debts_bot, user, "/debts")  # first contact: the account exists
    debt_id = _debt_of(app, make_user)
    _, answer = press_forged(sandbox, debts_bot, user, f"fin:ds:{debt_id}")
    assert answer["answered"] and answer["text"] == STALE_RU
    assert not _settled(app, debt_id)


@pytest.mark.parametrize("data", ["fin:zz:1", "fin:ok:nosuchpid", "fin:undo:x:1", "fin:gd:notanid"])
def test_unknown_or_stale_finance_buttons_get_a_polite_answer(sandbox, debts_bot, tg_user, data):
    user = tg_user(debts_bot)
    _, answer = press_forged(sandbox, debts_bot, user, data)
    assert eventually(lambda: answer["answered"]) and answer["text"] == STALE_RU
