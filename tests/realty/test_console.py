"""The realty console: agency scoping (lists, counts, CSV, details URLs), moderation actions, pages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.conftest import csrf_from
from tests.fixtures.realty import future


def listing_status(app, listing_id):
    from webapp.extensions import db
    from webapp.realty.models import Listing

    with app.app_context():
        row = db.session.get(Listing, listing_id)
        return row.status, row.rejection_reason


def test_admin_sees_only_their_agency(app, client, console_login, realty, realty_world):
    w = realty_world
    realty.booking(w.listing_b, w.guest, future(2), future(3))
    console_login(client, w.admin_a)
    page = client.get("/admin/realty_listings/")
    assert page.status_code == 200 and "Alpha flat" in page.text and "Beta flat" not in page.text
    export = client.get("/admin/realty_listings/export/csv/")
    assert "Alpha flat" in export.text and "Beta flat" not in export.text
    details = client.get(f"/admin/realty_listings/details/?id={w.listing_b.id}")
    assert details.status_code == 302 and "Beta flat" not in client.get(details.headers["Location"]).text
    assert "Beta flat" not in client.get("/admin/realty_bookings/").text
    agencies = client.get("/admin/realty_agencies/")
    assert "Alpha Homes" in agencies.text and "Beta Rent" not in agencies.text
    assert client.get(f"/admin/realty_agencies/edit/?id={w.a.id}").status_code in (302, 403)


def test_superuser_sees_everything(app, client, console_login, realty_world):
    console_login(client, realty_world.superuser)
    page = client.get("/admin/realty_listings/")
    assert "Alpha flat" in page.text and "Beta flat" in page.text
    assert client.get("/admin/realty_outbox/").status_code == 200
    from webapp.core.models import User
    from webapp.extensions import db
    from webapp.realty.services.notify import notify

    with app.app_context():
        notify(db.session.get(User, realty_world.realtor_a.id), "listing", "Your listing is live")  # no chat
        db.session.commit()
    notifications = client.get("/admin/realty_notifications/")
    assert notifications.status_code == 200 and "Your listing is live" in notifications.text


def test_approve_and_reject_with_reason(app, client, console_login, realty, realty_world):
    w = realty_world
    pending = realty.listing(w.a, w.realtor_a, status="pending", title="Queue flat")
    other = realty.listing(w.b, w.realtor_b, status="pending", title="Foreign flat")
    second = realty.listing(w.a, w.realtor_a, status="pending", title="Second flat")
    console_login(client, w.admin_a)  # moderation is the platform's, not an agency's
    assert client.get("/admin/realty_moderation/").status_code == 403
    client = app.test_client()
    console_login(client, w.moderator)
    queue = client.get("/admin/realty_moderation/")
    assert "Queue flat" in queue.text and "Foreign flat" in queue.text  # every agency's
    token = csrf_from(queue.text)
    client.post(
        "/admin/realty_moderation/action/", data={"action": "approve", "rowid": [str(pending.id)], "csrf_token": token}
    )
    assert listing_status(app, pending.id) == ("approved", None)
    assert listing_status(app, other.id) == ("pending", None)
    form = client.post(
        "/admin/realty_moderation/action/", data={"action": "reject", "rowid": [str(second.id)], "csrf_token": token}
    )
    assert form.status_code == 302
    reject_page = client.get(form.headers["Location"])
    assert "Second flat" in reject_page.text
    client.post(
        form.headers["Location"],
        data={"ids": str(second.id), "reason": "Photos missing", "csrf_token": csrf_from(reject_page.text)},
    )
    assert listing_status(app, second.id) == ("rejected", "Photos missing")


@pytest.mark.parametrize(
    "role,path,allowed",
    [
        ("realtor", "/admin/realty_listings/", True),
        ("realtor", "/admin/realty_agencies/", False),
        ("realtor", "/admin/realty_moderation/", False),
        ("realtor", "/admin/realty_outbox/", False),
        ("admin", "/admin/realty_outbox/", False),
        ("admin", "/admin/realty_reports/", True),
        ("admin", "/admin/realty_dashboard/", True),
        ("admin", "/admin/realty_calendar/", True),
        ("admin", "/admin/realty_realtors/", True),
    ],
)
def test_console_roles(client, console_login, realty, role, path, allowed):
    agency = realty.agency()
    user = realty.realtor(agency) if role == "realtor" else realty.admin(agency)
    console_login(client, user)
    assert client.get(path).status_code == (200 if allowed else 403)


def test_reports_page_and_csv(app, client, console_login, make_user):
    from datetime import UTC, datetime

    from webapp.extensions import db
    from webapp.realty.models import ModerationEvent

    with app.app_context():
        for action in ("added", "added", "approved"):
            db.session.add(
                ModerationEvent(action=action, city="Tashkent", occurred_at=datetime(2025, 9, 28, 6, tzinfo=UTC))
            )
        db.session.commit()
    console_login(client, make_user("moderator"))
    page = client.get("/admin/realty_reports/?date_from=2025-09-22&date_to=2025-09-28")
    assert page.status_code == 200 and 'id="report-added">2<' in page.text
    export = client.get("/admin/realty_reports/?date_from=2025-09-22&date_to=2025-09-28&format=csv")
    lines = export.text.splitlines()
    assert lines[0] == "date,added,approved,rejected" and "2025-09-28,2,1,0" in lines and "total,2,1,0" in lines
    bad = client.get("/admin/realty_reports/?date_from=2025-09-28&date_to=2025-09-01")
    assert bad.status_code == 302


def test_realtor_deactivation_from_the_console(app, client, console_login, realty_world):
    w = realty_world
    console_login(client, w.admin_a)
    page = client.get("/admin/realty_realtors/")
    assert page.status_code == 200
    client.post(
        "/admin/realty_realtors/action/",
        data={
            "action": "deactivate",
            "rowid": [str(w.realtor_a.id), str(w.realtor_b.id)],
            "csrf_token": csrf_from(page.text),
        },
    )
    from webapp.core.services import get_user

    with app.app_context():
        assert get_user(w.realtor_a.id).is_active is False
        assert get_user(w.realtor_b.id).is_active is True


def test_dashboard_card_and_calendar(app, client, console_login, realty, realty_world):
    w = realty_world
    realty.booking(w.listing_a, w.guest, future(1), future(3))
    console_login(client, w.admin_a)
    home = client.get("/admin/")
    assert "Недвижимость: брони к подтверждению" in home.text  # the admin reads the console in Russian
    calendar = client.get(f"/admin/realty_calendar/?listing_id={w.listing_a.id}")
    assert calendar.text.count('data-state="pending"') == 2
    assert client.get(f"/admin/realty_calendar/?listing_id={w.listing_b.id}").status_code == 404
    dashboard = client.get("/admin/realty_dashboard/")
    assert dashboard.status_code == 200 and 'id="realty-pending-bookings">1<' in dashboard.text


def test_dashboard_revenue_is_never_summed_across_currencies(app, client, console_login, realty, realty_world):
    w = realty_world
    kzt = realty.agency("Gamma Almaty", city="Almaty", timezone="Asia/Almaty", currency="KZT")
    listing_kzt = realty.listing(kzt, realty.realtor(kzt), price="20000.00", city="Almaty", district="Medeu")
    realty.booking(w.listing_a, w.guest, future(1), future(3), status="confirmed")  # 2 nights × 100 UZS
    realty.booking(listing_kzt, w.guest, future(5), future(6), status="confirmed")  # 1 night × 20 000 KZT
    with app.app_context():
        from webapp.realty.services import stats

        since = future(0) - timedelta(days=30)
        assert stats.revenue(since) == {"KZT": Decimal("20000.00"), "UZS": Decimal("200.00")}
        from webapp.core.i18n import format_money

        shown = [
            format_money(Decimal(amount), currency, "ru") for amount, currency in (("20000", "KZT"), ("200", "UZS"))
        ]
        summed = [format_money(Decimal("20200"), currency, "ru") for currency in ("KZT", "UZS")]
    console_login(client, w.superuser)  # reads the console in Russian
    dashboard = client.get("/admin/realty_dashboard/").text
    card = dashboard.split('id="realty-revenue">', 1)[1].split("</div></div></div>", 1)[0]
    assert all(text in card for text in shown), card
    assert not any(text in card for text in summed)


def test_superuser_opens_and_edits_an_agency_through_the_services(app, client, console_login, make_user):
    """The console's agency form creates the agency with its own organization and audits every
    change; a bad time zone is refused with a message and changes nothing."""
    import sqlalchemy as sa

    from webapp.core.models import AuditLog, Organization
    from webapp.extensions import db
    from webapp.realty.models import Agency

    superuser = make_user("superuser", language="en")
    console_login(client, superuser)
    card = {
        "name": "Orion Stays",
        "city": "Almaty",
        "phone": "+7 701 555 01 02",
        "email": "",
        "address": "",
        "timezone": "Asia/Almaty",
        "currency": "kzt",
        "is_active": "y",
    }
    page = client.get("/admin/realty_agencies/new/")
    created = client.post("/admin/realty_agencies/new/", data={**card, "csrf_token": csrf_from(page.text)})
    assert created.status_code == 302, created.text
    with app.app_context():
        agency = db.session.scalar(sa.select(Agency).where(Agency.name == "Orion Stays"))
        assert agency.currency == "KZT" and agency.phone == "+77015550102"
        assert db.session.get(Organization, agency.organization_id).name == "Orion Stays"
        agency_id = agency.id

    form = client.get(f"/admin/realty_agencies/edit/?id={agency_id}")
    refused = client.post(
        f"/admin/realty_agencies/edit/?id={agency_id}",
        data={**card, "city": "Astana", "timezone": "Mars/Olympus", "csrf_token": csrf_from(form.text)},
        follow_redirects=True,
    )
    assert "time zone" in refused.text
    with app.app_context():
        assert db.session.get(Agency, agency_id).city == "Almaty"
    edited = client.post(
        f"/admin/realty_agencies/edit/?id={agency_id}",
        data={**card, "city": "Astana", "csrf_token": csrf_from(form.text)},
    )
    assert edited.status_code == 302
    with app.app_context():
        assert db.session.get(Agency, agency_id).city == "Astana"
        audit = db.session.execute(
            sa.select(AuditLog.action, AuditLog.old_value, AuditLog.new_value).where(
                AuditLog.target_type == "agency", AuditLog.target_id == str(agency_id)
            )
        ).all()
    assert ("agency.create", None, "Orion Stays") in audit
    assert ("agency.update", "city: Almaty", "city: Astana") in audit
