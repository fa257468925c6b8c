"""Realty console words: attribute labels and stored codes (see webapp.admin.words)."""

from __future__ import annotations

from webapp.realty.services.notify import catalog

_l = catalog.lazy_gettext

LABELS = {
    "agency": _l("Agency"),
    "realtor": _l("Realtor"),
    "listing": _l("Listing"),
    "booking": _l("Booking"),
    "guest": _l("Guest"),
    "author": _l("Author"),
    "district": _l("District"),
    "address": _l("Address"),
    "description": _l("Description"),
    "photos": _l("Photos"),
    "amenity_rows": _l("Amenities"),
    "amenities": _l("Amenities"),
    "price_per_night": _l("Price per night"),
    "max_guests": _l("Guests"),
    "rooms": _l("Rooms"),
    "rejection_reason": _l("Rejection reason"),
    "check_in": _l("Check-in"),
    "check_out": _l("Check-out"),
    "guests": _l("Guests"),
    "total_price": _l("Total"),
    "rating": _l("Rating"),
    "read_at": _l("Read at"),
    "telegram_sent_at": _l("Sent to Telegram"),
    "to_address": _l("Recipient"),
}
VALUES = {
    "listing_status": {"pending": _l("Pending"), "approved": _l("Approved"), "rejected": _l("Rejected")},
    "booking_status": {
        "pending": _l("Awaiting confirmation"),
        "confirmed": _l("Confirmed"),
        "cancelled": _l("Cancelled"),
        "completed": _l("Completed"),
    },
    "payment_status": {"pending": _l("Awaiting payment"), "succeeded": _l("Paid"), "failed": _l("Payment failed")},
    "moderation_action": {"added": _l("Added"), "approved": _l("Approved"), "rejected": _l("Rejected")},
    # Listing.amenities codes (webapp.realty.models.AMENITIES); the bot's words for them are the same.
    "realty_amenity": {
        "wifi": _l("Wi-Fi"),
        "kitchen": _l("Kitchen"),
        "parking": _l("Parking"),
        "air_conditioning": _l("Air conditioning"),
        "washer": _l("Washer"),
        "tv": _l("TV"),
        "balcony": _l("Balcony"),
        "pool": _l("Pool"),
        "workspace": _l("Workspace"),
        "pets_allowed": _l("Pets allowed"),
    },
    # A night in the calendar that no booking holds.
    "realty_calendar_day": {"free": _l("Free"), "blocked": _l("Blocked")},
}
