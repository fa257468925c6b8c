"""Realty JSON API (``/api/v1/realty/...``): guests search, book, pay (demo), favourite and review;
staff manage listings, calendars, bookings and moderation; superusers manage agencies.

Thin: parse → service → serialise. A refused rule (``ServiceError``) is answered by the app's one
handler, which rolls the request back; a view that writes flushes before it serialises, and the
request commits once, at its end (``webapp.core.unit_of_work``). Another agency's rows answer 404,
not 403, so staff cannot probe which ids exist elsewhere.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify

from webapp.core.apispec import JWT, spec
from webapp.core.errors import not_found
from webapp.core.models import User
from webapp.core.pagination import paginate
from webapp.core.permissions import public, require_role
from webapp.core.roles import Role
from webapp.core.schemas import V1_ERRORS, ErrorBody, responses
from webapp.extensions import db
from webapp.realty import access
from webapp.realty import schemas as s
from webapp.realty.models import Agency, AvailabilityBlock, Booking, Listing
from webapp.realty.services import agencies, bookings, listings, notify, photos, social

bp = Blueprint("realty_api", __name__)
PREFIX = "/api/v1/realty"
TAGS = ["realty"]


def _page(query, q, serialize) -> dict:
    return paginate(query, q.page, q.size, serialize)


def _staff_listing(listing_id: int) -> Listing:
    """A listing the caller may edit as staff; 404 for anything outside their reach."""
    listing = db.session.get(Listing, listing_id)
    if listing is None or not access.can_edit_listing(g.user, listing):
        raise not_found("Listing")
    return listing


def _booking_for(booking_id: int) -> Booking:
    """A booking the caller is the guest of or handles as staff; else 404."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or not (booking.guest_id == g.user.id or access.can_handle_booking(g.user, booking)):
        raise not_found("Booking")
    return booking


# --- guests: search and listings -------------------------------------------------------------------


@bp.get(f"{PREFIX}/listings/")
@require_role()
@spec.validate(query=s.SearchQuery, resp=responses(s.ListingPage, errors=V1_ERRORS), tags=TAGS, security=JWT)
def search_listings(query: s.SearchQuery):
    """Approved, active listings free on every night of [check_in, check_out), filtered, sorted, paginated."""
    filters = listings.SearchFilters(
        city=query.city,
        district=query.district,
        check_in=query.check_in,
        check_out=query.check_out,
        price_min=query.price_min,
        price_max=query.price_max,
        guests=query.guests,
        amenities=query.amenities,
        sort=query.sort,
    )
    page = listings.search(filters, query.page, query.size)
    page["items"] = [s.listing_out(item) for item in page["items"]]
    return jsonify(page)


def _readable_listing(listing_id: int) -> Listing:
    listing = db.session.get(Listing, listing_id)
    if listing is None or not (listing.is_visible or access.can_read(g.user, listing)):
        raise not_found("Listing")
    return listing


@bp.get(f"{PREFIX}/listings/<int:listing_id>/")
@require_role()
@spec.validate(resp=responses(s.ListingDetailOut, errors=V1_ERRORS), tags=TAGS, security=JWT)
def listing_detail(listing_id: int):
    """A listing with its rating; guests see approved listings, staff also their agency's others."""
    listing = _readable_listing(listing_id)
    body = s.listing_out(listing, social.rating_of(listing.id))
    body["is_favorite"] = social.is_favorite(g.user, listing.id)
    return jsonify(body)


# Not in the OpenAPI document: it serves image bytes, not JSON, and with it documented Swagger UI
# stopped drawing the operations list part-way (tests/core/test_apidocs_offline.py).
@bp.get(f"{PREFIX}/photos/<string:head>/<string:key>")
@public
def listing_photo(head: str, key: str):
    """A photo uploaded in the console (open: its random key is the credential, like a CDN link)."""
    content, mimetype = photos.load(f"{head}/{key}")
    return Response(
        content,
        mimetype=mimetype,
        # Uploaded bytes are never run as a page of ours; the key never changes its picture.
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "public, max-age=86400, immutable",
        },
    )


