"""Callback data of inline buttons, built and read in one place for every vertical.

A kind of button is a ``Callback("<prefix>")``: ``new(*parts)`` builds ``"<prefix>:<part>:…"``
(Telegram allows 64 bytes), ``matches`` is the ``func=`` of its handler's registration, and
``parts``/``ints`` read it back. ``telebot.callback_data.CallbackData`` fixes the number of parts
and forbids ":" in the prefix; our buttons carry a variable tail (the booking steps) under prefixes
that seeds and tests already use (``cl:bk``, ``r:sc``), so this small router keeps those formats.

A button that no longer parses (an old message, a forged payload) is a stale button: ``ints``
returns None and the handler answers ``answer_stale``, never an exception.
"""

from __future__ import annotations

from telebot import TeleBot, types

from botworker import texts

MAX_BYTES = 64  # Telegram's limit on callback_data


class Callback:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.rstrip(":") + ":"

    def new(self, *parts: object) -> str:
        data = self.prefix + ":".join(str(p) for p in parts)
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data longer than {MAX_BYTES} bytes: {data[:20]}…")
        return data

    def matches(self, call: types.CallbackQuery) -> bool:
        return (call.data or "").startswith(self.prefix)

    def parts(self, call: types.CallbackQuery | str) -> list[str]:
        """The parts after the prefix ([] for another kind of button)."""
        data = call if isinstance(call, str) else (call.data or "")
        return data[len(self.prefix) :].split(":") if data.startswith(self.prefix) else []

    def ints(self, call: types.CallbackQuery | str, count: int | None = None) -> list[int] | None:
        """The first ``count`` parts (all when None) as integers, or None when they are not."""
        parts = self.parts(call)
        if count is not None:
            if len(parts) < count:
                return None
            parts = parts[:count]
        try:
            return [int(p) for p in parts]
        except ValueError:
            return None


def answer_stale(bot: TeleBot, call: types.CallbackQuery) -> None:
    """The polite answer to a button whose data no longer means anything."""
    bot.answer_callback_query(call.id, texts.t("This button is no longer active."))
