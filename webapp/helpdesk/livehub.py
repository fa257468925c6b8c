"""The live sockets of one process: one Redis subscription fanned out to them, and the socket caps.

A socket never holds a Redis connection. The process keeps one pattern subscription to every
helpdesk channel (a listener thread — a greenlet under gunicorn's gevent workers) and hands each
event to the sockets registered for its channel through their outboxes; each socket's own handler
writes its outbox to the client, so a slow client delays nobody else. Helpdesk events are few next
to the sockets waiting for them, so every process reading all of them costs less than a
subscription per ticket and leaves no window in which a new socket is not yet subscribed.

The caps count sockets across all processes in Redis sorted sets (member: connection id, score: the
moment the entry lapses). Each process renews its own entries, so a killed process's sockets stop
counting within ``LIVE_REGISTRY_TTL`` seconds.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field

import redis

from webapp.helpdesk import events

log = logging.getLogger(__name__)

PATTERN = "helpdesk:*"
# Close codes a client can act on (4000–4999 are the application's range in RFC 6455).
CLOSE_TOO_MANY = 4429
CLOSE_IDLE = 4408
CLOSE_TOO_SLOW = 4413
CLOSE_FEED_LOST = 1012  # "service restart": the process lost its subscription; reconnect and re-read

# Atomic check-and-add against both caps, so concurrent handshakes cannot overshoot them.
_CLAIM = """
local now, expires, ttl = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  if redis.call('ZCARD', key) >= tonumber(ARGV[4 + i]) then return i end
end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, expires, ARGV[1])
  redis.call('EXPIRE', key, ttl)
end
return 0
"""


def user_key(user_id: str) -> str:
    return f"live:sockets:user:{user_id}"


def ticket_key(ticket_id: str) -> str:
    return f"live:sockets:ticket:{ticket_id}"


@dataclass(eq=False)
class Connection:
    """One socket as the hub sees it: where its events go, and who may read them."""

    channel: str
    user_id: str
    staff: bool
    keys: tuple[str, ...]
    outbox_limit: int
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    outbox: queue.Queue = field(default_factory=queue.Queue)
    closing: tuple[int, str] | None = None
    last_activity: float = field(default_factory=time.monotonic)  # last message either way

    def offer(self, text: str) -> None:
        if self.closing is not None:
            return
        if self.outbox.qsize() >= self.outbox_limit:
            self.close(CLOSE_TOO_SLOW, "Client reads too slowly; reconnect")
            return
        self.outbox.put(text)

    def close(self, code: int, reason: str) -> None:
        """Ask the socket's handler to close it (the handler is the only writer)."""
        if self.closing is None:
            self.closing = (code, reason)
            self.outbox.put(None)


class Refused(Exception):
    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code, self.reason = code, reason


