"""Seed 003's ``/api/v1`` endpoints: tickets, messages, files, categories, users, statistics.

Thin: parse (spectree + pydantic) → service → serialise. Errors use the seed's format; a
``ServiceError`` from a rule is answered, with its status and field, by the app's one handler, which
rolls the request back (``webapp.core.unit_of_work``). A view that writes flushes before it
serialises, so the answer shows the stored row; the request commits once, at its end.
"""

from __future__ import annotations

import io
import uuid

import jwt as pyjwt
from flask import Blueprint, current_app, g, jsonify, request, send_file
from flask_limiter.util import get_remote_address

from webapp.core.apispec import JWT, serves_bytes, spec
from webapp.core.auth.api import user_seed_003
from webapp.core.db import iso
from webapp.core.errors import not_found, validation_error
from webapp.core.models import User
from webapp.core.pagination import paginate
from webapp.core.permissions import forbidden, require_role
from webapp.core.roles import FROM_SEED_003_ROLE, Role
from webapp.core.schemas import V1_ERRORS, responses
from webapp.core.services import can_manage, get_user, set_user_active
from webapp.extensions import db, limiter
from webapp.helpdesk import access, schemas, serializers, services
from webapp.helpdesk.models import Ticket, TicketCategory
from webapp.helpdesk.services.users import activity_of, change_desk_role, users_query
from webapp.helpdesk.storage import INLINE_TYPES

bp = Blueprint("helpdesk_api", __name__)
PREFIX = "/api/v1"
TAGS = ["helpdesk"]


def _write_limit() -> str:
    return current_app.config.get("HELPDESK_WRITE_RATE_LIMIT", "60 per minute")


