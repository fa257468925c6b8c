"""The realty console: agencies, realtors, listings with the moderation queue, bookings (and a
calendar per listing), reviews, payments, notifications, the e-mail outbox, an agency dashboard,
the moderation log, and the moderation reports page (seed 004's figures as charts and CSV).

Every scoped view asks ``webapp.realty.access`` (the rule the API and the bot obey too) in
``get_query``, ``get_count_query`` AND ``get_one``, so neither the list, its counts, CSV export,
actions, nor a hand-typed edit/details URL reaches a row outside the viewer's reach: an agency's
admins see their agency, a realtor their own listings and those listings' bookings, payments and
reviews, the platform moderator every agency's listings, cards and moderation log (and no booking,
payment or review). Superusers see everything. State changes go through the services (moderation, bookings,
realtor status), never through direct field edits.
"""

from __future__ import annotations

import io
from datetime import date, timedelta

from flask import Response, abort, flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_login import current_user

from webapp.admin.base import (
    ScopedModelView,
    SecureModelView,
    SecureView,
    datetime_text,
    int_arg,
    money_formatter,
)
from webapp.admin.charts import bars
from webapp.admin.dashboard import add_card
from webapp.core.export import safe_writer
from webapp.core.limits import require_date_in_range
from webapp.core.models import Membership
from webapp.core.roles import Role
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.realty import access
from webapp.realty.listing_pages import ListingPages, created_on_agency_clock, error_text, title_link
from webapp.realty.models import (
    Agency,
    Booking,
    BookingStatus,
    Listing,
    ModerationEvent,
    Notification,
    OutboxEmail,
    Payment,
    Review,
)
from webapp.realty.realtor_pages import RealtorPages
from webapp.realty.services import agencies, bookings, listings, notify, stats
from webapp.realty.services.notify import catalog

_l = catalog.lazy_gettext  # console texts live in the realty catalog, like the bot's
STAFF = (Role.REALTOR,)  # realtors and, by their role, agency admins and superusers
MANAGERS = (Role.ADMIN,)  # agency admins and superusers
MODERATORS = (Role.MODERATOR,)  # the platform's moderators and superusers
REPORT_READERS = (Role.ADMIN, Role.MODERATOR)
MARKETPLACE = (Role.REALTOR, Role.MODERATOR)  # staff, and the platform moderator over every agency


class AgencyScopedView(ScopedModelView):
    """A model view whose rows are scoped by ``webapp.realty.access`` (list, counts, export, get_one)."""

    access = access
    required_roles = STAFF
    can_create = can_edit = can_delete = False
    can_view_details = True

    def _selected(self, ids) -> list:
        """The selected rows the viewer may see (ids from the form are never trusted)."""
        return self.get_query().filter(self.model.id.in_([int(i) for i in ids if str(i).isdigit()])).all()

    def _apply(self, ids, change, done_message) -> None:
        changed = 0
        for row in self._selected(ids):
            try:
                with db.session.begin_nested():  # a refused row undoes only itself
                    change(row)
                changed += 1
            except ServiceError as exc:
                flash(f"#{row.id}: {exc.message}", "error")
        flash(done_message % {"count": changed}, "success")


_money_formatter = money_formatter("UZS")


# --- agencies and realtors -------------------------------------------------------------------------


