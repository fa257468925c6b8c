"""WebSockets: seed 003's ``/ws/tickets/{ticket_id}?token=<jwt>`` and the console inbox feed.

Authentication happens before the WebSocket handshake (a refused client gets a plain HTTP 401/403
in the seed's error format): a JWT in ``?token=``, or — for the console's own pages — the staff
member's logged-in session, from a page of this same site. Events reach a socket through its
process's hub (``livehub``: one Redis subscription per process, so events from any web process,
bot worker or job arrive); an internal note is forwarded only to staff sockets. Clients may send
``{"type":"typing","data":{"is_typing":true}}``, which is passed on to the ticket's other sockets.

A socket costs no worker thread in production: gunicorn runs gevent workers, where each socket is
a few greenlets. Once open, a socket may be closed by the server with
``4429`` (too many sockets for this user or ticket: ``LIVE_MAX_SOCKETS_PER_USER`` / ``_PER_TICKET``),
``4408`` (no message either way for ``LIVE_IDLE_SECONDS``), ``4413`` (the client reads too slowly;
one that stops reading is dropped after ``LIVE_SEND_TIMEOUT``),
``1012`` (the process lost its Redis feed: reconnect and re-read), or ``1008`` "Ping/Pong timeout"
(a ping every ``LIVE_PING_SECONDS`` went unanswered until the next one).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from urllib.parse import urlparse

import redis
from flask import Blueprint, Flask, current_app, g, request
from flask_jwt_extended import current_user as jwt_user
from flask_jwt_extended import verify_jwt_in_request
from flask_login import current_user as console_user
from flask_sock import Sock
from simple_websocket import ConnectionClosed

from webapp import metrics
from webapp.core.errors import ApiError, not_found
from webapp.core.roles import Role
from webapp.extensions import db, redis_store
from webapp.helpdesk import access, events
from webapp.helpdesk.livehub import CLOSE_IDLE, Connection, Hub, Refused
from webapp.helpdesk.services import get_ticket, is_staff

log = logging.getLogger(__name__)
bp = Blueprint("helpdesk_live", __name__)
sock = Sock()


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
    ticket_id = None
    if request.endpoint == "helpdesk_live.ticket_socket":
        ticket = get_ticket(request.view_args["ticket_id"])
        if ticket is None:
            raise not_found("Ticket")
        if not access.can_watch_ticket(user, ticket):
            refusal = access.refusal(user)  # another desk's ticket does not exist; a customer's 403
            if refusal.status == 404:
                raise not_found("Ticket")
            raise ApiError(403, "You do not have access to this ticket", "FORBIDDEN")
        ticket_id = str(ticket.id)
        channel = events.ticket_channel(ticket.id)
        staff = access.sees_internal(user, ticket)  # internal notes: the ticket's desk only
    else:
        if not is_staff(user):
            raise ApiError(403, "You do not have permission to perform this action", "FORBIDDEN")
        channel = events.inbox_channel(access.desk_of(user))
        staff = True
    # The socket may stay open for hours: give the database connection back now.
    db.session.close()
    # Registered before the handshake completes: nothing published after the client sees the
    # connection open can be missed. A refusal by a cap is told once the socket is open, since
    # only then can it carry a close code.
    try:
        g.live_conn = hub().open(channel, str(user.id), staff, ticket_id)
    except Refused as refused:
        g.live_refused = refused
    except redis.RedisError as exc:
        log.warning("live socket refused, Redis unavailable: %s", exc)
        raise ApiError(503, "Live events are unavailable; try again shortly", "SERVICE_UNAVAILABLE") from exc


@bp.teardown_request
def _release(_exc) -> None:
    conn = g.pop("live_conn", None)
    if conn is not None:
        hub().release(conn)


def hub() -> Hub:
    """This app's hub (one per process: it holds the process's one subscription)."""
    with _hub_lock:
        found = current_app.extensions.get("helpdesk_live_hub")
        if found is None:
            found = current_app.extensions["helpdesk_live_hub"] = Hub(redis_store.client, current_app.config)
        return found


_hub_lock = threading.Lock()


def _typing(raw: str, conn: Connection, client: redis.Redis) -> str | None:
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
    payload = {"user_id": conn.user_id, "is_typing": data["is_typing"]}
    try:
        client.publish(conn.channel, events.envelope("typing", payload, events.AUDIENCE_ALL, origin=conn.id))
    except redis.RedisError as exc:
        log.warning("typing signal not passed on: %s", exc)
        return "The typing signal could not be passed on; try again"
    return None


def _read(ws, conn: Connection, client: redis.Redis, accept_typing: bool) -> None:
    """The client's side of the socket: typing signals in, error replies out through the outbox."""
    try:
        while True:
            incoming = ws.receive()
            conn.last_activity = time.monotonic()
            error = _typing(incoming, conn, client) if accept_typing else "Read-only feed"
            if error:
                conn.offer(json.dumps({"type": "error", "data": {"message": error}}))
    except ConnectionClosed:
        conn.close(1000, "Closed by the client")


def serve(ws, accept_typing: bool) -> None:
    """Write the socket's outbox to the client until it closes, is refused, or stays idle too long."""
    refused = g.pop("live_refused", None)
    if refused is not None:
        ws.close(refused.code, refused.reason)
        return
    conn: Connection = g.live_conn
    idle = current_app.config["LIVE_IDLE_SECONDS"]
    if current_app.config["SOCK_SERVER_OPTIONS"].get("ping_interval"):
        # A peer that stops reading would block a write forever: give up on it after this long.
        # (Only with pings on: the library then reads only when data is there, never timing out.)
        ws.sock.settimeout(current_app.config["LIVE_SEND_TIMEOUT"])
    reader = threading.Thread(target=_read, args=(ws, conn, redis_store.client, accept_typing), daemon=True)
    reader.start()
    while conn.closing is None:
        wait = conn.last_activity + idle - time.monotonic()
        if wait <= 0:
            conn.close(CLOSE_IDLE, f"No messages for {idle:g} s; reconnect when needed")
            break
        try:
            text = conn.outbox.get(timeout=wait)
        except queue.Empty:
            continue
        if text is not None:
            try:
                ws.send(text)
            except OSError:  # the peer vanished mid-write; the reader sees it too
                return
            conn.last_activity = time.monotonic()
    if ws.connected:
        try:
            ws.close(*conn.closing)
        except OSError:  # a peer that stopped reading: the close frame cannot be written either
            pass


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