class Hub:
    def __init__(self, client: redis.Redis, config: dict):
        self.client = client
        self.config = config
        self._claim = client.register_script(_CLAIM)
        self._lock = threading.Lock()
        self._channels: dict[str, set[Connection]] = {}
        self._subscribed = threading.Event()
        self._pid: int | None = None

    # -- sockets ---------------------------------------------------------------------------------

    def open(self, channel: str, user_id: str, staff: bool, ticket_id: str | None = None) -> Connection:
        """Count the socket against its caps and register it for its channel's events.

        Called before the handshake completes: an event published once the client sees the socket
        open reaches it. Raises ``Refused`` when a cap is reached (the caller closes the socket
        with its code and reason once it is open).
        """
        self._ensure_listening()
        keys = (user_key(user_id),) + ((ticket_key(ticket_id),) if ticket_id else ())
        caps = [self.config["LIVE_MAX_SOCKETS_PER_USER"], self.config["LIVE_MAX_SOCKETS_PER_TICKET"]]
        conn = Connection(channel, user_id, staff, keys, self.config["LIVE_OUTBOX_LIMIT"])
        ttl = self.config["LIVE_REGISTRY_TTL"]
        now = time.time()
        over = self._claim(keys=list(keys), args=[conn.id, now, now + ttl, ttl, *caps[: len(keys)]])
        if over:
            what = ("user", "ticket")[over - 1]
            raise Refused(CLOSE_TOO_MANY, f"Too many live connections for this {what} (at most {caps[over - 1]})")
        with self._lock:
            self._channels.setdefault(channel, set()).add(conn)
        return conn

    def release(self, conn: Connection) -> None:
        with self._lock:
            sockets = self._channels.get(conn.channel)
            if sockets is not None:
                sockets.discard(conn)
                if not sockets:
                    del self._channels[conn.channel]
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for key in conn.keys:
                    pipe.zrem(key, conn.id)
                pipe.execute()
        except redis.RedisError as exc:  # the entry lapses by itself after LIVE_REGISTRY_TTL
            log.warning("could not release a live socket entry: %s", exc)

    def open_count(self) -> int:
        """Sockets open in this process (for an open-sockets gauge)."""
        with self._lock:
            return sum(len(sockets) for sockets in self._channels.values())

    def _connections(self) -> list[Connection]:
        with self._lock:
            return [conn for sockets in self._channels.values() for conn in sockets]

    # -- the subscription ------------------------------------------------------------------------

    def _ensure_listening(self) -> None:
        # Started lazily in the process that serves sockets (never before gunicorn forks).
        with self._lock:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                self._subscribed.clear()
                self._channels.clear()
                threading.Thread(target=self._listen, name="helpdesk-live-listener", daemon=True).start()
                threading.Thread(target=self._renew, name="helpdesk-live-renewal", daemon=True).start()
        if not self._subscribed.wait(timeout=10):
            raise redis.ConnectionError("the live event subscription is not ready")

    def _listen(self) -> None:
        while True:
            pubsub = self.client.pubsub()
            try:
                pubsub.psubscribe(PATTERN)
                while True:
                    message = pubsub.get_message(timeout=1)
                    if message is None:
                        continue
                    if message["type"] == "psubscribe":  # Redis confirmed: sockets may open now
                        self._subscribed.set()
                    elif message["type"] == "pmessage":
                        self.dispatch(message["channel"], message["data"])
            except Exception as exc:  # noqa: BLE001 — whatever broke the feed, the sockets must learn it
                self._subscribed.clear()
                log.warning("live event subscription lost: %s", exc)
                # Events may have been missed: the clients reconnect and re-read.
                for conn in self._connections():
                    conn.close(CLOSE_FEED_LOST, "Live feed interrupted; reconnect")
                time.sleep(1)
            finally:
                pubsub.close()

    def dispatch(self, channel: bytes | str, data: bytes | str) -> None:
        """Hand one published envelope to this process's sockets of its channel."""
        if isinstance(channel, bytes):
            channel = channel.decode()
        with self._lock:
            targets = list(self._channels.get(channel, ()))
        if not targets:
            return
        try:
            envelope = json.loads(data)
            text = json.dumps(envelope["event"], ensure_ascii=False)
        except (ValueError, KeyError, TypeError):
            log.warning("malformed live event on %s dropped", channel)
            return
        for conn in targets:
            if (envelope.get("audience") == events.AUDIENCE_ALL or conn.staff) and envelope.get("origin") != conn.id:
                conn.offer(text)

    def _renew(self) -> None:
        while True:
            time.sleep(max(self.config["LIVE_REGISTRY_TTL"] / 3, 0.1))
            try:
                self.renew()
            except redis.RedisError as exc:
                log.warning("could not renew live socket entries: %s", exc)

    def renew(self) -> None:
        """Keep this process's cap entries (and their keys) from lapsing while their sockets are open."""
        ttl = self.config["LIVE_REGISTRY_TTL"]
        with self.client.pipeline(transaction=False) as pipe:
            expires = time.time() + ttl
            for conn in self._connections():
                for key in conn.keys:
                    pipe.zadd(key, {conn.id: expires}, xx=True)
                    pipe.expire(key, ttl)
            pipe.execute()
