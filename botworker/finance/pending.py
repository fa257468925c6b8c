"""Parsed commands waiting for the user's "Save" / "Cancel", kept in Redis (they survive a restart).

Keyed by bot, chat and a short random id that travels in the buttons' callback_data; a day later
an unanswered one expires and its buttons answer "no longer active".
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from decimal import Decimal

from webapp.extensions import redis_store
from webapp.finance.services.parser import ParsedCommand

TTL_SECONDS = 24 * 3600


@dataclass
class Pending:
    parsed: ParsedCommand
    source: str  # "text" | "voice"
    voice_log_id: int | None = None


def _key(bot_id: int, chat_id: int, pid: str) -> str:
    return f"finance:pending:{bot_id}:{chat_id}:{pid}"


def put(bot_id: int, chat_id: int, pending: Pending, pid: str | None = None) -> str:
    pid = pid or secrets.token_hex(4)
    fields = asdict(pending.parsed)
    fields["amount"] = None if pending.parsed.amount is None else str(pending.parsed.amount)
    body = {"parsed": fields, "source": pending.source, "voice_log_id": pending.voice_log_id}
    redis_store.client.set(_key(bot_id, chat_id, pid), json.dumps(body), ex=TTL_SECONDS)
    return pid


def _decode(raw: str | bytes | None) -> Pending | None:
    if raw is None:
        return None
    body = json.loads(raw)
    fields = body["parsed"]
    fields["amount"] = None if fields["amount"] is None else Decimal(fields["amount"])
    return Pending(ParsedCommand(**fields), body["source"], body.get("voice_log_id"))


def get(bot_id: int, chat_id: int, pid: str) -> Pending | None:
    return _decode(redis_store.client.get(_key(bot_id, chat_id, pid)))


def take(bot_id: int, chat_id: int, pid: str) -> Pending | None:
    """Get and delete in one step: a double tap on "Save" saves once."""
    return _decode(redis_store.client.getdel(_key(bot_id, chat_id, pid)))
