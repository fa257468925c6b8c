"""The helpdesk console (helpers and up): the inbox with its queues, a ticket page that updates live,
categories, a ticket list with CSV export, and the statistics dashboard with charts.

Every form carries the CSRF token (the app's CSRFProtect checks every POST). The pages open the
same WebSockets as seed 003's clients, authenticated by the console session.
"""

from __future__ import annotations

import io
from datetime import timedelta

import sqlalchemy as sa
from flask import abort, flash, redirect, request, send_file, url_for
from flask_admin import expose
from flask_login import current_user

from webapp.admin.base import ScopedModelView, SecureView, date_arg
from webapp.admin.dashboard import add_card
from webapp.core.db import utcnow
from webapp.core.models import User
from webapp.core.pagination import fetch_page
from webapp.core.roles import Role
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.helpdesk import access, services
from webapp.helpdesk.desk_admin import register_desk_admin
from webapp.helpdesk.models import Ticket, TicketCategory, TicketPriority, TicketStatus
from webapp.helpdesk.services import categories, desk, due
from webapp.helpdesk.storage import INLINE_TYPES
from webapp.helpdesk.texts import catalog

_ = catalog.gettext
_l = catalog.lazy_gettext

STAFF = (Role.HELPER,)  # and, by their role, the desk admins and superusers
PAGE_SIZE = 25
QUEUES = ("unassigned", "mine", "waiting", "overdue", "all")
QUEUE_LABELS = {
    "unassigned": "Unassigned",
    "mine": "Mine",
    "waiting": "Waiting for customer",
    "overdue": "Overdue",
    "all": "All",
}
PRIORITY_CLASSES = {"LOW": "secondary", "NORMAL": "info", "HIGH": "warning", "CRITICAL": "danger"}
STATUS_CLASSES = {
    "OPEN": "primary",
    "IN_PROGRESS": "info",
    "WAITING_RESPONSE": "warning",
    "RESOLVED": "success",
    "CLOSED": "secondary",
}
STATUS_NAMES = {
    "OPEN": "Open",
    "IN_PROGRESS": "In progress",
    "WAITING_RESPONSE": "Waiting for customer",
    "RESOLVED": "Resolved",
    "CLOSED": "Closed",
}
PRIORITY_NAMES = {"LOW": "Low", "NORMAL": "Normal", "HIGH": "High", "CRITICAL": "Critical"}
PRIORITY_ORDER = sa.case(
    {p.value: n for n, p in enumerate(reversed(list(TicketPriority)))}, value=Ticket.priority, else_=9
)
DONE = (TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value)


def queue_filter(queue: str, user: User, now) -> list:
    if queue == "overdue":
        return [due.overdue_condition(now=now)]
    if queue == "unassigned":
        return [Ticket.assigned_to_id.is_(None), Ticket.status != TicketStatus.CLOSED.value]
    if queue == "mine":
        return [Ticket.assigned_to_id == user.id, Ticket.status.not_in(DONE)]
    if queue == "waiting":
        return [Ticket.status == TicketStatus.WAITING_RESPONSE.value]
    return []


def staff_choices(ticket: Ticket) -> list[User]:
    """Who the ticket may be assigned to: its desk's active helpers and admins."""
    return list(db.session.scalars(access.desk_staff_query(ticket.organization_id)))


def desk_tickets(*conditions) -> sa.Select:
    """Tickets of the desk the console user staffs (a superuser: every desk's)."""
    return access.scope(db.select(Ticket), current_user, Ticket).where(*conditions)


def desk_count(*conditions, viewer=None) -> int:
    viewer = viewer if viewer is not None else current_user
    query = access.scope(db.select(sa.func.count(Ticket.id)), viewer, Ticket).where(*conditions)
    return db.session.scalar(query) or 0


class HelpdeskView(SecureView):
    required_roles = STAFF

    def page(self, template: str, now=None, **context):
        now = now or utcnow()
        return self.render(
            template,
            t=_,
            desk_time=desk.desk_time,
            first_due=lambda ticket: due.first_response_due(ticket, now=now),
            due_text=due.due_text,
            span=due.span,
            status_names=STATUS_NAMES,
            priority_names=PRIORITY_NAMES,
            priority_classes=PRIORITY_CLASSES,
            status_classes=STATUS_CLASSES,
            **context,
        )