def _caller_key() -> str:
    """Rate-limit bucket: the token's subject (unverified here; an invalid token is refused anyway)."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        try:
            claims = pyjwt.decode(header[7:], options={"verify_signature": False})
            return f"user:{claims.get('sub')}"
        except pyjwt.PyJWTError:
            pass
    return get_remote_address()


write_limited = limiter.limit(_write_limit, key_func=_caller_key, methods=["POST"])


def _refuse(what: str):
    """Out of reach: 404 to anyone working for an organization or the platform (another desk's
    objects do not exist for them), seed 003's 403 to a customer on someone else's."""
    refusal = access.refusal(g.user, what)
    return forbidden(refusal.message) if refusal.status == 403 else not_found(what)


def _ticket_for(ticket_id: str) -> Ticket:
    ticket = services.get_ticket(ticket_id)
    if ticket is None:
        raise not_found("Ticket")
    if not services.can_view_ticket(g.user, ticket):
        raise _refuse("Ticket")
    return ticket


def _category(category_id: str) -> TicketCategory:
    category = services.get_category(category_id, viewer=g.user)
    if category is None or not access.is_admin_of(g.user, category.organization_id):
        raise not_found("Category")
    return category


# --- tickets ---------------------------------------------------------------------------------------


@bp.get(f"{PREFIX}/tickets")
@require_role()
@spec.validate(query=schemas.TicketQuery, resp=responses(schemas.TicketPage, errors=V1_ERRORS), tags=TAGS, security=JWT)
def list_tickets(query: schemas.TicketQuery):
    """Tickets the caller may see (a customer: their own), newest first, filtered and paginated."""
    return jsonify(
        services.ticket_page(
            g.user,
            page=query.page,
            size=query.size,
            status=query.status.value if query.status else None,
            category_id=query.category_id,
            priority=query.priority.value if query.priority else None,
            assigned_to=query.assigned_to,
        )
    )


@bp.post(f"{PREFIX}/tickets")
@write_limited
@require_role()
@spec.validate(json=schemas.TicketIn, resp=responses(schemas.TicketCreatedOut, 201, V1_ERRORS), tags=TAGS, security=JWT)
def create_ticket(json: schemas.TicketIn):
    """Open a ticket as the caller."""
    ticket = services.create_ticket(g.user, json.title, json.description, json.category_id, json.priority)
    db.session.flush()
    return jsonify(serializers.ticket_created(ticket)), 201


@bp.get(f"{PREFIX}/tickets/<ticket_id>")
@require_role()
@spec.validate(resp=responses(schemas.TicketOut, errors=V1_ERRORS), tags=TAGS, security=JWT)
def get_ticket(ticket_id: str):
    """One ticket with its category, customer and assignee."""
    return jsonify(serializers.ticket_detail(_ticket_for(ticket_id)))


@bp.put(f"{PREFIX}/tickets/<ticket_id>")
@require_role()
@spec.validate(json=schemas.TicketUpdate, resp=responses(schemas.TicketOut, errors=V1_ERRORS), tags=TAGS, security=JWT)
def update_ticket(ticket_id: str, json: schemas.TicketUpdate):
    """Change title/description (owner or staff), status (staff; the owner may close), priority,
    category and assignee (staff). Only the fields sent change."""
    ticket = _ticket_for(ticket_id)
    changes = {name: getattr(json, name) for name in json.model_fields_set}
    services.update_ticket(ticket, g.user, **changes)
    db.session.flush()
    return jsonify(serializers.ticket_detail(ticket))


@bp.delete(f"{PREFIX}/tickets/<ticket_id>")
@require_role(Role.ADMIN)
@spec.validate(resp=responses(schemas.MessageText, errors=V1_ERRORS), tags=TAGS, security=JWT)
def delete_ticket(ticket_id: str):
    """Delete a ticket with its conversation and files (admins only)."""
    ticket = _ticket_for(ticket_id)
    services.delete_ticket(ticket, g.user)
    return jsonify({"message": "Тикет успешно удален"})


# --- messages --------------------------------------------------------------------------------------


@bp.get(f"{PREFIX}/tickets/<ticket_id>/messages")
@require_role()
@spec.validate(
    query=schemas.MessagesQuery, resp=responses(schemas.MessagePage, errors=V1_ERRORS), tags=TAGS, security=JWT
)
def list_messages(ticket_id: str, query: schemas.MessagesQuery):
    """The conversation, oldest first; internal notes only for staff."""
    ticket = _ticket_for(ticket_id)
    return jsonify(paginate(services.messages_query(ticket, g.user), query.page, query.size, serializers.message_out))


@bp.post(f"{PREFIX}/tickets/<ticket_id>/messages")
@write_limited
@require_role()
@spec.validate(
    json=schemas.MessageIn, resp=responses(schemas.MessageCreatedOut, 201, V1_ERRORS), tags=TAGS, security=JWT
)
def add_message(ticket_id: str, json: schemas.MessageIn):
    """Write into a ticket; ``is_internal`` (staff only) makes a note the customer never sees."""
    ticket = _ticket_for(ticket_id)
    message = services.add_message(ticket, g.user, json.content, json.is_internal, json.attachments)
    db.session.flush()
    return jsonify(serializers.message_created(message)), 201


# --- files -----------------------------------------------------------------------------------------


@bp.post(f"{PREFIX}/files/upload")
@write_limited
@require_role()
@spec.validate(form=schemas.UploadForm, resp=responses(schemas.FileOut, 201, V1_ERRORS), tags=TAGS, security=JWT)
def upload_file(form: schemas.UploadForm):
    """Upload one file (multipart field ``file``); attach it by id when writing a message."""
    upload = request.files.get("file")
    if upload is None:
        raise validation_error("file", "Send the file as multipart/form-data in the field 'file'")
    content = upload.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
    row = services.store_upload(g.user, content, upload.filename)
    db.session.flush()
    return jsonify(serializers.file_out(row)), 201


@bp.get(f"{PREFIX}/files/<file_id>")
@require_role()
@spec.validate(
    resp=responses((None, "the file's bytes, in the content type it was uploaded with"), errors=V1_ERRORS),
    tags=TAGS,
    security=JWT,
)
@serves_bytes()
def download_file(file_id: str):
    """The file's bytes, for its uploader and whoever may read the message it is attached to."""
    row = services.get_file(file_id)
    if row is None:
        raise not_found("File")
    if not services.can_download(g.user, row):
        raise _refuse("File")
    try:
        content = services.read_file(row)
    except FileNotFoundError as exc:
        raise not_found("File") from exc
    response = send_file(
        io.BytesIO(content),
        mimetype=row.content_type,
        as_attachment=row.content_type not in INLINE_TYPES,
        download_name=row.filename,
        max_age=0,
    )
    # The body is in memory; spectree's response hook reads it, which passthrough mode forbids.
    response.direct_passthrough = False
    # Uploaded bytes are never run as a page of ours.
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- categories ------------------------------------------------------------------------------------


@bp.get(f"{PREFIX}/categories")
@require_role()
@spec.validate(resp=responses(schemas.CategoryList, errors=V1_ERRORS), tags=TAGS, security=JWT)
def list_categories():
    """Categories in display order; customers see the active ones only."""
    rows = services.list_categories(include_inactive=services.is_staff(g.user), viewer=g.user)
    return jsonify([serializers.category_out(c) for c in rows])


@bp.post(f"{PREFIX}/categories")
@require_role(Role.ADMIN)
@spec.validate(json=schemas.CategoryIn, resp=responses(schemas.CategoryOut, 201, V1_ERRORS), tags=TAGS, security=JWT)
def create_category(json: schemas.CategoryIn):
    """Create a category (admins only)."""
    fields = json.model_dump()
    organization_id = access.organization_for_new_category(g.user, fields.pop("organization_id"))
    category = services.create_category(organization_id, **fields)
    db.session.flush()
    return jsonify(serializers.category_out(category)), 201


@bp.put(f"{PREFIX}/categories/<category_id>")
@require_role(Role.ADMIN)
@spec.validate(
    json=schemas.CategoryUpdate, resp=responses(schemas.CategoryOut, errors=V1_ERRORS), tags=TAGS, security=JWT
)
def update_category(category_id: str, json: schemas.CategoryUpdate):
    """Change a category (admins only); only the fields sent change."""
    category = _category(category_id)
    changes = {name: getattr(json, name) for name in json.model_fields_set}
    services.update_category(category, **changes)
    db.session.flush()
    return jsonify(serializers.category_out(category))


