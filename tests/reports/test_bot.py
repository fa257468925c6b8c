"""The reports bot through the sandbox: commands answer admins, refuse others, the morning push."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.fixtures.telegram import say
from tests.realty.test_bot import link_account


@pytest.fixture
def reports_bot(sandbox_bot, run_bot):
    bot = sandbox_bot("reports")
    run_bot(bot)
    return bot


@pytest.fixture
def moderation_events(app, realty):
    """Three events of one agency (returned), and one of another agency that its readers never see."""
    from webapp.extensions import db
    from webapp.realty.models import ModerationEvent

    agency, other = realty.agency("Alpha Homes"), realty.agency("Beta Rent")
    owner = realty.realtor(agency, first_name="Aziz")
    with app.app_context():
        for where, action, city, hour in (
            (agency, "added", "Tashkent", 6),
            (agency, "added", "Samarkand", 7),
            (agency, "rejected", "Tashkent", 8),
            (other, "added", "Almaty", 9),
        ):
            db.session.add(
                ModerationEvent(
                    agency_id=where.id,
                    action=action,
                    city=city,
                    user_id=owner.id,
                    occurred_at=datetime(2025, 9, 28, hour, tzinfo=UTC),
                )
            )
        db.session.commit()
    return agency


def test_admin_gets_reports_on_commands(app, sandbox, reports_bot, tg_user, realty, moderation_events):
    """An agency's admin reads their own agency's figures (the other agency's "Almaty" is not there)."""
    admin_tg = tg_user(reports_bot, language_code="en")
    link_account(app, realty.admin(moderation_events), reports_bot, admin_tg)
    daily = say(sandbox, reports_bot, admin_tg, "/daily 2025-09-28")
    assert "Moderation report for 2025-09-28" in daily["text"]
    assert "Added: 2" in daily["text"] and "Rejected: 1" in daily["text"] and "1. Tashkent — 2" in daily["text"]
    assert "Almaty" not in daily["text"]
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


def test_moderator_reads_every_agency_and_an_admin_of_no_agency_nothing(
    app, sandbox, reports_bot, tg_user, make_user, moderation_events
):
    """The attack: the admin of an organization that is no agency (a clinic's) asks the reports bot
    for the marketplace's figures. The platform moderator reads every agency's."""
    moderator_tg = tg_user(reports_bot, language_code="en")
    link_account(app, make_user("moderator"), reports_bot, moderator_tg)
    daily = say(sandbox, reports_bot, moderator_tg, "/daily 2025-09-28")
    assert "Added: 3" in daily["text"] and "Almaty" in daily["text"]

    outsider_tg = tg_user(reports_bot, language_code="en")
    link_account(app, make_user("admin"), reports_bot, outsider_tg)  # the test organization: no agency
    refused = say(sandbox, reports_bot, outsider_tg, "/daily 2025-09-28")
    assert "Moderation report" not in refused["text"] and "Reports are for admins" in refused["text"]
    refused = say(sandbox, reports_bot, outsider_tg, "/subscribe")
    assert "every morning" not in refused["text"]


def test_morning_report_once_per_day(app, sandbox, reports_bot, tg_user, realty, moderation_events):
    from webapp.extensions import db
    from webapp.reports.jobs import send_morning_reports
    from webapp.reports.models import ReportSubscription
    from webapp.telegram.jobs import deliver_pending
    from webapp.telegram.models import OutboundMessage

    admin_tg = tg_user(reports_bot, language_code="en")
    admin = realty.admin(moderation_events)
    link_account(app, admin, reports_bot, admin_tg)
    answer = say(sandbox, reports_bot, admin_tg, "/subscribe")
    assert "every morning" in answer["text"]

    def subscription_chat():
        with app.app_context():
            row = db.session.get(ReportSubscription, admin.id)
            return row.chat_id if row else None

    assert subscription_chat() == admin_tg.chat_id  # committed before the reply was sent

    saved = app.config.get("REPORTS_MORNING_HOUR")
    app.config["REPORTS_MORNING_HOUR"] = 0  # any hour counts as morning for this test
    try:
        with app.app_context():
            assert send_morning_reports() == 1
            assert send_morning_reports() == 0  # the second run finds the day written
            assert deliver_pending() == 1
            [delivery] = db.session.scalars(sa.select(OutboundMessage)).all()
            yesterday = (datetime.now(UTC) + timedelta(hours=5)).date() - timedelta(days=1)
            assert (delivery.status, delivery.dedupe_key) == ("sent", f"report:{admin.id.hex}:{yesterday}")
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


def test_morning_claim_waits_for_the_hour(app_ctx, realty):
    from webapp.core.services import get_user
    from webapp.reports import services

    admin = realty.admin(realty.agency())
    services.subscribe(get_user(admin.id), _a_bot(), 1)
    # 07:59 in Tashkent (02:59 UTC): too early; 08:00: yesterday's report is owed, once.
    assert services.morning_reports_due(datetime(2025, 9, 29, 2, 59, tzinfo=UTC)) == []
    [(_, day)] = services.morning_reports_due(datetime(2025, 9, 29, 3, 0, tzinfo=UTC))
    assert day.isoformat() == "2025-09-28"
    assert services.queue_morning_reports(datetime(2025, 9, 29, 3, 0, tzinfo=UTC)) == 1
    assert services.morning_reports_due(datetime(2025, 9, 29, 9, 0, tzinfo=UTC)) == []
    assert services.queue_morning_reports(datetime(2025, 9, 29, 9, 0, tzinfo=UTC)) == 0


def _a_bot() -> int:
    from webapp.extensions import db
    from webapp.telegram.models import Bot
    from webapp.telegram.tokens import set_bot_token

    bot = Bot(name="reports_morning", vertical="reports")
    set_bot_token(bot, "8300000002:REPORTS-MORNING-BOT-TOKEN")
    db.session.add(bot)
    db.session.flush()
    return bot.id


def test_morning_job_reports_each_reader_their_own_scope(app_ctx, realty, make_user, moderation_events):
    """The morning job asks the same scope as the commands: an agency's admin gets their agency's
    figures, the moderator every agency's, and an admin of no agency (subscribed before this
    change, say) is skipped."""
    from webapp.core.services import get_user
    from webapp.extensions import db
    from webapp.reports import access, services
    from webapp.reports.models import ReportSubscription

    admin = realty.admin(moderation_events)
    moderator = make_user("moderator")
    outsider = make_user("admin")  # the test organization, which is no agency
    for n, reader in enumerate((admin, moderator, outsider), 1):
        db.session.add(ReportSubscription(user_id=reader.id, bot_id=None, chat_id=n))
    db.session.commit()
    due = services.morning_reports_due(datetime(2025, 9, 29, 3, 0, tzinfo=UTC))
    figures = {
        sub.user_id: services.daily_report(day, access.report_scope(sub.user))["total_added"] for sub, day in due
    }
    assert figures == {admin.id: 2, moderator.id: 3}
    assert not access.can_read_reports(get_user(outsider.id))


def test_examples_are_dates_from_the_clock(app, sandbox, reports_bot, tg_user, realty, moderation_events):
    """The examples are last week's days, whatever year it is, not the year the bot was written."""
    import time_machine

    admin_tg = tg_user(reports_bot, language_code="ru")
    link_account(app, realty.admin(moderation_events), reports_bot, admin_tg)
    with time_machine.travel(datetime(2031, 3, 10, 9, tzinfo=UTC), tick=True):
        asked = say(sandbox, reports_bot, admin_tg, "/range")
        helped = say(sandbox, reports_bot, admin_tg, "/help")
    assert "/range 2031-03-03 2031-03-09" in asked["text"], asked["text"]
    assert "/daily 2031-03-09" in helped["text"] and "2025" not in helped["text"], helped["text"]
