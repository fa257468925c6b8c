"""The per-(patient, clinic) visit summary stays exactly what the appointments say, through every
transition, rollbacks and concurrent moves; the migration backfills it from existing appointments."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.conftest import BACKEND, make_app
from tests.core.test_migrations import empty_database_url  # noqa: F401  (fixture)
from tests.fixtures.clinic import MONDAY, NOW, at, build_clinic, build_patient, clinic_as_rows
from webapp.clinic.models import VISITED, Appointment, Branch, Doctor, Patient, Service, VisitSummary
from webapp.clinic.services import booking
from webapp.extensions import db

TUESDAY, THURSDAY = MONDAY + timedelta(days=1), MONDAY + timedelta(days=3)


def summary(patient_id: int, clinic_id: int) -> tuple:
    db.session.expire_all()
    row = db.session.get(VisitSummary, (patient_id, clinic_id))
    assert row is not None
    return row.visits, row.first_visit_at, row.last_visit_at, row.no_shows, row.cancellations


def recount(patient_id: int) -> tuple:
    """The same figures worked out in Python from the appointment rows."""
    rows = db.session.scalars(sa.select(Appointment).where(Appointment.patient_id == patient_id)).all()
    visits = sorted(a.starts_at for a in rows if a.status in VISITED)
    return (
        len(visits),
        visits[0] if visits else None,
        visits[-1] if visits else None,
        sum(a.status == "no_show" for a in rows),
        sum(a.status == "cancelled" for a in rows),
    )


def book(ids, patient_id, starts_at, branch_id=None):
    appointment = booking.book_appointment(
        db.session.get(Patient, patient_id),
        db.session.get(Doctor, ids.doctor_id),
        db.session.get(Service, ids.consult_id),
        db.session.get(Branch, branch_id or ids.central_id),
        starts_at,
        now=NOW,
    )
    db.session.commit()
    return appointment


def test_every_transition_keeps_the_summary_exact(app_ctx, clinic_data):
    patient = build_patient().id
    clinic = clinic_data.clinic_id

    def check(expected):
        db.session.commit()
        assert summary(patient, clinic) == expected == recount(patient)

    a = book(clinic_data, patient, at(MONDAY, 10))
    check((0, None, None, 0, 0))
    b = book(clinic_data, patient, at(MONDAY, 11))
    c = book(clinic_data, patient, at(TUESDAY, 10))
    d = book(clinic_data, patient, at(THURSDAY, 10))
    booking.confirm_appointment(a, now=NOW)
    check((0, None, None, 0, 0))
    booking.reschedule_appointment(b, at(MONDAY, 14), now=NOW)
    check((0, None, None, 0, 0))
    booking.cancel_appointment(c, now=NOW)
    check((0, None, None, 0, 1))
    booking.mark_arrived(a, now=at(MONDAY, 9, 50))
    check((1, at(MONDAY, 10), at(MONDAY, 10), 0, 1))
    booking.complete_appointment(a, now=at(MONDAY, 10, 40))  # arrived → completed: still one visit
    check((1, at(MONDAY, 10), at(MONDAY, 10), 0, 1))
    booking.complete_appointment(b, now=at(MONDAY, 15))  # booked → completed straight away
    check((2, at(MONDAY, 10), at(MONDAY, 14), 0, 1))
    booking.mark_no_show(d, now=at(THURSDAY, 11))
    check((2, at(MONDAY, 10), at(MONDAY, 14), 1, 1))
    # The job that completes finished visits goes through the same transition.
    e = book(clinic_data, patient, at(TUESDAY, 11))
    booking.mark_arrived(e, now=at(TUESDAY, 10, 55))
    assert booking.complete_finished_visits(now=at(TUESDAY, 12)) == 1
    check((3, at(MONDAY, 10), at(TUESDAY, 11), 1, 1))


def used(patient_id: int, clinic_id: int) -> list[int]:
    db.session.expire_all()
    return db.session.get(VisitSummary, (patient_id, clinic_id)).service_ids


def test_services_used_follow_the_visits_through_every_transition(app_ctx, clinic_data):
    """A segment's "services used" reads the summary: a service counts once a visit of it took
    place (arrived or completed), never while booked, cancelled or missed."""
    patient, clinic = build_patient().id, clinic_data.clinic_id
    consult, ultrasound = clinic_data.consult_id, clinic_data.ultrasound_id

    def book_service(service_id, starts_at):
        appointment = booking.book_appointment(
            db.session.get(Patient, patient),
            db.session.get(Doctor, clinic_data.doctor_id),
            db.session.get(Service, service_id),
            db.session.get(Branch, clinic_data.central_id),
            starts_at,
            now=NOW,
        )
        db.session.commit()
        return appointment

    scan = book_service(ultrasound, at(MONDAY, 10))
    first = book_service(consult, at(MONDAY, 11))
    second = book_service(consult, at(TUESDAY, 10))
    missed = book_service(ultrasound, at(TUESDAY, 11))
    assert used(patient, clinic) == []
    booking.cancel_appointment(second, now=NOW)
    booking.mark_no_show(missed, now=at(TUESDAY, 12))
    db.session.commit()
    assert used(patient, clinic) == []
    booking.complete_appointment(first, now=at(MONDAY, 12))
    db.session.commit()
    assert used(patient, clinic) == [consult]
    booking.mark_arrived(scan, now=at(MONDAY, 9, 55))
    db.session.commit()
    assert used(patient, clinic) == sorted([consult, ultrasound])
    db.session.rollback()


def test_visits_at_every_branch_of_a_clinic_count_but_not_other_clinics(app_ctx, clinic_data):
    patient = build_patient().id
    central = book(clinic_data, patient, at(MONDAY, 10))
    east = booking.book_appointment(
        db.session.get(Patient, patient),
        db.session.get(Doctor, clinic_data.doctor_id),
        db.session.get(Service, clinic_data.consult_id),
        db.session.get(Branch, clinic_data.east_id),
        at(MONDAY + timedelta(days=5), 10),  # the doctor's Saturday at the east branch
        now=NOW,
    )
    for appointment in (central, east):
        booking.complete_appointment(appointment, now=at(MONDAY + timedelta(days=6), 9))
    db.session.commit()
    assert summary(patient, clinic_data.clinic_id)[:3] == (2, at(MONDAY, 10), at(MONDAY + timedelta(days=5), 10))
    other = build_clinic()
    assert db.session.get(VisitSummary, (patient, other.clinic_id)) is None


def test_a_rolled_back_transition_leaves_the_summary_as_it_was(app_ctx, clinic_data):
    patient = build_patient().id
    appointment = book(clinic_data, patient, at(MONDAY, 10))
    booking.complete_appointment(appointment, now=at(MONDAY, 11))
    assert summary(patient, clinic_data.clinic_id)[0] == 1  # inside the transaction
    db.session.rollback()
    assert summary(patient, clinic_data.clinic_id) == (0, None, None, 0, 0)


@pytest.mark.skipif(BACKEND.name != "services", reason="concurrent writers need PostgreSQL")
def test_concurrent_moves_of_one_patient_both_count(app, clinic_data):
    with app.app_context():
        patient = build_patient().id
        ids = [book(clinic_data, patient, at(MONDAY, hour)).id for hour in (10, 11)]
    both_moved = threading.Barrier(2)
    errors = []

    def complete(appointment_id):
        with app.app_context():
            try:
                booking.complete_appointment(db.session.get(Appointment, appointment_id), now=at(MONDAY, 12))
                db.session.commit()
            except Exception as exc:  # reported below: a thread's failure must fail the test
                errors.append(exc)
                db.session.rollback()

    # Recount only after both appointment rows changed: without the summary row lock, each would
    # miss the other's uncommitted visit and the last commit would leave visits == 1.
    original = booking.refresh_visit_summary

    def refresh_after_both(appointment):
        db.session.flush()
        both_moved.wait(timeout=10)
        original(appointment)

    threads = [threading.Thread(target=complete, args=(i,)) for i in ids]
    booking.refresh_visit_summary = refresh_after_both
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        booking.refresh_visit_summary = original
    assert errors == []
    with app.app_context():
        assert summary(patient, clinic_data.clinic_id)[:3] == (2, at(MONDAY, 10), at(MONDAY, 11))


def _patient_as_rows():
    import uuid
    from datetime import date
    from types import SimpleNamespace

    from webapp.core.models import User

    user_id = uuid.uuid4()
    db.session.execute(sa.insert(User.__table__).values(id=user_id, first_name="Ерлан", role="user", language="ru"))
    patient_id = db.session.execute(
        sa.insert(Patient.__table__)
        .values(
            user_id=user_id,
            first_name="Ерлан",
            last_name="Жумабаев",
            phone="+77011234567",
            birth_date=date(1990, 1, 1),
            sex="M",
        )
        .returning(Patient.__table__.c.id)
    ).scalar_one()
    return SimpleNamespace(id=patient_id)


def test_the_migration_backfills_summaries_from_existing_appointments(empty_database_url):  # noqa: F811
    from flask_migrate import upgrade

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="0005_segment_indexes")
        ids = clinic_as_rows()  # today's clinic has an organization, which 0005 does not know
        patient = _patient_as_rows()  # today's services write tables this old schema does not have
        rows = [
            (at(MONDAY, 10), "completed"),
            (at(MONDAY, 11), "arrived"),
            (at(MONDAY, 12), "no_show"),
            (at(TUESDAY, 10), "cancelled"),
            (at(TUESDAY, 11), "booked"),
        ]
        for starts_at, status in rows:  # written as rows: the summary table does not exist yet
            db.session.execute(
                sa.insert(Appointment.__table__).values(
                    patient_id=patient.id,
                    doctor_id=ids.doctor_id,
                    service_id=ids.consult_id,
                    branch_id=ids.central_id,
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(minutes=30),
                    status=status,
                    prepayment_status="none",
                    price=0,
                    source="api",
                    booked_at=NOW,
                    rescheduled_count=0,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
        db.session.commit()
        upgrade(revision="heads")
        assert summary(patient.id, ids.clinic_id) == (2, at(MONDAY, 10), at(MONDAY, 11), 1, 1)
        assert used(patient.id, ids.clinic_id) == [ids.consult_id]  # 0017 backfills the services used
        db.session.remove()
        db.engine.dispose()


def copied(patient_id: int, clinic_id: int) -> tuple:
    db.session.expire_all()
    row = db.session.get(VisitSummary, (patient_id, clinic_id))
    return row.user_id, row.organization_id, row.sex, row.osms_status, row.birth_date, row.marketable


def of_patient(patient_id: int) -> tuple:
    p = db.session.get(Patient, patient_id)
    marketable = p.is_active and p.consent_marketing_at is not None
    return p.user_id, p.organization_id, p.sex, p.osms_status, p.birth_date, marketable


def test_the_summary_keeps_a_copy_of_the_patients_segment_fields(app_ctx, clinic_data):
    """Segments with visit filters read the patient's fields from the summary (migration 0019): the
    copy follows every change of the patient row in the same flush, and rolls back with it."""
    from datetime import date

    from webapp.clinic.services.patients import apply_consents, user_for_telegram

    built = build_patient(sex="M")
    patient, clinic = built.id, clinic_data.clinic_id
    book(clinic_data, patient, at(MONDAY, 10))
    assert copied(patient, clinic) == of_patient(patient)
    assert copied(patient, clinic)[:3] == (built.user_id, built.organization_id, "M")
    assert copied(patient, clinic)[5] is True

    row = db.session.get(Patient, patient)
    row.sex, row.osms_status, row.birth_date = "F", "insured", date(1985, 3, 8)
    db.session.flush()
    assert copied(patient, clinic)[2:] == ("F", "insured", date(1985, 3, 8), True)
    apply_consents(db.session.get(Patient, patient), {"marketing": False}, NOW)  # withdrawn: left out
    db.session.flush()
    assert copied(patient, clinic)[5] is False
    db.session.commit()
    apply_consents(db.session.get(Patient, patient), {"marketing": True}, NOW)
    db.session.get(Patient, patient).is_active = False  # consent again, but the record is closed
    db.session.commit()
    assert copied(patient, clinic) == of_patient(patient)
    assert copied(patient, clinic)[5] is False

    other = user_for_telegram(880_123_001)  # a user with no patient row at this organization
    row = db.session.get(Patient, patient)
    row.is_active, row.user_id = True, None  # the Telegram link dropped, then another user linked
    db.session.flush()
    assert copied(patient, clinic)[0] is None
    db.session.get(Patient, patient).user_id = other.id
    db.session.flush()
    assert copied(patient, clinic) == of_patient(patient)
    assert copied(patient, clinic)[0] == other.id
    db.session.rollback()
    assert copied(patient, clinic)[0] == built.user_id  # rolled back with the patient row
    assert copied(patient, clinic) == of_patient(patient)


def test_the_migration_copies_the_patient_fields_onto_existing_summaries(empty_database_url):  # noqa: F811
    import uuid
    from datetime import date
    from types import SimpleNamespace

    from flask_migrate import upgrade

    from webapp.core.models import User

    app = make_app(SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="0017_faq")
        ids = build_clinic()  # the clinics' table is today's at 0017; the patient is rows (no ORM flush
        user_id = uuid.uuid4()  # event writing summary columns 0017 does not have)
        db.session.execute(
            sa.insert(User.__table__).values(id=user_id, first_name="Айгуль", role="user", language="ru")
        )
        patient = SimpleNamespace(
            id=db.session.execute(
                sa.insert(Patient.__table__)
                .values(
                    organization_id=ids.organization_id,
                    user_id=user_id,
                    first_name="Айгуль",
                    last_name="Серикова",
                    phone="+77011234568",
                    birth_date=date(1992, 2, 2),
                    sex="F",
                    osms_status="insured",
                    consent_marketing_at=NOW,
                )
                .returning(Patient.__table__.c.id)
            ).scalar_one()
        )
        db.session.execute(
            sa.text(
                "INSERT INTO clinic_visit_summaries (patient_id, clinic_id, visits, no_shows, cancellations,"
                " service_ids) VALUES (:patient, :clinic, 1, 0, 0, :services)"
            ),
            {"patient": patient.id, "clinic": ids.clinic_id, "services": [] if BACKEND.name == "services" else "[]"},
        )
        db.session.commit()
        upgrade(revision="heads")
        expected = (user_id, ids.organization_id, "F", "insured", date(1992, 2, 2), True)
        assert copied(patient.id, ids.clinic_id) == expected == of_patient(patient.id)
        db.session.remove()


@pytest.mark.skipif(BACKEND.name != "services", reason="concurrent writers need PostgreSQL")
def test_a_consent_withdrawn_during_the_first_booking_reaches_the_new_summary(app, clinic_data):
    """The withdrawal's own copy cannot see a summary another transaction is creating; the booking's
    copy waits on the patient row and reads the withdrawal, so the new summary is not marketable."""
    from webapp.clinic.services.patients import apply_consents

    with app.app_context():
        patient = build_patient().id
    withdrawn = threading.Event()
    errors = []

    def withdraw():
        with app.app_context():
            try:
                apply_consents(db.session.get(Patient, patient), {"marketing": False}, NOW)
                db.session.flush()  # the patient row is changed and locked; no summary yet
                withdrawn.set()
                threading.Event().wait(1.0)  # the booking runs meanwhile
                db.session.commit()
            except Exception as exc:  # reported below: a thread's failure must fail the test
                errors.append(exc)
                db.session.rollback()

    thread = threading.Thread(target=withdraw)
    thread.start()
    try:
        assert withdrawn.wait(timeout=10)
        with app.app_context():
            book(clinic_data, patient, at(MONDAY, 10))  # its summary's copy waits for the withdrawal
    finally:
        thread.join(timeout=30)
    assert errors == []
    with app.app_context():
        assert copied(patient, clinic_data.clinic_id)[5] is False
        assert copied(patient, clinic_data.clinic_id) == of_patient(patient)
