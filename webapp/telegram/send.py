"""The one way the platform sends to Telegram outside a handler's immediate reply.

Jobs, the console, broadcasts and notifications call ``send_message`` / ``send_document`` /
``send_photo``. Each send waits for a slot under the bot's global limit and the chat's limit
(shared by every process through Redis), waits out Telegram's ``retry_after`` on 429 and tries
again, and on 403 marks the chat's ``TelegramAccount.blocked_bot`` (flushed; the caller commits,
as with every service) and reports ``blocked`` — the one policy of ``webapp.telegram.policy``, which
bot replies follow too. Text longer than Telegram's 4096 characters is
split on paragraph, then line, then word boundaries (or refused when ``split=False``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import current_app

from webapp import metrics
from webapp.core.db import utcnow
from webapp.core.models import TelegramAccount
from webapp.extensions import db, redis_store
from webapp.telegram import botapi, policy
from webapp.telegram.models import Bot
from webapp.telegram.ratelimit import PAID_BROADCAST_PER_SECOND, SendLimiter
from webapp.telegram.tokens import decrypt_token

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


@dataclass(frozen=True)
class SendResult:
    ok: bool
    message_id: int | None = None
    blocked: bool = False
    error: str | None = None
    retry_after: float | None = None  # the last retry_after Telegram asked for, if any
    message_ids: tuple[int, ...] = ()  # every part of a split text, in order
    file_id: str | None = None  # a sent file's id: send it again by this id instead of re-uploading


def _file_id(result: Any) -> str | None:
    """The file_id Telegram gave a sent photo (its largest size) or other file."""
    if not isinstance(result, dict):
        return None
    for kind in ("photo", "document", "video", "animation", "audio", "voice"):
        item = result.get(kind)
        if isinstance(item, list):
            item = item[-1] if item else None
        if isinstance(item, dict) and item.get("file_id"):
            return item["file_id"]
    return None


# --- text length -----------------------------------------------------------------------------------


def telegram_length(text: str) -> int:
    """Telegram counts UTF-16 code units (an emoji outside the BMP counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def _longest_prefix(text: str, limit: int) -> int:
    """The number of characters of ``text`` that fit in ``limit`` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """``text`` in parts of at most ``limit``, cut at the last paragraph, line or word break that
    keeps a part at least half full (a hard cut only for a giant unbroken word)."""
    parts: list[str] = []
    rest = text
    while telegram_length(rest) > limit:
        room = _longest_prefix(rest, limit)
        window = rest[:room]
        cut, skip = room, 0
        for separator in ("\n\n", "\n", " "):
            position = window.rfind(separator)
            if position >= room // 2:
                cut, skip = position, len(separator)
                break
        head = rest[:cut].rstrip()
        if head:
            parts.append(head)
        rest = rest[cut + skip :].lstrip("\n")
    if rest.strip() or not parts:
        parts.append(rest)
    return parts


# --- plumbing --------------------------------------------------------------------------------------


def resolve_bot(bot: Bot | int) -> Bot:
    if isinstance(bot, Bot):
        return bot
    row = db.session.get(Bot, bot)
    if row is None:
        raise ValueError(f"no bot with id {bot!r}")
    return row


def markup_dict(markup: Any) -> dict | None:
    """A Bot API reply_markup dict from a dict or a telebot markup object."""
    if markup is None or isinstance(markup, dict):
        return markup
    if hasattr(markup, "to_dict"):
        return markup.to_dict()
    return json.loads(markup.to_json())


def limiter_key(token: str) -> str:
    """The bot's Telegram id (the token's numeric part): the same key in web, jobs and the worker."""
    return token.split(":", 1)[0]


def _limiter() -> SendLimiter:
    """The app's limiter: its scripts are registered (and hashed) once, not once per message."""
    client = redis_store.client
    limiter = current_app.extensions.get("botdesk_send_limiter")
    if limiter is None or limiter.client is not client:
        limiter = current_app.extensions["botdesk_send_limiter"] = SendLimiter(client)
    return limiter


def mark_blocked(bot: Bot, chat_id: int) -> int:
    """Mark the bot's accounts in ``chat_id`` as having blocked the bot; returns how many changed."""
    changed = 0
    accounts = db.session.scalars(
        db.select(TelegramAccount).where(TelegramAccount.bot_id == bot.id, TelegramAccount.chat_id == chat_id)
    )
    for account in accounts:
        if not account.blocked_bot:
            account.blocked_bot = True
            account.blocked_at = utcnow()
            changed += 1
    db.session.flush()
    return changed


