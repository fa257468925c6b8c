"""Booking, rescheduling, cancelling and the appointment state machine, straight on the services."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from tests.conftest import BACKEND
from tests.fixtures.clinic import MONDAY, NOW, at, build_patient
from webapp.clinic.models import Appointment, Branch, Doctor, Patient, Service
from webapp.clinic.services import booking
from webapp.core.services import ServiceError
from webapp.extensions import db


def _objects(ids):
    return (
        db.session.get(Doctor, ids.doctor_id),
        db.session.get(Service, ids.consult_id),
        db.session.get(Branch, ids.central_id),
    )


def _book(ids, patient_id, starts_at, now=NOW, **kw):
    doctor, service, branch = _objects(ids)
    appointment = booking.book_appointment(
        db.session.get(Patient, patient_id), doctor, service, branch, starts_at, now=now, **kw
    )
    db.session.commit()
    return appointment


def _refused(code, fn, *args, **kwargs):
    with pytest.raises(ServiceError) as caught:
        fn(*args, **kwargs)
    db.session.rollback()
    assert caught.value.code == code, caught.value.message
    return caught.value


def test_book_a_free_slot(app_ctx, clinic_data):
    patient = build_patient()
    appointment = _book(clinic_data, patient.id, at(MONDAY, 10), notes=" first visit ")
    assert appointment.status == "booked"
    assert appointment.ends_at == at(MONDAY, 10, 30)
    assert appointment.price == 15000 and appointment.notes == "first visit"
    assert appointment.booked_at == NOW


def test_taken_slot_past_and_off_grid_times_are_refused(app_ctx, clinic_data):
    first, second = build_patient(), build_patient()
    _book(clinic_data, first.id, at(MONDAY, 10))
    error = _refused("SLOT_TAKEN", _book, clinic_data, second.id, at(MONDAY, 10))
    assert error.status == 409
    _refused("NOT_A_SLOT", _book, clinic_data, second.id, at(MONDAY, 10, 15))
    _refused("NOT_A_SLOT", _book, clinic_data, second.id, at(MONDAY, 13))  # lunch break
    _refused("SLOT_IN_PAST", _book, clinic_data, second.id, at(MONDAY, 10), now=at(MONDAY, 11))
    assert db.session.scalar(db.select(db.func.count(Appointment.id))) == 1


def test_patient_cannot_be_in_two_places(app_ctx, clinic_data):
    patient = build_patient()
    _book(clinic_data, patient.id, at(MONDAY, 10))
    other = db.session.get(Doctor, clinic_data.other_doctor_id)
    service = db.session.get(Service, clinic_data.consult_id)
    east = db.session.get(Branch, clinic_data.east_id)
    _refused(
        "PATIENT_BUSY",
        booking.book_appointment,
        db.session.get(Patient, patient.id),
        other,
        service,
        east,
        at(MONDAY, 10),
        now=NOW,
    )


def test_service_must_be_offered_where_and_by_whom(app_ctx, clinic_data):
    patient = db.session.get(Patient, build_patient().id)
    doctor = db.session.get(Doctor, clinic_data.doctor_id)
    ultrasound = db.session.get(Service, clinic_data.ultrasound_id)
    east = db.session.get(Branch, clinic_data.east_id)
    error = _refused(
        "NOT_OFFERED", booking.book_appointment, patient, doctor, ultrasound, east, at(MONDAY, 10), now=NOW
    )
    assert error.status == 422
    other = db.session.get(Doctor, clinic_data.other_doctor_id)
    _refused("NOT_OFFERED", booking.book_appointment, patient, other, ultrasound, east, at(MONDAY, 10), now=NOW)


def test_cancel_frees_the_slot_and_refuses_after_start(app_ctx, clinic_data):
    first, second = build_patient(), build_patient()
    appointment = _book(clinic_data, first.id, at(MONDAY, 10))
    booking.cancel_appointment(appointment, reason="Заболел", now=NOW)
    db.session.commit()
    assert (appointment.status, appointment.cancel_reason, appointment.cancelled_at) == ("cancelled", "Заболел", NOW)
    _refused("INVALID_TRANSITION", booking.cancel_appointment, appointment, now=NOW)
    again = _book(clinic_data, second.id, at(MONDAY, 10))  # the partial unique index lets it through
    error = _refused("INVALID_TRANSITION", booking.cancel_appointment, again, now=at(MONDAY, 10, 1))
    assert "after it has started" in error.message
    assert db.session.get(Appointment, again.id).status == "booked"


def test_reschedule_moves_and_rearms(app_ctx, clinic_data):
    first, second = build_patient(), build_patient()
    appointment = _book(clinic_data, first.id, at(MONDAY, 10))
    booking.confirm_appointment(appointment, now=NOW)
    db.session.commit()
    assert appointment.status == "confirmed"
    _book(clinic_data, second.id, at(MONDAY, 11))
    _refused("SLOT_TAKEN", booking.reschedule_appointment, appointment, at(MONDAY, 11), now=NOW)
    _refused("NOT_A_SLOT", booking.reschedule_appointment, appointment, at(MONDAY, 13), now=NOW)
    later = NOW + timedelta(hours=1)
    booking.reschedule_appointment(appointment, at(MONDAY, 14), now=later)
    db.session.commit()
    assert (appointment.starts_at, appointment.ends_at) == (at(MONDAY, 14), at(MONDAY, 14, 30))
    assert (appointment.status, appointment.booked_at, appointment.rescheduled_count) == ("booked", later, 1)
    _book(clinic_data, second.id, at(MONDAY, 10))  # the old time is free again
    _refused("CANNOT_RESCHEDULE", booking.reschedule_appointment, appointment, at(MONDAY, 15), now=at(MONDAY, 14, 5))


def test_state_machine(app_ctx, clinic_data):
    patient = build_patient()
    appointment = _book(clinic_data, patient.id, at(MONDAY, 10))
    _refused("INVALID_TRANSITION", booking.complete_appointment, appointment, now=NOW)  # before the start
    _refused("INVALID_TRANSITION", booking.mark_no_show, appointment, now=NOW)
    booking.mark_arrived(appointment, now=at(MONDAY, 9, 50))
    db.session.commit()
    _refused("INVALID_TRANSITION", booking.confirm_appointment, appointment, now=NOW)
    _refused("INVALID_TRANSITION", booking.cancel_appointment, appointment, now=NOW)
    booking.complete_appointment(appointment, now=at(MONDAY, 10, 40))
    assert appointment.status == "completed" and appointment.completed_at == at(MONDAY, 10, 40)
    _refused("INVALID_TRANSITION", booking.mark_arrived, appointment, now=NOW)


def test_finished_arrived_visits_complete_at_their_end(app_ctx, clinic_data):
    patient = build_patient()
    appointment = _book(clinic_data, patient.id, at(MONDAY, 10))
    booking.mark_arrived(appointment, now=at(MONDAY, 10, 2))
    assert booking.complete_finished_visits(now=at(MONDAY, 10, 20)) == 0
    assert booking.complete_finished_visits(now=at(MONDAY, 12)) == 1
    assert (appointment.status, appointment.completed_at) == ("completed", at(MONDAY, 10, 30))


def test_database_refuses_a_second_live_booking_of_a_slot(app_ctx, clinic_data):
    patient = build_patient()

    def row(status):
        return Appointment(
            patient_id=patient.id,
            doctor_id=clinic_data.doctor_id,
            service_id=clinic_data.consult_id,
            branch_id=clinic_data.central_id,
            starts_at=at(MONDAY, 10),
            ends_at=at(MONDAY, 10, 30),
            status=status,
            booked_at=NOW,
        )

    db.session.add_all([row("cancelled"), row("no_show"), row("booked")])
    db.session.commit()  # slots given back do not count
    db.session.add(row("confirmed"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def _race(app, clinic_data, patients, before_insert=None):
    """Book one slot from two threads (own app context and connection each) at the same moment."""
    barrier = threading.Barrier(len(patients))
    outcomes = []

    def attempt(patient_id):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                _book(clinic_data, patient_id, at(MONDAY, 10))
                outcomes.append("booked")
            except ServiceError as exc:
                db.session.rollback()
                outcomes.append(exc.code)

    threads = [threading.Thread(target=attempt, args=(p.id,)) for p in patients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


@pytest.mark.skipif(BACKEND.name != "services", reason="concurrent writers need PostgreSQL")
def test_concurrent_bookings_of_one_slot(app, clinic_data):
    with app.app_context():
        patients = [build_patient(), build_patient()]
    assert _race(app, clinic_data, patients) == ["SLOT_TAKEN", "booked"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Appointment.id))) == 1


@pytest.mark.skipif(BACKEND.name != "services", reason="concurrent writers need PostgreSQL")
def test_unique_index_decides_when_the_lock_is_bypassed(app, clinic_data, monkeypatch):
    """Without the row lock both threads see the slot free; the partial unique index still lets one win."""
    monkeypatch.setattr(booking, "_lock_doctor", lambda doctor_id: None)
    both_checked = threading.Barrier(2)
    original = booking._check_patient_free

    def slow_check(*args, **kwargs):
        original(*args, **kwargs)
        both_checked.wait(timeout=10)  # both have read the slot as free before either inserts

    monkeypatch.setattr(booking, "_check_patient_free", slow_check)
    with app.app_context():
        patients = [build_patient(), build_patient()]
    assert _race(app, clinic_data, patients) == ["SLOT_TAKEN", "booked"]
