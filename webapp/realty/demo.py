"""Demo realty data: two agencies (Tashkent, Almaty) with admins and realtors, ~30 listings in
Almaty, Astana and Tashkent with a month of moderation history (so the reports have figures),
and bookings in every state.

Each agency is an organization's storefront: its admins and realtors are the organization's members.
The demo ``admin`` and ``realtor`` work for the first agency (Silk Road Stays); ``realty_admin_kz``
is the second agency's admin. The platform's ``moderator`` moderates both agencies' listings.

Idempotent: everything hangs off the first demo agency; when it exists, only missing links (the
demo "admin" and "realtor" staff accounts' memberships) are completed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from webapp.core.db import utcnow
from webapp.core.models import Membership, Organization, User
from webapp.core.roles import Role
from webapp.core.services import create_staff_user
from webapp.core.tenancy import ensure_organization, set_membership
from webapp.extensions import db
from webapp.realty.models import (
    Agency,
    Booking,
    BookingStatus,
    Listing,
    ModerationEvent,
    OccupiedNight,
)
from webapp.realty.services import bookings, listings

DEMO_PASSWORD = "botdesk-demo"
AGENCIES = (
    # name, city, time zone, currency, phone, e-mail
    ("Silk Road Stays (demo)", "Tashkent", "Asia/Tashkent", "UZS", "+998712000001", "office@silkroad.demo"),
    ("Steppe Apartments (demo)", "Almaty", "Asia/Almaty", "KZT", "+77272000001", "office@steppe.demo"),
)
PLACES = {
    "Tashkent": ("Yunusabad", "Chilanzar", "Mirzo Ulugbek", "Shaykhantahur"),
    "Almaty": ("Medeu", "Bostandyk", "Almaly", "Auezov"),
    "Astana": ("Yesil", "Almaty District", "Saryarka"),
}
KINDS = ("Studio", "Cosy flat", "Family apartment", "Loft", "Penthouse", "Guest house")
AMENITY_SETS = (
    ["wifi", "kitchen"],
    ["wifi", "air_conditioning", "tv"],
    ["wifi", "parking", "washer"],
    ["kitchen", "balcony"],
)


def _staff(username: str, first_name: str, role: Role) -> User:
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        user = create_staff_user(
            username, f"{username}@demo.botdesk.local", DEMO_PASSWORD, role, first_name=first_name, language="ru"
        )
    return user


def _join(user: User, agency: Agency) -> bool:
    """Make ``user`` a member of ``agency``'s organization unless they already work for one."""
    if db.session.get(Membership, user.id) is not None:
        return False
    set_membership(None, user, db.session.get(Organization, agency.organization_id), "cli")
    return True


def _backdate(listing: Listing, days_ago: int, rng: random.Random) -> None:
    """Spread a listing's moderation events over the past month, in order."""
    added_at = utcnow() - timedelta(days=days_ago, hours=rng.randint(0, 10))
    events = db.session.scalars(
        sa.select(ModerationEvent).where(ModerationEvent.listing_id == listing.id).order_by(ModerationEvent.id)
    ).all()
    for index, event in enumerate(events):
        event.occurred_at = added_at + timedelta(hours=index * rng.randint(2, 20))  # stays in the past
    listing.created_at = added_at


def _past_stay(listing: Listing, guest: User, nights_ago: int, nights: int) -> None:
    """A stay that already happened (the services refuse past dates, so it is written directly)."""
    check_in = listings.agency_today(listing.agency) - timedelta(days=nights_ago)
    check_out = check_in + timedelta(days=nights)
    booking = Booking(
        listing=listing,
        guest=guest,
        check_in=check_in,
        check_out=check_out,
        guests=1,
        total_price=listings.quote(listing, check_in, check_out),
        status=BookingStatus.COMPLETED.value,
        confirmed_at=utcnow() - timedelta(days=nights_ago + 3),
        completed_at=utcnow() - timedelta(days=nights_ago - nights),
    )
    db.session.add(booking)
    db.session.flush()
    db.session.add_all(
        OccupiedNight(listing_id=listing.id, night=night, booking_id=booking.id)
        for night in listings.nights_between(check_in, check_out)
    )


