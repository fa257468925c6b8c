"""Reminder scans on a fixed clock: each of D-1 / H-3 / H-1 / arrived / NPS due once at its time, none
after a cancel, moved by a reschedule, never duplicated by racing scans; the jobs claim before they send."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import BACKEND
from tests.fixtures.clinic import MONDAY, NOW, at, build_patient
from webapp.clinic import jobs
from webapp.clinic.models import Appointment, Branch, Doctor, Patient, ReminderLog, Service
from webapp.clinic.services import booking, reminders
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.telegram.jobs import deliver_pending
from webapp.telegram.models import OutboundMessage

TUESDAY = MONDAY + timedelta(days=1)


def _book(ids, starts_at, now=NOW, patient_id=None):
    patient = db.session.get(Patient, patient_id or build_patient().id)
    appointment = booking.book_appointment(
        patient,
        db.session.get(Doctor, ids.doctor_id),
        db.session.get(Service, ids.consult_id),
        db.session.get(Branch, ids.central_id),
        starts_at,
        now=now,
    )
    db.session.commit()
    return appointment


def _kinds(due_list, appointment_id=None):
    return [d.kind.value for d in due_list if appointment_id is None or d.appointment_id == appointment_id]


def _sweep(scan, now):
    """What a scan finds at ``now``, claiming each so the next sweep sees it done (as the job does)."""
    found = scan(now)
    for due in found:
        assert reminders.claim(due, now) is not None
    db.session.commit()
    return _kinds(found)


def test_d1_h3_h1_each_once_at_their_time(app_ctx, clinic_data):
    appointment = _book(clinic_data, at(TUESDAY, 10))  # booked on Sunday for Tuesday 10:00
    timeline = [
        (at(MONDAY, 9, 59), []),
        (at(MONDAY, 10), ["d1"]),
        (at(MONDAY, 10, 1), []),
        (at(MONDAY, 18), []),
        (at(TUESDAY, 6, 59), []),
        (at(TUESDAY, 7), ["h3"]),
        (at(TUESDAY, 7, 30), []),
        (at(TUESDAY, 9), ["h1"]),
        (at(TUESDAY, 9, 59), []),
        (at(TUESDAY, 10), []),  # the start: reminders are over
    ]
    for moment, expected in timeline:
        assert _sweep(reminders.due_reminders, moment) == expected, moment
    rows = db.session.scalars(db.select(ReminderLog).order_by(ReminderLog.due_at)).all()
    assert [(r.kind, r.due_at) for r in rows] == [
        ("d1", at(MONDAY, 10)),
        ("h3", at(TUESDAY, 7)),
        ("h1", at(TUESDAY, 9)),
    ]
    assert {r.appointment_id for r in rows} == {appointment.id}


def test_a_late_scan_sends_only_the_latest_reminder(app_ctx, clinic_data):
    _book(clinic_data, at(TUESDAY, 10))
    # The cron was down from Monday morning until Tuesday 09:05: D-1 and H-3 are stale, H-1 goes.
    assert _sweep(reminders.due_reminders, at(TUESDAY, 9, 5)) == ["h1"]
    assert _sweep(reminders.due_reminders, at(TUESDAY, 9, 6)) == []


def test_reminders_due_before_the_booking_are_never_sent(app_ctx, clinic_data):
    _book(clinic_data, at(MONDAY, 12), now=at(MONDAY, 10, 30))  # booked 1.5 h ahead
    assert _sweep(reminders.due_reminders, at(MONDAY, 10, 31)) == []
    assert _sweep(reminders.due_reminders, at(MONDAY, 11)) == ["h1"]


def test_cancel_drops_and_reschedule_moves(app_ctx, clinic_data):
    cancelled = _book(clinic_data, at(TUESDAY, 10))
    moved = _book(clinic_data, at(TUESDAY, 11))
    assert sorted(_sweep(reminders.due_reminders, at(MONDAY, 11))) == ["d1", "d1"]
    booking.cancel_appointment(cancelled, now=at(MONDAY, 12))
    db.session.commit()
    with pytest.raises(ServiceError):  # Wednesday is the doctor's day off
        booking.reschedule_appointment(moved, at(TUESDAY + timedelta(days=1), 15), now=at(MONDAY, 12))
    db.session.rollback()
    booking.reschedule_appointment(moved, at(TUESDAY + timedelta(days=2), 15), now=at(MONDAY, 12))  # Thursday
    db.session.commit()
    assert _sweep(reminders.due_reminders, at(TUESDAY, 9)) == []  # neither the cancelled nor the old time
    assert _sweep(reminders.due_arrival_checks, at(TUESDAY, 10, 10)) == []
    thursday = TUESDAY + timedelta(days=2)
    assert _sweep(reminders.due_reminders, at(thursday - timedelta(days=1), 14, 59)) == []
    assert _sweep(reminders.due_reminders, at(thursday - timedelta(days=1), 15)) == ["d1"]  # re-armed
    assert _sweep(reminders.due_reminders, at(thursday, 9)) == []
    assert _sweep(reminders.due_reminders, at(thursday, 12)) == ["h3"]
    assert _sweep(reminders.due_reminders, at(thursday, 14)) == ["h1"]


def test_arrival_check_five_minutes_after_start(app_ctx, clinic_data):
    appointment = _book(clinic_data, at(MONDAY, 10))
    assert _sweep(reminders.due_arrival_checks, at(MONDAY, 10, 4)) == []
    assert _sweep(reminders.due_arrival_checks, at(MONDAY, 10, 5)) == ["arrived"]
    assert _sweep(reminders.due_arrival_checks, at(MONDAY, 10, 6)) == []
    other = _book(clinic_data, at(MONDAY, 11))
    booking.mark_arrived(other, now=at(MONDAY, 10, 58))
    db.session.commit()
    assert _sweep(reminders.due_arrival_checks, at(MONDAY, 11, 10)) == []  # already here
    late = _book(clinic_data, at(MONDAY, 12))
    assert _sweep(reminders.due_arrival_checks, at(MONDAY, 12, 30)) == []  # the visit is already over
    assert appointment.id != late.id


def test_nps_two_hours_after_the_visit(app_ctx, clinic_data):
    appointment = _book(clinic_data, at(MONDAY, 10))
    booking.mark_arrived(appointment, now=at(MONDAY, 10, 1))
    assert booking.complete_finished_visits(now=at(MONDAY, 10, 40)) == 1
    db.session.commit()
    assert _sweep(reminders.due_feedback_requests, at(MONDAY, 12, 29)) == []
    assert _sweep(reminders.due_feedback_requests, at(MONDAY, 12, 30)) == ["nps"]
    assert _sweep(reminders.due_feedback_requests, at(MONDAY, 13)) == []
    no_show = _book(clinic_data, at(MONDAY, 11))
    booking.mark_no_show(no_show, now=at(MONDAY, 11, 10))
    db.session.commit()
    assert _sweep(reminders.due_feedback_requests, at(MONDAY, 14)) == []  # no visit, no survey


def test_d1_follows_the_clinic_wall_clock_across_dst(app_ctx, clinic_data):
    """Berlin moves to summer time on 31 March 2030: D-1 is 10:00 the day before, 23 hours ahead."""
    clinic = db.session.get(Doctor, clinic_data.doctor_id).clinic
    clinic.timezone = "Europe/Berlin"
    db.session.commit()
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2030, 4, 1, 10, tzinfo=berlin).astimezone(UTC)
    appointment = _book(clinic_data, start, now=datetime(2030, 3, 25, tzinfo=UTC))
    d1 = dict(reminders.reminder_times(appointment))[reminders.K.DAY_BEFORE]
    assert d1 == datetime(2030, 3, 31, 10, tzinfo=berlin).astimezone(UTC)
    assert start - d1 == timedelta(hours=24)  # both on summer time here; the gap is the day before
    sunday_start = datetime(2030, 3, 31, 10, tzinfo=berlin).astimezone(UTC)
    sunday = Appointment(starts_at=sunday_start, branch=appointment.branch)
    sunday_d1 = dict(reminders.reminder_times(sunday))[reminders.K.DAY_BEFORE]
    assert sunday_start - sunday_d1 == timedelta(hours=23)


def test_claim_is_once_only(app_ctx, clinic_data):
    _book(clinic_data, at(TUESDAY, 10))
    [due] = reminders.due_reminders(at(MONDAY, 10))
    assert reminders.claim(due, at(MONDAY, 10)) is not None
    assert reminders.claim(due, at(MONDAY, 10)) is None  # a second scan with the same finding
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(ReminderLog.id))) == 1


# --- the jobs: claim, and write into the outbox in the same transaction; the outbox's job sends ----------


@pytest.fixture
def clinic_chat(app, sandbox, sandbox_bot, tg_user):
    """A sandbox clinic bot; ``reach(patient)`` gives the patient a chat with it (in the current context)."""
    from webapp.core.services import ensure_telegram_account

    bot = sandbox_bot("clinic")

    def reach(patient_ns):
        chat = tg_user(bot)
        account = ensure_telegram_account(bot.bot_id, chat.user_id, chat_id=chat.chat_id)
        account.user_id = patient_ns.user_id
        db.session.commit()
        return chat

    return SimpleNamespace(bot=bot, reach=reach)


def _texts(sandbox, bot, chat):
    return [m.get("text") for m in sandbox.transcript(bot.token, chat.chat_id)]


def test_jobs_send_each_message_once_in_the_patients_language(app_ctx, clinic_data, clinic_chat, sandbox):
    kk = build_patient(language="kk")
    chat = clinic_chat.reach(kk)
    appointment = _book(clinic_data, at(TUESDAY, 10), patient_id=kk.id)
    assert jobs.send_appointment_reminders(now=at(MONDAY, 10)) == 1
    assert jobs.send_appointment_reminders(now=at(MONDAY, 10, 1)) == 0
    assert jobs.send_arrived_checks(now=at(TUESDAY, 10, 5)) == 1
    assert deliver_pending() == 2
    assert deliver_pending() == 0
    texts = _texts(sandbox, clinic_chat.bot, chat)
    assert len(texts) == 2
    assert texts[0].startswith("🔔 Еске салу: ертең сағат 10:00 қабылдауыңыз бар.")
    assert texts[1].startswith("Сіз келдіңіз бе?")
    rows = db.session.scalars(db.select(OutboundMessage).order_by(OutboundMessage.id)).all()
    assert [(r.status, r.organization_id) for r in rows] == [("sent", kk.organization_id)] * 2
    assert [b["callback_data"] for b in rows[1].reply_markup["inline_keyboard"][0]] == [
        f"cl:arr:{appointment.id}:y",
        f"cl:arr:{appointment.id}:n",
    ]
    log = db.session.scalars(db.select(ReminderLog).order_by(ReminderLog.id)).all()
    assert [(r.kind, r.state) for r in log] == [("d1", "claimed"), ("arrived", "claimed")]


def test_unreachable_patient_is_recorded_not_retried(app_ctx, clinic_data):
    """A patient who never opened a clinic bot is skipped, once, and nothing enters the outbox."""
    _book(clinic_data, at(TUESDAY, 10))
    assert jobs.send_appointment_reminders(now=at(MONDAY, 10)) == 0
    assert jobs.send_appointment_reminders(now=at(MONDAY, 10, 1)) == 0
    [entry] = db.session.scalars(db.select(ReminderLog)).all()
    assert (entry.state, entry.error) == ("skipped", "no reachable Telegram chat")
    assert db.session.scalar(db.select(db.func.count(OutboundMessage.id))) == 0


@pytest.mark.skipif(BACKEND.name != "services", reason="racing scans need PostgreSQL")
def test_two_racing_scans_send_once(app, clinic_data, clinic_chat, sandbox):
    chats = []
    with app.app_context():
        for hour in (10, 11, 12):
            patient = build_patient()
            chats.append(clinic_chat.reach(patient))
            _book(clinic_data, at(TUESDAY, hour), patient_id=patient.id)
    barrier = threading.Barrier(2)
    original = reminders.due_reminders

    def scan_then_wait(now):
        found = original(now)
        barrier.wait(timeout=10)  # both scans found the same three reminders before either claims
        return found

    counts = []

    def run():
        with app.app_context():
            counts.append(jobs._deliver_due(scan_then_wait, at(MONDAY, 12)))
            db.session.commit()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sum(counts) == 3
    with app.app_context():
        assert deliver_pending() == 3
    assert [len(_texts(sandbox, clinic_chat.bot, chat)) for chat in chats] == [1, 1, 1]