class AgencyView(AgencyScopedView):
    """Superusers create and edit agencies; an agency's admins see their own agency's card, the
    platform moderator every agency's."""

    required_roles = (*MANAGERS, *MODERATORS)
    column_list = ("id", "name", "city", "phone", "email", "timezone", "currency", "is_active", "created_at")
    column_searchable_list = ("name", "city")
    column_filters = ("city", "is_active")
    form_columns = ("name", "city", "phone", "email", "address", "timezone", "currency", "is_active")
    column_labels = {
        "name": _l("Name"),
        "city": _l("City"),
        "phone": _l("Phone"),
        "email": _l("E-mail"),
        "timezone": _l("Time zone"),
        "currency": _l("Currency"),
        "is_active": _l("Active"),
        "created_at": _l("Created"),
        "organization": _l("Organization"),
    }

    @property
    def can_create(self) -> bool:
        return access.is_superuser(current_user)

    @property
    def can_edit(self) -> bool:
        return access.is_superuser(current_user)

    # Creates and edits go through the agency services (audited, and a new agency gets its own
    # organization), not Flask-Admin's default write of the form onto the row.
    CARD_FIELDS = ("name", "city", "phone", "email", "address", "timezone", "currency")

    def _card(self, form) -> dict:
        return {name: getattr(form, name).data for name in self.CARD_FIELDS}

    def refusal_text(self, exc: ServiceError) -> str:
        return error_text(exc)

    def create_record(self, form):
        agency = agencies.create_agency(current_user, self._card(form), source="console")
        return agencies.set_agency_active(current_user, agency, bool(form.is_active.data), source="console")

    def update_record(self, form, model) -> None:
        agencies.update_agency(current_user, model, self._card(form), source="console")
        agencies.set_agency_active(current_user, model, bool(form.is_active.data), source="console")


class RealtorView(RealtorPages, AgencyScopedView):
    """Agencies' staff: the memberships of agency organizations (an agency's admins see their own
    agency's, superusers every agency's), with activate/deactivate through the audited service."""

    required_roles = MANAGERS
    column_list = ("user", "user.role", "user.is_active", "organization", "created_at")
    column_filters = ("organization.name",)
    column_searchable_list = ("user.email", "user.phone", "user.first_name")
    column_labels = {
        "user": _l("User"),
        "user.role": _l("Role"),
        "user.is_active": _l("Active"),
        "organization": _l("Agency"),
        "organization.name": _l("Agency"),
        "created_at": _l("Joined"),
        "user.email": _l("E-mail"),
        "user.phone": _l("Phone"),
        "user.first_name": _l("Name"),
    }

    def get_pk_value(self, model):
        return str(model.user_id)

    def _members(self, ids) -> list[Membership]:
        keys = [k for k in (access.parse_uuid(i) for i in ids) if k is not None]
        return self.get_query().filter(Membership.user_id.in_(keys)).all()

    def _set_active(self, ids, active: bool) -> None:
        changed = 0
        for member in self._members(ids):
            try:
                with db.session.begin_nested():  # a refused account undoes only itself
                    agencies.set_realtor_active(current_user, member.user, active, "console")
                changed += 1
            except ServiceError as exc:
                flash(f"{member.user}: {exc.message}", "error")
        flash(_l("%(count)s account(s) updated.", count=changed), "success")

    @action("activate", _l("Activate"))
    def action_activate(self, ids):
        self._set_active(ids, True)

    @action("deactivate", _l("Deactivate"))
    def action_deactivate(self, ids):
        self._set_active(ids, False)


class ModerationLogView(AgencyScopedView):
    """Listings added, approved and rejected: every agency's for the platform moderator, an agency's
    own for its admins."""

    required_roles = (*MANAGERS, *MODERATORS)
    column_list = ("occurred_at", "action", "listing", "city", "district", "user", "actor", "reason")
    column_filters = ("action", "city", "occurred_at")
    column_default_sort = ("occurred_at", True)
    column_labels = {
        "occurred_at": _l("When"),
        "action": _l("Action"),
        "listing": _l("Listing"),
        "city": _l("City"),
        "district": _l("District"),
        "user": _l("Realtor"),
        "actor": _l("Moderator"),
        "reason": _l("Rejection reason"),
    }


# --- listings and the moderation queue -------------------------------------------------------------


