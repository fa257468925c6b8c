"""Agencies, their realtors and admins, metrics, and the superuser's user management in the bot."""

from __future__ import annotations

import re
import uuid
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from webapp.core import tenancy
from webapp.core.db import insert_missing
from webapp.core.models import Membership, Organization, User
from webapp.core.roles import ORGANIZATION_ROLES, Role, user_has_role
from webapp.core.services import (
    ServiceError,
    change_role,
    create_staff_user,
    normalize_phone,
    record_audit,
    set_user_active,
)
from webapp.extensions import db
from webapp.realty import access
from webapp.realty.models import Agency, Booking, BookingStatus, Listing, ModerationStatus
from webapp.realty.services.bookings import revenue_of
from webapp.realty.services.listings import invalid, normalize_city

MEMBER_ROLES = (Role.REALTOR.value, Role.ADMIN.value)
USERNAME = re.compile(r"[\w.@+-]{3,150}")


def _clean_agency(fields: dict, creating: bool) -> dict:
    out = {}
    for name, limit in (("name", 200), ("city", 100), ("address", 300), ("email", 254)):
        if name in fields or (creating and name in ("name", "city")):
            value = " ".join(str(fields.get(name) or "").split())
            if creating and name in ("name", "city") and not value:
                raise invalid(name, "This field is required")
            if len(value) > limit:
                raise invalid(name, f"At most {limit} characters")
            out[name] = value or None
    if "city" in out:
        out["city"] = normalize_city(out["city"])
    if fields.get("phone"):
        out["phone"] = normalize_phone(str(fields["phone"]))
    if "timezone" in fields:
        try:
            ZoneInfo(str(fields["timezone"]))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise invalid("timezone", "Not an IANA time zone") from exc
        out["timezone"] = str(fields["timezone"])
    if "currency" in fields:
        currency = str(fields["currency"] or "").strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise invalid("currency", "A three-letter currency code")
        out["currency"] = currency
    return out


def _agency_organization(name: str) -> Organization:
    """The organization a new agency ``name`` becomes the storefront of, in the same transaction:
    the organization of that name (race-safe get-or-create), which must not have an agency yet."""
    organization = tenancy.ensure_organization(name)
    if db.session.scalar(sa.select(Agency.id).where(Agency.organization_id == organization.id)) is not None:
        raise ServiceError("An agency with this name exists", 409, "CONFLICT", "name")
    return organization


def create_agency(actor: User, fields: dict, source: str = "api") -> Agency:
    """A superuser opens an agency: a new organization and its storefront, in one transaction."""
    access.require(access.is_superuser(actor), "Only superusers create agencies")
    values = _clean_agency(fields, creating=True)
    if db.session.scalar(sa.select(Agency.id).where(sa.func.lower(Agency.name) == values["name"].lower())):
        raise ServiceError("An agency with this name exists", 409, "CONFLICT", "name")
    organization = _agency_organization(values["name"])
    # Race-safe: of two superusers opening the same agency at once, one inserts it, the other is
    # told the name is taken (both share the one organization ensure_organization gives them).
    if not insert_missing(Agency, {**values, "organization_id": organization.id}):
        raise ServiceError("An agency with this name exists", 409, "CONFLICT", "name")
    agency = db.session.scalar(sa.select(Agency).where(Agency.organization_id == organization.id))
    record_audit(actor, "agency.create", "agency", agency.id, None, agency.name, source)
    return agency


def update_agency(actor: User, agency: Agency, fields: dict, source: str = "api") -> Agency:
    """Change an agency's card; each changed field leaves an audit row with its before and after."""
    access.require(access.is_agency_manager(actor, agency.id) and user_has_role(actor, Role.ADMIN))
    for name, value in _clean_agency(fields, creating=False).items():
        old = getattr(agency, name)
        if old != value:
            before, after = f"{name}: {old or ''}", f"{name}: {value or ''}"
            record_audit(actor, "agency.update", "agency", agency.id, before, after, source)
            setattr(agency, name, value)
    return agency


def set_agency_active(actor: User, agency: Agency, active: bool, source: str = "api") -> Agency:
    access.require(access.is_superuser(actor), "Only superusers switch agencies on and off")
    if agency.is_active != active:
        record_audit(
            actor, "agency.activate" if active else "agency.deactivate", "agency", agency.id, None, active, source
        )
        agency.is_active = active
    return agency


def get_agency(agency_id: int) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None:
        raise ServiceError("Agency not found", 404, "NOT_FOUND")
    return agency


def find_agencies(text: str, limit: int = 10) -> list[Agency]:
    """By ID, or by part of the name or city (the seed's «ввод ID или части названия/города»)."""
    text = (text or "").strip()
    if not text:
        return []
    if text.lstrip("#").isdigit():
        agency = db.session.get(Agency, int(text.lstrip("#")))
        return [agency] if agency else []
    pattern = f"%{text.lower()}%"
    return list(
        db.session.scalars(
            sa.select(Agency)
            .where(sa.or_(sa.func.lower(Agency.name).like(pattern), sa.func.lower(Agency.city).like(pattern)))
            .order_by(Agency.name)
            .limit(limit)
        )
    )