def _lane(limiter: SendLimiter, key: str, bot: Bot, paid: bool) -> tuple[str, float]:
    """The bot's limit a send goes under: its own rate, or Telegram's paid-broadcast lane."""
    if paid:
        return limiter.bot_key(key, "paid"), PAID_BROADCAST_PER_SECOND
    return limiter.bot_key(key), bot.rate_limit_per_second or 30


class SlotPlan:
    """Chats this thread will send to next, whose slots are reserved together when the first of them
    is sent (one Redis call for all); a chat not sent to leaves a gap in the schedule, no more.

    ``lane_was_free`` tells, once reserved, whether the first slot came at once: the bot's schedule
    had a gap, so its senders are not keeping up with its limit (a broadcast worker then adds one).
    """

    def __init__(self, limiter: SendLimiter, lane: tuple[str, float], chat_keys: list[str]) -> None:
        self.limiter = limiter
        self.lane = lane
        self.chat_keys = chat_keys
        self.slots: dict[str, float] | None = None
        self.lane_was_free: bool | None = None

    def take(self, lane: str, chat_key: str) -> float | None:
        """The monotonic time reserved for this send, or None (not planned here: reserve as usual)."""
        if lane != self.lane[0] or chat_key not in self.chat_keys:
            return None
        if self.slots is None:
            per_chat = policy.per_chat()
            delays = self.limiter.reserve_many(self.lane, [(key, *per_chat) for key in self.chat_keys])
            self.lane_was_free = bool(delays) and delays[0] <= 0
            now = time.monotonic()  # the delays count from the answer, as ``SendLimiter.wait`` counts them
            self.slots = {key: now + delay for key, delay in zip(self.chat_keys, delays, strict=True)}
        self.chat_keys = [key for key in self.chat_keys if key != chat_key]
        return self.slots.pop(chat_key, None)

    def give_up(self) -> None:
        """Telegram asked the bot to pause (429): slots reserved before that fall inside the pause."""
        self.chat_keys, self.slots = [], {}


_ahead = threading.local()


@contextmanager
def slots_reserved(bot: Bot, chat_ids: list[int], *, allow_paid_broadcast: bool = False) -> Iterator[SlotPlan]:
    """Within the block, this thread's sends to ``chat_ids`` (in that order) go at slots reserved in one
    step under the bot's and each chat's limit, not one Redis call per message (a broadcast window)."""
    limiter = _limiter()
    key = limiter_key(decrypt_token(bot))
    lane = _lane(limiter, key, bot, bool(allow_paid_broadcast and bot.paid_broadcast))
    plan = _ahead.plan = SlotPlan(limiter, lane, [limiter.chat_key(key, chat_id) for chat_id in chat_ids])
    try:
        yield plan
    finally:
        _ahead.plan = None


def _deliver(
    bot: Bot,
    chat_id: int,
    method: str,
    data: dict[str, Any],
    files: Mapping[str, Any] | None = None,
    paid: bool = False,
    count_sent: bool = True,
) -> SendResult:
    token = decrypt_token(bot)
    template = botapi.api_url_template(bot.is_sandbox)
    limiter = _limiter()
    key = limiter_key(token)
    lane, rate = _lane(limiter, key, bot, paid)
    chat = policy.chat_limit(limiter, key, chat_id)
    ahead = getattr(_ahead, "plan", None)
    slot = ahead.take(lane, chat[0]) if ahead is not None else None
    payload = {"chat_id": chat_id, **data}

    def attempt() -> tuple[botapi.ApiReply, None]:
        return botapi.call(template, token, method, payload, files), None

    def rate_limited(retry_after: float) -> None:
        metrics.count("rate_limited", bot.name, path="jobs")
        log.warning("bot %s: 429 from Telegram, waiting %ss (%s)", bot.name, retry_after, method)
        if ahead is not None:
            ahead.give_up()  # slots reserved before the pause fall inside it

    outcome = policy.deliver(attempt, limiter, [(lane, rate), chat], slot=slot, on_rate_limited=rate_limited)
    reply, retry_after = outcome.reply, outcome.retry_after
    if reply is None:
        return SendResult(False, error=f"network error: {outcome.error.__class__.__name__}", retry_after=retry_after)
    if reply.ok:
        if count_sent:
            metrics.count("sends", bot.name, path="jobs")
        message_id = (reply.result or {}).get("message_id") if isinstance(reply.result, dict) else None
        return SendResult(True, message_id=message_id, retry_after=retry_after, file_id=_file_id(reply.result))
    if outcome.blocked:
        mark_blocked(bot, chat_id)
        return SendResult(False, blocked=True, error=reply.description or "Forbidden", retry_after=retry_after)
    if reply.error_code == 429:
        return SendResult(False, error=reply.description or "Too Many Requests", retry_after=retry_after)
    return SendResult(False, error=reply.description or f"HTTP {reply.status}", retry_after=retry_after)