class ListingView(ListingPages, AgencyScopedView):
    required_roles = MARKETPLACE
    column_list = (
        "id",
        "title",
        "agency",
        "realtor",
        "city",
        "district",
        "price_per_night",
        "max_guests",
        "status",
        "is_active",
        "created_at",
    )
    column_searchable_list = ("title", "city", "district")
    column_filters = ("status", "city", "district", "is_active", "agency.name", "price_per_night", "created_at")
    column_sortable_list = ("id", "title", "city", "price_per_night", "status", "created_at")
    column_default_sort = ("created_at", True)
    column_formatters = {
        "price_per_night": _money_formatter,
        "title": title_link,
        "created_at": created_on_agency_clock,
    }
    column_formatters_export = {"price_per_night": _money_formatter}
    column_labels = {
        "title": _l("Title"),
        "agency": _l("Agency"),
        "agency.name": _l("Agency"),
        "realtor": _l("Realtor"),
        "city": _l("City"),
        "district": _l("District"),
        "price_per_night": _l("Price per night"),
        "max_guests": _l("Guests"),
        "status": _l("Moderation"),
        "is_active": _l("Active"),
        "created_at": _l("Created"),
        "rejection_reason": _l("Rejection reason"),
    }

    @action("approve", _l("Approve"), _l("Approve the selected listings?"))
    def action_approve(self, ids):
        self._apply(ids, lambda row: listings.approve_listing(current_user, row), _l("%(count)s listing(s) approved."))

    @action("reject", _l("Reject with a reason…"))
    def action_reject(self, ids):
        visible = [str(row.id) for row in self._selected(ids)]
        return redirect(url_for(".reject_view", ids=",".join(visible)))

    @action("hide", _l("Take down"))
    def action_hide(self, ids):
        self._apply(
            ids, lambda row: listings.set_listing_active(current_user, row, False), _l("%(count)s listing(s) hidden.")
        )

    @action("show", _l("Activate"))
    def action_show(self, ids):
        self._apply(
            ids, lambda row: listings.set_listing_active(current_user, row, True), _l("%(count)s listing(s) activated.")
        )

    @expose("/reject/", methods=("GET", "POST"))
    def reject_view(self):
        from flask_wtf import FlaskForm
        from wtforms import HiddenField, TextAreaField
        from wtforms.validators import DataRequired, Length

        class RejectForm(FlaskForm):
            ids = HiddenField()
            reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=500)])

        form = RejectForm(ids=request.args.get("ids", ""))
        rows = self._selected((form.ids.data or "").split(","))
        if not rows:
            return redirect(url_for(".index_view"))
        if form.validate_on_submit():
            self._apply(
                [str(r.id) for r in rows],
                lambda row: listings.reject_listing(current_user, row, form.reason.data),
                _l("%(count)s listing(s) rejected."),
            )
            return redirect(url_for(".index_view"))
        return self.render("realty/reject.html", t=catalog.gettext, form=form, rows=rows)


class ModerationQueueView(ListingView):
    """Pending listings, oldest first: the moderation queue."""

    required_roles = MODERATORS
    column_default_sort = ("created_at", False)
    can_create = can_edit = False  # the queue moderates; listings are written in the list view

    # The list and its counts hold pending listings only; a listing's page stays open once moderated.
    def get_query(self):
        return super().get_query().filter(Listing.status == "pending")

    def get_count_query(self):
        return super().get_count_query().filter(Listing.status == "pending")


# --- bookings, calendar, payments, reviews ----------------------------------------------------------


class BookingView(AgencyScopedView):
    column_list = ("id", "listing", "guest", "check_in", "check_out", "guests", "total_price", "status", "created_at")
    column_filters = ("status", "check_in", "check_out", "listing.title", "listing.city", "created_at")
    column_searchable_list = ("listing.title",)
    column_sortable_list = ("id", "check_in", "check_out", "total_price", "status", "created_at")
    column_default_sort = ("check_in", True)
    column_formatters = {"total_price": _money_formatter}
    column_labels = {
        "listing": _l("Listing"),
        "listing.title": _l("Listing"),
        "listing.city": _l("City"),
        "guest": _l("Guest"),
        "check_in": _l("Check-in"),
        "check_out": _l("Check-out"),
        "guests": _l("Guests"),
        "total_price": _l("Total"),
        "status": _l("Status"),
        "created_at": _l("Created"),
    }

    @action("confirm", _l("Confirm"))
    def action_confirm(self, ids):
        self._apply(ids, lambda row: bookings.confirm_booking(current_user, row), _l("%(count)s booking(s) confirmed."))

    @action("cancel", _l("Cancel"), _l("Cancel the selected bookings?"))
    def action_cancel(self, ids):
        self._apply(ids, lambda row: bookings.cancel_booking(current_user, row), _l("%(count)s booking(s) cancelled."))


