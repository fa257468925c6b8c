"""The console's listing pages: one listing (photos, words, the agency's clock, money with its
currency) with Approve and Reject-with-a-reason for the platform's moderators, and the form
realtors and agency admins create and edit listings with, photos uploaded from disk.

Every page asks ``webapp.realty.access`` through the view's ``get_one`` (what the viewer reaches)
and the services decide the rest (moderation rights, the back-to-moderation rule of an edit), so
the console obeys the same rule as the API and the bot. Refusals are translated flashes.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from markupsafe import Markup

from webapp.core.roles import Role, user_has_role
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.realty import access
from webapp.realty.models import AMENITIES, Agency, Listing
from webapp.realty.services import listings, photos
from webapp.realty.services.notify import catalog

t = catalog.gettext
FORM_FIELDS = ("title", "city", "district", "address", "price_per_night", "max_guests", "description")
_AT_MOST = re.compile(r"^At most (\d+) (characters|photos)$")
# Refusals whose service text is built at run time or names a state: what the console says instead.
_BY_CODE = {
    "FORBIDDEN": "You do not have permission to do this",
    "INVALID_TRANSITION": "This listing is no longer awaiting moderation",
    "NOT_FOUND": "Listing not found",
}


def error_text(exc: ServiceError) -> str:
    """A service refusal in the reader's language (service messages are msgids of the realty catalog)."""
    if exc.code in _BY_CODE:
        return t(_BY_CODE[exc.code])
    match = _AT_MOST.match(exc.message)
    if match:
        number = int(match.group(1))
        if match.group(2) == "photos":
            return t("At most %(number)s photos", number=number)
        return t("At most %(number)s characters", number=number)
    return t(exc.message)


def agency_time(value, agency: Agency) -> str:
    """A stored time on the agency's clock, to the minute, its zone named."""
    if value is None:
        return "—"
    return f"{value.astimezone(ZoneInfo(agency.timezone)):%Y-%m-%d %H:%M} {agency.timezone}"


def title_link(view, context, model, name) -> Markup:
    """List cells: the title opens the listing's page."""
    return Markup('<a href="{}">{}</a>').format(url_for(".details_view", id=model.id), model.title)


def created_on_agency_clock(view, context, model, name) -> str:
    return agency_time(getattr(model, name), model.agency)


def _uploads() -> list[bytes]:
    return [f.read() for f in request.files.getlist("photos") if f and f.filename]


class ListingPages:
    """Mixed into the listing views (the list and the moderation queue)."""

    def _listing(self, listing_id) -> Listing | None:
        key = str(listing_id or "")
        return self.get_one(key) if key.isdigit() and len(key) < 19 else None

    def _not_found(self):
        flash(t("Listing not found"), "error")
        return redirect(url_for(".index_view"))

    def _may_write(self) -> bool:
        return user_has_role(current_user, Role.REALTOR)

    @property
    def can_create(self) -> bool:
        return self._may_write()

    @property
    def can_edit(self) -> bool:
        return self._may_write()

    # --- one listing ----------------------------------------------------------------------------

    @expose("/details/")
    def details_view(self):
        listing = self._listing(request.args.get("id"))
        if listing is None:
            return self._not_found()
        return self.render(
            "realty/listing.html",
            t=t,
            listing=listing,
            when=lambda value: agency_time(value, listing.agency),
            pictures=[(p, photos.shown_url(p)) for p in listing.photos or []],
            can_moderate=access.can_moderate(current_user) and listing.status == "pending",
            can_edit=access.can_edit_listing(current_user, listing),
        )

    def _moderate(self, listing_id, change, done: str):
        listing = self._listing(listing_id)
        if listing is None:
            return self._not_found()
        try:
            change(listing)
        except ServiceError as exc:
            db.session.rollback()
            flash(error_text(exc), "error")
        else:
            flash(done, "success")
        return redirect(url_for(".details_view", id=listing.id))

    @expose("/<int:listing_id>/approve/", methods=("POST",))
    def approve(self, listing_id: int):
        return self._moderate(
            listing_id, lambda row: listings.approve_listing(current_user, row), t("The listing is approved.")
        )

    @expose("/<int:listing_id>/reject/", methods=("POST",))
    def reject(self, listing_id: int):
        reason = request.form.get("reason", "")
        return self._moderate(
            listing_id, lambda row: listings.reject_listing(current_user, row, reason), t("The listing is rejected.")
        )

    # --- create and edit ------------------------------------------------------------------------

    def _form_fields(self) -> dict:
        fields = {name: request.form.get(name, "") for name in FORM_FIELDS}
        fields["amenities"] = [a for a in request.form.getlist("amenities") if a in AMENITIES]
        return fields

    def _render_form(self, listing: Listing | None, values: dict):
        agencies, own = [], listing.agency if listing else access.agency_of(current_user)
        if listing is None and access.is_superuser(current_user):
            agencies = db.session.scalars(db.select(Agency).order_by(Agency.name)).all()
        return self.render(
            "realty/listing_form.html",
            t=t,
            listing=listing,
            values=values,
            amenities=AMENITIES,
            agencies=agencies,
            currency=own.currency if own else None,
            pictures=[(p, photos.shown_url(p)) for p in (listing.photos if listing else [])],
            max_photos=listings.MAX_PHOTOS,
        )

    def _save(self, listing: Listing | None):
        """Vet the uploads, let the service validate and save, then store the files: a refused form
        leaves neither a row nor a file behind."""
        fields = self._form_fields()
        kept = [p for p in (listing.photos if listing else []) if p not in request.form.getlist("remove_photo")]
        try:
            uploads = photos.vet_photos(_uploads(), len(kept))
            fields["photos"] = kept + [p.url for p in uploads]
            if listing is None:
                agency_id = request.form.get("agency_id", type=int) if access.is_superuser(current_user) else None
                listing = listings.create_listing(current_user, fields, agency_id=agency_id, source="console")
                done = t("The listing is saved and sent to moderation.")
            else:
                was = listing.status
                listings.update_listing(current_user, listing, fields)
                back = listing.status == "pending" and was != "pending"
                done = t("Changes saved; the listing is back in moderation.") if back else t("Changes saved.")
            photos.store(uploads)
        except ServiceError as exc:
            db.session.rollback()
            flash(error_text(exc), "error")
            return None
        flash(done, "success")
        return redirect(url_for(".details_view", id=listing.id))

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if not self.can_create:
            flash(t("You do not have permission to do this"), "error")
            return redirect(url_for(".index_view"))
        if request.method == "POST":
            done = self._save(None)
            if done is not None:
                return done
            return self._render_form(None, self._form_fields())
        return self._render_form(None, {"max_guests": 2, "amenities": []})

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        listing = self._listing(request.args.get("id"))
        if listing is None or not access.can_edit_listing(current_user, listing):
            return self._not_found()
        if request.method == "POST":
            done = self._save(listing)
            if done is not None:
                return done
            listing = self._listing(listing.id)
            return self._render_form(listing, self._form_fields())
        values = {name: getattr(listing, name) or "" for name in FORM_FIELDS}
        values["amenities"] = listing.amenities
        return self._render_form(listing, values)
