"""All sandbox state, kept in Redis under ``sandbox:`` so every web and bot process sees one Telegram.

Layout (``b`` a bot id, ``c`` a chat id, ``u`` a user id)::

    sandbox:tokens            hash  token -> bot id
    sandbox:usernames         hash  lower(username) -> bot id
    sandbox:bots              zset  bot ids by creation time
    sandbox:bot:b             hash  the bot (token, names, limits, webhook settings, version: see KnownBot)
    sandbox:bot:b:users       zset  user ids that opened the bot (their private chat id is their id)
    sandbox:bot:b:blocked     set   user ids that blocked the bot
    sandbox:bot:b:msgseq      hash  chat id -> last message id (ids are per chat, as in Telegram)
    sandbox:bot:b:chat:c:msgs hash  message id -> stored message (JSON)
    sandbox:bot:b:chat:c:rev  int   bumped (and published) on every change the chat page must show
    sandbox:bot:b:updates     zset  pending updates (JSON) scored by update id
    sandbox:bot:b:wake        list  pinged when an update is queued (long polls block on it)
    sandbox:bot:b:poller      str   the getUpdates request currently allowed to wait
    sandbox:bot:b:file:<id>   hash  file metadata; sandbox:filedata:<unique id> holds the bytes
    sandbox:user:u            hash  a Telegram user
    sandbox:user:u:chat       str   its private chat as the Bot API's Chat JSON (written with the user)
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis

from webapp.sandbox import ratelimit
from webapp.sandbox.errors import conflict
from webapp.sandbox.lua import LuaScript
from webapp.sandbox.media import KIND_FOLDERS

PREFIX = "sandbox"
USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{4,31}$")
TOKEN_RE = re.compile(r"^([1-9][0-9]{0,19}):([A-Za-z0-9_-]{20,64})$")
BOT_ID_BASE = 7_000_000_000  # real bot ids are large numbers; the token starts with the bot id
USER_ID_BASE = 500_000_000
DEFAULT_PER_CHAT_BURST = 10
POLL_SLICE = 0.5  # a waiting getUpdates notices a newer poller within this many seconds
MAX_POLL_TIMEOUT = 50
# Update kinds Telegram sends when the bot has not listed allowed_updates.
DEFAULT_UPDATE_KINDS = frozenset({"message", "edited_message", "callback_query", "my_chat_member"})
FILE_ID_PREFIX = {"document": "BQACAgIAAxkBAA", "photo": "AgACAgIAAxkBAA", "voice": "AwACAgIAAxkBAA"}
FILE_ID_PREFIX["audio"] = "CQACAgIAAxkBAA"


# The hot path of a send, one round trip each (a broadcast sends hundreds a second through here).
# The bot of a token and, when ARGV[4] names a chat (a user id), that chat: {bot hash, user's score in
# the bot's users, user hash, blocked?}.
_BOT_BY_TOKEN = LuaScript("""
local id = redis.call('HGET', KEYS[1], ARGV[1])
if not id then return false end
local bot = redis.call('HGETALL', ARGV[2] .. id)
if ARGV[4] == '' then return {bot} end
local user = ARGV[4]
return {
  bot,
  redis.call('ZSCORE', ARGV[2] .. id .. ':users', user),
  redis.call('HGETALL', ARGV[3] .. user),
  redis.call('SISMEMBER', ARGV[2] .. id .. ':blocked', user),
}
""")
# Store a message, update the chat's reply keyboard, bump and announce the chat's revision (see touch).
# Keys and arguments come in the locals the two scripts below set.
_STORE_LUA = """
redis.call('HSET', msgs, message_id, record)
if keyboard_change == 'set' then
  redis.call('SET', keyboard, keyboard_json)
elseif keyboard_change == 'del' then
  redis.call('DEL', keyboard)
end
local rev = redis.call('INCR', rev_key)
redis.call('PUBLISH', changed, rev)
"""
_PUT_MESSAGE = LuaScript(
    """
local msgs, keyboard, rev_key, changed = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local message_id, record, keyboard_change, keyboard_json = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
"""
    + _STORE_LUA
    + "return rev"
)
# A bot's message, the whole of it in one step (a broadcast sends hundreds a second): charge the bot's
# and the chat's limits (KEYS[1..2], ARGV[1..3]: ratelimit.TAKE_LUA), and only if both allow it take
# the chat's next message id (KEYS[3] field ARGV[4]) and store the record, whose JSON comes in two
# halves around that id (ARGV[5], ARGV[6]).
_SEND_BOT_MESSAGE = LuaScript(
    ratelimit.TAKE_LUA
    + """
