"""The realty demo data: created once, complete, and giving the reports something to count."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from webapp.core.models import User
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


def test_demo_agencies_are_organizations_and_the_moderator_has_work(app_ctx):
    """Both demo agencies are organizations; `admin` and `realtor` work for the first; the platform
    `moderator` finds the pending listings of every agency in its queue."""
    from webapp.core.services import get_user
    from webapp.core.tenancy import organization_of
    from webapp.demo import _seed_staff
    from webapp.realty import access, demo
    from webapp.realty.models import Agency, Listing
    from webapp.realty.services import stats
    from webapp.realty.services.listings import moderation_queue

    list(_seed_staff())
    list(demo.seed())
    db.session.commit()
    first, second = (db.session.scalar(sa.select(Agency).where(Agency.name == row[0])) for row in demo.AGENCIES)
    assert first.organization.name == first.name and second.organization.name == second.name
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    assert organization_of(users["admin"]).id == first.organization_id
    assert organization_of(users["realtor"]).id == first.organization_id
    assert organization_of(users["realty_admin_kz"]).id == second.organization_id
    assert organization_of(users["moderator"]) is None
    moderator = get_user(users["moderator"].id)
    queue = db.session.scalars(moderation_queue(moderator)).all()
    assert {listing.agency_id for listing in queue} == {first.id, second.id}
    assert stats.count_pending_listings(moderator) == len(queue) == 6
    assert access.can_moderate(moderator) and not access.can_moderate(users["admin"])
    pending = db.session.scalar(sa.select(sa.func.count(Listing.id)).where(Listing.status == "pending"))
    assert pending == 6