@bp.get(f"{PREFIX}/listings/<int:listing_id>/calendar/")
@require_role()
@spec.validate(query=s.CalendarQuery, resp=responses(s.CalendarOut, errors=V1_ERRORS), tags=TAGS, security=JWT)
def listing_calendar(listing_id: int, query: s.CalendarQuery):
    """Each day from ``start`` (default: today in the agency's zone): free, blocked, pending or confirmed."""
    listing = _readable_listing(listing_id)
    start = query.start or listings.agency_today(listing.agency)
    days = listings.calendar(listing, start, query.days)
    if not access.can_edit_listing(g.user, listing):  # guests learn free/taken, not whose
        days = [{"date": d["date"], "state": "free" if d["state"] == "free" else "taken"} for d in days]
    return jsonify({"listing_id": listing.id, "days": days})


@bp.get(f"{PREFIX}/listings/<int:listing_id>/reviews/")
@require_role()
@spec.validate(query=s.PageQuery, resp=responses(s.ReviewPage, errors=V1_ERRORS), tags=TAGS, security=JWT)
def listing_reviews(listing_id: int, query: s.PageQuery):
    listing = _readable_listing(listing_id)
    return jsonify(_page(social.reviews_of(listing.id), query, s.review_out))


# --- guests: bookings ------------------------------------------------------------------------------


@bp.post(f"{PREFIX}/bookings/")
@require_role()
@spec.validate(
    json=s.BookingIn, resp=responses(s.BookingOut, 201, V1_ERRORS, HTTP_409=ErrorBody), tags=TAGS, security=JWT
)
def create_booking(json: s.BookingIn):
    """Book [check_in, check_out); 409 DATES_TAKEN when any night is taken. Starts pending."""
    booking = bookings.create_booking(g.user, json.listing_id, json.check_in, json.check_out, json.guests)
    db.session.flush()
    return jsonify(s.booking_out(booking)), 201


@bp.get(f"{PREFIX}/bookings/")
@require_role()
@spec.validate(query=s.BookingQuery, resp=responses(s.BookingPage, errors=V1_ERRORS), tags=TAGS, security=JWT)
def my_bookings(query: s.BookingQuery):
    """The caller's own bookings as a guest, newest stay first."""
    return jsonify(_page(bookings.guest_bookings(g.user, query.status), query, s.booking_out))


@bp.get(f"{PREFIX}/bookings/<int:booking_id>/")
@require_role()
@spec.validate(resp=responses(s.BookingOut, errors=V1_ERRORS), tags=TAGS, security=JWT)
def booking_detail(booking_id: int):
    return jsonify(s.booking_out(_booking_for(booking_id)))


@bp.post(f"{PREFIX}/bookings/<int:booking_id>/cancel/")
@require_role()
@spec.validate(
    json=s.ReasonIn, resp=responses(s.BookingOut, errors=V1_ERRORS, HTTP_409=ErrorBody), tags=TAGS, security=JWT
)
def cancel_booking(booking_id: int, json: s.ReasonIn):
    """The guest (before check-in) or the listing's staff cancel; the nights free up."""
    booking = _booking_for(booking_id)
    bookings.cancel_booking(g.user, booking, json.reason)
    db.session.flush()
    return jsonify(s.booking_out(booking))


@bp.post(f"{PREFIX}/bookings/<int:booking_id>/pay/")
@require_role()
@spec.validate(resp=responses(s.PaidBookingOut, errors=V1_ERRORS, HTTP_409=ErrorBody), tags=TAGS, security=JWT)
def pay_booking(booking_id: int):
    """Demo payment: pays the total and confirms a pending booking (seed: «Оплатить (демо)»)."""
    booking = _booking_for(booking_id)
    payment = bookings.pay_demo(g.user, booking)
    db.session.flush()
    return jsonify(
        {
            "payment": {
                "id": payment.id,
                "amount": str(payment.amount),
                "currency": payment.currency,
                "provider": payment.provider,
                "status": payment.status,
            },
            "booking": s.booking_out(booking),
        }
    )


# --- guests: favourites, reviews, notifications ---------------------------------------------------


@bp.get(f"{PREFIX}/favorites/")
@require_role()
@spec.validate(query=s.PageQuery, resp=responses(s.ListingPage, errors=V1_ERRORS), tags=TAGS, security=JWT)
def list_favorites(query: s.PageQuery):
    return jsonify(_page(social.favorites_of(g.user), query, lambda fav: s.listing_out(fav.listing)))


