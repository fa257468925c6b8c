"""Who acts in the access layers (``webapp/<vertical>/access.py``): a signed-in user, or the
platform itself — a service token calling for its bot, the bot worker, a job — which every
vertical lets reach all of its rows."""

from __future__ import annotations

from typing import Final

from webapp.core.models import User


class _System:
    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM: Final = _System()
Actor = User | _System
