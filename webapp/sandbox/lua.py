"""Lua scripts of the sandbox's hot paths, run by SHA."""

from __future__ import annotations

from typing import Any

import redis


class LuaScript:
    """A script run by its SHA (EVALSHA): EVAL would ship the source and make Redis hash it on every
    call, which on the send path costs more than the script itself."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._script: Any = None

    def __call__(self, client: redis.Redis, keys: list[str], *args: Any) -> Any:
        if self._script is None:
            self._script = client.register_script(self.source)
        return self._script(keys=keys, args=list(args), client=client)