@bp.post(f"{PREFIX}/favorites/")
@require_role()
@spec.validate(json=s.FavoriteIn, resp=responses(s.ListingOut, 201, V1_ERRORS), tags=TAGS, security=JWT)
def add_favorite(json: s.FavoriteIn):
    """Idempotent: adding a favourite twice keeps one."""
    favorite = social.add_favorite(g.user, json.listing_id)
    db.session.flush()
    return jsonify(s.listing_out(favorite.listing)), 201


@bp.delete(f"{PREFIX}/favorites/<int:listing_id>/")
@require_role()
@spec.validate(resp=responses(None, 204, V1_ERRORS), tags=TAGS, security=JWT)
def remove_favorite(listing_id: int):
    removed = social.remove_favorite(g.user, listing_id)
    if not removed:
        raise not_found("Favorite")
    return "", 204


@bp.post(f"{PREFIX}/reviews/")
@require_role()
@spec.validate(
    json=s.ReviewIn, resp=responses(s.ReviewOut, 201, V1_ERRORS, HTTP_409=ErrorBody), tags=TAGS, security=JWT
)
def add_review(json: s.ReviewIn):
    """Rate one's own completed stay, once (1–5)."""
    booking = _booking_for(json.booking_id)
    review = social.add_review(g.user, booking, json.rating, json.text)
    db.session.flush()
    return jsonify(s.review_out(review)), 201


@bp.get(f"{PREFIX}/notifications/")
@require_role()
@spec.validate(query=s.NotificationQuery, resp=responses(s.NotificationPage, errors=V1_ERRORS), tags=TAGS, security=JWT)
def list_notifications(query: s.NotificationQuery):
    return jsonify(_page(notify.list_notifications(g.user, query.unread), query, s.notification_out))


@bp.post(f"{PREFIX}/notifications/read/")
@require_role()
@spec.validate(json=s.ReadIn, resp=responses(s.MarkedReadOut, errors=V1_ERRORS), tags=TAGS, security=JWT)
def read_notifications(json: s.ReadIn):
    """Mark the given (or all unread) notifications of the caller read."""
    changed = notify.mark_read(g.user, json.ids)
    return jsonify({"marked_read": changed})


# --- staff: listings, calendar, bookings ----------------------------------------------------------


@bp.get(f"{PREFIX}/staff/listings/")
@require_role(Role.REALTOR)
@spec.validate(query=s.ListingQuery, resp=responses(s.ListingPage, errors=V1_ERRORS), tags=TAGS, security=JWT)
def staff_listings(query: s.ListingQuery):
    """Realtors: their own listings; agency admins: the agency's; superusers: all."""
    select = listings.staff_listings(g.user, query.status, query.mine)
    return jsonify(_page(select, query, s.listing_out))


@bp.post(f"{PREFIX}/staff/listings/")
@require_role(Role.REALTOR)
@spec.validate(json=s.ListingIn, resp=responses(s.ListingOut, 201, V1_ERRORS), tags=TAGS, security=JWT)
def create_listing(json: s.ListingIn):
    """A new listing in the caller's agency, pending moderation."""
    fields = json.model_dump(exclude={"agency_id", "realtor_id"})
    listing = listings.create_listing(g.user, fields, json.agency_id, json.realtor_id)
    db.session.flush()
    return jsonify(s.listing_out(listing)), 201


@bp.patch(f"{PREFIX}/staff/listings/<int:listing_id>/")
@require_role(Role.REALTOR)
@spec.validate(json=s.ListingPatch, resp=responses(s.ListingOut, errors=V1_ERRORS), tags=TAGS, security=JWT)
def update_listing(listing_id: int, json: s.ListingPatch):
    """Edit fields and/or (de)activate («Активировать/Снять»); a rejected listing returns to moderation."""
    listing = _staff_listing(listing_id)
    fields = json.model_dump(exclude_unset=True)
    active = fields.pop("is_active", None)
    if fields:
        listings.update_listing(g.user, listing, fields)
    if active is not None:
        listings.set_listing_active(g.user, listing, active)
    db.session.flush()
    return jsonify(s.listing_out(listing))