local message_id = redis.call('HINCRBY', KEYS[3], ARGV[4], 1)
local msgs, keyboard, rev_key, changed = KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local record = ARGV[5] .. message_id .. ARGV[6]
local keyboard_change, keyboard_json = ARGV[7], ARGV[8]
"""
    + _STORE_LUA
    + "return {0, message_id}"
)
_RECORD_HEAD = '{"message": {"message_id": '
# A bot's message from a process that knows the bot (KnownBot), the whole sendMessage in one step:
# KEYS[1] the tokens; ARGV: token, bot id, the bot's key, the version known, chat id, the user's chat
# JSON key, the limits (3), the record around the chat's JSON (2), keyboard change and JSON. Returns
# {-1} when the bot is not as known (changed, gone), {-2} when the bot has no such chat, {-4} when its
# user has no chat JSON stored, {-3} when the user blocked it, TAKE_LUA's refusal, or
# {0, message id, chat JSON}.
_SEND_KNOWN = LuaScript(
    ratelimit.TAKE_FUNCTION
    + """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return {-1} end
local bot = ARGV[3]
if redis.call('HGET', bot, 'version') ~= ARGV[4] then return {-1} end
local chat_id = ARGV[5]
if not redis.call('ZSCORE', bot .. ':users', chat_id) then return {-2} end
local chat = redis.call('GET', ARGV[6])
if not chat then return {-4} end
if redis.call('SISMEMBER', bot .. ':blocked', chat_id) == 1 then return {-3} end
local rate = bot .. ':rate'
local refused = take(rate, rate .. ':' .. chat_id, tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]))
if refused then return refused end
local message_id = redis.call('HINCRBY', bot .. ':msgseq', chat_id, 1)
local prefix = bot .. ':chat:' .. chat_id
local msgs, keyboard = prefix .. ':msgs', prefix .. ':keyboard'
local rev_key, changed = prefix .. ':rev', prefix .. ':changed'
local record = '{"message": {"message_id": ' .. message_id .. ARGV[10] .. chat .. ARGV[11]
local keyboard_change, keyboard_json = ARGV[12], ARGV[13]
"""
    + _STORE_LUA
    + "return {0, message_id, chat}"
)
STALE, NO_CHAT, BLOCKED_CHAT, NO_CHAT_JSON = -1, -2, -3, -4


# Numbering and queueing an update in one step: taken apart, a concurrent sender could queue id n+1
# before id n, a poller would confirm past n (offset n+2), and update n would be lost.
_ENQUEUE = LuaScript("""
local id = redis.call('INCR', KEYS[1])
if ARGV[1] == '' then return id end
redis.call('ZADD', KEYS[2], id, '{"update_id": ' .. id .. ', ' .. ARGV[1])
redis.call('RPUSH', KEYS[3], id)
redis.call('LTRIM', KEYS[3], -10, -1)
redis.call('EXPIRE', KEYS[3], 120)
return id
""")


def keyboard_change(record: dict) -> tuple[str, str]:
    """What a stored message does to the chat's reply keyboard: ("set", its JSON), ("del", "") or ("", "")."""
    markup = record.get("markup") or {}
    if record.get("from_bot") and "keyboard" in markup:
        return "set", json.dumps(markup)
    if record.get("from_bot") and "remove_keyboard" in markup:
        return "del", ""
    return "", ""