@bp.delete(f"{PREFIX}/categories/<category_id>")
@require_role(Role.ADMIN)
@spec.validate(resp=responses(schemas.MessageText, errors=V1_ERRORS), tags=TAGS, security=JWT)
def delete_category(category_id: str):
    """Delete an unused category (admins only); one with tickets must be deactivated instead."""
    category = _category(category_id)
    services.delete_category(category)
    return jsonify({"message": "Категория успешно удалена"})


# --- users -----------------------------------------------------------------------------------------


def _user_out(user: User, activity: tuple) -> dict:
    tickets_count, last_activity = activity
    shown = user_seed_003(user)
    if not may_see_telegram_id(g.user, user):
        shown["telegram_id"] = None
    return {**shown, "tickets_count": tickets_count, "last_activity": iso(last_activity)}


def may_see_telegram_id(viewer: User, user: User) -> bool:
    """Customers' ids serve the desk; a staff account's id (a chat-id login target) only those managing it."""
    return user.role == Role.USER.value or viewer.id == user.id or can_manage(viewer, user)


def _target_user(user_id: str) -> User:
    try:
        uuid.UUID(user_id)
    except ValueError as exc:
        raise not_found("User") from exc
    user = get_user(user_id)
    if user is None or not access.can_see_user(g.user, user):
        raise not_found("User")
    return user


@bp.get(f"{PREFIX}/users")
@require_role(Role.ADMIN)
@spec.validate(query=schemas.UsersQuery, resp=responses(schemas.UserPage, errors=V1_ERRORS), tags=TAGS, security=JWT)
def list_users(query: schemas.UsersQuery):
    """Users with ticket counts and last activity (the desk's admins: their organization's staff
    and customers; superusers: everyone)."""
    users = access.scope_users(users_query(query.role, query.is_active, query.search), g.user)
    page = paginate(users, query.page, query.size, lambda u: u)
    activity = activity_of([u.id for u in page["items"]])
    page["items"] = [_user_out(u, activity[u.id]) for u in page["items"]]
    return jsonify(page)


@bp.put(f"{PREFIX}/users/<user_id>/role")
@require_role(Role.ADMIN)
@spec.validate(json=schemas.RoleIn, resp=responses(schemas.UserOut, errors=V1_ERRORS), tags=TAGS, security=JWT)
def set_role(user_id: str, json: schemas.RoleIn):
    """Change a user's role (admins only; audited). Granting ADMIN takes a superuser."""
    target = _target_user(user_id)
    change_desk_role(g.user, target, FROM_SEED_003_ROLE[json.role])
    db.session.flush()
    return jsonify(_user_out(target, activity_of([target.id])[target.id]))


@bp.put(f"{PREFIX}/users/<user_id>/status")
@require_role(Role.ADMIN)
@spec.validate(json=schemas.StatusIn, resp=responses(schemas.UserOut, errors=V1_ERRORS), tags=TAGS, security=JWT)
def set_status(user_id: str, json: schemas.StatusIn):
    """Block or unblock a user (admins only; audited)."""
    target = _target_user(user_id)
    set_user_active(g.user, target, json.is_active, source="api")
    db.session.flush()
    return jsonify(_user_out(target, activity_of([target.id])[target.id]))


# --- statistics ------------------------------------------------------------------------------------


@bp.get(f"{PREFIX}/statistics/dashboard")
@require_role(Role.HELPER)
@spec.validate(resp=responses(schemas.DashboardOut, errors=V1_ERRORS), tags=TAGS, security=JWT)
def statistics_dashboard():
    """All-time figures: tickets by status, first-response times, categories, helpers (staff)."""
    return jsonify(services.ticket_statistics(viewer=g.user))


@bp.get(f"{PREFIX}/statistics/tickets")
@require_role(Role.HELPER)
@spec.validate(
    query=schemas.StatisticsQuery,
    resp=responses(schemas.TicketStatisticsOut, errors=V1_ERRORS),
    tags=TAGS,
    security=JWT,
)
def statistics_tickets(query: schemas.StatisticsQuery):
    """The same figures for tickets created in a date range / category, with a per-day series."""
    if query.category_id and services.get_category(query.category_id, viewer=g.user) is None:
        raise validation_error("category_id", "No such category")
    stats = services.ticket_statistics(
        query.from_date, query.to_date, query.category_id, with_daily=True, viewer=g.user
    )
    period = {
        "from_date": query.from_date.isoformat() if query.from_date else None,
        "to_date": query.to_date.isoformat() if query.to_date else None,
        "timezone": "UTC",
    }
    return jsonify({"period": period, **stats})


@bp.record_once
def _register_live(state) -> None:
    from webapp.helpdesk.live import init_live

    init_live(state.app)
