"""The realty console on the one scoped base view: another agency's rows are not found to a forged
id (details, export, bulk actions), and a refused row of a bulk action undoes only itself."""

from __future__ import annotations

import sqlalchemy as sa

from tests.conftest import csrf_from
from tests.fixtures.realty import future


def _status(app, booking_id):
    from webapp.extensions import db
    from webapp.realty.models import Booking

    with app.app_context():
        return db.session.get(Booking, booking_id).status


def test_forged_booking_ids_of_another_agency_are_not_found(app, client, console_login, realty, realty_world):
    w = realty_world
    own = realty.booking(w.listing_a, w.guest, future(2), future(3))
    theirs = realty.booking(w.listing_b, w.guest, future(2), future(3))
    console_login(client, w.admin_a)
    details = client.get(f"/admin/realty_bookings/details/?id={theirs.id}", follow_redirects=True)
    assert "Beta flat" not in details.text
    assert client.get(f"/admin/realty_bookings/details/?id={own.id}").status_code == 200
    assert "Beta flat" not in client.get("/admin/realty_bookings/export/csv/").text
    token = csrf_from(client.get("/admin/realty_bookings/").text)
    client.post(
        "/admin/realty_bookings/action/",
        data={"action": "confirm", "rowid": [str(theirs.id), str(own.id)], "csrf_token": token},
    )
    assert _status(app, theirs.id) == "pending" and _status(app, own.id) == "confirmed"


def test_a_refused_row_of_a_bulk_action_undoes_only_itself(app, client, console_login, realty, realty_world):
    from webapp.core.models import AuditLog
    from webapp.extensions import db

    w = realty_world
    done = realty.booking(w.listing_a, w.guest, future(2), future(3), status="cancelled")
    open_ = realty.booking(w.listing_a, w.guest, future(5), future(6))
    console_login(client, w.admin_a)
    token = csrf_from(client.get("/admin/realty_bookings/").text)
    page = client.post(
        "/admin/realty_bookings/action/",
        data={"action": "confirm", "rowid": [str(done.id), str(open_.id)], "csrf_token": token},
        follow_redirects=True,
    )
    assert f"#{done.id}:" in page.text  # the refusal, named by its row
    assert _status(app, done.id) == "cancelled" and _status(app, open_.id) == "confirmed"
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditLog.target_id).where(AuditLog.action.like("booking.%"))).all()
    assert str(done.id) not in actions