class SandboxError(Exception):
    """A refused test/ops request: HTTP status and a message for the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def key(*parts: Any) -> str:
    return ":".join((PREFIX, *(str(p) for p in parts)))


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _decode_hash(raw: dict) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in raw.items()}


def _identified(raw: dict) -> dict[str, Any] | None:
    """A stored bot or user hash with its numeric id; None when the hash is missing (empty)."""
    if not raw:
        return None
    record: dict[str, Any] = _decode_hash(raw)
    record["id"] = int(record["id"])
    return record


def now() -> int:
    return int(time.time())


# --- Bot API object shapes --------------------------------------------------------------------


def user_json(user: dict) -> dict:
    data: dict[str, Any] = {"id": int(user["id"]), "is_bot": False, "first_name": user["first_name"]}
    for field in ("last_name", "username", "language_code"):
        if user.get(field):
            data[field] = user[field]
    return data


def chat_json(user: dict) -> dict:
    data: dict[str, Any] = {"id": int(user["id"]), "first_name": user["first_name"]}
    for field in ("last_name", "username"):
        if user.get(field):
            data[field] = user[field]
    data["type"] = "private"
    return data


def bot_user_json(bot: dict) -> dict:
    return {"id": bot["id"], "is_bot": True, "first_name": bot["first_name"], "username": bot["username"]}


# The fields of a bot that KnownBot keeps: a change to any of them gives the bot a new version.
KNOWN_FIELDS = ("id", "token", "username", "first_name", "per_second", "per_chat_per_second", "per_chat_burst")
KNOWN_BOTS_MAX = 1000  # a process keeps this many (a sandbox has a handful of bots; tests make many)


def new_version() -> str:
    """Random, not a counter: a bot deleted and made again (a flushed sandbox, the same token) must not
    come back with a version some process still holds."""
    return secrets.token_hex(8)


@dataclass(frozen=True)
class KnownBot:
    """What a sendMessage needs of a bot, kept per process by token so that the send is one round trip
    (a broadcast sends hundreds a second): the bot's KNOWN_FIELDS as read with its ``version``. The
    send script checks that the token still names this bot at this version before it does anything,
    so a change made by any process (set_limits) or a bot gone is seen by the next send everywhere."""

    token: str
    id: int
    key: str
    version: str
    fields: dict
    user: dict  # the message's "from"
    record_from: str  # the stored record from the message id to the chat: ', "from": {...}, "chat": '

    @classmethod
    def of(cls, bot: dict) -> KnownBot:
        user = bot_user_json(bot)
        return cls(
            token=bot["token"],
            id=bot["id"],
            key=key("bot", bot["id"]),
            version=bot["version"],
            fields={name: bot[name] for name in KNOWN_FIELDS if name in bot},
            user=user,
            record_from=f', "from": {json.dumps(user)}, "chat": ',
        )


class Sandbox:
    """The sandbox over one Redis client; cheap to build per request or per thread."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        per_second: int = 30,
        per_chat_per_second: float = 1,
        per_chat_burst: int = DEFAULT_PER_CHAT_BURST,
        on_update: Any = None,
        known_bots: dict[str, KnownBot] | None = None,
    ) -> None:
        self.r = client
        self.default_limits = ratelimit.Limits(per_second, per_chat_per_second, per_chat_burst)
        # Called with (sandbox, bot) after an update is queued for a bot that has a webhook.
        self.on_update = on_update
        # Bots this process has read, by token (see KnownBot); shared by the sandboxes of one app.
        self.known_bots = {} if known_bots is None else known_bots

    # --- bots ---------------------------------------------------------------------------------

    def create_bot(self, username: str, first_name: str | None = None, token: str | None = None) -> dict:
        if not USERNAME_RE.match(username or ""):
            raise SandboxError(400, "username must be 5-32 characters: latin letters, digits and underscores")
        if token:
            match = TOKEN_RE.match(token)
            if not match:
                raise SandboxError(400, "token must look like a Telegram token: <digits>:<20-64 characters>")
            bot_id = int(match.group(1))
        else:
            bot_id = BOT_ID_BASE + int(self.r.incr(key("seq", "bot")))
            token = f"{bot_id}:{secrets.token_urlsafe(27)[:35]}"
        if self.r.exists(key("bot", bot_id)):
            raise SandboxError(409, f"a sandbox bot with id {bot_id} already exists")
        if not self.r.hsetnx(key("usernames"), username.lower(), bot_id):
            raise SandboxError(409, f"username {username} is already taken")
        if not self.r.hsetnx(key("tokens"), token, bot_id):
            self.r.hdel(key("usernames"), username.lower())
            raise SandboxError(409, "this token is already registered")
        fields = {
            "id": bot_id,
            "token": token,
            "username": username,
            "first_name": first_name or username.replace("_", " ").strip().title(),
            "created": now(),
            "version": new_version(),
        }
        pipe = self.r.pipeline()
        pipe.hset(key("bot", bot_id), mapping=fields)
        pipe.zadd(key("bots"), {bot_id: time.time()})
        pipe.execute()
        return self.bot(bot_id)

    def bot(self, bot_id: int | str) -> dict | None:
        return _identified(self.r.hgetall(key("bot", bot_id)))

    def bot_by_token(self, token: str) -> dict | None:
        return self.bot_and_chat(token)[0]

    def bot_and_chat(self, token: str, chat_id: Any = None) -> tuple[dict | None, tuple[dict | None, bool] | None]:
        """The bot of ``token`` and, when ``chat_id`` is given, ``chat_member`` of it: every Bot API
        call starts here, in one round trip. The chat part is None without a (numeric) chat id."""
        try:
            user_id = "" if chat_id is None or chat_id == "" else str(int(chat_id))
        except (TypeError, ValueError):
            user_id = ""
        answer = _BOT_BY_TOKEN(self.r, [key("tokens")], token, key("bot") + ":", key("user") + ":", user_id)
        if not answer:
            return None, None
        flat = answer[0]
        bot = _identified(dict(zip(flat[::2], flat[1::2], strict=True)))
        if not user_id:
            return bot, None
        score, raw, blocked = answer[1:]
        user = _identified(dict(zip(raw[::2], raw[1::2], strict=True))) if score is not None else None
        return bot, (user, bool(blocked) and user is not None)

    def known_bot(self, token: str) -> KnownBot | None:
        return self.known_bots.get(token)

    def remember_bot(self, bot: dict) -> None:
        """Keep ``bot`` (as just read) for the next sends; bots made before versions are not kept."""
        known = self.known_bots.get(bot["token"])
        if "version" in bot and (known is None or known.version != bot["version"]):
            if len(self.known_bots) >= KNOWN_BOTS_MAX:
                self.known_bots.clear()
            self.known_bots[bot["token"]] = KnownBot.of(bot)

    def forget_bot(self, known: KnownBot) -> None:
        if self.known_bots.get(known.token) is known:
            self.known_bots.pop(known.token, None)

    def send_known(
        self, known: KnownBot, chat_id: int, record_tail: str, keyboard: tuple[str, str]
    ) -> tuple[int, int, str | None]:
        """The whole of a bot's sendMessage in one round trip (see _SEND_KNOWN): the chat's checks, the
        limits, the next message id, the record stored. The record is ``_RECORD_HEAD``, the id,
        ``known.record_from``, the chat's stored JSON, ``record_tail``. Returns (code, value, chat JSON):
        (0, message id, JSON) when sent; (STALE or NO_CHAT_JSON, ...) when this send must be made the
        long way (nothing charged or stored); NO_CHAT, BLOCKED_CHAT; or a refusal of the limits
        (ratelimit.verdict)."""
        limits = self.limits(known.fields)
        answer = _SEND_KNOWN(
            self.r,
            [key("tokens")],
            known.token,
            known.id,
            known.key,
            known.version,
            chat_id,
            key("user", chat_id, "chat"),
            limits.per_second,
            limits.per_chat_per_second,
            limits.per_chat_burst,
            known.record_from,
            record_tail,
            *keyboard,
        )
        code = int(answer[0])
        if code == STALE:
            self.forget_bot(known)
        return code, int(answer[1]) if len(answer) > 1 else 0, _text(answer[2]) if len(answer) > 2 else None

    def bot_by_username(self, username: str) -> dict | None:
        bot_id = self.r.hget(key("usernames"), username.lower())
        return self.bot(_text(bot_id)) if bot_id is not None else None

    def bots(self) -> list[dict]:
        return [bot for bot in (self.bot(_text(b)) for b in self.r.zrange(key("bots"), 0, -1)) if bot]

    def public_bot(self, bot: dict) -> dict:
        return {"token": bot["token"], "id": bot["id"], "username": bot["username"], "first_name": bot["first_name"]}

    def set_bot_field(self, bot: dict, **fields: Any) -> None:
        kept = {k: v for k, v in fields.items() if v is not None}
        if any(name in KNOWN_FIELDS for name in fields):
            kept["version"] = new_version()  # every process's KnownBot of this bot is stale now
        gone = [k for k, v in fields.items() if v is None]
        pipe = self.r.pipeline()  # one step: no reader sees the new version with old fields
        if kept:
            pipe.hset(key("bot", bot["id"]), mapping=kept)
        if gone:
            pipe.hdel(key("bot", bot["id"]), *gone)
        pipe.execute()
        bot.update({k: str(v) for k, v in kept.items()})
        for k in gone:
            bot.pop(k, None)

    # --- limits -------------------------------------------------------------------------------

    def limits(self, bot: dict) -> ratelimit.Limits:
        d = self.default_limits
        return ratelimit.Limits(
            int(bot.get("per_second") or d.per_second),
            float(bot.get("per_chat_per_second") or d.per_chat_per_second),
            int(bot.get("per_chat_burst") or d.per_chat_burst),
        )

    def set_limits(self, bot: dict, per_second: int, per_chat_per_second: float, per_chat_burst: int | None) -> dict:
        self.set_bot_field(
            bot,
            per_second=per_second,
            per_chat_per_second=repr(float(per_chat_per_second)),
            per_chat_burst=per_chat_burst,
        )
        return self.limits(bot).as_dict()

    def take_send_slot(self, bot: dict, chat_id: int) -> ratelimit.Verdict:
        bot_key = key("bot", bot["id"], "rate")
        return ratelimit.take(self.r, bot_key, f"{bot_key}:{chat_id}", self.limits(bot))

    # --- users --------------------------------------------------------------------------------

    def create_user(
        self,
        bot: dict,
        first_name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = None,
        phone_number: str | None = None,
        user_id: int | None = None,
    ) -> dict:
        if user_id is not None:
            user = self.user(user_id)
            if user is None:
                raise SandboxError(404, f"sandbox user {user_id} does not exist")
            if user.get("first_name"):  # a user saved before chat JSON was kept gets it now
                self.r.set(key("user", user_id, "chat"), json.dumps(chat_json(user)), nx=True)
        else:
            user_id = USER_ID_BASE + int(self.r.incr(key("seq", "user")))
            self._save_user(
                user_id,
                first_name=first_name,
                last_name=last_name,
                username=username,
                language_code=language_code,
                phone_number=phone_number,
            )
            user = self.user(user_id)
        self.r.zadd(key("bot", bot["id"], "users"), {user_id: time.time()}, nx=True)
        return user

    def ensure_user(
        self,
        bot: dict,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        language_code: str | None = None,
    ) -> dict:
        """The Telegram user ``user_id`` (created under that id if the sandbox does not know it), with a
        chat open with ``bot``: demo data whose people already have Telegram ids in the database."""
        if self.user(user_id) is None:
            self._save_user(user_id, first_name=first_name, last_name=last_name, language_code=language_code)
        return self.create_user(bot, first_name, user_id=user_id)

    def _save_user(self, user_id: int, **fields: Any) -> None:
        given = {k: v for k, v in fields.items() if v}
        pipe = self.r.pipeline()
        pipe.hset(key("user", user_id), mapping={"id": user_id, **given})
        if given.get("first_name"):
            # The user's Chat as a sent message carries it, ready for the one-step send (users never change).
            as_read = {"id": user_id, **{k: str(v) for k, v in given.items()}}
            pipe.set(key("user", user_id, "chat"), json.dumps(chat_json(as_read)))
        pipe.execute()

    def user(self, user_id: int | str) -> dict | None:
        return _identified(self.r.hgetall(key("user", user_id)))

    def is_member(self, bot: dict, user_id: int) -> bool:
        return self.r.zscore(key("bot", bot["id"], "users"), user_id) is not None

    def member(self, bot: dict, user_id: Any) -> dict | None:
        """The user behind a private chat of this bot, None when the bot has no such chat."""
        return self.chat_member(bot, user_id)[0]

    def chat_member(self, bot: dict, user_id: Any) -> tuple[dict | None, bool]:
        """``member`` and ``is_blocked`` in one round trip (every send asks both)."""
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            return None, False
        pipe = self.r.pipeline(transaction=False)
        pipe.zscore(key("bot", bot["id"], "users"), user_id)
        pipe.hgetall(key("user", user_id))
        pipe.sismember(key("bot", bot["id"], "blocked"), user_id)
        score, raw, blocked = pipe.execute()
        user = _identified(raw) if score is not None else None
        return user, bool(blocked) and user is not None

    def bot_users(self, bot: dict) -> list[dict]:
        ids = [int(_text(u)) for u in self.r.zrange(key("bot", bot["id"], "users"), 0, -1)]
        blocked = {int(_text(u)) for u in self.r.smembers(key("bot", bot["id"], "blocked"))}
        users = []
        for user_id in ids:
            user = self.user(user_id)
            if user:
                users.append({**self.public_user(user), "blocked": user_id in blocked})
        return users

    @staticmethod
    def public_user(user: dict) -> dict:
        data = {"user_id": user["id"], "chat_id": user["id"], "first_name": user["first_name"]}
        for field in ("last_name", "username", "language_code", "phone_number"):
            data[field] = user.get(field)
        return data

    def is_blocked(self, bot: dict, user_id: int) -> bool:
        return bool(self.r.sismember(key("bot", bot["id"], "blocked"), user_id))

    def set_blocked(self, bot: dict, user: dict, blocked: bool) -> bool:
        """Block or unblock; Telegram tells the bot with a my_chat_member update. True when it changed."""
        blocked_key = key("bot", bot["id"], "blocked")
        changed = self.r.sadd(blocked_key, user["id"]) if blocked else self.r.srem(blocked_key, user["id"])
        if changed:
            old, new = ("member", "kicked") if blocked else ("kicked", "member")
            me = bot_user_json(bot)
            self.enqueue(
                bot,
                "my_chat_member",
                {
                    "chat": chat_json(user),
                    "from": user_json(user),
                    "date": now(),
                    "old_chat_member": {"user": me, "status": old},
                    "new_chat_member": {"user": me, "status": new, **({"until_date": 0} if blocked else {})},
                },
            )
        return bool(changed)

    # --- messages -----------------------------------------------------------------------------

    def new_message_id(self, bot: dict, chat_id: int) -> int:
        return int(self.r.hincrby(key("bot", bot["id"], "msgseq"), chat_id, 1))

    def put_message(self, bot: dict, chat_id: int, record: dict) -> None:
        """Store a message record: {"message": Bot API Message, "from_bot": bool, "markup": any keyboard}."""
        chat = key("bot", bot["id"], "chat", chat_id)
        _PUT_MESSAGE(
            self.r,
            [f"{chat}:msgs", f"{chat}:keyboard", f"{chat}:rev", f"{chat}:changed"],
            record["message"]["message_id"],
            json.dumps(record),
            *keyboard_change(record),
        )

    def send_bot_message(self, bot: dict, chat_id: int, record: dict) -> tuple[ratelimit.Verdict, int | None]:
        """Charge one message to the bot's and the chat's limits and, if they allow it, number and store
        ``record`` (its message's ``message_id`` comes first and is filled in here): one round trip.
        Returns the verdict and the new message id (None when refused: nothing is stored then)."""
        text = json.dumps(record)
        if not text.startswith(f"{_RECORD_HEAD}0, "):
            raise ValueError("the record must start with its message, the message with message_id 0")
        bot_key = key("bot", bot["id"], "rate")
        chat = key("bot", bot["id"], "chat", chat_id)
        limits = self.limits(bot)
        code, value = _SEND_BOT_MESSAGE(
            self.r,
            [
                bot_key,
                f"{bot_key}:{chat_id}",
                key("bot", bot["id"], "msgseq"),
                f"{chat}:msgs",
                f"{chat}:keyboard",
                f"{chat}:rev",
                f"{chat}:changed",
            ],
            limits.per_second,
            limits.per_chat_per_second,
            limits.per_chat_burst,
            chat_id,
            _RECORD_HEAD,
            text[len(_RECORD_HEAD) + 1 :],  # from the comma after the placeholder 0 on
            *keyboard_change(record),
        )
        verdict = ratelimit.verdict(code, value)
        return verdict, int(value) if verdict.allowed else None

    def message(self, bot: dict, chat_id: int, message_id: Any) -> dict | None:
        try:
            message_id = int(message_id)
        except (TypeError, ValueError):
            return None
        raw = self.r.hget(key("bot", bot["id"], "chat", chat_id, "msgs"), message_id)
        return json.loads(raw) if raw is not None else None

    def delete_message(self, bot: dict, chat_id: int, message_id: int) -> bool:
        deleted = bool(self.r.hdel(key("bot", bot["id"], "chat", chat_id, "msgs"), message_id))
        if deleted:
            self.touch(bot, chat_id)
        return deleted

    def transcript(self, bot: dict, chat_id: int, limit: int | None = None) -> list[dict]:
        raw = self.r.hgetall(key("bot", bot["id"], "chat", chat_id, "msgs"))
        records = [json.loads(v) for _, v in sorted(raw.items(), key=lambda kv: int(kv[0]))]
        if limit:
            records = records[-limit:]
        return [transcript_item(r) for r in records]

    def keyboard(self, bot: dict, chat_id: int) -> dict | None:
        raw = self.r.get(key("bot", bot["id"], "chat", chat_id, "keyboard"))
        return json.loads(raw) if raw is not None else None

    def set_chat_action(self, bot: dict, chat_id: int, action: str) -> None:
        self.r.set(key("bot", bot["id"], "chat", chat_id, "action"), action, ex=5)
        self.touch(bot, chat_id)

    def chat_action(self, bot: dict, chat_id: int) -> str | None:
        return _text(self.r.get(key("bot", bot["id"], "chat", chat_id, "action")))

    def touch(self, bot: dict, chat_id: int) -> int:
        rev = int(self.r.incr(key("bot", bot["id"], "chat", chat_id, "rev")))
        self.r.publish(key("bot", bot["id"], "chat", chat_id, "changed"), rev)
        return rev

    def chat_rev(self, bot: dict, chat_id: int) -> int:
        return int(self.r.get(key("bot", bot["id"], "chat", chat_id, "rev")) or 0)

    def wait_chat_change(self, bot: dict, chat_id: int, rev: int, timeout: float) -> int:
        """Block until the chat's revision differs from ``rev`` or ``timeout`` passes; the current rev."""
        current = self.chat_rev(bot, chat_id)
        if current != rev or timeout <= 0:
            return current
        pubsub = self.r.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(key("bot", bot["id"], "chat", chat_id, "changed"))
            deadline = time.monotonic() + timeout
            current = self.chat_rev(bot, chat_id)  # a change between the first read and subscribing
            while current == rev:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                pubsub.get_message(timeout=min(remaining, 1.0))
                current = self.chat_rev(bot, chat_id)
        finally:
            pubsub.close()
        return current

    # --- updates ------------------------------------------------------------------------------

    def enqueue(self, bot: dict, kind: str, payload: dict) -> int:
        allowed = json.loads(bot["allowed_updates"]) if bot.get("allowed_updates") else None
        wanted = kind in (set(allowed) if allowed else DEFAULT_UPDATE_KINDS)  # Telegram drops the rest
        keys = [key("bot", bot["id"], part) for part in ("updseq", "updates", "wake")]
        body = json.dumps({kind: payload})[1:] if wanted else ""
        update_id = int(_ENQUEUE(self.r, keys, body))
        if wanted and bot.get("webhook_url") and self.on_update:
            self.on_update(self, bot)
        return update_id

    def pending_updates(self, bot: dict, limit: int = 100) -> list[dict]:
        return [json.loads(u) for u in self.r.zrange(key("bot", bot["id"], "updates"), 0, limit - 1)]

    def pending_count(self, bot: dict) -> int:
        return int(self.r.zcard(key("bot", bot["id"], "updates")))

    def confirm(self, bot: dict, offset: int) -> None:
        updates = key("bot", bot["id"], "updates")
        if offset > 0:
            self.r.zremrangebyscore(updates, "-inf", offset - 1)
        elif offset < 0:
            # A negative offset keeps only the last -offset updates and forgets the rest.
            self.r.zremrangebyrank(updates, 0, offset - 1)

    def drop_update(self, bot: dict, update_id: int) -> None:
        self.r.zremrangebyscore(key("bot", bot["id"], "updates"), update_id, update_id)

    def get_updates(self, bot: dict, offset: int, limit: int, timeout: float) -> list[dict]:
        """Long polling as Telegram does it; a newer poller of the same bot ends this one with 409."""
        poller_key = key("bot", bot["id"], "poller")
        wake_key = key("bot", bot["id"], "wake")
        me = uuid.uuid4().hex
        self.r.set(poller_key, me, ex=int(timeout) + 30)
        self.r.rpush(wake_key, "poll")  # an older poller wakes up and sees it was replaced
        self.confirm(bot, offset)
        deadline = time.monotonic() + timeout
        try:
            while True:
                found = self.pending_updates(bot, limit)
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return found
                try:
                    self.r.blpop([wake_key], timeout=min(remaining, POLL_SLICE))
                except redis.TimeoutError:
                    # A slow Redis cuts the wait short: Telegram ends a poll early with an empty
                    # result, the bot polls again, and nothing pending is lost (it is confirmed later).
                    return []
                owner = _text(self.r.get(poller_key))
                if owner != me:
                    if owner == "webhook":
                        raise conflict("terminated by setWebhook request")
                    raise conflict(
                        "terminated by other getUpdates request; make sure that only one bot instance is running"
                    )
        finally:
            self._release_poller(poller_key, me)

    _RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"

    def _release_poller(self, poller_key: str, me: str) -> None:
        self.r.eval(self._RELEASE, 1, poller_key, me)

    def end_polling(self, bot: dict) -> None:
        """Terminate a waiting getUpdates (setWebhook does this in Telegram)."""
        self.r.set(key("bot", bot["id"], "poller"), "webhook", ex=MAX_POLL_TIMEOUT + 30)
        self.r.rpush(key("bot", bot["id"], "wake"), "webhook")

    def clear_updates(self, bot: dict) -> None:
        self.r.delete(key("bot", bot["id"], "updates"))

    # --- files --------------------------------------------------------------------------------

    def store_file(
        self,
        bot: dict,
        kind: str,
        content: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        extra: dict | None = None,
    ) -> dict:
        number = int(self.r.incr(key("bot", bot["id"], "fileseq")))
        folder, extension = KIND_FOLDERS[kind]
        if file_name and "." in file_name and kind in ("document", "audio"):
            extension = "." + file_name.rsplit(".", 1)[1][:16]
        meta = {
            "kind": kind,
            "file_id": FILE_ID_PREFIX[kind] + secrets.token_urlsafe(36),
            "file_unique_id": "AgAD" + secrets.token_urlsafe(9),
            "file_size": len(content),
            "file_path": f"{folder}/file_{number}{extension}",
            **({"file_name": file_name} if file_name else {}),
            **({"mime_type": mime_type} if mime_type else {}),
            **(extra or {}),
        }
        pipe = self.r.pipeline()
        pipe.set(key("filedata", meta["file_unique_id"]), content)
        pipe.hset(key("bot", bot["id"], "file", meta["file_id"]), mapping=meta)
        pipe.set(key("bot", bot["id"], "path", meta["file_path"]), meta["file_id"])
        pipe.execute()
        return self.file(bot, meta["file_id"])

    def file(self, bot: dict, file_id: str) -> dict | None:
        raw = self.r.hgetall(key("bot", bot["id"], "file", file_id))
        if not raw:
            return None
        meta: dict[str, Any] = _decode_hash(raw)
        for field in ("file_size", "width", "height", "duration"):
            if field in meta:
                meta[field] = int(meta[field])
        return meta

    def file_by_path(self, bot: dict, file_path: str) -> dict | None:
        file_id = self.r.get(key("bot", bot["id"], "path", file_path))
        return self.file(bot, _text(file_id)) if file_id is not None else None

    def file_content(self, meta: dict) -> bytes | None:
        return self.r.get(key("filedata", meta["file_unique_id"]))

    # --- callback queries ---------------------------------------------------------------------

    def new_callback_query(self, bot: dict, user: dict, message_id: int, data: str) -> str:
        query_id = str(secrets.randbits(62))
        cbq_key = key("bot", bot["id"], "cbq", query_id)
        self.r.hset(cbq_key, mapping={"id": query_id, "user_id": user["id"], "message_id": message_id, "data": data})
        self.r.expire(cbq_key, 24 * 3600)
        return query_id

    def callback_query(self, bot: dict, query_id: str) -> dict | None:
        raw = self.r.hgetall(key("bot", bot["id"], "cbq", query_id))
        if not raw:
            return None
        query: dict[str, Any] = _decode_hash(raw)
        query["answered"] = query.get("answered") == "1"
        query["show_alert"] = query.get("show_alert") == "1"
        return query

    def answer_callback_query(self, bot: dict, query: dict, text: str | None, show_alert: bool, url: str | None):
        fields = {"answered": 1, "show_alert": int(show_alert), "text": text or "", "url": url or ""}
        self.r.hset(key("bot", bot["id"], "cbq", query["id"]), mapping=fields)
        self.touch(bot, int(query["user_id"]))

    # --- commands -----------------------------------------------------------------------------

    def set_commands(self, bot: dict, scope: str, language_code: str, commands: Iterable[dict] | None) -> None:
        field = f"{scope}|{language_code}"
        if commands is None:
            self.r.hdel(key("bot", bot["id"], "commands"), field)
        else:
            self.r.hset(key("bot", bot["id"], "commands"), field, json.dumps(list(commands)))

    def commands(self, bot: dict, scope: str, language_code: str) -> list[dict]:
        raw = self.r.hget(key("bot", bot["id"], "commands"), f"{scope}|{language_code}")
        return json.loads(raw) if raw is not None else []


def transcript_item(record: dict) -> dict:
    """A stored message as the transcript shows it: the Bot API Message, its keyboard, who sent it."""
    item = dict(record["message"])
    if record.get("markup"):
        item["reply_markup"] = record["markup"]
    item["from_bot"] = bool(record.get("from_bot"))
    return item


def current_sandbox() -> Sandbox:
    """The sandbox of the current app: its Redis, its default limits, webhook delivery wired in."""
    from flask import current_app

    return sandbox_of(current_app)


def sandbox_of(app) -> Sandbox:
    """``current_sandbox`` of ``app``, without an app context (the Bot API's shortcut has none)."""
    from webapp.sandbox import webhooks

    config = app.config
    return Sandbox(
        app.extensions["botdesk_redis"],
        per_second=int(config.get("SANDBOX_PER_SECOND") or 30),
        per_chat_per_second=float(config.get("SANDBOX_PER_CHAT_PER_SECOND") or 1),
        on_update=webhooks.kick,
        known_bots=app.extensions.setdefault("sandbox_known_bots", {}),
    )
