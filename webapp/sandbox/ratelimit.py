"""Telegram's send limits, enforced atomically in Redis so every process shares one budget.

Two token buckets: the bot's holds ``per_second`` tokens and refills at ``per_second`` a second;
each chat's holds ``per_chat_burst`` and refills at ``per_chat_per_second``. That is how Telegram
behaves: a short burst passes, a sustained rate above the limit gets 429 with ``retry_after``,
and a sender pacing itself just under the limit never sees a 429 however the network bunches its
requests. Both buckets are checked and charged in one Lua script on the Redis server's clock, so
two web processes cannot both take the last token and their clocks cannot disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import redis

from webapp.sandbox.lua import LuaScript

# take(bot key, chat key, per_second, per_chat_per_second, per_chat_burst): {1|2, wait ms} when the
# bot's or the chat's bucket is empty (nothing charged); otherwise charges both and returns nil, so a
# script that stores the message can follow it in the same step.
TAKE_FUNCTION = """
local function take(bot_key, chat_key, per_second, chat_rate, chat_burst)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local function level(key, rate, capacity)
    local state = redis.call('HMGET', key, 'tokens', 'ts')
    local tokens = tonumber(state[1]) or capacity
    local ts = tonumber(state[2]) or now
    return math.min(capacity, tokens + (now - ts) * rate / 1000)
  end
  local function charge(key, tokens, rate, capacity)
    redis.call('HSET', key, 'tokens', tostring(tokens - 1), 'ts', tostring(now))
    redis.call('PEXPIRE', key, math.ceil(capacity * 1000 / rate) + 1000)
  end
  local bot_tokens = level(bot_key, per_second, per_second)
  if bot_tokens < 1 then
    return {1, math.ceil((1 - bot_tokens) * 1000 / per_second)}
  end
  local chat_tokens = level(chat_key, chat_rate, chat_burst)
  if chat_tokens < 1 then
    return {2, math.ceil((1 - chat_tokens) * 1000 / chat_rate)}
  end
  charge(bot_key, bot_tokens, per_second, per_second)
  charge(chat_key, chat_tokens, chat_rate, chat_burst)
  return nil
end
"""
# KEYS[1], KEYS[2]: the bot's and the chat's bucket; ARGV[1..3]: per_second, per_chat_per_second,
# per_chat_burst. Returns the refusal, or charges both and falls through.
TAKE_LUA = (
    TAKE_FUNCTION
    + """
local refused = take(KEYS[1], KEYS[2], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
if refused then return refused end
"""
)
_SCRIPT = LuaScript(TAKE_LUA + "return {0, 0}")


@dataclass(frozen=True)
class Limits:
    per_second: int
    per_chat_per_second: float
    per_chat_burst: int

    def as_dict(self) -> dict:
        return {
            "per_second": self.per_second,
            "per_chat_per_second": self.per_chat_per_second,
            "per_chat_burst": self.per_chat_burst,
        }


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds, as Telegram gives them
    scope: str = ""  # "bot" or "chat" when refused


def take(client: redis.Redis, bot_key: str, chat_key: str, limits: Limits) -> Verdict:
    """Charge one message to the bot and the chat, or say how long to wait (nothing is charged then)."""
    code, wait_ms = _SCRIPT(
        client,
        [bot_key, chat_key],
        limits.per_second,
        limits.per_chat_per_second,
        limits.per_chat_burst,
    )
    return verdict(code, wait_ms)


def verdict(code: Any, wait_ms: Any) -> Verdict:
    """The Verdict of ``TAKE_LUA``'s answer."""
    code = int(code)
    if code == 0:
        return Verdict(True)
    return Verdict(False, max(1, math.ceil(int(wait_ms) / 1000)), "bot" if code == 1 else "chat")