def _paid(bot: Bot, allow_paid_broadcast: bool) -> bool:
    if allow_paid_broadcast and not bot.paid_broadcast:
        current_app.logger.warning("bot %s is not allowed paid broadcasts; sending at the normal rate", bot.name)
    return bool(allow_paid_broadcast and bot.paid_broadcast)


# --- the public send functions ---------------------------------------------------------------------


def send_message(
    bot: Bot | int,
    chat_id: int,
    text: str,
    *,
    parse_mode: str | None = None,
    reply_markup: Any = None,
    allow_paid_broadcast: bool = False,
    split: bool = True,
    count_sent: bool = True,
    **extra: Any,
) -> SendResult:
    """Send ``text`` (split when too long; ``reply_markup`` goes with the last part).

    ``count_sent=False``: the caller adds the messages sent to the ``sends`` metric itself, in bulk
    (a broadcast counts a window of messages in one step instead of one Redis call each)."""
    bot = resolve_bot(bot)
    length = telegram_length(text)
    if length > TEXT_LIMIT and not split:
        return SendResult(False, error=f"message text is {length} characters; Telegram allows at most {TEXT_LIMIT}")
    paid = _paid(bot, allow_paid_broadcast)
    parts = split_text(text)
    sent: list[int] = []
    result = SendResult(False, error="nothing sent")
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        data = {
            "text": part,
            "parse_mode": parse_mode,
            "reply_markup": markup_dict(reply_markup) if last else None,
            "allow_paid_broadcast": True if paid else None,
            **extra,
        }
        result = _deliver(bot, chat_id, "sendMessage", data, paid=paid, count_sent=count_sent)
        if not result.ok:
            return SendResult(
                False,
                message_id=sent[0] if sent else None,
                blocked=result.blocked,
                error=result.error,
                retry_after=result.retry_after,
                message_ids=tuple(sent),
            )
        sent.append(result.message_id)
    return SendResult(True, message_id=sent[0], retry_after=result.retry_after, message_ids=tuple(sent))


def _send_file(
    bot: Bot | int,
    chat_id: int,
    method: str,
    field: str,
    upload: tuple | str,
    caption: str | None,
    reply_markup: Any,
    parse_mode: str | None,
    allow_paid_broadcast: bool,
    extra: dict[str, Any],
    count_sent: bool = True,
) -> SendResult:
    bot = resolve_bot(bot)
    if caption and telegram_length(caption) > CAPTION_LIMIT:
        return SendResult(False, error=f"caption is longer than Telegram's {CAPTION_LIMIT} characters")
    paid = _paid(bot, allow_paid_broadcast)
    data = {
        "caption": caption,
        "parse_mode": parse_mode if caption else None,
        "reply_markup": markup_dict(reply_markup),
        "allow_paid_broadcast": True if paid else None,
        **extra,
    }
    if isinstance(upload, str):  # a file_id (or URL) Telegram already knows: nothing to upload
        result = _deliver(bot, chat_id, method, {**data, field: upload}, paid=paid, count_sent=count_sent)
    else:
        result = _deliver(bot, chat_id, method, data, files={field: upload}, paid=paid, count_sent=count_sent)
    if not result.ok:
        return result
    return SendResult(True, result.message_id, message_ids=(result.message_id,), file_id=result.file_id)


def send_document(
    bot: Bot | int,
    chat_id: int,
    content: bytes,
    filename: str,
    caption: str | None = None,
    reply_markup: Any = None,
    *,
    mime_type: str = "application/octet-stream",
    parse_mode: str | None = None,
    allow_paid_broadcast: bool = False,
    **extra: Any,
) -> SendResult:
    """Send ``content`` as a document named ``filename``."""
    upload = (filename, content, mime_type)
    return _send_file(
        bot, chat_id, "sendDocument", "document", upload, caption, reply_markup, parse_mode, allow_paid_broadcast, extra
    )


def send_photo(
    bot: Bot | int,
    chat_id: int,
    content: bytes | str,
    caption: str | None = None,
    reply_markup: Any = None,
    *,
    filename: str = "photo.jpg",
    mime_type: str = "image/jpeg",
    parse_mode: str | None = None,
    allow_paid_broadcast: bool = False,
    count_sent: bool = True,
    **extra: Any,
) -> SendResult:
    """Send ``content`` as a photo: image bytes, or the ``file_id`` of a photo this bot sent before."""
    upload = content if isinstance(content, str) else (filename, content, mime_type)
    return _send_file(
        bot,
        chat_id,
        "sendPhoto",
        "photo",
        upload,
        caption,
        reply_markup,
        parse_mode,
        allow_paid_broadcast,
        extra,
        count_sent,
    )
