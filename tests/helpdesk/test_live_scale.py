"""Live sockets at scale: caps with their close code, one subscription per process, heartbeat and idle.

Real sockets against the live server; on the services backend the Redis is the real server.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from urllib.parse import urlparse

import pytest
from simple_websocket import ConnectionClosed, ConnectionError
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Ping, Request

from tests.conftest import BACKEND
from tests.helpdesk.test_live import Client, connect, next_event

CLOSE_TOO_MANY, CLOSE_IDLE = 4429, 4408


def close_of(ws, timeout: float = 5) -> tuple[int, str]:
    """The code and reason the server closed ``ws`` with (fails if it stays open or sends data)."""
    deadline = time.monotonic() + timeout
    with pytest.raises(ConnectionClosed):
        while time.monotonic() < deadline:
            assert ws.receive(timeout=0.2) is None
    return ws.close_reason, ws.close_message


@pytest.fixture
def people(make_user, tokens_for, hd_ticket):
    customer, helper, other_helper, stranger = (make_user(r) for r in ("user", "helper", "helper", "user"))
    ticket = hd_ticket(customer)
    return customer, helper, other_helper, stranger, ticket


@pytest.fixture
def sockets():
    opened = []
    yield opened
    for ws in opened:
        shut(ws)


def shut(ws) -> None:
    if ws.connected:
        ws.close()


def test_a_close_sent_with_the_handshake_answer_keeps_its_code():
    """The tests' client reads a cap's close that shares a TCP read with the handshake's answer (the
    plain simple_websocket client reported 1005 when the server then dropped the connection)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def refuse_at_once() -> None:
        conn, _ = listener.accept()
        with conn:
            server = WSConnection(ConnectionType.SERVER)
            server.receive_data(conn.recv(4096))
            assert isinstance(next(server.events()), Request)
            conn.sendall(server.send(AcceptConnection()) + server.send(CloseConnection(CLOSE_TOO_MANY, "Too many")))
            time.sleep(0.3)

    serving = threading.Thread(target=refuse_at_once, daemon=True)
    serving.start()
    try:
        assert close_of(Client.connect(f"ws://127.0.0.1:{port}/ws")) == (CLOSE_TOO_MANY, "Too many")
    finally:
        serving.join(timeout=5)
        listener.close()


def test_per_user_cap_closes_the_extra_socket_with_4429(app, live_server, tokens_for, people, sockets, monkeypatch):
    customer, *_, ticket = people
    monkeypatch.setitem(app.config, "LIVE_MAX_SOCKETS_PER_USER", 2)
    token = tokens_for(customer)["access"]
    sockets += [connect(live_server, ticket.id, token) for _ in range(2)]
    extra = connect(live_server, ticket.id, token)
    code, reason = close_of(extra)
    assert code == CLOSE_TOO_MANY and reason == "Too many live connections for this user (at most 2)"
    # The two within the cap still work, and closing one frees a place.
    sockets[0].send(json.dumps({"type": "typing", "data": {"is_typing": True}}))
    assert next_event(sockets[1])["type"] == "typing"
    sockets.pop(0).close()
    deadline = time.monotonic() + 5
    while True:  # the server releases the place once it sees the close
        again = connect(live_server, ticket.id, token)
        try:
            assert again.receive(timeout=0.3) is None
            break
        except ConnectionClosed:
            assert time.monotonic() < deadline, "the closed socket's place was never released"
    sockets.append(again)


def test_per_ticket_cap_counts_every_user_and_not_refused_handshakes(
    app, live_server, tokens_for, people, sockets, monkeypatch
):
    customer, helper, other_helper, stranger, ticket = people
    monkeypatch.setitem(app.config, "LIVE_MAX_SOCKETS_PER_TICKET", 2)
    for _ in range(3):  # refused before the handshake (403): takes no place
        with pytest.raises(ConnectionError) as refused:
            connect(live_server, ticket.id, tokens_for(stranger)["access"])
        assert refused.value.status_code == 403
    sockets += [connect(live_server, ticket.id, tokens_for(user)["access"]) for user in (customer, helper)]
    code, reason = close_of(connect(live_server, ticket.id, tokens_for(other_helper)["access"]))
    assert code == CLOSE_TOO_MANY and reason == "Too many live connections for this ticket (at most 2)"
    assert all(ws.connected for ws in sockets)


