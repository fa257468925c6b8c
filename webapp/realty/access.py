"""Who may see and change which realty data: the one place the API, the console, the bot and the
reports ask.

Actors:
- ``SYSTEM``: the platform itself (jobs): every row.
- a superuser: every agency.
- a platform moderator: every agency's listings, their moderation log and the agencies' cards —
  the marketplace they moderate — and nothing else (no bookings, payments or reviews).
- an agency's admin: everything of their own agency. An agency is one organization's storefront
  (``Agency.organization_id``), so "the agency of a user" is the agency of their membership's
  organization (``webapp.core.tenancy``); a member of an organization that has no agency (a
  clinic's admin, say) reaches no realty row.
- a realtor: their own listings, and the bookings, payments, reviews and calendar blocks of those.
- anyone else: nothing.

``scope(query, actor)`` narrows a select (or a Flask-Admin query) over a realty model;
``can_read(actor, obj)`` asks the same rule about one object. Whatever is out of reach is "not
found" to the caller, never "forbidden".
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from webapp.core.actors import SYSTEM, Actor
from webapp.core.models import Membership, User
from webapp.core.roles import Role, user_has_role
from webapp.core.services import ServiceError
from webapp.core.tenancy import customer_source, declare_vertical, is_superuser, organization_id_of
from webapp.extensions import db
from webapp.realty.models import (
    Agency,
    AvailabilityBlock,
    Booking,
    Listing,
    ModerationEvent,
    Payment,
    Review,
)


def agency_id_of(user: Actor | None) -> int | None:
    """The agency of ``user``'s organization (an active organization role's membership); else None."""
    organization_id = organization_id_of(user)
    if organization_id is None:
        return None
    return db.session.scalar(sa.select(Agency.id).where(Agency.organization_id == organization_id))


def member_agency_id(user: User | None) -> int | None:
    """The agency whose organization ``user`` is a member of, whatever their role and status: what
    managing the account itself asks (a blocked realtor is still their agency's to unblock)."""
    if not isinstance(user, User) or user.id is None:
        return None
    return db.session.scalar(
        sa.select(Agency.id)
        .join(Membership, Membership.organization_id == Agency.organization_id)
        .where(Membership.user_id == user.id)
    )


def agency_of(user: User | None) -> Agency | None:
    agency_id = agency_id_of(user)
    return db.session.get(Agency, agency_id) if agency_id else None


def is_agency_manager(user: User | None, agency_id: int | None) -> bool:
    """Admin-level rights over ``agency_id``: a superuser, or an admin who belongs to it."""
    if is_superuser(user):
        return True
    return agency_id is not None and user_has_role(user, Role.ADMIN) and agency_id_of(user) == agency_id


def sees_everything(actor: Actor | None) -> bool:
    return actor is SYSTEM or is_superuser(actor)


def is_moderator(actor: Actor | None) -> bool:
    return isinstance(actor, User) and actor.is_active and actor.role == Role.MODERATOR.value


# What a platform moderator reaches: the marketplace, every agency's.
MODERATED = (Listing, ModerationEvent, Agency)


def listing_rule(actor: Actor | None):
    """The listings ``actor`` reaches as staff, as a condition on Listing; None: every listing."""
    if sees_everything(actor):
        return None
    agency_id = agency_id_of(actor)
    if agency_id is None or not user_has_role(actor, Role.REALTOR):
        return sa.false()
    rule = Listing.agency_id == agency_id
    if not is_agency_manager(actor, agency_id):
        rule = sa.and_(rule, Listing.realtor_id == actor.id)
    return rule


def _agency_rule(actor: Actor | None, column):
    """Agency-wide rows (the agency card, its members, its moderation log): its managers only."""
    agency_id = agency_id_of(actor)
    if agency_id is None or not is_agency_manager(actor, agency_id):
        return sa.false()
    return column == agency_id


def _realtors_rule(actor: Actor | None):
    """Agencies' staff (memberships of an agency's organization): every agency's for the platform,
    their own agency's for its admins; no other organization's members in any case."""
    agency_organizations = sa.select(Agency.organization_id)
    if not sees_everything(actor):
        agency_id = agency_id_of(actor)
        if agency_id is None or not is_agency_manager(actor, agency_id):
            return sa.false()
        agency_organizations = agency_organizations.where(Agency.id == agency_id)
    return Membership.organization_id.in_(agency_organizations)


def _condition(actor: Actor | None, model):
    if model is Membership:
        return _realtors_rule(actor)
    if is_moderator(actor):
        return None if model in MODERATED else sa.false()
    rule = listing_rule(actor)
    if rule is None:
        return None
    listing_ids = sa.select(Listing.id).where(rule)
    if model is Listing:
        return rule
    if model in (Booking, Review, AvailabilityBlock):
        return model.listing_id.in_(listing_ids)
    if model is Payment:
        return Payment.booking_id.in_(sa.select(Booking.id).where(Booking.listing_id.in_(listing_ids)))
    if model is Agency:
        return _agency_rule(actor, Agency.id)
    if model is ModerationEvent:
        return _agency_rule(actor, model.agency_id)
    return sa.false()  # notifications, the e-mail outbox: the platform's own


def scope(query, actor: Actor | None, model=None):
    """``query`` over one realty model (default: its first entity; a count query names it) narrowed
    to what ``actor`` reaches as staff. A query that joins Listing may pass ``model=Listing``."""
    condition = _condition(actor, model or query.column_descriptions[0]["entity"])
    return query if condition is None else query.filter(condition)


def can_read(actor: Actor | None, obj) -> bool:
    """Whether ``actor`` reaches this one object as staff (the rule of ``scope``)."""
    if obj is None:
        return False
    if sees_everything(actor):
        return True
    mapper = sa.inspect(type(obj)).mapper
    values = mapper.primary_key_from_instance(obj)
    keys = [column == value for column, value in zip(mapper.primary_key, values, strict=True)]
    query = scope(sa.select(mapper.primary_key[0]).where(*keys), actor, type(obj))
    return bool(db.session.scalar(sa.select(query.exists())))


def can_edit_listing(user: User | None, listing: Listing) -> bool:
    """Staff change what they reach: a realtor their own listings, managers their agency's. A
    moderator reads every listing and changes none."""
    return not is_moderator(user) and can_read(user, listing)


def can_moderate(user: Actor | None) -> bool:
    """Approving and rejecting listings is the platform's: its moderators and superusers."""
    return is_moderator(user) or is_superuser(user)


def can_handle_booking(user: User | None, booking: Booking) -> bool:
    """Staff side of a booking: its listing's realtor, or a manager of the listing's agency."""
    return can_read(user, booking)


def require(condition: bool, message: str = "You do not have permission to do this") -> None:
    if not condition:
        raise ServiceError(message, 403, "FORBIDDEN")


def require_staff(user: User) -> None:
    """Staff lists are for agency members (realtors, moderators, admins) and superusers — else 403."""
    if is_superuser(user):
        return
    if agency_id_of(user) is None or not user_has_role(user, Role.REALTOR):
        raise ServiceError("You are not a member of an agency", 403, "FORBIDDEN")


def parse_uuid(value: str | uuid.UUID) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


@customer_source
def _agency_customers(organization_id: int) -> sa.Select:
    """An agency's customers: guests who booked one of its listings."""
    return (
        sa.select(Booking.guest_id)
        .join(Listing, Listing.id == Booking.listing_id)
        .join(Agency, Agency.id == Listing.agency_id)
        .where(Agency.organization_id == organization_id)
    )


declare_vertical("realty", lambda organization: sa.select(Agency.id).where(Agency.organization_id == organization))
