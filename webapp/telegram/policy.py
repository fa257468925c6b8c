"""The one send policy: how every message to Telegram waits, retries and gives up.

Both ways a message leaves the platform use it: ``webapp.telegram.send`` (jobs, the console,
broadcasts) and the bot worker's ``botworker.transport`` (handler replies). So a reply and a
reminder to the same chat share its per-chat limit, wait out a 429 the same way, and a 403 marks the
chat's account as having blocked the bot whichever path met it (the caller does the marking: only
it knows the database session it may write in).

- Before each attempt: a slot under the bot's limit and the chat's (``SendLimiter``, shared through
  Redis by every process).
- 429: Telegram's ``retry_after`` holds back everyone sending as this bot (the bot's lane is
  penalized), then the same message is tried again; after ``MAX_RATE_LIMITED`` of them, given up.
- A network error or a 5xx: tried again after 1, 2, 4 s, ``MAX_TRANSIENT`` attempts in all.
- 403: given up at once and reported ``blocked``.
- Any other answer is final.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from flask import current_app, has_app_context

from webapp.telegram.botapi import ApiReply
from webapp.telegram.ratelimit import Limit, SendLimiter

log = logging.getLogger(__name__)

# Telegram: "avoid sending more than one message per second in a particular chat ... short bursts
# that go over the limit are allowed". Three at once covers a reply and its menu; the burst is the
# TELEGRAM_PER_CHAT_BURST setting (tests, which type faster than people, raise it).
PER_CHAT_PER_SECOND = 1
PER_CHAT_BURST = 3
MAX_RATE_LIMITED = 10  # 429s in a row before giving up on one message
MAX_TRANSIENT = 4  # attempts in all when the network or Telegram's servers fail

# Methods that deliver a message: they count against the bot's messages-per-second limit and the
# chat's, and their 403 means the chat no longer takes the bot's messages.
SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendAudio",
        "sendVoice",
        "sendVideo",
        "sendAnimation",
        "sendVideoNote",
        "sendSticker",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendInvoice",
        "copyMessage",
        "forwardMessage",
    }
)


def per_chat() -> tuple[float, int]:
    """A chat's (messages per second, burst)."""
    burst = current_app.config.get("TELEGRAM_PER_CHAT_BURST", PER_CHAT_BURST) if has_app_context() else PER_CHAT_BURST
    return PER_CHAT_PER_SECOND, int(burst)


def chat_limit(limiter: SendLimiter, bot_key: str, chat_id: int | str) -> Limit:
    """The per-chat limit of one bot's chat, the same for replies and for jobs."""
    return (limiter.chat_key(bot_key, chat_id), *per_chat())


def backoff(attempt: int) -> float:
    """Seconds before the next try after the ``attempt``-th transient failure."""
    return 0.5 * 2**attempt


@dataclass
class Outcome:
    """How a send ended: the last answer (None after the last network error) and what it took."""

    reply: ApiReply | None
    raw: Any = None  # what the caller's attempt returned with the last answer (a requests.Response…)
    error: Exception | None = None  # the last network error, when ``reply`` is None
    rate_limited: int = 0
    retry_after: float | None = None  # the last retry_after Telegram asked for, if any

    @property
    def ok(self) -> bool:
        return self.reply is not None and self.reply.ok

    @property
    def blocked(self) -> bool:
        """Telegram refused with 403: the user blocked the bot (or left the chat, or was deactivated)."""
        return self.reply is not None and self.reply.error_code == 403


def deliver(
    attempt: Callable[[], tuple[ApiReply, Any]],
    limiter: SendLimiter | None,
    limits: list[Limit],
    *,
    slot: float | None = None,
    on_rate_limited: Callable[[float], None] | None = None,
    can_retry: Callable[[], bool] | None = None,
) -> Outcome:
    """Call ``attempt()`` under the policy until it is final.

    ``attempt`` makes one request and returns (its ApiReply, anything the caller wants back); a
    network failure raises ``requests.RequestException``. ``limits[0]`` is the bot's lane (penalized on
    429); no limits: a 429 is waited out here instead. ``slot``: a monotonic time reserved ahead for
    the first try (``send.slots_reserved``). ``on_rate_limited(retry_after)`` is told of every 429;
    ``can_retry()`` says whether the request can be made again (an upload that cannot be rewound
    cannot).
    """
    rate_limited = transient = 0
    retry_after = None
    while True:
        if slot is not None:  # reserved ahead; a retry reserves anew
            delay, slot = slot - time.monotonic(), None
            if delay > 0:
                time.sleep(delay)
        elif limits and limiter is not None:
            limiter.wait(limits)
        try:
            reply, raw = attempt()
        except requests.RequestException as exc:
            transient += 1
            if transient >= MAX_TRANSIENT or (can_retry is not None and not can_retry()):
                return Outcome(None, error=exc, rate_limited=rate_limited, retry_after=retry_after)
            time.sleep(backoff(transient))
            continue
        if reply.ok:
            return Outcome(reply, raw, rate_limited=rate_limited, retry_after=retry_after)
        if reply.error_code == 429:
            rate_limited += 1
            retry_after = float(reply.retry_after or 1)
            if on_rate_limited is not None:
                on_rate_limited(retry_after)
            if rate_limited > MAX_RATE_LIMITED or (can_retry is not None and not can_retry()):
                return Outcome(reply, raw, rate_limited=rate_limited, retry_after=retry_after)
            # Everyone sending as this bot holds off, not just this caller: Telegram asked the bot.
            if limits and limiter is not None:
                limiter.penalize(limits[0][0], retry_after)
            else:
                time.sleep(retry_after)
            continue
        if reply.status >= 500:
            transient += 1
            if transient < MAX_TRANSIENT and (can_retry is None or can_retry()):
                time.sleep(backoff(transient))
                continue
        return Outcome(reply, raw, rate_limited=rate_limited, retry_after=retry_after)
