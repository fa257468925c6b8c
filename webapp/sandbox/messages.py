"""Building Telegram Message objects and checking what a bot attaches to them (keyboards, text)."""

from __future__ import annotations

import json
import re
from typing import Any

from webapp.sandbox import formatting, ratelimit
from webapp.sandbox.errors import BLOCKED, CHAT_NOT_FOUND, bad_request, forbidden, too_many_requests
from webapp.sandbox.store import (
    BLOCKED_CHAT,
    NO_CHAT,
    NO_CHAT_JSON,
    STALE,
    KnownBot,
    Sandbox,
    bot_user_json,
    chat_json,
    keyboard_change,
    now,
    user_json,
)

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
INLINE_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND = re.compile(r"(?<![\w/])/[a-zA-Z0-9_]{1,32}(?:@[a-zA-Z0-9_]{5,32})?(?![\w/])")
MARKUP_ERROR = "can't parse reply keyboard markup JSON object"


def command_entities(text: str) -> list[dict]:
    """Telegram marks /commands in message text with bot_command entities."""
    return [
        {
            "type": "bot_command",
            "offset": formatting.utf16_len(text[: m.start()]),
            "length": formatting.utf16_len(m.group(0)),
        }
        for m in _COMMAND.finditer(text)
    ]


def with_entities(text: str, entities: list[dict]) -> list[dict]:
    """Parsed entities plus the bot_command ones Telegram detects on its own (no overlaps)."""
    spans = [(e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] in ("code", "pre", "text_link")]
    extra = [e for e in command_entities(text) if not any(s <= e["offset"] < t for s, t in spans)]
    return sorted([*entities, *extra], key=lambda e: (e["offset"], -e["length"]))


def formatted(text: str, parse_mode: str | None, entities: Any, *, limit: int, empty: str, too_long: str):
    """(text, entities) of a message body after parse_mode, with Telegram's length checks."""
    if text is None or text == "":
        raise bad_request(empty)
    if entities is not None and not parse_mode:
        if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
            raise bad_request("can't parse entities JSON object")
        plain, parsed = text, entities
    else:
        plain, parsed = formatting.parse(text, parse_mode)
    if not plain.strip():
        raise bad_request(empty)
    if len(plain) > limit:
        raise bad_request(too_long)
    return plain, with_entities(plain, parsed)


def check_markup(markup: Any, *, inline_only: bool = False) -> dict | None:
    """Validate reply_markup the way Telegram does; returns it, or None when none was given."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request(MARKUP_ERROR)
    if "inline_keyboard" in markup:
        _check_inline(markup["inline_keyboard"])
        return markup
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request('field "keyboard" must be an Array of Array of KeyboardButton')
        for row in rows:
            for button in row:
                label = button if isinstance(button, str) else button.get("text") if isinstance(button, dict) else None
                if not isinstance(label, str) or not label:
                    raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')
        return markup
    if "remove_keyboard" in markup or "force_reply" in markup:
        return markup
    raise bad_request(MARKUP_ERROR)


def _check_inline(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
            actions = [a for a in INLINE_ACTIONS if a in button]
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button and not re.match(r"^(https?|tg)://\S+$", str(button["url"])):
                raise bad_request("BUTTON_URL_INVALID")


def inline_buttons(markup: dict | None) -> list[dict]:
    if not markup or "inline_keyboard" not in markup:
        return []
    return [button for row in markup["inline_keyboard"] for button in row]


def file_object(meta: dict) -> Any:
    """The Bot API object for a stored file (Document, list of PhotoSize, Voice or Audio)."""
    base = {"file_id": meta["file_id"], "file_unique_id": meta["file_unique_id"], "file_size": meta["file_size"]}
    kind = meta["kind"]
    if kind == "photo":
        return [{**base, "width": meta.get("width", 0), "height": meta.get("height", 0)}]
    if kind == "voice":
        return {"duration": meta.get("duration", 0), "mime_type": meta.get("mime_type", "audio/ogg"), **base}
    data = {}
    if kind == "audio":
        data["duration"] = meta.get("duration", 0)
        for field in ("title", "performer"):
            if meta.get(field):
                data[field] = meta[field]
    if meta.get("file_name"):
        data["file_name"] = meta["file_name"]
    if meta.get("mime_type"):
        data["mime_type"] = meta["mime_type"]
    return {**data, **base}


def bot_message(
    sb: Sandbox,
    bot: dict,
    user: dict,
    content: dict,
    markup: dict | None,
    reply_to: dict | None,
    *,
    charge: bool = False,
) -> dict:
    """Store a message the bot sent into the user's chat; returns the Message as the Bot API gives it.

    ``charge``: the send is charged to the bot's and the chat's limits in the same step as it is
    stored (429 when they refuse; nothing is stored then)."""
    message = {"message_id": 0, "from": bot_user_json(bot), "chat": chat_json(user), "date": now(), **content}
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    if markup and "inline_keyboard" in markup:
        message["reply_markup"] = markup  # Telegram returns only inline keyboards with the message
    record = {"message": message, "from_bot": True, "markup": markup}
    if charge:
        verdict, message_id = sb.send_bot_message(bot, user["id"], record)
        if not verdict.allowed:
            raise too_many_requests(verdict.retry_after)
        message["message_id"] = message_id
    else:
        message["message_id"] = sb.new_message_id(bot, user["id"])
        sb.put_message(bot, user["id"], record)
    return message


def known_bot_message(sb: Sandbox, bot: KnownBot, chat_id: int, content: dict, markup: dict | None) -> dict | None:
    """``bot_message(charge=True)`` without a reply, for a bot this process knows, in one round trip that
    also makes ``Call.chat``'s checks (400 chat not found, 403 blocked). None when it must be sent the
    long way (the bot changed or is gone, the chat has no stored JSON): nothing was charged or stored.

    The record is stored as the long way stores it (``json.dumps`` of the same dict, in pieces around
    the message id and the chat, which the script fills in)."""
    after: dict[str, Any] = {"date": now(), **content}
    if markup and "inline_keyboard" in markup:
        after["reply_markup"] = markup  # Telegram returns only inline keyboards with the message
    tail = f', {json.dumps(after)[1:-1]}}}, "from_bot": true, "markup": {json.dumps(markup)}}}'
    code, value, chat = sb.send_known(bot, chat_id, tail, keyboard_change({"from_bot": True, "markup": markup}))
    if code == 0:
        return {"message_id": value, "from": dict(bot.user), "chat": json.loads(chat), **after}
    if code in (STALE, NO_CHAT_JSON):
        return None
    if code == NO_CHAT:
        raise bad_request(CHAT_NOT_FOUND)
    if code == BLOCKED_CHAT:
        raise forbidden(BLOCKED)
    raise too_many_requests(ratelimit.verdict(code, value).retry_after)


def user_message(sb: Sandbox, bot: dict, user: dict, content: dict, reply_to: dict | None = None) -> tuple[int, int]:
    """The user sends a message to the bot: stored in the chat and queued as an update."""
    message = {
        "message_id": sb.new_message_id(bot, user["id"]),
        "from": user_json(user),
        "chat": chat_json(user),
        "date": now(),
        **content,
    }
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    sb.put_message(bot, user["id"], {"message": message, "from_bot": False})
    update_id = sb.enqueue(bot, "message", message)
    return update_id, message["message_id"]


def quoted(record: dict | None) -> dict | None:
    """A stored message as it appears in reply_to_message (without its own reply)."""
    if record is None:
        return None
    message = dict(record["message"])
    message.pop("reply_to_message", None)
    return message
