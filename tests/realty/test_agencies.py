"""Agencies: membership, realtor management, metrics, superuser role changes, data isolation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.fixtures.realty import future
from webapp.core.models import AuditLog, User
from webapp.core.services import ServiceError, get_user
from webapp.extensions import db
from webapp.realty.models import AgencyMember, Booking, Listing
from webapp.realty.services import agencies as svc
from webapp.realty.services.bookings import staff_bookings
from webapp.realty.services.listings import staff_listings


def test_admin_adds_a_realtor_to_their_own_agency(app_ctx, realty_world):
    admin = get_user(realty_world.admin_a.id)
    realtor = svc.add_realtor(
        admin, email="New@Realtor.test", phone="+998 90 700 00 01", first_name="Nodira", password="s3cret-pass"
    )
    db.session.commit()
    assert (realtor.role, realtor.email, realtor.phone) == ("realtor", "new@realtor.test", "+998907000001")
    assert db.session.get(AgencyMember, realtor.id).agency_id == realty_world.a.id
    assert realtor.check_password("s3cret-pass")
    with pytest.raises(ServiceError) as err:
        svc.add_realtor(admin, email="new@realtor.test", phone=None, first_name="X", password="s3cret-pass")
    assert err.value.code == "EMAIL_TAKEN"
    with pytest.raises(ServiceError) as err:
        svc.add_realtor(admin, email="b@realtor.test", phone=None, first_name="X", password="short")
    assert err.value.field == "password"
    with pytest.raises(ServiceError) as err:
        svc.add_realtor(
            get_user(realty_world.realtor_a.id), email="c@r.test", phone=None, first_name="X", password="s3cret-pass"
        )
    assert err.value.status == 403


def test_admin_toggles_only_own_realtors(app_ctx, realty_world):
    w = realty_world
    svc.set_realtor_active(get_user(w.admin_a.id), get_user(w.realtor_a.id), False)
    db.session.commit()
    assert get_user(w.realtor_a.id).is_active is False
    with pytest.raises(ServiceError) as err:
        svc.set_realtor_active(get_user(w.admin_a.id), get_user(w.realtor_b.id), False)
    assert err.value.status == 403
    assert (
        db.session.scalar(sa.select(AuditLog.action).where(AuditLog.target_id == str(w.realtor_a.id))) == "user.block"
    )


def test_superuser_moves_and_removes_a_realtor(app_ctx, realty_world):
    w = realty_world
    su = get_user(w.superuser.id)
    realtor = get_user(w.realtor_a.id)
    svc.set_membership(su, realtor, svc.get_agency(w.b.id))
    db.session.commit()
    assert db.session.get(AgencyMember, realtor.id).agency_id == w.b.id
    svc.set_membership(su, realtor, None)
    db.session.commit()
    assert db.session.get(AgencyMember, realtor.id) is None
    with pytest.raises(ServiceError):
        svc.set_membership(get_user(w.admin_a.id), realtor, svc.get_agency(w.a.id))
    with pytest.raises(ServiceError):
        svc.set_membership(su, get_user(w.guest.id), svc.get_agency(w.a.id))


def test_find_agencies_by_id_name_or_city(app_ctx, realty_world):
    w = realty_world
    assert [a.id for a in svc.find_agencies(str(w.b.id))] == [w.b.id]
    assert [a.id for a in svc.find_agencies("alpha")] == [w.a.id]
    assert [a.id for a in svc.find_agencies("almat")] == [w.b.id]
    assert svc.find_agencies("zzz") == []


def test_metrics(app_ctx, realty, realty_world, make_user):
    w = realty_world
    second = realty.listing(w.a, w.realtor_a, price="300")
    realty.listing(w.a, w.realtor_a, status="pending")
    realty.booking(w.listing_a, w.guest, future(1), future(3), status="completed")  # 200
    realty.booking(second, w.guest, future(5), future(6), status="confirmed")  # 300
    realty.booking(second, w.guest, future(7), future(9), status="cancelled")
    realty.booking(w.listing_a, w.guest, future(10), future(11))  # pending: no revenue
    realty.booking(w.listing_b, w.guest, future(1), future(5), status="confirmed")  # other agency
    metrics = svc.agency_metrics(svc.get_agency(w.a.id))
    assert metrics["realtors"] == 1
    assert metrics["listings"] == {"total": 3, "pending": 1, "approved": 2, "rejected": 0}
    assert metrics["bookings"] == {"total": 4, "pending": 1, "confirmed": 1, "cancelled": 1, "completed": 1}
    assert metrics["revenue"] == "500.00"
    assert [(t["id"], t["revenue"]) for t in metrics["top_listings"]] == [
        (second.id, "300.00"),
        (w.listing_a.id, "200.00"),
    ]
    assert [(t["id"], t["bookings"]) for t in metrics["top_realtors"]] == [(str(w.realtor_a.id), 2)]
    assert metrics["contacts"]["phone"] == "+998901112233"


def test_role_change_goes_through_audited_core_and_leaves_agency(app_ctx, realty_world):
    w = realty_world
    su = get_user(w.superuser.id)
    svc.set_role(su, get_user(w.realtor_a.id), "user")
    db.session.commit()
    assert get_user(w.realtor_a.id).role == "user" and db.session.get(AgencyMember, w.realtor_a.id) is None
    actions = db.session.scalars(sa.select(AuditLog.action).where(AuditLog.target_id == str(w.realtor_a.id))).all()
    # A customer works for no organization: the realtor leaves it too (issue 12).
    assert sorted(actions) == ["membership.change", "realty.membership", "user.role"]
    with pytest.raises(ServiceError):
        svc.set_role(get_user(w.admin_a.id), get_user(w.guest.id), "superuser")


def test_find_users_by_email_or_phone(app_ctx, make_user):
    with_phone = make_user("user", email="guest-one@mail.test", phone="+998901234567")
    assert [u.id for u in svc.find_users("guest-one")] == [with_phone.id]
    assert [u.id for u in svc.find_users("+998 90 123 45 67")] == [with_phone.id]
    assert svc.find_users("") == []


def test_staff_see_only_their_agency(app_ctx, realty, realty_world):
    w = realty_world
    realty.booking(w.listing_a, w.guest, future(1), future(2))
    realty.booking(w.listing_b, w.guest, future(1), future(2))
    colleague = realty.realtor(w.a)

    def listing_ids(user):
        return {lst.agency_id for lst in db.session.scalars(staff_listings(get_user(user.id)))}

    def booking_agencies(user):
        return {b.listing.agency_id for b in db.session.scalars(staff_bookings(get_user(user.id))).unique()}

    assert listing_ids(w.admin_a) == {w.a.id} and booking_agencies(w.admin_a) == {w.a.id}
    assert listing_ids(w.admin_b) == {w.b.id} and booking_agencies(w.admin_b) == {w.b.id}
    assert listing_ids(w.realtor_a) == {w.a.id}
    assert listing_ids(colleague) == set() and booking_agencies(colleague) == set()
    assert booking_agencies(w.superuser) == {w.a.id, w.b.id}
    with pytest.raises(ServiceError):
        staff_listings(get_user(w.guest.id))
    assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 2
    assert db.session.scalar(sa.select(sa.func.count(Listing.id))) == 2
    assert db.session.scalar(sa.select(sa.func.count(User.id))) >= 7