def seed() -> Iterator[str]:
    first = db.session.scalar(sa.select(Agency).where(Agency.name == AGENCIES[0][0]))
    admin = db.session.scalar(sa.select(User).where(User.username == "admin"))
    realtor = db.session.scalar(sa.select(User).where(User.username == "realtor"))
    if first is not None:
        for user in (admin, realtor):
            if user is not None and _join(user, first):
                yield f"realty: {user.username} joined {first.name}"
        return

    rng = random.Random(2025)
    # Moderation is the platform's: the demo moderator (or the superuser) approves and rejects.
    moderator = db.session.scalar(
        sa.select(User).where(User.username.in_(("moderator", "superuser"))).order_by(User.username)
    ) or _staff("realty_moderator", "Malika", Role.MODERATOR)
    agencies = []
    for name, city, zone, currency, phone, email in AGENCIES:
        agency = Agency(
            name=name,
            city=city,
            timezone=zone,
            currency=currency,
            phone=phone,
            email=email,
            organization_id=ensure_organization(name).id,
        )
        db.session.add(agency)
        db.session.flush()
        agencies.append(agency)
    tashkent, almaty = agencies
    team = {
        tashkent: [
            admin or _staff("realty_admin", "Dilshod", Role.ADMIN),
            realtor or _staff("realtor_aziza", "Aziza", Role.REALTOR),
            _staff("realtor_bobur", "Bobur", Role.REALTOR),
        ],
        almaty: [
            _staff("realty_admin_kz", "Aigerim", Role.ADMIN),
            _staff("realtor_nurlan", "Nurlan", Role.REALTOR),
            _staff("realtor_dana", "Dana", Role.REALTOR),
        ],
    }
    for agency, members in team.items():
        for member in members:
            _join(member, agency)
    yield "realty: 2 demo agencies with admins and realtors"

    guests = [_staff(f"guest{n}", name, Role.USER) for n, name in enumerate(("Kamola", "Timur", "Saule"), 1)]
    made = []
    cities = {tashkent: ("Tashkent", "Tashkent", "Astana"), almaty: ("Almaty", "Almaty", "Astana")}
    for agency, members in team.items():
        realtors = members[1:]
        for n in range(15):
            city = cities[agency][n % 3]
            district = rng.choice(PLACES[city])
            price = Decimal(rng.randrange(25, 160, 5)) * (Decimal(12000) if agency.currency == "UZS" else Decimal(450))
            listing = listings.create_listing(
                realtors[n % len(realtors)],
                {
                    "title": f"{rng.choice(KINDS)} in {district}",
                    "city": city,
                    "district": district,
                    "address": f"{district} {rng.randint(1, 40)}-{rng.randint(1, 90)}",
                    "price_per_night": price,
                    "max_guests": rng.randint(1, 6),
                    "description": "Demo listing: bright, clean, close to the metro.",
                    "amenities": rng.choice(AMENITY_SETS),
                },
                source="cli",
            )
            if n % 5 == 3:
                listings.reject_listing(moderator, listing, "Photos are missing")
            elif n % 5 != 4:
                listings.approve_listing(moderator, listing)
            _backdate(listing, rng.randint(1, 30), rng)
            made.append(listing)
    db.session.flush()
    yield f"realty: {len(made)} listings (approved, pending, rejected) with a month of moderation history"

    visible = [lst for lst in made if lst.status == "approved"]
    count = 0
    for index, listing in enumerate(visible[:12]):
        guest = guests[index % len(guests)]
        start = listings.agency_today(listing.agency) + timedelta(days=3 + index)
        booking = bookings.create_booking(guest, listing.id, start, start + timedelta(days=2))
        if index % 3 == 0:
            bookings.pay_demo(guest, booking)
        elif index % 3 == 1:
            bookings.confirm_booking(listing.realtor, booking)
        count += 1
    for index, listing in enumerate(visible[12:18]):
        _past_stay(listing, guests[index % len(guests)], nights_ago=10 + index, nights=3)
        count += 1
    yield f"realty: {count} bookings (pending, confirmed, paid, completed)"