def test_caps_outlive_the_registry_ttl_while_renewed_and_a_dead_process_entries_lapse(
    app, live_server, tokens_for, people, sockets, monkeypatch
):
    from webapp.extensions import redis_store
    from webapp.helpdesk.live import hub
    from webapp.helpdesk.livehub import user_key

    customer, helper, *_, ticket = people
    monkeypatch.setitem(app.config, "LIVE_MAX_SOCKETS_PER_USER", 1)
    monkeypatch.setitem(app.config, "LIVE_REGISTRY_TTL", 1)
    with app.app_context():
        # A socket of a process killed a moment ago: its entry has lapsed and no longer counts.
        redis_store.client.zadd(user_key(str(customer.id)), {"killed-process-socket": time.time() - 0.1})
    sockets.append(connect(live_server, ticket.id, tokens_for(customer)["access"]))
    assert sockets[0].receive(timeout=0.3) is None  # open, not closed by the cap
    # Held for more than twice the TTL, renewed as the process's renewal thread does.
    started = time.monotonic()
    while time.monotonic() - started < 2.5:
        with app.app_context():
            hub().renew()
        time.sleep(0.3)
    code, _ = close_of(connect(live_server, ticket.id, tokens_for(customer)["access"]))
    assert code == CLOSE_TOO_MANY


def test_a_client_that_stops_reading_is_dropped_and_releases_its_place(
    app, live_server, tokens_for, people, monkeypatch
):
    from webapp.extensions import redis_store
    from webapp.helpdesk.events import envelope, ticket_channel
    from webapp.helpdesk.livehub import user_key

    customer, *_, ticket = people
    monkeypatch.setitem(app.config, "LIVE_SEND_TIMEOUT", 1)
    sock, _ = _raw_socket(live_server, ticket.id, tokens_for(customer)["access"])
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        with app.app_context():
            key, big = user_key(str(customer.id)), {"ticket_id": str(ticket.id), "content": "x" * 262144}
            assert redis_store.client.zcard(key) == 1
            for _ in range(100):  # 25 MB, far more than the kernel buffers hold: the server's write blocks
                redis_store.client.publish(ticket_channel(ticket.id), envelope("new_message", big))
            deadline = time.monotonic() + 10
            while redis_store.client.zcard(key) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert redis_store.client.zcard(key) == 0  # the handler ended: its socket no longer counts
    finally:
        sock.close()


def _subscriptions_and_clients(app) -> tuple[int, int]:
    """Pub/sub connections and all connections of this test process to its Redis database."""
    from webapp.extensions import redis_store

    with app.app_context():
        client = redis_store.client
        db = client.connection_pool.connection_kwargs.get("db", 0)
        mine = [c for c in client.client_list() if int(c["db"]) == int(db)]
    return sum(1 for c in mine if int(c["psub"]) or int(c["sub"])), len(mine)


@pytest.mark.skipif(BACKEND.name != "services", reason="counts connections on the real Redis server")
def test_one_subscription_fans_out_to_every_socket(app, live_server, tokens_for, people, hd_ticket, sockets):
    from webapp.extensions import redis_store
    from webapp.helpdesk.events import envelope, ticket_channel

    customer, helper, other_helper, _, ticket = people
    second = hd_ticket(customer, title="Второе обращение")
    sockets.append(connect(live_server, ticket.id, tokens_for(customer)["access"]))  # the hub is listening
    subscriptions, clients = _subscriptions_and_clients(app)
    assert subscriptions == 1
    for user in (customer, helper, other_helper):
        sockets += [connect(live_server, t.id, tokens_for(user)["access"]) for t in (ticket, second, ticket)]
    assert _subscriptions_and_clients(app) == (1, clients)  # nine more sockets, not one more connection

    with app.app_context():
        for t in (ticket, second):
            redis_store.client.publish(ticket_channel(t.id), envelope("status_changed", {"ticket_id": str(t.id)}))
    got = [next_event(ws) for ws in sockets]
    expected = [str(t.id) for t in (ticket, *(ticket, second, ticket) * 3)]
    assert [event["data"]["ticket_id"] for event in got] == expected
    assert all(next_event(ws, 0.3) is None for ws in sockets)  # each socket got its own ticket's event once


