"""The demo seeds on any date, at any hour, in any of the demo's zones.

Seven consecutive dates cover every weekday (the demo's schedules differ by weekday and branch);
00:05 and 23:55 local time put "today" at both edges of the day; Asia/Almaty and Asia/Tashkent are
the zones of the demo's clinic and agencies. The wall clock is moved for the whole process (the
time zone too), so nothing in the seed can fall back on the machine's real date.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from webapp.extensions import db

FIRST_DAY = date(2027, 3, 1)  # a Monday; the seven days after it cover the week
ZONES = ("Asia/Almaty", "Asia/Tashkent")
HOURS = (time(0, 5), time(23, 55))
INSTANTS = [
    datetime.combine(FIRST_DAY + timedelta(days=offset), at, tzinfo=ZoneInfo(zone))
    for offset in range(7)
    for zone in ZONES
    for at in HOURS
]


def _count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.mark.parametrize("instant", INSTANTS, ids=lambda i: f"{i:%a-%Y%m%d-%H%M}-{i.tzinfo.key.split('/')[1]}")
def test_demo_seeds_completely_at(app_ctx, instant):
    from webapp.clinic.models import Appointment
    from webapp.demo import seed_demo
    from webapp.finance.models import Debt
    from webapp.helpdesk.models import Ticket
    from webapp.realty.models import Booking

    with time_machine.travel(instant, tick=False):
        lines = list(seed_demo())
        db.session.commit()
        now = datetime.now(ZoneInfo("UTC"))
    assert any(line.startswith("created demo clinic") and "4 appointments" in line for line in lines), lines
    # Two visits in the past (completed, no-show) and two upcoming bookings, all built from the schedules.
    assert _count(Appointment, Appointment.starts_at < now) == 2
    assert _count(Appointment, Appointment.starts_at > now, Appointment.status == "booked") == 2
    assert _count(Booking) == 18
    assert _count(Ticket) == 300
    assert _count(Debt) == 2
