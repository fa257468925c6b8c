"""Slot computation: schedule, break, service duration, days off, appointments, the past, time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests.fixtures.clinic import MONDAY, NOW, at, build_patient
from webapp.clinic.models import Appointment, Doctor, DoctorSchedule, Service
from webapp.clinic.services.slots import available_days, day_slots
from webapp.extensions import db


def _times(slots, only_available=True):
    return [f"{s.local_start:%H:%M}" for s in slots if s.available or not only_available]


def _load(ids):
    return (
        db.session.get(Doctor, ids.doctor_id),
        db.session.get(Service, ids.consult_id),
        db.session.get(Service, ids.ultrasound_id),
    )


def _appointment(ids, patient_id, starts_at, minutes=30, status="booked", doctor_id=None):
    row = Appointment(
        patient_id=patient_id,
        doctor_id=doctor_id or ids.doctor_id,
        service_id=ids.consult_id,
        branch_id=ids.central_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        status=status,
        booked_at=NOW,
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_working_day_with_break(app_ctx, clinic_data):
    doctor, consult, ultrasound = _load(clinic_data)
    slots = day_slots(doctor, MONDAY, service=consult, branch_id=clinic_data.central_id, now=NOW)
    morning = ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "12:30"]
    afternoon = ["14:00", "14:30", "15:00", "15:30", "16:00", "16:30", "17:00", "17:30"]
    assert _times(slots) == morning + afternoon
    assert slots[0].starts_at == at(MONDAY, 9) == datetime(2030, 1, 7, 4, 0, tzinfo=UTC)
    assert slots[0].ends_at - slots[0].starts_at == timedelta(minutes=30)
    # A 60-minute service must end before the break and before closing: no 12:30, no 17:30.
    long = _times(day_slots(doctor, MONDAY, service=ultrasound, branch_id=clinic_data.central_id, now=NOW))
    assert long == ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00"] + afternoon[:-1]


def test_appointments_block_overlapping_starts(app_ctx, clinic_data):
    doctor, consult, ultrasound = _load(clinic_data)
    patient = build_patient()
    _appointment(clinic_data, patient.id, at(MONDAY, 10))
    _appointment(clinic_data, patient.id, at(MONDAY, 15), status="cancelled")  # gives its slot back
    consult_times = _times(day_slots(doctor, MONDAY, service=consult, now=NOW))
    assert "10:00" not in consult_times and "09:30" in consult_times and "10:30" in consult_times
    assert "15:00" in consult_times
    # For an hour-long service 09:30 (09:30–10:30) overlaps the 10:00 booking too.
    long_times = _times(day_slots(doctor, MONDAY, service=ultrasound, now=NOW))
    assert "09:00" in long_times and "09:30" not in long_times and "10:00" not in long_times
    assert "10:30" in long_times


def test_past_slots_are_not_available(app_ctx, clinic_data):
    doctor, consult, _ = _load(clinic_data)
    now = at(MONDAY, 11, 10)
    assert _times(day_slots(doctor, MONDAY, service=consult, now=now))[:2] == ["11:30", "12:00"]
    assert len(_times(day_slots(doctor, MONDAY, service=consult, now=now), only_available=False)) == 16


def test_days_off_weekends_and_branches(app_ctx, clinic_data):
    doctor, consult, _ = _load(clinic_data)
    wednesday, saturday = MONDAY + timedelta(days=2), MONDAY + timedelta(days=5)
    assert _times(day_slots(doctor, wednesday, service=consult, now=NOW)) == []
    assert _times(day_slots(doctor, saturday, service=consult, branch_id=clinic_data.central_id, now=NOW)) == []
    east = day_slots(doctor, saturday, service=consult, branch_id=clinic_data.east_id, now=NOW)
    assert _times(east) == ["10:00", "10:30", "11:00", "11:30"]
    assert {s.branch_id for s in east} == {clinic_data.east_id}
    days = available_days(doctor, NOW.date(), NOW.date() + timedelta(days=6), service=consult, now=NOW)
    assert sorted(days) == [
        MONDAY,
        MONDAY + timedelta(days=1),
        MONDAY + timedelta(days=3),
        MONDAY + timedelta(4),
        saturday,
    ]


def test_local_day_crosses_the_utc_date_boundary(app_ctx, clinic_data):
    """Almaty is UTC+5: a night shift 00:00–02:00 on local Monday is Sunday 19:00–21:00 UTC."""
    doctor, consult, _ = _load(clinic_data)
    db.session.add(
        DoctorSchedule(doctor=doctor, branch_id=clinic_data.central_id, weekday=0, start_time=time(0), end_time=time(2))
    )
    db.session.commit()
    patient = build_patient()
    sunday_evening_utc = datetime(2030, 1, 6, 19, 30, tzinfo=UTC)  # Monday 00:30 in Almaty
    _appointment(clinic_data, patient.id, sunday_evening_utc)
    slots = day_slots(doctor, MONDAY, service=consult, branch_id=clinic_data.central_id, now=NOW)
    night = [s for s in slots if s.local_start.hour < 2]
    assert [f"{s.local_start:%H:%M}" for s in night] == ["00:00", "00:30", "01:00", "01:30"]
    assert {s.starts_at.date() for s in night} == {date(2030, 1, 6)}  # Sunday in UTC
    assert [s.available for s in night] == [True, False, True, True]
    # The same booking does not leak into local Sunday, which has no schedule at all.
    assert day_slots(doctor, date(2030, 1, 6), service=consult, now=NOW) == []


def test_schedule_is_read_in_the_clinic_time_zone(app_ctx, clinic_data):
    doctor, consult, _ = _load(clinic_data)
    doctor.clinic.timezone = "America/New_York"
    db.session.commit()
    first = day_slots(doctor, MONDAY, service=consult, branch_id=clinic_data.central_id, now=NOW)[0]
    assert first.starts_at == datetime(2030, 1, 7, 14, 0, tzinfo=UTC)  # 09:00 EST


def test_daylight_saving_gap_is_skipped(app_ctx, clinic_data):
    """Berlin skips 02:00–03:00 on 31 March 2030: no slot may start in the hour that does not exist."""
    doctor, consult, _ = _load(clinic_data)
    doctor.clinic.timezone = "Europe/Berlin"
    db.session.add(
        DoctorSchedule(doctor=doctor, branch_id=clinic_data.central_id, weekday=6, start_time=time(1), end_time=time(4))
    )
    db.session.commit()
    sunday = date(2030, 3, 31)
    slots = day_slots(doctor, sunday, service=consult, now=NOW)
    assert _times(slots) == ["01:00", "01:30", "03:00", "03:30"]
    berlin = ZoneInfo("Europe/Berlin")
    assert [s.starts_at for s in slots][2] == datetime(2030, 3, 31, 3, 0, tzinfo=berlin).astimezone(UTC)