@bp.post(f"{PREFIX}/staff/listings/<int:listing_id>/blocks/")
@require_role(Role.REALTOR)
@spec.validate(json=s.BlockIn, resp=responses(s.BlockOut, 201, V1_ERRORS, HTTP_409=ErrorBody), tags=TAGS, security=JWT)
def add_block(listing_id: int, json: s.BlockIn):
    """Close [date_from, date_to) on the calendar; 409 when a booking or block holds any night."""
    listing = _staff_listing(listing_id)
    block = listings.add_block(g.user, listing, json.date_from, json.date_to, json.reason)
    db.session.flush()
    return jsonify(_block_out(block)), 201


@bp.get(f"{PREFIX}/staff/listings/<int:listing_id>/blocks/")
@require_role(Role.REALTOR)
@spec.validate(resp=responses(s.BlockList, errors=V1_ERRORS), tags=TAGS, security=JWT)
def list_blocks(listing_id: int):
    return jsonify({"items": [_block_out(b) for b in listings.blocks_of(_staff_listing(listing_id))]})


@bp.delete(f"{PREFIX}/staff/blocks/<int:block_id>/")
@require_role(Role.REALTOR)
@spec.validate(resp=responses(None, 204, V1_ERRORS), tags=TAGS, security=JWT)
def remove_block(block_id: int):
    block = db.session.get(AvailabilityBlock, block_id)
    if block is None or not access.can_edit_listing(g.user, block.listing):
        raise not_found("Block")
    listings.remove_block(g.user, block)
    return "", 204


def _block_out(block: AvailabilityBlock) -> dict:
    return {
        "id": block.id,
        "listing_id": block.listing_id,
        "date_from": block.date_from.isoformat(),
        "date_to": block.date_to.isoformat(),
        "reason": block.reason,
    }


@bp.get(f"{PREFIX}/staff/bookings/")
@require_role(Role.REALTOR)
@spec.validate(query=s.BookingQuery, resp=responses(s.BookingPage, errors=V1_ERRORS), tags=TAGS, security=JWT)
def staff_bookings(query: s.BookingQuery):
    """Bookings of the caller's listings (realtor) or agency (admin); all for superusers."""
    select = bookings.staff_bookings(g.user, query.status, query.listing_id)
    return jsonify(_page(select, query, s.booking_out))


@bp.post(f"{PREFIX}/staff/bookings/<int:booking_id>/confirm/")
@require_role(Role.REALTOR)
@spec.validate(resp=responses(s.BookingOut, errors=V1_ERRORS, HTTP_409=ErrorBody), tags=TAGS, security=JWT)
def confirm_booking(booking_id: int):
    booking = db.session.get(Booking, booking_id)
    if booking is None or not access.can_handle_booking(g.user, booking):
        raise not_found("Booking")
    bookings.confirm_booking(g.user, booking)
    db.session.flush()
    return jsonify(s.booking_out(booking))


# --- moderation ------------------------------------------------------------------------------------


@bp.get(f"{PREFIX}/moderation/")
@require_role(Role.MODERATOR)
@spec.validate(query=s.PageQuery, resp=responses(s.ListingPage, errors=V1_ERRORS), tags=TAGS, security=JWT)
def moderation_queue(query: s.PageQuery):
    """Pending listings the caller may moderate, oldest first."""
    select = listings.moderation_queue(g.user)
    return jsonify(_page(select, query, s.listing_out))


def _moderatable(listing_id: int) -> Listing:
    listing = db.session.get(Listing, listing_id)
    if listing is None or not access.can_moderate(g.user):
        raise not_found("Listing")
    return listing


@bp.post(f"{PREFIX}/moderation/<int:listing_id>/approve/")
@require_role(Role.MODERATOR)
@spec.validate(resp=responses(s.ListingOut, errors=V1_ERRORS), tags=TAGS, security=JWT)
def approve_listing(listing_id: int):
    listing = _moderatable(listing_id)
    listings.approve_listing(g.user, listing)
    db.session.flush()
    return jsonify(s.listing_out(listing))


