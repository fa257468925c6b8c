"""Free appointment slots: a doctor's weekly schedule (local wall-clock hours of the clinic's time
zone) minus breaks, days off, live appointments and the past.

Start times lie on the doctor's grid (``slot_step_minutes`` from the start of each working
interval); a slot is offered when the whole service duration fits in the interval and overlaps no
appointment that holds its slot.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from webapp.clinic.models import SLOT_FREEING, Appointment, Doctor, DoctorDayOff, DoctorSchedule, Service
from webapp.clinic.services import clock
from webapp.clinic.services.common import local_midnight_utc, zone
from webapp.core.limits import require_date_in_range
from webapp.extensions import db

MAX_DURATION = timedelta(minutes=720)  # the services table's upper bound on a duration
MAX_RANGE_DAYS = 62


@dataclass(frozen=True)
class Slot:
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC
    local_start: datetime  # in the clinic's time zone
    branch_id: int
    available: bool


def _busy(doctor_id: int, start: datetime, end: datetime, exclude_id: int | None) -> list[tuple[datetime, datetime]]:
    """Merged, sorted busy intervals of the doctor overlapping [start, end)."""
    query = db.select(Appointment.starts_at, Appointment.ends_at).where(
        Appointment.doctor_id == doctor_id,
        Appointment.status.not_in(SLOT_FREEING),
        # Bounding starts_at on both sides keeps this an index range scan on (doctor_id, starts_at).
        Appointment.starts_at >= start - MAX_DURATION,
        Appointment.starts_at < end,
        Appointment.ends_at > start,
    )
    if exclude_id is not None:
        query = query.where(Appointment.id != exclude_id)
    merged: list[tuple[datetime, datetime]] = []
    for s, e in sorted(db.session.execute(query).tuples()):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def _overlaps(busy: list[tuple[datetime, datetime]], busy_starts: list[datetime], s: datetime, e: datetime) -> bool:
    index = bisect.bisect_left(busy_starts, e)  # busy intervals starting before our end
    return index > 0 and busy[index - 1][1] > s


def _existing_local(naive: datetime, tz: ZoneInfo) -> datetime | None:
    """``naive`` as an aware local time, or None when the clock skips it (a DST gap)."""
    aware = naive.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        return None
    return aware


def _candidates(schedule: DoctorSchedule, day: date, step: timedelta, duration: timedelta) -> list[datetime]:
    if schedule.break_start is not None and schedule.break_end is not None:
        intervals = [(schedule.start_time, schedule.break_start), (schedule.break_end, schedule.end_time)]
    else:
        intervals = [(schedule.start_time, schedule.end_time)]
    starts = []
    for begin, finish in intervals:
        cursor, limit = datetime.combine(day, begin), datetime.combine(day, finish)
        while cursor + duration <= limit:
            starts.append(cursor)
            cursor += step
    return starts


def compute_slots(
    doctor: Doctor,
    first_day: date,
    last_day: date,
    *,
    service: Service | None = None,
    branch_id: int | None = None,
    now: datetime | None = None,
    exclude_appointment_id: int | None = None,
) -> dict[date, list[Slot]]:
    """Every grid slot of each local day in [first_day, last_day], with whether it can be booked."""
    if last_day < first_day or (last_day - first_day).days > MAX_RANGE_DAYS:
        raise ValueError("a slot range is 1 to 63 days")
    require_date_in_range(first_day, "date")
    require_date_in_range(last_day, "date")
    now = clock.resolve(now)
    tz = zone(doctor.clinic.timezone)
    duration = timedelta(minutes=service.duration_minutes if service else doctor.slot_step_minutes)
    step = timedelta(minutes=doctor.slot_step_minutes)
    range_start = local_midnight_utc(first_day, tz)
    range_end = local_midnight_utc(last_day + timedelta(days=1), tz) + duration
    busy = _busy(doctor.id, range_start, range_end, exclude_appointment_id)
    busy_starts = [s for s, _ in busy]
    schedule_query = db.select(DoctorSchedule).where(DoctorSchedule.doctor_id == doctor.id)
    if branch_id is not None:
        schedule_query = schedule_query.where(DoctorSchedule.branch_id == branch_id)
    by_weekday: dict[int, list[DoctorSchedule]] = {}
    for row in db.session.scalars(schedule_query.order_by(DoctorSchedule.start_time)):
        by_weekday.setdefault(row.weekday, []).append(row)
    days_off = set(
        db.session.scalars(
            db.select(DoctorDayOff.day).where(
                DoctorDayOff.doctor_id == doctor.id, DoctorDayOff.day.between(first_day, last_day)
            )
        )
    )

    result: dict[date, list[Slot]] = {}
    day = first_day
    while day <= last_day:
        slots: dict[datetime, Slot] = {}
        for schedule in by_weekday.get(day.weekday(), ()):
            for naive in _candidates(schedule, day, step, duration):
                local = _existing_local(naive, tz)
                if local is None:
                    continue
                start = local.astimezone(UTC)
                if start in slots:
                    continue
                end = start + duration
                free = day not in days_off and start > now and not _overlaps(busy, busy_starts, start, end)
                slots[start] = Slot(start, end, local, schedule.branch_id, free)
        result[day] = [slots[k] for k in sorted(slots)]
        day += timedelta(days=1)
    return result


def day_slots(doctor: Doctor, day: date, **options) -> list[Slot]:
    return compute_slots(doctor, day, day, **options)[day]


def available_days(doctor: Doctor, first_day: date, last_day: date, **options) -> set[date]:
    """The local days in the range with at least one bookable slot (the bot's calendar)."""
    return {
        day
        for day, slots in compute_slots(doctor, first_day, last_day, **options).items()
        if any(s.available for s in slots)
    }


def find_slot(doctor: Doctor, starts_at: datetime, **options) -> Slot | None:
    """The grid slot starting exactly at ``starts_at`` (any availability), or None when there is none."""
    day = starts_at.astimezone(zone(doctor.clinic.timezone)).date()
    return next((s for s in day_slots(doctor, day, **options) if s.starts_at == starts_at), None)


def local_start(doctor: Doctor, day: date, at_time) -> datetime:
    """The UTC instant of local ``day`` + ``at_time`` in the doctor's clinic (not necessarily a slot)."""
    return datetime.combine(day, at_time, tzinfo=zone(doctor.clinic.timezone)).astimezone(UTC)
