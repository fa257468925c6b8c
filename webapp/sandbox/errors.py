"""Telegram's error answer: ``{"ok": false, "error_code", "description", "parameters"?}``."""

from __future__ import annotations

from typing import Any


class TelegramError(Exception):
    """An error the Bot API answers with; ``description`` is Telegram's own wording."""

    def __init__(self, error_code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> TelegramError:
    return TelegramError(403, f"Forbidden: {detail}")


def too_many_requests(retry_after: int) -> TelegramError:
    return TelegramError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


def conflict(detail: str) -> TelegramError:
    return TelegramError(409, f"Conflict: {detail}")


CHAT_NOT_FOUND = "chat not found"
BLOCKED = "bot was blocked by the user"