class PaymentView(AgencyScopedView):
    column_list = ("id", "booking", "amount", "currency", "provider", "provider_ref", "status", "paid_at")
    column_filters = ("status", "provider", "paid_at")
    column_default_sort = ("id", True)
    column_formatters = {"amount": _money_formatter}


class ReviewView(AgencyScopedView):
    column_list = ("id", "listing", "author", "rating", "text", "created_at")
    column_filters = ("rating", "created_at", "listing.title")
    column_default_sort = ("created_at", True)
    column_labels = {"listing": _l("Listing"), "author": _l("Author"), "rating": _l("Rating"), "text": _l("Text")}


class CalendarView(SecureView):
    """One listing's next 60 days: free, blocked, or the booking holding each night."""

    required_roles = STAFF

    @expose("/")
    def index(self):
        choices = db.session.scalars(access.scope(db.select(Listing), current_user).order_by(Listing.title)).all()
        listing = None
        if int_arg("listing_id") is not None:
            listing = db.session.get(Listing, int_arg("listing_id"))
            if not access.can_read(current_user, listing):
                abort(404)
        elif choices:
            listing = choices[0]
        days = listings.calendar(listing, listings.agency_today(listing.agency), 60) if listing else []
        return self.render("realty/calendar.html", t=catalog.gettext, listings=choices, listing=listing, days=days)


# --- platform-only views ---------------------------------------------------------------------------


class SuperuserReadOnly(SecureModelView):
    required_roles = (Role.SUPERUSER,)
    can_create = can_edit = can_delete = False
    can_view_details = True
    column_default_sort = ("id", True)


class NotificationView(SuperuserReadOnly):
    column_list = ("id", "user", "kind", "text", "created_at", "read_at", "telegram_sent_at")
    column_filters = ("kind", "created_at", "read_at")
    # Pushes are outbox rows: "Sent to Telegram" is read from them, for the whole page in one query
    # (kept on the request, as views are shared by every request of the process).
    column_formatters = {"telegram_sent_at": lambda view, context, row, name: view.sent_to_telegram(row)}

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        g.realty_pushed_at = notify.pushed_at(list(rows))
        return count, rows

    def sent_to_telegram(self, row) -> str:
        when = g.get("realty_pushed_at", {}).get(row.id)
        return datetime_text(self, when, "telegram_sent_at") if when else ""


class OutboxView(SuperuserReadOnly):
    """Every e-mail sent; with no MAIL_SERVER this is where a link code can be read."""

    column_list = ("id", "to_address", "subject", "status", "created_at", "sent_at")
    column_details_list = ("id", "to_address", "subject", "body", "status", "error", "created_at", "sent_at")
    column_searchable_list = ("to_address", "subject")
    column_filters = ("status", "created_at")


# --- dashboard and reports -------------------------------------------------------------------------


class RealtyDashboard(SecureView):
    required_roles = STAFF

    @expose("/")
    def index(self):
        agency = None if access.is_superuser(current_user) else access.agency_of(current_user)
        manages = agency is not None and access.is_agency_manager(current_user, agency.id)
        today = listings.agency_today(agency) if agency else date.today()
        weekly = stats.bookings_per_week(today, current_user)
        return self.render(
            "realty/dashboard.html",
            t=catalog.gettext,
            agency=agency,
            weekly=bars([(f"{monday:%d.%m}", n) for monday, n in weekly], width=26),
            occupancy=stats.occupancy(today, current_user),
            revenue=stats.revenue(today - timedelta(days=30), current_user),
            pending_bookings=stats.count_bookings(BookingStatus.PENDING.value, current_user),
            pending_listings=stats.count_pending_listings(current_user),
            # Agency-wide figures are for its managers; a realtor's cards above count their own listings.
            metrics=agencies.agency_metrics(agency) if manages else None,
        )