class InboxView(HelpdeskView):
    @expose("/")
    def index(self):
        args = request.args
        now = utcnow()
        queue = args.get("queue") if args.get("queue") in QUEUES else "unassigned"
        conditions = queue_filter(queue, current_user, now)
        status = args.get("status") if args.get("status") in STATUS_NAMES else None
        priority = args.get("priority") if args.get("priority") in PRIORITY_NAMES else None
        category = services.get_category(args["category"], viewer=current_user) if args.get("category") else None
        search = (args.get("q") or "").strip()[:100]
        if status:
            conditions.append(Ticket.status == status)
        if priority:
            conditions.append(Ticket.priority == priority)
        if category:
            conditions.append(Ticket.category_id == category.id)
        if search:
            conditions.append(Ticket.title.ilike(f"%{search}%"))
        query = desk_tickets(*conditions).order_by(PRIORITY_ORDER, Ticket.updated_at.desc(), Ticket.id)
        found = fetch_page(query, args.get("page", 1, type=int) or 1, PAGE_SIZE, shape="console")
        total, pages, page, tickets = found.total, found.pages, found.page, found.items
        counts = {q: desk_count(*queue_filter(q, current_user, now)) for q in QUEUES}
        stats = services.message_stats([t.id for t in tickets], include_internal=True)
        template = "helpdesk/_inbox_rows.html" if args.get("partial") else "helpdesk/inbox.html"
        return self.page(
            template,
            now=now,
            tickets=tickets,
            stats=stats,
            queue=queue,
            queues=[(q, _(QUEUE_LABELS[q]), counts[q]) for q in QUEUES],
            filters={"status": status, "priority": priority, "category": category, "q": search},
            categories=services.list_categories(viewer=current_user),
            page=page,
            pages=pages,
            total=total,
        )

    def _ticket(self, ticket_id: str) -> Ticket:
        """A ticket of the user's desk; another desk's does not exist here."""
        ticket = services.get_ticket(ticket_id)
        if ticket is None or not access.can_manage_ticket(current_user, ticket):
            abort(404)
        return ticket

    def _panel_context(self, ticket: Ticket) -> dict:
        messages = db.session.scalars(services.messages_query(ticket, current_user)).all()
        history = sorted(ticket_history(ticket), key=lambda c: c.created_at)
        return {"ticket": ticket, "messages": messages, "history": history}

    @expose("/ticket/<ticket_id>")
    def ticket(self, ticket_id: str):
        ticket = self._ticket(ticket_id)
        return self.page(
            "helpdesk/ticket.html",
            staff=staff_choices(ticket),
            categories=services.list_categories(organization_id=ticket.organization_id),
            moves=sorted(services.allowed_moves(ticket), key=list(TicketStatus).index),
            canned=[
                {"code": r.short_code, "text": r.content}
                for r in desk.canned_replies(current_user, ticket.organization_id)
            ],
            **self._panel_context(ticket),
        )

    @expose("/ticket/<ticket_id>/panel")
    def panel(self, ticket_id: str):
        """The parts of the ticket page a live event changes (fetched by the page's script)."""
        ticket = self._ticket(ticket_id)
        return self.page("helpdesk/_ticket_panel.html", staff=staff_choices(ticket), **self._panel_context(ticket))

    @expose("/ticket/<ticket_id>/reply", methods=["POST"])
    def reply(self, ticket_id: str):
        ticket = self._ticket(ticket_id)
        form = request.form
        internal = form.get("is_internal") == "on"
        try:
            ids = [
                services.store_upload(current_user, upload.read(), upload.filename).id
                for upload in request.files.getlist("files")
                if upload and upload.filename
            ]
            services.add_message(ticket, current_user, form.get("content", ""), internal, ids, source="console")
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for(".ticket", ticket_id=ticket.id))
        flash(_("Internal note added.") if internal else _("Reply sent."), "success")
        return redirect(url_for(".ticket", ticket_id=ticket.id))

    @expose("/ticket/<ticket_id>/update", methods=["POST"])
    def update(self, ticket_id: str):
        ticket = self._ticket(ticket_id)
        form = request.form
        changes: dict = {}
        if "assigned_to" in form:
            value = form["assigned_to"]
            changes["assigned_to"] = current_user.id if value == "me" else (value or None)
        for field in ("status", "priority"):
            if form.get(field):
                changes[field] = form[field]
        if "category_id" in form:
            changes["category_id"] = form["category_id"] or None
        try:
            services.update_ticket(ticket, current_user, **changes)
        except (ServiceError, ValueError) as exc:
            db.session.rollback()
            flash(getattr(exc, "message", str(exc)), "error")
            return redirect(url_for(".ticket", ticket_id=ticket.id))
        flash(_("Ticket updated."), "success")
        return redirect(url_for(".ticket", ticket_id=ticket.id))

    @expose("/file/<file_id>")
    def file(self, file_id: str):
        row = services.get_file(file_id)
        if row is None:
            abort(404)
        if not services.can_download(current_user, row):
            abort(404)
        response = send_file(
            io.BytesIO(services.read_file(row)),
            mimetype=row.content_type,
            as_attachment=row.content_type not in INLINE_TYPES,
            download_name=row.filename,
            max_age=0,
        )
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
        return response


def ticket_history(ticket: Ticket) -> list:
    from webapp.helpdesk.models import TicketStatusChange

    return list(db.session.scalars(db.select(TicketStatusChange).where(TicketStatusChange.ticket_id == ticket.id)))


