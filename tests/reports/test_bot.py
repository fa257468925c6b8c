"""The reports bot through the sandbox: commands answer admins, refuse others, the morning push."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.fixtures.telegram import eventually, say
from tests.realty.test_bot import link_account


@pytest.fixture
def reports_bot(sandbox_bot, run_bot):
    bot = sandbox_bot("reports")
    run_bot(bot)
    return bot


@pytest.fixture
def moderation_events(app, make_user):
    from webapp.extensions import db
    from webapp.realty.models import ModerationEvent

    owner = make_user("realtor", first_name="Aziz")
    with app.app_context():
        for action, city, hour in (("added", "Tashkent", 6), ("added", "Samarkand", 7), ("rejected", "Tashkent", 8)):
            db.session.add(
                ModerationEvent(
                    action=action, city=city, user_id=owner.id, occurred_at=datetime(2025, 9, 28, hour, tzinfo=UTC)
                )
            )
        db.session.commit()


def test_admin_gets_reports_on_commands(app, sandbox, reports_bot, tg_user, make_user, moderation_events):
    admin_tg = tg_user(reports_bot, language_code="en")
    link_account(app, make_user("admin"), reports_bot, admin_tg)
    daily = say(sandbox, reports_bot, admin_tg, "/daily 2025-09-28")
    assert "Moderation report for 2025-09-28" in daily["text"]
    assert "Added: 2" in daily["text"] and "Rejected: 1" in daily["text"] and "1. Tashkent — 2" in daily["text"]
    ranged = say(sandbox, reports_bot, admin_tg, "/range 2025-09-27 2025-09-29")
    assert "2025-09-27 — 2025-09-29" in ranged["text"] and "Added: 2" in ranged["text"]
    backwards = say(sandbox, reports_bot, admin_tg, "/range 2025-09-29 2025-09-27")
    assert backwards["text"].startswith("⚠️")
    garbage = say(sandbox, reports_bot, admin_tg, "/daily 28/09")
    assert garbage["text"].startswith("⚠️")


def test_non_staff_are_told_to_link(sandbox, reports_bot, tg_user):
    guest = tg_user(reports_bot, language_code="en")
    say(sandbox, reports_bot, guest, "/start")  # first contact: the language offer
    answer = say(sandbox, reports_bot, guest, "/daily")
    assert "/link" in answer["text"] and "Moderation report" not in answer["text"]


def test_morning_report_once_per_day(app, sandbox, reports_bot, tg_user, make_user, moderation_events):
    from webapp.extensions import db
    from webapp.reports.jobs import send_morning_reports
    from webapp.reports.models import ReportDelivery, ReportSubscription

    admin_tg = tg_user(reports_bot, language_code="en")
    admin = make_user("admin")
    link_account(app, admin, reports_bot, admin_tg)
    answer = say(sandbox, reports_bot, admin_tg, "/subscribe")
    assert "every morning" in answer["text"]

    def subscription_chat():
        with app.app_context():
            row = db.session.get(ReportSubscription, admin.id)
            return row.chat_id if row else None

    assert eventually(subscription_chat) == admin_tg.chat_id  # the worker commits just after its reply

    saved = app.config.get("REPORTS_MORNING_HOUR")
    app.config["REPORTS_MORNING_HOUR"] = 0  # any hour counts as morning for this test
    try:
        with app.app_context():
            assert send_morning_reports() == 1
            assert send_morning_reports() == 0  # the second run finds the day delivered
            [delivery] = db.session.scalars(sa.select(ReportDelivery)).all()
            yesterday = (datetime.now(UTC) + timedelta(hours=5)).date() - timedelta(days=1)
            assert (delivery.status, delivery.report_date) == ("sent", yesterday)
    finally:
        if saved is None:
            app.config.pop("REPORTS_MORNING_HOUR", None)
        else:
            app.config["REPORTS_MORNING_HOUR"] = saved
    pushed = sandbox.wait_for_bot_message(
        reports_bot.token, admin_tg.chat_id, predicate=lambda m: "Moderation report for" in (m.get("text") or "")
    )
    assert yesterday.isoformat() in pushed["text"]
    off = say(sandbox, reports_bot, admin_tg, "/unsubscribe")
    assert "off" in off["text"]


def test_morning_claim_waits_for_the_hour(app_ctx, make_user):
    from webapp.core.services import get_user
    from webapp.reports import services

    admin = make_user("admin")
    services.subscribe(get_user(admin.id), None, 1)
    # 07:59 in Tashkent (02:59 UTC): too early; 08:00: yesterday's report is owed, once.
    assert services.claim_morning_deliveries(datetime(2025, 9, 29, 2, 59, tzinfo=UTC)) == []
    [(delivery, _)] = services.claim_morning_deliveries(datetime(2025, 9, 29, 3, 0, tzinfo=UTC))
    assert delivery.report_date.isoformat() == "2025-09-28"
    assert services.claim_morning_deliveries(datetime(2025, 9, 29, 9, 0, tzinfo=UTC)) == []
