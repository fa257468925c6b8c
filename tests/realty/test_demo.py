"""The realty demo data: created once, complete, and giving the reports something to count."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from webapp.extensions import db


def test_demo_seed_is_idempotent_and_feeds_reports(app_ctx):
    from webapp.core.models import Membership
    from webapp.demo import _seed_staff
    from webapp.realty import demo
    from webapp.realty.models import Agency, Booking, Listing
    from webapp.reports.services import local_today, range_report

    list(_seed_staff())
    lines = list(demo.seed())
    db.session.commit()
    assert len(lines) == 3
    counts = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
    before = (counts(Agency), counts(Listing), counts(Booking), counts(Membership))
    assert before[0] == 2 and before[1] == 30 and before[2] == 18
    statuses = set(db.session.scalars(sa.select(Listing.status)))
    assert statuses == {"approved", "pending", "rejected"}
    assert {lst.city for lst in db.session.scalars(sa.select(Listing))} == {"Tashkent", "Almaty", "Astana"}
    assert set(db.session.scalars(sa.select(Booking.status))) >= {"pending", "confirmed", "completed"}

    assert list(demo.seed()) == []  # nothing new the second time
    db.session.commit()
    assert (counts(Agency), counts(Listing), counts(Booking), counts(Membership)) == before

    today = local_today()
    report = range_report(today - timedelta(days=40), today + timedelta(days=1))
    assert report["total_added"] == 30 and report["total_approved"] == 18 and report["total_rejected"] == 6
    assert {item["name"] for item in report["top_regions"]} == {"Tashkent", "Almaty", "Astana"}
