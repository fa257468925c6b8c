"""FSM state in the app's Redis, so a conversation survives a worker restart.

pyTelegramBotAPI's ``StateRedisStorage`` builds its own client from a URL, which cannot reach the
embedded in-process Redis substitute. This subclass takes the app's client instead (redis-py or
fakeredis), so there is one implementation for production and the embedded default alike.
"""

from __future__ import annotations

import redis
from telebot.storage import StateRedisStorage

STATE_PREFIX = "botdesk:tg:state"


class AppRedisStateStorage(StateRedisStorage):
    def __init__(self, client: redis.Redis, prefix: str = STATE_PREFIX) -> None:
        # Deliberately not calling super().__init__: it would open a second connection by URL.
        self.separator = ":"
        self.prefix = prefix
        self.redis = client
