"""Live events over real WebSockets against the live server: who receives what, who is refused."""

from __future__ import annotations

import json
import uuid

import pytest
import simple_websocket
from simple_websocket import ConnectionError

TIMEOUT = 5


class Client(simple_websocket.Client):
    """simple_websocket's client, minus a race: frames that arrive in the same read as the handshake's
    answer stay in its parser until more bytes come. A close the server sends right after the
    handshake (a cap's 4429) then reads as 1005 once the server drops the connection."""

    def _thread(self):
        self.connected = self._handle_events()
        super()._thread()


def ws_url(live_server, path: str) -> str:
    return live_server.url.replace("http://", "ws://", 1) + path


def connect(live_server, ticket_id, token: str | None):
    query = f"?token={token}" if token is not None else ""
    return Client.connect(ws_url(live_server, f"/ws/tickets/{ticket_id}{query}"))


def next_event(ws, timeout: float = TIMEOUT) -> dict | None:
    raw = ws.receive(timeout=timeout)
    return None if raw is None else json.loads(raw)


def events_until(ws, predicate, timeout: float = TIMEOUT) -> list[dict]:
    """Events received until one matches ``predicate`` (included); fails if none comes in time."""
    seen = []
    while True:
        event = next_event(ws, timeout)
        assert event is not None, f"no matching event; got {seen}"
        seen.append(event)
        if predicate(event):
            return seen


@pytest.fixture
def conversation(live_server, make_user, tokens_for, hd_ticket):
    customer, helper, stranger = make_user("user"), make_user("helper"), make_user("user")
    ticket = hd_ticket(customer)
    sockets = []

    def open_as(user):
        ws = connect(live_server, ticket.id, tokens_for(user)["access"])
        sockets.append(ws)
        return ws

    yield customer, helper, stranger, ticket, open_as
    for ws in sockets:
        ws.close()


def test_public_reply_reaches_both_and_note_only_staff(client, auth_header, conversation):
    customer, helper, _, ticket, open_as = conversation
    customer_ws, helper_ws = open_as(customer), open_as(helper)
    url = f"/api/v1/tickets/{ticket.id}/messages"
    note = client.post(url, json={"content": "Проверить биллинг", "is_internal": True}, headers=auth_header(helper))
    reply = client.post(url, json={"content": "Здравствуйте! Проверяем"}, headers=auth_header(helper))
    assert note.status_code == reply.status_code == 201

    staff_seen = events_until(helper_ws, lambda e: e["type"] == "new_message" and e["data"]["id"] == reply.json["id"])
    assert [e["data"]["content"] for e in staff_seen if e["type"] == "new_message"] == [
        "Проверить биллинг",
        "Здравствуйте! Проверяем",
    ]
    customer_seen = events_until(
        customer_ws, lambda e: e["type"] == "new_message" and e["data"]["id"] == reply.json["id"]
    )
    assert [e["data"]["content"] for e in customer_seen if e["type"] == "new_message"] == ["Здравствуйте! Проверяем"]
    message = customer_seen[-1]["data"]
    assert {"id", "content", "user", "created_at"} <= set(message)
    assert message["user"]["role"] == "HELPER" and message["is_internal"] is False
    # The reply moved the ticket to WAITING_RESPONSE: both hear it, in the seed's shape.
    status = events_until(customer_ws, lambda e: e["type"] == "status_changed")[-1]["data"]
    assert (status["ticket_id"], status["old_status"], status["new_status"]) == (
        str(ticket.id),
        "OPEN",
        "WAITING_RESPONSE",
    )
    assert status["changed_by"]["id"] == str(helper.id)
    # Nothing about the note is left in the customer's stream.
    while (extra := next_event(customer_ws, 0.5)) is not None:
        assert extra["type"] != "new_message" or extra["data"]["is_internal"] is False
        assert extra["type"] not in ("ticket_updated", "ticket_created")


def test_customer_message_and_status_change_reach_staff(client, auth_header, conversation):
    customer, helper, _, ticket, open_as = conversation
    helper_ws = open_as(helper)
    client.post(
        f"/api/v1/tickets/{ticket.id}/messages", json={"content": "Всё ещё не работает"}, headers=auth_header(customer)
    )
    got = events_until(helper_ws, lambda e: e["type"] == "new_message")[-1]["data"]
    assert got["content"] == "Всё ещё не работает" and got["user"]["role"] == "USER"
    client.put(f"/api/v1/tickets/{ticket.id}", json={"status": "CLOSED"}, headers=auth_header(customer))
    change = events_until(helper_ws, lambda e: e["type"] == "status_changed")[-1]["data"]
    assert (change["old_status"], change["new_status"]) == ("OPEN", "CLOSED")


def test_typing_is_passed_to_the_others(conversation):
    customer, helper, _, _, open_as = conversation
    customer_ws, helper_ws = open_as(customer), open_as(helper)
    customer_ws.send(json.dumps({"type": "typing", "data": {"is_typing": True}}))
    assert next_event(helper_ws) == {"type": "typing", "data": {"user_id": str(customer.id), "is_typing": True}}
    helper_ws.send(json.dumps({"type": "typing", "data": {"is_typing": False}}))
    # The customer gets the helper's signal, never an echo of their own.
    assert next_event(customer_ws) == {"type": "typing", "data": {"user_id": str(helper.id), "is_typing": False}}
    customer_ws.send("not json")
    assert next_event(customer_ws)["type"] == "error"
    customer_ws.send(json.dumps({"type": "typing", "data": {"is_typing": "yes"}}))
    assert next_event(customer_ws)["type"] == "error"
    assert next_event(helper_ws, 0.5) is None


def test_refused_connections(live_server, tokens_for, conversation, make_user):
    customer, _, stranger, ticket, _ = conversation
    with pytest.raises(ConnectionError) as refused:
        connect(live_server, ticket.id, tokens_for(stranger)["access"])
    assert refused.value.status_code == 403
    for token in (None, "garbage"):
        with pytest.raises(ConnectionError) as refused:
            connect(live_server, ticket.id, token)
        assert refused.value.status_code == 401
    with pytest.raises(ConnectionError) as refused:
        connect(live_server, uuid.uuid4(), tokens_for(customer)["access"])
    assert refused.value.status_code == 404
    blocked = make_user("helper", active=False)
    with pytest.raises(ConnectionError) as refused:
        connect(live_server, ticket.id, tokens_for(blocked)["access"])
    assert refused.value.status_code == 403
    # A refresh token is not an access token.
    with pytest.raises(ConnectionError) as refused:
        connect(live_server, ticket.id, tokens_for(customer)["refresh"])
    assert refused.value.status_code == 401


def test_event_from_another_process_reaches_the_socket(app, conversation):
    """Anything that publishes on the ticket's Redis channel (another web process, the bot, a job)."""
    from webapp.extensions import redis_store
    from webapp.helpdesk.events import envelope, ticket_channel

    customer, _, _, ticket, open_as = conversation
    customer_ws = open_as(customer)
    with app.app_context():
        redis_store.client.publish(ticket_channel(ticket.id), envelope("typing", {"user_id": "x", "is_typing": True}))
        redis_store.client.publish(
            ticket_channel(ticket.id), envelope("new_message", {"content": "note"}, audience="staff")
        )
    assert next_event(customer_ws) == {"type": "typing", "data": {"user_id": "x", "is_typing": True}}
    assert next_event(customer_ws, 0.5) is None
