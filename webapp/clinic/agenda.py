"""What the reception's calendar reads: one doctor's grid at one branch over a day or a week, in the
clinic's time zone, and the patient search of its booking form. Everything goes through
``webapp.clinic.access``, so an account sees its own organization's rows (a doctor: their own)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from webapp.clinic import access
from webapp.clinic.models import SLOT_FREEING, Appointment, Doctor, Patient
from webapp.clinic.services.common import local_midnight_utc, zone
from webapp.clinic.services.slots import compute_slots
from webapp.core.actors import Actor
from webapp.extensions import db

SEARCH_LIMIT = 20
MIN_QUERY = 2


@dataclass
class Cell:
    """One grid time of one day: bookable now (``free``), and the appointments that start there."""

    starts_at: datetime  # UTC
    local: datetime
    free: bool = False
    branch_id: int | None = None
    appointments: list[Appointment] = field(default_factory=list)


@dataclass
class Day:
    day: date
    day_off: bool
    cells: dict[str, Cell]


@dataclass
class Agenda:
    tz: ZoneInfo
    days: list[Day]

    @property
    def times(self) -> list[str]:
        """The rows: every local start time ("09:30") any day of the range has."""
        return sorted({key for day in self.days for key in day.cells})

    @property
    def zone_label(self) -> str:
        sample = datetime.combine(self.days[0].day, datetime.min.time(), tzinfo=self.tz)
        return f"{self.tz.key} ({sample:%Z})"


def _overlaps(appointment: Appointment, start: datetime, end: datetime) -> bool:
    return appointment.starts_at < end and appointment.ends_at > start


def build_agenda(actor: Actor, doctor: Doctor, branch_id: int | None, first_day: date, length: int, now) -> Agenda:
    """The doctor's grid at ``branch_id`` for ``length`` days from ``first_day``. A grid time an
    appointment (at any branch) covers is not offered; the appointment shows at its own start."""
    tz = zone(doctor.clinic.timezone)
    last_day = first_day + timedelta(days=length - 1)
    grid = compute_slots(doctor, first_day, last_day, branch_id=branch_id, now=now)
    start, end = local_midnight_utc(first_day, tz), local_midnight_utc(last_day + timedelta(days=1), tz)
    query = sa.select(Appointment).where(
        Appointment.doctor_id == doctor.id, Appointment.starts_at >= start, Appointment.starts_at < end
    )
    appointments = list(db.session.scalars(access.scope(query, actor, Appointment).order_by(Appointment.starts_at)))
    days_off = {off.day for off in doctor.days_off}
    days = []
    for offset in range(length):
        day = first_day + timedelta(days=offset)
        mine = [a for a in appointments if a.starts_at.astimezone(tz).date() == day]
        live = [a for a in mine if a.status not in SLOT_FREEING]
        cells: dict[str, Cell] = {}
        for slot in grid[day]:
            if not any(_overlaps(a, slot.starts_at, slot.ends_at) for a in live):
                cells[f"{slot.local_start:%H:%M}"] = Cell(
                    slot.starts_at, slot.local_start, slot.available, slot.branch_id
                )
        for appointment in mine:
            local = appointment.starts_at.astimezone(tz)
            cell = cells.setdefault(f"{local:%H:%M}", Cell(appointment.starts_at, local))
            cell.appointments.append(appointment)
        days.append(Day(day, day in days_off, cells))
    return Agenda(tz, days)


def _name_matches(word: str) -> sa.ColumnElement[bool]:
    # SQLite folds only ASCII case: the spellings people type and names are stored in are tried as such.
    variants = {word, word.lower(), word.capitalize(), word.upper()}
    columns = (Patient.last_name, Patient.first_name, Patient.middle_name)
    return sa.or_(*(column.contains(v, autoescape=True) for column in columns for v in variants))


def search_patients(actor: Actor, text: str | None) -> list[Patient]:
    """The actor's patients whose IIN, phone or name matches ``text`` (at most SEARCH_LIMIT)."""
    text = " ".join((text or "").split())
    if len(text) < MIN_QUERY:
        return []
    if re.search(r"[^\W\d_]", text):  # letters: a name, every word of it
        condition = sa.and_(*(_name_matches(word) for word in text.split()[:3]))
    else:
        # A phone typed with a trunk 8 or without the country code still finds "+7…": its last ten digits.
        digits = re.sub(r"\D", "", text)
        if len(digits) < MIN_QUERY:
            return []
        condition = sa.or_(Patient.iin.startswith(digits), Patient.phone.contains(digits[-10:]))
    query = sa.select(Patient).where(Patient.is_active.is_(True), condition)
    query = access.scope(query, actor, Patient).order_by(Patient.last_name, Patient.first_name, Patient.id)
    return list(db.session.scalars(query.limit(SEARCH_LIMIT)))


def patient_json(patient: Patient) -> dict:
    return {
        "id": patient.id,
        "name": patient.full_name,
        "iin": patient.iin or "",
        "phone": patient.phone,
        "birth_date": patient.birth_date.isoformat(),
    }