class StatisticsView(HelpdeskView):
    @expose("/")
    def index(self):
        today = utcnow().date()
        from_date = date_arg("from_date") or today - timedelta(days=29)
        to_date = date_arg("to_date") or today
        if from_date > to_date:
            flash(_("The start date is after the end date."), "error")
            from_date, to_date = to_date, from_date
        chosen = request.args.get("category")
        category = services.get_category(chosen, viewer=current_user) if chosen else None
        stats = services.ticket_statistics(
            from_date, to_date, category.id if category else None, with_daily=True, viewer=current_user
        )
        chart_data = {
            "daily": stats["daily"],
            "helpers": stats["helpers"],
            "categories": stats["categories"],
            "statuses": [{"key": key, "label": _(name)} for key, name in STATUS_NAMES.items()],
            "labels": {"none": _("No data for this period."), "uncategorised": _("No category")},
        }
        return self.page(
            "helpdesk/statistics.html",
            stats=stats,
            chart_data=chart_data,
            from_date=from_date,
            to_date=to_date,
            category=category,
            categories=services.list_categories(viewer=current_user),
        )


class CategoryView(ScopedModelView):
    access = access
    required_roles = (Role.ADMIN,)
    column_list = ("sort_order", "icon", "name", "description", "color", "is_active")
    column_default_sort = "sort_order"
    column_searchable_list = ("name",)
    column_filters = ("is_active",)
    form_columns = ("name", "description", "icon", "color", "sort_order", "is_active")
    column_labels = {
        "sort_order": _l("Order"),
        "icon": _l("Icon"),
        "name": _l("Name"),
        "description": _l("Description"),
        "color": _l("Colour"),
        "is_active": _l("Active"),
    }
    can_delete = False  # a category with tickets is deactivated, never deleted (the API deletes unused ones)

    # The desk admin's own categories; a superuser's: every desk's. Written through the categories
    # service (a name unique in its desk, race-safe), audited.
    def reaches(self, category) -> bool:
        return access.is_admin_of(current_user, category.organization_id)

    def refusal_text(self, exc: ServiceError) -> str:
        return _(exc.message)

    def _fields(self, form) -> dict:
        return {name: getattr(form, name).data for name in self.form_columns}

    def create_record(self, form):
        organization_id = access.organization_for_new_category(current_user, None)
        return categories.save_category(current_user, None, self._fields(form), organization_id=organization_id)

    def update_record(self, form, model) -> None:
        categories.save_category(current_user, model, self._fields(form))


class TicketListView(ScopedModelView):
    """Every ticket as a sortable, filterable table with CSV export (the inbox is for working them)."""

    required_roles = STAFF
    can_create = can_edit = can_delete = False
    column_list = ("title", "status", "priority", "category", "user", "assigned_to", "created_at", "first_response_at")
    column_filters = ("status", "priority", "created_at", "first_response_at", "source")
    column_searchable_list = ("title", "description")
    column_sortable_list = ("title", "status", "priority", "created_at", "first_response_at")
    column_default_sort = ("created_at", True)
    column_labels = {
        "title": _l("Title"),
        "status": _l("Status"),
        "priority": _l("Priority"),
        "category": _l("Category"),
        "user": _l("Customer"),
        "assigned_to": _l("Assignee"),
        "created_at": _l("Created"),
        "first_response_at": _l("First response"),
    }
    column_formatters = {
        "title": lambda view, context, model, name: _ticket_link(model),
    }

    # The list, its counts and its CSV export: the user's desk only (a superuser: every desk).
    access = access

    def reaches(self, ticket) -> bool:
        return access.can_manage_ticket(current_user, ticket)


def _ticket_link(ticket: Ticket):
    from markupsafe import Markup, escape

    return Markup(f'<a href="{url_for("helpdesk_inbox.ticket", ticket_id=ticket.id)}">{escape(ticket.title)}</a>')


def _open_tickets(viewer) -> int:
    return desk_count(Ticket.status.not_in(DONE), viewer=viewer)


def _unassigned_tickets(viewer) -> int:
    return desk_count(Ticket.assigned_to_id.is_(None), Ticket.status != TicketStatus.CLOSED.value, viewer=viewer)


add_card(_l("Open tickets"), _open_tickets, *STAFF)
add_card(_l("Unassigned tickets"), _unassigned_tickets, *STAFF)


def register_admin(admin) -> None:
    category = _l("Helpdesk")
    admin.add_view(InboxView(name=_l("Inbox"), category=category, endpoint="helpdesk_inbox", url="/admin/helpdesk"))
    admin.add_view(
        StatisticsView(
            name=_l("Statistics"), category=category, endpoint="helpdesk_stats", url="/admin/helpdesk/statistics"
        )
    )
    admin.add_view(
        TicketListView(Ticket, db.session, name=_l("All tickets"), category=category, endpoint="helpdesk_tickets")
    )
    admin.add_view(
        CategoryView(
            TicketCategory, db.session, name=_l("Categories"), category=category, endpoint="helpdesk_categories"
        )
    )
    register_desk_admin(admin, category)
