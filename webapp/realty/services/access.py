"""Who may see and change which agency's data: the one place the realty scoping rules live.

Superusers see every agency. An agency admin (or moderator) sees their own agency. A realtor sees
their agency's listings but changes only their own. API, console and bot all ask these functions.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from webapp.core.models import User
from webapp.core.roles import Role, user_has_role
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.realty.models import Agency, AgencyMember, Booking, Listing


def agency_id_of(user: User | None) -> int | None:
    if user is None:
        return None
    return db.session.scalar(sa.select(AgencyMember.agency_id).where(AgencyMember.user_id == user.id))


def agency_of(user: User | None) -> Agency | None:
    agency_id = agency_id_of(user)
    return db.session.get(Agency, agency_id) if agency_id else None


def is_superuser(user: User | None) -> bool:
    return user_has_role(user, Role.SUPERUSER)


def is_agency_manager(user: User | None, agency_id: int | None) -> bool:
    """Admin-level rights over ``agency_id``: a superuser, or an admin/moderator who belongs to it."""
    if is_superuser(user):
        return True
    return agency_id is not None and user_has_role(user, Role.MODERATOR) and agency_id_of(user) == agency_id


def can_edit_listing(user: User | None, listing: Listing) -> bool:
    if is_agency_manager(user, listing.agency_id):
        return True
    return (
        user_has_role(user, Role.REALTOR) and listing.realtor_id == user.id and agency_id_of(user) == listing.agency_id
    )


def can_handle_booking(user: User | None, booking: Booking) -> bool:
    """Staff side of a booking: its listing's realtor, or a manager of the listing's agency."""
    return can_edit_listing(user, booking.listing)


def require(condition: bool, message: str = "You do not have permission to do this") -> None:
    if not condition:
        raise ServiceError(message, 403, "FORBIDDEN")


def staff_scope(user: User) -> int | None:
    """The agency a staff user is confined to; None for superusers (everything) — else 403."""
    if is_superuser(user):
        return None
    agency_id = agency_id_of(user)
    if agency_id is None or not user_has_role(user, Role.REALTOR, Role.MODERATOR):
        raise ServiceError("You are not a member of an agency", 403, "FORBIDDEN")
    return agency_id


def scope_listings(query: sa.Select, user: User) -> sa.Select:
    """Restrict a select over Listing to what ``user`` may see as staff."""
    agency_id = staff_scope(user)
    return query if agency_id is None else query.where(Listing.agency_id == agency_id)


def scope_bookings(query: sa.Select, user: User) -> sa.Select:
    """Restrict a select over Booking (joined to Listing) to ``user``'s staff scope; realtors: own listings."""
    agency_id = staff_scope(user)
    if agency_id is None:
        return query
    query = query.where(Listing.agency_id == agency_id)
    if not user_has_role(user, Role.MODERATOR):
        query = query.where(Listing.realtor_id == user.id)
    return query


def parse_uuid(value: str | uuid.UUID) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None
