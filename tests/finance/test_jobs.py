"""The daily debt reminder: sent through the finance bot the day before the due date, once per debt."""

from __future__ import annotations

from datetime import date

from webapp.extensions import db


def test_debt_due_tomorrow_is_reminded_once(app, sandbox, sandbox_bot, tg_user, make_user, compiled_catalogs):
    from webapp.core.services import ensure_telegram_account, get_user
    from webapp.finance.jobs import send_debt_reminders
    from webapp.finance.models import Debt
    from webapp.finance.services import ledger
    from webapp.telegram.jobs import deliver_pending

    bot = sandbox_bot("finance")
    chat = tg_user(bot, first_name="Имя")
    owner = make_user("user", language="ru")
    with app.app_context():
        user = get_user(owner.id)
        account = ensure_telegram_account(bot.bot_id, chat.user_id, chat_id=chat.chat_id, first_name="Имя")
        account.user_id = user.id
        ledger.add_debt(user, "Ахмед", "owed_to_me", "300000", due_date=date(2024, 3, 11))
        ledger.add_debt(user, "Later", "i_owe", "5", due_date=date(2024, 3, 20))
        settled = ledger.add_debt(user, "Paid", "i_owe", "7", due_date=date(2024, 3, 11))
        ledger.settle_debt(user, settled)
        db.session.commit()

        assert send_debt_reminders("2024-03-10") == 1
        assert send_debt_reminders("2024-03-10") == 0  # a second run (retry, overlap) writes nothing
        assert deliver_pending() == 1  # the outbox's job sends it
        reminded = db.session.scalars(db.select(Debt.counterparty).where(Debt.reminder_sent_at.is_not(None))).all()
        assert reminded == ["Ахмед"]

    messages = [m["text"] for m in sandbox.transcript(bot.token, chat.chat_id)]
    assert messages == ["⏰ Напоминание: завтра, 11.03.2024, срок долга.\nАхмед — 300,000 UZS (вам должны)."]


def test_reminder_without_a_finance_chat_is_claimed_but_not_sent(app_ctx, fin_user, load_user):
    from webapp.finance.jobs import send_debt_reminders
    from webapp.finance.models import Debt
    from webapp.finance.services import ledger

    user = load_user(fin_user)  # has a Telegram account, but with no finance bot
    ledger.add_debt(user, "Ахмед", "i_owe", "10", due_date=date(2024, 3, 11))
    db.session.commit()
    assert send_debt_reminders("2024-03-10") == 0
    assert db.session.scalar(db.select(Debt.reminder_sent_at)) is not None