# --- membership ------------------------------------------------------------------------------------


def set_membership(actor: User, user: User, agency: Agency | None, source: str = "api") -> None:
    """Put ``user`` in ``agency``'s organization (None: take them out of their agency). Superusers
    only; an account works for one organization at most (``webapp.core.tenancy.set_membership``,
    audited). Only an agency's staff are moved out: another organization's member is not theirs."""
    access.require(access.is_superuser(actor), "Only superusers move realtors between agencies")
    if agency is not None and user.role not in MEMBER_ROLES:
        raise ServiceError("Only realtors and agency admins belong to an agency", 409, "CONFLICT", "user_id")
    if agency is None:
        if access.member_agency_id(user) is None:
            return
        tenancy.set_membership(actor, user, None, source)
    else:
        tenancy.set_membership(actor, user, db.session.get(Organization, agency.organization_id), source)


def add_realtor(
    actor: User,
    *,
    email: str | None,
    phone: str | None,
    first_name: str,
    password: str,
    username: str | None = None,
    agency_id: int | None = None,
    source: str = "api",
) -> User:
    """The agency admin's «➕ Добавить»: a new realtor account in the admin's own agency (a
    superuser names the agency). The account signs in with ``username`` (default: the e-mail)."""
    if access.is_superuser(actor):
        if agency_id is None:
            raise invalid("agency_id", "Choose an agency")
        agency = get_agency(agency_id)
    else:
        agency = access.agency_of(actor)
        access.require(
            agency is not None and access.is_agency_manager(actor, agency.id) and user_has_role(actor, Role.ADMIN),
            "Only agency admins add realtors",
        )
        access.require(agency_id in (None, agency.id), "Only agency admins add realtors")
    from webapp.realty.services.accounts import clean_email

    email = clean_email(email) if (email or "").strip() else None
    username = (username or "").strip() or email
    if not username:
        raise invalid("username", "This field is required")
    if not USERNAME.fullmatch(username):
        raise invalid("username", "3 to 150 letters, digits and . @ + - _")
    if len(password or "") < 8:
        raise invalid("password", "At least 8 characters")
    first_name = " ".join((first_name or "").split())[:150]
    if not first_name:
        raise invalid("first_name", "This field is required")
    if email and db.session.scalar(sa.select(User.id).where(sa.func.lower(User.email) == email)) is not None:
        raise ServiceError("This e-mail belongs to another account", 409, "EMAIL_TAKEN", "email")
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise ServiceError("This username is taken", 409, "USERNAME_TAKEN", "username")
    phone = normalize_phone(phone) if phone else None
    if phone and db.session.scalar(sa.select(User.id).where(User.phone == phone)):
        raise ServiceError("This phone number belongs to another account", 409, "PHONE_TAKEN", "phone")
    try:  # of two admins taking the same name at once, the second is told it is taken
        with db.session.begin_nested():
            user = create_staff_user(
                username, email, password, Role.REALTOR, actor=actor, source=source, first_name=first_name, phone=phone
            )
    except IntegrityError as exc:
        raise ServiceError("This username is taken", 409, "USERNAME_TAKEN", "username") from exc
    tenancy.set_membership(actor, user, db.session.get(Organization, agency.organization_id), source)
    return user


def _require_own_staff(actor: User, target: User) -> None:
    """Superusers manage anyone; an agency admin only their own agency's staff: another agency's
    realtor (or anyone outside the admin's agency) is not found (404), whether or not they exist."""
    if access.is_superuser(actor):
        return
    access.require(user_has_role(actor, Role.ADMIN), "Only agency admins manage realtors")
    agency_id = access.agency_id_of(actor)
    if agency_id is None or agency_id != access.member_agency_id(target) or target.role not in MEMBER_ROLES:
        raise tenancy.not_found("Realtor")


def set_realtor_active(actor: User, realtor: User, active: bool, source: str = "api") -> User:
    """Agency admins (de)activate realtors of their own agency; superusers anyone's."""
    _require_own_staff(actor, realtor)
    return set_user_active(actor, realtor, active, source)


def agency_realtors(agency_id: int) -> sa.Select:
    return (
        sa.select(User)
        .join(Membership, Membership.user_id == User.id)
        .join(Agency, Agency.organization_id == Membership.organization_id)
        .where(Agency.id == agency_id, User.role == Role.REALTOR.value)
        .order_by(User.first_name, User.username, User.id)
    )


def platform_realtors() -> sa.Select:
    return sa.select(User).where(User.role == Role.REALTOR.value).order_by(User.created_at.desc(), User.id)


# --- metrics ---------------------------------------------------------------------------------------