def _raw_socket(live_server, ticket_id, token: str):
    """A client that never answers pings (a vanished browser): plain TCP with wsproto framing."""
    url = urlparse(live_server.url)
    sock = socket.create_connection((url.hostname, url.port), timeout=5)
    ws = WSConnection(ConnectionType.CLIENT)
    sock.sendall(ws.send(Request(host=url.netloc, target=f"/ws/tickets/{ticket_id}?token={token}")))
    assert isinstance(_raw_events(sock, ws, 5)[0], AcceptConnection)
    return sock, ws


def _raw_events(sock, ws, timeout: float) -> list:
    """Events up to the first accept or close (or the timeout), without sending anything back."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            data = sock.recv(4096)
        except TimeoutError:
            break
        ws.receive_data(data or None)
        for event in ws.events():
            seen.append(event)
            if isinstance(event, (AcceptConnection, CloseConnection)):
                return seen
        if not data:
            break
    return seen


def test_server_pings_and_closes_a_client_that_never_answers(app, live_server, tokens_for, people, monkeypatch):
    customer, helper, *_, ticket = people
    monkeypatch.setitem(app.config, "SOCK_SERVER_OPTIONS", {"ping_interval": 0.3})
    answering = connect(live_server, ticket.id, tokens_for(helper)["access"])  # pongs automatically
    sock, ws = _raw_socket(live_server, ticket.id, tokens_for(customer)["access"])
    try:
        seen = _raw_events(sock, ws, 3)
        assert any(isinstance(e, Ping) for e in seen)
        close = seen[-1]
        assert isinstance(close, CloseConnection) and (close.code, close.reason) == (1008, "Ping/Pong timeout")
        # The client that answers the same pings is still open and served.
        assert answering.connected
        answering.send(json.dumps({"type": "typing", "data": {"is_typing": "no"}}))
        assert next_event(answering)["type"] == "error"
    finally:
        sock.close()
        shut(answering)


def test_idle_socket_is_closed_with_4408_and_a_talking_one_is_not(
    app, live_server, tokens_for, people, hd_ticket, monkeypatch
):
    customer, helper, *_, ticket = people
    busy_ticket = hd_ticket(customer, title="Второе обращение")  # its typing signals never reach ``quiet``
    monkeypatch.setitem(app.config, "LIVE_IDLE_SECONDS", 1)
    quiet = connect(live_server, ticket.id, tokens_for(customer)["access"])
    talking = connect(live_server, busy_ticket.id, tokens_for(helper)["access"])
    started = time.monotonic()
    try:
        while time.monotonic() - started < 1.6:
            talking.send(json.dumps({"type": "typing", "data": {"is_typing": True}}))
            time.sleep(0.3)
        code, reason = close_of(quiet)
        assert time.monotonic() - started < 3
        assert code == CLOSE_IDLE and reason == "No messages for 1 s; reconnect when needed"
        assert talking.connected
    finally:
        shut(quiet)
        shut(talking)


@pytest.mark.skipif(BACKEND.name != "services", reason="drops a connection on the real Redis server")
def test_lost_subscription_closes_sockets_with_1012_and_new_ones_are_served(app, live_server, tokens_for, people):
    from webapp.extensions import redis_store
    from webapp.helpdesk.events import envelope, ticket_channel

    customer, *_, ticket = people
    token = tokens_for(customer)["access"]
    ws = connect(live_server, ticket.id, token)
    with app.app_context():
        client = redis_store.client
        db = client.connection_pool.connection_kwargs.get("db", 0)
        (subscription,) = [c for c in client.client_list() if int(c["db"]) == int(db) and int(c["psub"])]
        client.client_kill_filter(_id=subscription["id"])
    assert close_of(ws) == (1012, "Live feed interrupted; reconnect")
    # A reconnecting client waits for the new subscription, then hears events again.
    again = connect(live_server, ticket.id, token)
    try:
        with app.app_context():
            client.publish(ticket_channel(ticket.id), envelope("status_changed", {"ticket_id": str(ticket.id)}))
        assert next_event(again) == {"type": "status_changed", "data": {"ticket_id": str(ticket.id)}}
    finally:
        shut(again)
