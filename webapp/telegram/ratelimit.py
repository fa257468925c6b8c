"""Telegram's send limits, shared by every process through Redis.

Each caller reserves the next free send slot atomically (a Lua script reading Redis' own clock, so
processes on different machines agree on time) and then sleeps until it: callers wait, they never
see a 429 from us. Slots are evenly spaced — a "virtual scheduling" leaky bucket — rather than
bursty, so whatever window Telegram (or the sandbox) counts in, it never sees more than the limit
even when network latency bunches requests up a little.
"""

from __future__ import annotations

import time

import redis

# Spacing slots a little wider than 1/limit keeps a steady sender just under the limit (30/s becomes
# one send every 34.3 ms). Telegram, like the sandbox, lets about a second's worth of messages
# through in a burst, so latency that bunches a few requests together costs no 429; a wider margin
# would only slow every broadcast down. An operator who sees 429s lowers the bot's own limit.
SAFETY_MARGIN = 0.03
PAID_BROADCAST_PER_SECOND = 1000

_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = #KEYS
local slot = now
local tats = {}
for i, key in ipairs(KEYS) do
    tats[i] = tonumber(redis.call('GET', key) or '0')
    local earliest = tats[i] - tonumber(ARGV[n + i] or '0')
    if earliest > slot then slot = earliest end
end
for i, key in ipairs(KEYS) do
    local tat = math.max(tats[i], slot) + tonumber(ARGV[i])
    redis.call('SET', key, tat, 'PX', math.ceil((tat - now) / 1000) + 1000)
end
return slot - now
"""

# One slot for each of several chats in a row, as that many RESERVEs would give them: KEYS[1] the
# bot's lane, KEYS[2..] the chats; ARGV[1], ARGV[2] the lane's and a chat's interval, ARGV[3] a chat's
# burst tolerance.
_RESERVE_MANY = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local bot_interval, chat_interval = tonumber(ARGV[1]), tonumber(ARGV[2])
local chat_tolerance = tonumber(ARGV[3] or '0')
local bot_tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local delays = {}
for i = 2, #KEYS do
    local chat_tat = tonumber(redis.call('GET', KEYS[i]) or '0')
    local slot = math.max(now, bot_tat, chat_tat - chat_tolerance)
    bot_tat = slot + bot_interval
    chat_tat = math.max(chat_tat, slot) + chat_interval
    redis.call('SET', KEYS[i], chat_tat, 'PX', math.ceil((chat_tat - now) / 1000) + 1000)
    delays[#delays + 1] = slot - now
end
redis.call('SET', KEYS[1], bot_tat, 'PX', math.ceil((bot_tat - now) / 1000) + 1000)
return delays
"""

_PENALIZE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_ = now + tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > tat then
    redis.call('SET', KEYS[1], until_, 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
end
return 1
"""


# A limit: (Redis key, sends per second) or (key, per second, burst). A burst of N lets N sends go
# at once after a quiet spell, then one per interval (GCRA's tolerance): how Telegram (and the
# sandbox) treat a chat, where a reply of two messages must not wait a second for the second one.
Limit = tuple[str, float] | tuple[str, float, int]


def interval_us(per_second: float) -> int:
    """Microseconds between two slots for a limit of ``per_second`` sends, with the safety margin."""
    return int(1_000_000 * (1 + SAFETY_MARGIN) / max(per_second, 0.001))


def tolerance_us(per_second: float, burst: int = 1) -> int:
    """How far ahead of its even spacing a send may go: ``burst - 1`` intervals."""
    return interval_us(per_second) * max(burst - 1, 0)


class SendLimiter:
    """Reserve send slots for a bot (global limit) and optionally one chat (per-chat limit)."""

    def __init__(self, client: redis.Redis, prefix: str = "botdesk:tg:rate") -> None:
        self.client = client
        self.prefix = prefix
        self._reserve = client.register_script(_RESERVE)
        self._reserve_many = client.register_script(_RESERVE_MANY)
        self._penalize = client.register_script(_PENALIZE)

    def bot_key(self, bot_key: str, lane: str = "global") -> str:
        return f"{self.prefix}:{bot_key}:{lane}"

    def chat_key(self, bot_key: str, chat_id: int | str) -> str:
        return f"{self.prefix}:{bot_key}:chat:{chat_id}"

    def reserve(self, limits: list[Limit]) -> float:
        """Reserve one slot under every (key, per_second[, burst]) limit; seconds to wait before sending."""
        keys = [limit[0] for limit in limits]
        args = [interval_us(limit[1]) for limit in limits]
        if any(len(limit) > 2 for limit in limits):
            args += [tolerance_us(*limit[1:]) for limit in limits]
        return int(self._reserve(keys=keys, args=args)) / 1_000_000

    def reserve_many(self, lane: Limit, chats: list[Limit]) -> list[float]:
        """One slot per chat under the lane's and that chat's limit, in one step, in order (as many
        ``reserve`` calls would give them); seconds to wait before each send."""
        if not chats:
            return []
        keys = [lane[0], *(chat[0] for chat in chats)]
        args = [interval_us(lane[1]), interval_us(chats[0][1]), tolerance_us(*chats[0][1:])]
        if any(chat[1:] != chats[0][1:] for chat in chats):
            raise ValueError("every chat of one reservation has the same limit")
        return [int(delay) / 1_000_000 for delay in self._reserve_many(keys=keys, args=args)]

    def wait(self, limits: list[Limit]) -> float:
        """Reserve a slot and sleep until it comes; returns how long it slept."""
        delay = self.reserve(limits)
        if delay > 0:
            time.sleep(delay)
        return delay

    def penalize(self, key: str, seconds: float) -> None:
        """Telegram said retry_after: nobody sends under ``key`` before that time."""
        self._penalize(keys=[key], args=[int(seconds * 1_000_000)])
