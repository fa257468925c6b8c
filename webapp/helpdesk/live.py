"""WebSockets: seed 003's ``/ws/tickets/{ticket_id}?token=<jwt>`` and the console inbox feed.

Authentication happens before the WebSocket handshake (a refused client gets a plain HTTP 401/403
in the seed's error format): a JWT in ``?token=``, or — for the console's own pages — the staff
member's logged-in session, from a page of this same site. Each socket subscribes to its ticket's
Redis channel, so events from any web process, bot worker or job reach it; an internal note is
forwarded only to staff sockets. Clients may send ``{"type":"typing","data":{"is_typing":true}}``,
which is passed on to the ticket's other sockets.
"""

from __future__ import annotations

import json
import logging
import uuid
from urllib.parse import urlparse

from flask import Blueprint, Flask, g, request
from flask_jwt_extended import current_user as jwt_user
from flask_jwt_extended import verify_jwt_in_request
from flask_login import current_user as console_user
from flask_sock import Sock

from webapp import metrics
from webapp.core.errors import ApiError, not_found
from webapp.core.roles import Role
from webapp.extensions import db, redis_store
from webapp.helpdesk import events
from webapp.helpdesk.services import can_view_ticket, get_ticket, is_staff

log = logging.getLogger(__name__)
bp = Blueprint("helpdesk_live", __name__)
sock = Sock()
POLL_SECONDS = 0.1


def init_live(app: Flask) -> None:
    if "helpdesk_live" not in app.blueprints:
        app.register_blueprint(bp)
        sock.init_app(app)


def declare_access(*roles: Role):
    """Record the access rule on a socket view (the permission matrix reads it, as for API views)."""

    def mark(view):
        view.required_roles = roles
        view.accepted_services = frozenset()
        return view

    return mark


def _same_origin() -> bool:
    """Browsers always send Origin with a WebSocket; a page of another site must not ride our cookie."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    parsed = urlparse(origin)
    host, _, port = request.host.partition(":")
    if parsed.hostname != host:
        return False
    default = 443 if parsed.scheme == "https" else 80
    return not port or int(port) == (parsed.port or default)


def _viewer():
    """The user behind this socket request: a JWT in ?token=, else a staff console session."""
    if "token" in request.args:
        verify_jwt_in_request(locations=["query_string"])  # 401 in the seed's format on failure
        user = jwt_user
    elif console_user.is_authenticated:
        # A cookie rides along with any page's request: only our own pages may use it.
        if not _same_origin():
            raise ApiError(403, "Cross-origin WebSocket refused", "FORBIDDEN")
        user = console_user._get_current_object()
        if not is_staff(user):
            raise ApiError(403, "You do not have permission to perform this action", "FORBIDDEN")
    else:
        raise ApiError(401, "Authentication credentials were not provided", "UNAUTHORIZED")
    if not user.is_active:
        raise ApiError(403, "Account is blocked", "FORBIDDEN")
    return user


@bp.before_request
def _authorize() -> None:
    user = _viewer()
    if request.endpoint == "helpdesk_live.ticket_socket":
        ticket = get_ticket(request.view_args["ticket_id"])
        if ticket is None:
            raise not_found("Ticket")
        if not can_view_ticket(user, ticket):
            raise ApiError(403, "You do not have access to this ticket", "FORBIDDEN")
        channel = events.ticket_channel(ticket.id)
    else:
        if not is_staff(user):
            raise ApiError(403, "You do not have permission to perform this action", "FORBIDDEN")
        channel = events.INBOX_CHANNEL
    g.live_viewer = (str(user.id), is_staff(user))
    # Subscribed before the handshake completes: nothing published after the client sees the
    # connection open can be missed.
    g.live_pubsub = redis_store.client.pubsub(ignore_subscribe_messages=True)
    g.live_pubsub.subscribe(channel)
    g.live_channel = channel
    # The socket may stay open for hours: give the database connection back now.
    db.session.close()


@bp.teardown_request
def _unsubscribe(_exc) -> None:
    pubsub = g.pop("live_pubsub", None)
    if pubsub is not None:
        pubsub.close()


def _allowed(envelope: dict, staff: bool) -> bool:
    return envelope.get("audience") == events.AUDIENCE_ALL or staff


def _typing(raw: str, channel: str, user_id: str, connection: str) -> str | None:
    """Pass a client's typing signal on; returns an error text for anything else it sends."""
    try:
        message = json.loads(raw)
    except (TypeError, ValueError):
        return "Messages must be JSON"
    if not isinstance(message, dict) or message.get("type") != "typing":
        return 'Only {"type": "typing"} messages are accepted'
    data = message.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("is_typing"), bool):
        return "typing needs data.is_typing: true or false"
    payload = {"user_id": user_id, "is_typing": data["is_typing"]}
    events.publish_now(channel, events.envelope("typing", payload, events.AUDIENCE_ALL, origin=connection))
    return None


def serve(ws, accept_typing: bool) -> None:
    """Forward the channel's events this viewer may see; read typing signals from the client."""
    user_id, staff = g.live_viewer
    pubsub, channel = g.live_pubsub, g.live_channel
    connection = uuid.uuid4().hex
    try:
        while ws.connected:
            message = pubsub.get_message(timeout=POLL_SECONDS)
            if message is not None:
                envelope = json.loads(message["data"])
                if _allowed(envelope, staff) and envelope.get("origin") != connection:
                    ws.send(json.dumps(envelope["event"], ensure_ascii=False))
            incoming = ws.receive(timeout=0)
            while incoming is not None:
                error = _typing(incoming, channel, user_id, connection) if accept_typing else "Read-only feed"
                if error:
                    ws.send(json.dumps({"type": "error", "data": {"message": error}}))
                incoming = ws.receive(timeout=0)
    finally:
        pubsub.close()


@sock.route("/ws/tickets/<ticket_id>", bp=bp)
@declare_access()
def ticket_socket(ws, ticket_id: str) -> None:
    with metrics.open_socket("ticket"):
        serve(ws, accept_typing=True)


@sock.route("/ws/helpdesk/inbox", bp=bp)
@declare_access(Role.HELPER)
def inbox_socket(ws) -> None:
    """Staff inbox feed: which ticket changed (the page re-reads its list)."""
    with metrics.open_socket("inbox"):
        serve(ws, accept_typing=False)
