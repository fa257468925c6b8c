"""Run the whole suite as if it started at another moment: BOTDESK_TEST_CLOCK=2027-03-02T23:55+06:00.

The suite must pass whatever day it runs on; this is how to prove it for a given day (a weekday a
schedule skips, a month's last minute, New Year's Eve) without waiting for that day. The clock
keeps ticking from there, for every thread of the process.
"""

from __future__ import annotations

import os
from datetime import datetime


def travelling() -> bool:
    return bool(os.environ.get("BOTDESK_TEST_CLOCK"))


def skip_real_clock_tests(items) -> None:
    """Tests marked ``real_clock`` compare times written by other processes, whose clocks do not
    travel with this one; under BOTDESK_TEST_CLOCK they are skipped, not failed."""
    import pytest

    if not travelling():
        return
    skip = pytest.mark.skip(reason="compares times across processes; the travelled clock is this process's only")
    for item in items:
        if item.get_closest_marker("real_clock"):
            item.add_marker(skip)


def travel_from_environment() -> None:
    start = os.environ.get("BOTDESK_TEST_CLOCK")
    if not start:
        return
    import time_machine

    moment = datetime.fromisoformat(start)
    if moment.tzinfo is None:
        raise SystemExit("BOTDESK_TEST_CLOCK needs a UTC offset, e.g. 2027-03-02T23:55+06:00")
    time_machine.travel(moment, tick=True).start()