@bp.post(f"{PREFIX}/moderation/<int:listing_id>/reject/")
@require_role(Role.MODERATOR)
@spec.validate(json=s.RejectIn, resp=responses(s.ListingOut, errors=V1_ERRORS), tags=TAGS, security=JWT)
def reject_listing(listing_id: int, json: s.RejectIn):
    listing = _moderatable(listing_id)
    listings.reject_listing(g.user, listing, json.reason)
    db.session.flush()
    return jsonify(s.listing_out(listing))


# --- agencies and realtors -------------------------------------------------------------------------


def _agency_out(agency: Agency) -> dict:
    return {
        "id": agency.id,
        "name": agency.name,
        "city": agency.city,
        "phone": agency.phone,
        "email": agency.email,
        "address": agency.address,
        "timezone": agency.timezone,
        "currency": agency.currency,
        "is_active": agency.is_active,
    }


def _managed_agency(agency_id: int) -> Agency:
    agency = db.session.get(Agency, agency_id)
    if agency is None or not access.is_agency_manager(g.user, agency.id):
        raise not_found("Agency")
    return agency


@bp.get(f"{PREFIX}/agencies/")
@require_role(Role.MODERATOR, Role.ADMIN)
@spec.validate(query=s.PageQuery, resp=responses(s.AgencyPage, errors=V1_ERRORS), tags=TAGS, security=JWT)
def list_agencies(query: s.PageQuery):
    """Superusers and the platform moderator: every agency's card; agency admins: their own."""
    select = access.scope(db.select(Agency), g.user).order_by(Agency.name)
    return jsonify(_page(select, query, _agency_out))


@bp.post(f"{PREFIX}/agencies/")
@require_role(Role.SUPERUSER)
@spec.validate(json=s.AgencyIn, resp=responses(s.AgencyOut, 201, V1_ERRORS), tags=TAGS, security=JWT)
def create_agency(json: s.AgencyIn):
    agency = agencies.create_agency(g.user, json.model_dump())
    db.session.flush()
    return jsonify(_agency_out(agency)), 201


@bp.post(f"{PREFIX}/agencies/<int:agency_id>/active/")
@require_role(Role.SUPERUSER)
@spec.validate(json=s.ActiveIn, resp=responses(s.AgencyOut, errors=V1_ERRORS), tags=TAGS, security=JWT)
def set_agency_active(agency_id: int, json: s.ActiveIn):
    agency = _managed_agency(agency_id)
    agencies.set_agency_active(g.user, agency, json.is_active)
    db.session.flush()
    return jsonify(_agency_out(agency))


@bp.get(f"{PREFIX}/agencies/<int:agency_id>/metrics/")
@require_role(Role.MODERATOR, Role.ADMIN)
@spec.validate(resp=responses(s.AgencyMetricsOut, errors=V1_ERRORS), tags=TAGS, security=JWT)
def agency_metrics(agency_id: int):
    """Realtors, listings, bookings, revenue, contacts, top listings and realtors."""
    return jsonify(agencies.agency_metrics(_managed_agency(agency_id)))


@bp.post(f"{PREFIX}/realtors/")
@require_role(Role.ADMIN)
@spec.validate(json=s.RealtorIn, resp=responses(s.RealtorOut, 201, V1_ERRORS), tags=TAGS, security=JWT)
def add_realtor(json: s.RealtorIn):
    """An agency admin adds a realtor account (e-mail, phone, name, password) to their agency."""
    user = agencies.add_realtor(
        g.user,
        email=json.email,
        phone=json.phone,
        first_name=json.first_name,
        password=json.password,
        agency_id=json.agency_id,
    )
    db.session.flush()
    return jsonify({**s.person(user), "email": user.email, "phone": user.phone, "is_active": user.is_active}), 201


@bp.post(f"{PREFIX}/realtors/<uuid:user_id>/active/")
@require_role(Role.ADMIN)
@spec.validate(json=s.ActiveIn, resp=responses(s.RealtorActiveOut, errors=V1_ERRORS), tags=TAGS, security=JWT)
def set_realtor_active(user_id, json: s.ActiveIn):
    realtor = db.session.get(User, user_id)
    if realtor is None:
        raise not_found("Realtor")
    agencies.set_realtor_active(g.user, realtor, json.is_active)  # another agency's realtor is not found (404)
    db.session.flush()
    return jsonify({**s.person(realtor), "is_active": realtor.is_active})