def agency_metrics(agency: Agency, top: int = 5) -> dict:
    """Realtors, listings, bookings, revenue, contacts, and the top listings and realtors by revenue."""
    realtors = db.session.scalar(
        sa.select(sa.func.count()).select_from(agency_realtors(agency.id).order_by(None).subquery())
    )
    listing_counts = dict(
        db.session.execute(
            sa.select(Listing.status, sa.func.count()).where(Listing.agency_id == agency.id).group_by(Listing.status)
        ).all()
    )
    bookings = sa.select(Booking).join(Listing, Listing.id == Booking.listing_id).where(Listing.agency_id == agency.id)
    booking_counts = dict(
        db.session.execute(
            sa.select(Booking.status, sa.func.count())
            .join(Listing, Listing.id == Booking.listing_id)
            .where(Listing.agency_id == agency.id)
            .group_by(Booking.status)
        ).all()
    )
    earned = (BookingStatus.CONFIRMED.value, BookingStatus.COMPLETED.value)
    revenue_expr = sa.func.coalesce(sa.func.sum(Booking.total_price), 0)
    top_listings = db.session.execute(
        sa.select(Listing.id, Listing.title, sa.func.count(Booking.id), revenue_expr)
        .join(Booking, Booking.listing_id == Listing.id)
        .where(Listing.agency_id == agency.id, Booking.status.in_(earned))
        .group_by(Listing.id, Listing.title)
        .order_by(revenue_expr.desc(), Listing.id)
        .limit(top)
    ).all()
    top_realtors = db.session.execute(
        sa.select(User.id, User.first_name, User.username, sa.func.count(Booking.id), revenue_expr)
        .join(Listing, Listing.realtor_id == User.id)
        .join(Booking, Booking.listing_id == Listing.id)
        .where(Listing.agency_id == agency.id, Booking.status.in_(earned))
        .group_by(User.id, User.first_name, User.username)
        .order_by(revenue_expr.desc(), User.id)
        .limit(top)
    ).all()
    return {
        "agency": {"id": agency.id, "name": agency.name, "city": agency.city, "is_active": agency.is_active},
        "contacts": {"phone": agency.phone, "email": agency.email, "address": agency.address},
        "currency": agency.currency,
        "realtors": realtors or 0,
        "listings": {
            "total": sum(listing_counts.values()),
            **{s.value: listing_counts.get(s.value, 0) for s in ModerationStatus},
        },
        "bookings": {
            "total": sum(booking_counts.values()),
            **{s.value: booking_counts.get(s.value, 0) for s in BookingStatus},
        },
        "revenue": str(revenue_of(bookings)),
        "top_listings": [
            {"id": lid, "title": title, "bookings": count, "revenue": str(rev)}
            for lid, title, count, rev in top_listings
        ],
        "top_realtors": [
            {"id": str(uid), "name": first or uname or str(uid), "bookings": count, "revenue": str(rev)}
            for uid, first, uname, count, rev in top_realtors
        ],
    }


# --- superuser: users ------------------------------------------------------------------------------


def find_users(text: str, limit: int = 10) -> list[User]:
    """By e-mail or phone (the seed's «👤 Пользователь»): exact phone in E.164, or e-mail containing the text."""
    text = (text or "").strip()
    if not text:
        return []
    conditions = [sa.func.lower(User.email).like(f"%{text.lower()}%")]
    try:
        conditions.append(User.phone == normalize_phone(text))
    except ServiceError:
        pass
    return list(
        db.session.scalars(sa.select(User).where(sa.or_(*conditions)).order_by(User.created_at.desc()).limit(limit))
    )


def recent_users() -> sa.Select:
    return sa.select(User).order_by(User.created_at.desc(), User.id)


def set_role(actor: User, target: User, role: Role | str, source: str = "bot") -> User:
    """Change a role through the audited core service; leaving the organization roles also leaves
    the agency (the organization). An agency admin changes only their own agency's staff: anyone
    else is not found to them (404)."""
    _require_own_staff(actor, target)
    change_role(actor, target, role, source)
    if Role.parse(target.role) not in ORGANIZATION_ROLES and access.member_agency_id(target) is not None:
        tenancy.set_membership(actor, target, None, source)
    db.session.flush()
    return target


# --- what the bot's superuser and agency admin menus list ---------------------------------------------


def all_agencies() -> sa.Select:
    return sa.select(Agency).order_by(Agency.name, Agency.id)


def member_counts(agencies: list[Agency]) -> dict[int, int]:
    """How many members each agency's organization has, by agency id."""
    organizations = {a.organization_id: a.id for a in agencies}
    rows = db.session.execute(
        sa.select(Membership.organization_id, sa.func.count())
        .where(Membership.organization_id.in_(list(organizations)))
        .group_by(Membership.organization_id)
    ).all()
    return {organizations[organization_id]: n for organization_id, n in rows}


def user_by_hex(user_id: str) -> User:
    """The user a bot button names by the hex of their id; a malformed or missing one is not found."""
    try:
        user = db.session.get(User, uuid.UUID(hex=user_id))
    except ValueError:
        user = None
    if user is None:
        raise ServiceError("User not found", 404, "NOT_FOUND")
    return user


def agency_of_member(user: User) -> Agency | None:
    """The agency of ``user``'s membership (a blocked realtor's too)."""
    agency_id = access.member_agency_id(user)
    return db.session.get(Agency, agency_id) if agency_id is not None else None
