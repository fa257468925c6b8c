"""A Redis record of the updates a bot has handled, so none is handled twice.

Long polling: Telegram hands updates out in order and forgets them once getUpdates is called with
a higher offset. A worker stopped (or killed) after handling a batch but before that next call
would see the batch again on restart; the ledger's "last handled id" is both the offset it resumes
from and a guard that drops anything at or below it. Webhooks: Telegram re-sends an update it got
no timely 200 for, possibly to another web process, so each update id is claimed once.
"""

from __future__ import annotations

import redis

LEDGER_PREFIX = "botdesk:tg:updates"
# Telegram keeps an unconfirmed update for 24 hours, so a record older than that guards nothing; letting
# it lapse also keeps a stale "last id" from hiding updates after Telegram restarts its numbering
# (it does after a week without updates).
TTL_SECONDS = 24 * 3600

_CLAIM_NEXT = """
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local id = tonumber(ARGV[1])
if id <= last then return 0 end
redis.call('SET', KEYS[1], id, 'EX', tonumber(ARGV[2]))
return 1
"""

_CLAIM_ONCE = """
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', tonumber(ARGV[2])) then return 0 end
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > last then redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2])) end
return 1
"""


class UpdateLedger:
    def __init__(self, client: redis.Redis, bot_key: str) -> None:
        self.client = client
        self.last_key = f"{LEDGER_PREFIX}:{bot_key}:last"
        self.seen_prefix = f"{LEDGER_PREFIX}:{bot_key}:seen"
        self._claim_next = client.register_script(_CLAIM_NEXT)
        self._claim_once = client.register_script(_CLAIM_ONCE)

    def last(self) -> int:
        return int(self.client.get(self.last_key) or 0)

    def claim_next(self, update_id: int) -> bool:
        """Polling: True when ``update_id`` is newer than everything handled so far (and record it)."""
        return bool(self._claim_next(keys=[self.last_key], args=[update_id, TTL_SECONDS]))

    def claim_once(self, update_id: int) -> bool:
        """Webhook: True the first time ``update_id`` is seen (deliveries may overlap or reorder)."""
        keys = [self.last_key, f"{self.seen_prefix}:{update_id}"]
        return bool(self._claim_once(keys=keys, args=[update_id, TTL_SECONDS]))