class ReportsView(SecureView):
    """Seed 004's figures for a range of days: totals, a chart per day, tops, CSV export."""

    required_roles = REPORT_READERS

    @expose("/")
    def index(self):
        from webapp.reports import services as reports
        from webapp.reports.access import report_scope

        today = reports.local_today()
        try:
            date_to = require_date_in_range(
                date.fromisoformat(request.args.get("date_to") or today.isoformat()), "date_to"
            )
            date_from = date.fromisoformat(request.args.get("date_from") or (date_to - timedelta(days=6)).isoformat())
            scope = report_scope(current_user)
            report = reports.range_report(date_from, date_to, scope)
            series = reports.daily_series(date_from, date_to, scope)
        except (ValueError, ServiceError) as exc:
            flash(getattr(exc, "message", None) or str(exc), "error")
            return redirect(url_for(".index"))
        if request.args.get("format") == "csv":
            return _csv_response(series, report, date_from, date_to)
        chart = {
            key: bars([(row["date"][5:], row[key]) for row in series], height=100, width=14)
            for key in ("added", "approved", "rejected")
        }
        return self.render("realty/reports.html", t=catalog.gettext, report=report, series=series, chart=chart)


def _csv_response(series: list[dict], report: dict, date_from: date, date_to: date) -> Response:
    out = io.StringIO()
    writer = safe_writer(out)
    writer.writerow(["date", "added", "approved", "rejected"])
    for row in series:
        writer.writerow([row["date"], row["added"], row["approved"], row["rejected"]])
    writer.writerow(["total", report["total_added"], report["total_approved"], report["total_rejected"]])
    for key in ("top_regions", "top_districts", "top_users"):
        writer.writerow([])
        writer.writerow([key, "count", "added", "approved", "rejected"])
        for item in report[key]:
            writer.writerow([item["name"], item["count"], item["added"], item["approved"], item["rejected"]])
    name = f"moderation-report-{date_from}-{date_to}.csv"
    return Response(
        out.getvalue(), mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}"}
    )


def _pending_listings(viewer) -> int:
    return stats.count_pending_listings(viewer)


def _pending_bookings(viewer) -> int:
    return stats.count_bookings(BookingStatus.PENDING.value, viewer)


def register_admin(admin) -> None:
    category = _l("Realty")

    def add(view_class, model, name, endpoint) -> None:
        admin.add_view(view_class(model, db.session, name=name, category=category, endpoint=endpoint))

    admin.add_view(RealtyDashboard(name=_l("Realty dashboard"), category=category, endpoint="realty_dashboard"))
    add(ModerationQueueView, Listing, _l("Moderation queue"), "realty_moderation")
    add(ListingView, Listing, _l("Listings"), "realty_listings")
    add(BookingView, Booking, _l("Bookings"), "realty_bookings")
    admin.add_view(CalendarView(name=_l("Calendar"), category=category, endpoint="realty_calendar"))
    add(AgencyView, Agency, _l("Agencies"), "realty_agencies")
    add(RealtorView, Membership, _l("Realtors"), "realty_realtors")
    add(ModerationLogView, ModerationEvent, _l("Moderation log"), "realty_moderation_log")
    add(ReviewView, Review, _l("Reviews"), "realty_reviews")
    add(PaymentView, Payment, _l("Payments"), "realty_payments")
    add(NotificationView, Notification, _l("Notifications"), "realty_notifications")
    add(OutboxView, OutboxEmail, _l("E-mail outbox"), "realty_outbox")
    admin.add_view(ReportsView(name=_l("Moderation reports"), category=category, endpoint="realty_reports"))
    add_card(
        _l("Realty: listings awaiting moderation"),
        _pending_listings,
        *MODERATORS,
        endpoint="realty_moderation.index_view",
    )
    add_card(_l("Realty: bookings to confirm"), _pending_bookings, *STAFF)
