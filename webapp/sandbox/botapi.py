"""The Bot API methods the sandbox serves, with Telegram's checks, results and error texts.

Each method takes a ``Call`` (the sandbox, the authenticated bot, the parameters) and returns
the ``result`` of ``{"ok": true, "result": ...}`` or raises ``TelegramError``. Method names are
case-insensitive, as in Telegram.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import requests

from webapp.sandbox import messages
from webapp.sandbox.errors import (
    BLOCKED,
    CHAT_NOT_FOUND,
    TelegramError,
    bad_request,
    conflict,
    forbidden,
    too_many_requests,
)
from webapp.sandbox.media import guess_mime, image_size
from webapp.sandbox.params import Params, Upload
from webapp.sandbox.store import MAX_POLL_TIMEOUT, KnownBot, Sandbox, bot_user_json, chat_json, now

MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile refuses bigger files, as Telegram's cloud Bot API does
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


@dataclass
class Call:
    sb: Sandbox
    bot: dict
    p: Params
    member: tuple[dict | None, bool] | None = None  # chat_id's chat_member, read with the bot when known

    def chat(self, *, check_blocked: bool = True) -> dict:
        """The user whose private chat ``chat_id`` names; 400 when there is none, 403 when blocked."""
        raw = self.p.raw("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        user, blocked = self.member if self.member is not None else self.sb.chat_member(self.bot, raw)
        if user is None:
            raise bad_request(CHAT_NOT_FOUND)
        if check_blocked and blocked:
            raise forbidden(BLOCKED)
        return user

    def charge(self, user: dict) -> None:
        verdict = self.sb.take_send_slot(self.bot, user["id"])
        if not verdict.allowed:
            raise too_many_requests(verdict.retry_after)

    def markup(self, *, inline_only: bool = False) -> dict | None:
        return messages.check_markup(self.p.json("reply_markup", messages.MARKUP_ERROR), inline_only=inline_only)

    def reply_to(self, user: dict) -> dict | None:
        params = self.p.json("reply_parameters", "can't parse reply parameters JSON object")
        if isinstance(params, dict):
            message_id, allow = params.get("message_id"), bool(params.get("allow_sending_without_reply"))
        else:
            message_id = self.p.integer("reply_to_message_id")
            allow = self.p.boolean("allow_sending_without_reply")
        if message_id in (None, 0):
            return None
        record = self.sb.message(self.bot, user["id"], message_id)
        if record is None and not allow:
            raise bad_request("message to be replied not found")
        return messages.quoted(record)


Method = Callable[[Call], Any]
METHODS: dict[str, Method] = {}


def method(*names: str) -> Callable[[Method], Method]:
    def register(func: Method) -> Method:
        for name in names:
            METHODS[name.lower()] = func
        return func

    return register


def dispatch(sb: Sandbox, bot: dict, name: str, params: Params, member: tuple[dict | None, bool] | None = None) -> Any:
    """Run the method; ``member``: ``sb.chat_member(bot, params' chat_id)`` when already read."""
    func = METHODS.get(name.lower())
    if func is None:
        raise TelegramError(404, "Not Found")
    return func(Call(sb, bot, params, member))


# --- identity and updates ---------------------------------------------------------------------


@method("getMe")
def get_me(call: Call) -> dict:
    return {
        **bot_user_json(call.bot),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@method("getUpdates")
def get_updates(call: Call) -> list[dict]:
    if call.bot.get("webhook_url"):
        raise conflict(
            "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
        )
    allowed = call.p.json("allowed_updates", "can't parse allowed_updates JSON object")
    if allowed is not None:
        if not isinstance(allowed, list):
            raise bad_request("can't parse allowed_updates JSON object")
        call.sb.set_bot_field(call.bot, allowed_updates=json.dumps(allowed) if allowed else None)
    offset = call.p.integer("offset", 0)
    limit = min(max(call.p.integer("limit", 100), 1), 100)
    timeout = min(max(call.p.integer("timeout", 0), 0), MAX_POLL_TIMEOUT)
    return call.sb.get_updates(call.bot, offset, limit, timeout)


@method("setWebhook")
def set_webhook(call: Call) -> bool:
    url = (call.p.text("url") or "").strip()
    if not url:
        return _delete_webhook(call)
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = call.p.text("secret_token")
    if secret is not None and not _SECRET.match(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = call.p.integer("max_connections", 40)
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = call.p.json("allowed_updates", "can't parse allowed_updates JSON object")
    if call.p.boolean("drop_pending_updates"):
        call.sb.clear_updates(call.bot)
    was_set = call.bot.get("webhook_url") == url
    call.sb.set_bot_field(
        call.bot,
        webhook_url=url,
        webhook_secret=secret,
        webhook_max_connections=max_connections,
        allowed_updates=json.dumps(allowed) if allowed else None,
        webhook_last_error_date=None,
        webhook_last_error_message=None,
    )
    call.sb.end_polling(call.bot)
    if call.sb.on_update:
        call.sb.on_update(call.sb, call.bot)  # deliver what is already pending
    return _described(True, "Webhook is already set" if was_set else "Webhook was set")


@method("deleteWebhook")
def delete_webhook(call: Call) -> bool:
    return _delete_webhook(call)


def _delete_webhook(call: Call):
    was_set = bool(call.bot.get("webhook_url"))
    if call.p.boolean("drop_pending_updates"):
        call.sb.clear_updates(call.bot)
    call.sb.set_bot_field(
        call.bot, webhook_url=None, webhook_secret=None, webhook_last_error_date=None, webhook_last_error_message=None
    )
    return _described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")


@method("getWebhookInfo")
def get_webhook_info(call: Call) -> dict:
    bot = call.bot
    info: dict[str, Any] = {
        "url": bot.get("webhook_url", ""),
        "has_custom_certificate": False,
        "pending_update_count": call.sb.pending_count(bot),
    }
    if bot.get("webhook_url"):
        info["max_connections"] = int(bot.get("webhook_max_connections") or 40)
        if bot.get("allowed_updates"):
            info["allowed_updates"] = json.loads(bot["allowed_updates"])
        if bot.get("webhook_last_error_date"):
            info["last_error_date"] = int(bot["webhook_last_error_date"])
            info["last_error_message"] = bot.get("webhook_last_error_message", "")
    return info


class _Described:
    """A result with Telegram's ``description`` next to it (setWebhook and deleteWebhook have one)."""

    def __init__(self, result: Any, description: str) -> None:
        self.result = result
        self.description = description


def _described(result: Any, description: str) -> _Described:
    return _Described(result, description)


def envelope(result: Any) -> dict:
    if isinstance(result, _Described):
        return {"ok": True, "result": result.result, "description": result.description}
    return {"ok": True, "result": result}


# --- sending ----------------------------------------------------------------------------------


@method("sendMessage")
def send_message(call: Call) -> dict:
    user = call.chat()
    content = _text_content(call.p)
    markup, reply_to = call.markup(), call.reply_to(user)
    return messages.bot_message(call.sb, call.bot, user, content, markup, reply_to, charge=True)


def _text_content(p: Params) -> dict:
    text, entities = messages.formatted(
        p.text("text"),
        p.text("parse_mode"),
        p.json("entities", "can't parse entities JSON object"),
        limit=messages.MAX_TEXT,
        empty="message text is empty",
        too_long="message is too long",
    )
    return {"text": text, **({"entities": entities} if entities else {})}


def send_message_known(sb: Sandbox, bot: KnownBot, p: Params) -> dict | None:
    """``send_message`` for a bot this process knows, in one Redis round trip (a broadcast's every
    message), or None when ``dispatch`` must answer it: a reply (its message is read first), a chat_id
    that is not a plain number, anything the text or the keyboard is refused for (Telegram checks the
    chat first, and only the long way reads it first). Whatever it answers, send_message would too."""
    raw = p.raw("chat_id")
    if type(raw) is int:
        chat_id = raw
    elif type(raw) is str and raw.isascii() and raw.isdigit():
        chat_id = int(raw)
    else:
        return None
    if "reply_parameters" in p.values or "reply_to_message_id" in p.values:
        return None
    try:
        content = _text_content(p)
        markup = messages.check_markup(p.json("reply_markup", messages.MARKUP_ERROR))
    except TelegramError:
        return None
    return messages.known_bot_message(sb, bot, chat_id, content, markup)


def _caption(call: Call) -> dict:
    caption = call.p.text("caption")
    if not caption:
        return {}
    text, entities = messages.formatted(
        caption,
        call.p.text("parse_mode"),
        call.p.json("caption_entities", "can't parse entities JSON object"),
        limit=messages.MAX_CAPTION,
        empty="message caption is empty",
        too_long="message caption is too long",
    )
    return {"caption": text, **({"caption_entities": entities} if entities else {})}


def _send_media(call: Call, kind: str) -> dict:
    user = call.chat()
    given = call.p.file(kind)
    if given is None:
        raise bad_request(f"there is no {kind} in the request")
    caption, markup, reply_to = _caption(call), call.markup(), call.reply_to(user)
    if isinstance(given, str):
        meta = _existing_file(call, kind, given)
        call.charge(user)
        if meta is None:
            meta = _fetch_url(call, kind, given)
    else:
        extra = _upload_extra(call, kind, given)
        call.charge(user)
        meta = call.sb.store_file(
            call.bot,
            kind,
            given.content,
            file_name=given.file_name if kind in ("document", "audio") else None,
            mime_type=extra.pop("mime_type", None),
            extra=extra,
        )
    content = {kind: messages.file_object(meta), **caption}
    return messages.bot_message(call.sb, call.bot, user, content, markup, reply_to)


def _upload_extra(call: Call, kind: str, upload: Upload) -> dict:
    if not upload.content:
        raise bad_request("file must be non-empty")
    if kind == "photo":
        size = image_size(upload.content)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        return {"width": size[1], "height": size[2]}
    extra: dict[str, Any] = {}
    if kind == "document":
        extra["mime_type"] = guess_mime(upload.file_name, upload.mime_type)
    elif kind == "voice":
        extra["mime_type"] = guess_mime(None, upload.mime_type, "audio/ogg")
        extra["duration"] = call.p.integer("duration", 0)
    else:
        extra["mime_type"] = guess_mime(upload.file_name, upload.mime_type, "audio/mpeg")
        extra["duration"] = call.p.integer("duration", 0)
        for field in ("title", "performer"):
            if call.p.text(field):
                extra[field] = call.p.text(field)
    return extra


def _existing_file(call: Call, kind: str, file_id: str) -> dict | None:
    """A file_id this bot already has; None for an HTTP URL (fetched after the limit check)."""
    if file_id.startswith(("http://", "https://")):
        return None
    meta = call.sb.file(call.bot, file_id)
    if meta is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if meta["kind"] != kind:
        raise bad_request("type of file mismatch")
    return meta


def _fetch_url(call: Call, kind: str, url: str) -> dict:
    """Telegram downloads a file given by URL itself; so does the sandbox (within its size limit)."""
    try:
        response = requests.get(url, timeout=10, stream=True)
        content = response.raw.read(MAX_DOWNLOAD + 1, decode_content=True) if response.ok else b""
        mime_type = response.headers.get("Content-Type", "").split(";")[0] or None
    except requests.RequestException:
        content, mime_type = b"", None
    if not content or len(content) > MAX_DOWNLOAD:
        raise bad_request("failed to get HTTP URL content")
    name = urlparse(url).path.rsplit("/", 1)[-1] or None
    upload = Upload(content, name, mime_type)
    extra = _upload_extra(call, kind, upload)
    return call.sb.store_file(
        call.bot,
        kind,
        content,
        file_name=name if kind in ("document", "audio") else None,
        mime_type=extra.pop("mime_type", None),
        extra=extra,
    )


# sendDocument, sendPhoto, sendVoice, sendAudio: one flow, the file's kind is the parameter name.
for _kind in ("document", "photo", "voice", "audio"):
    method(f"send{_kind.title()}")(functools.partial(_send_media, kind=_kind))


@method("sendChatAction")
def send_chat_action(call: Call) -> bool:
    user = call.chat()
    action = call.p.text("action")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong type of action")
    call.sb.set_chat_action(call.bot, user["id"], action)
    return True


# --- editing and deleting ---------------------------------------------------------------------


def _editable(call: Call, user: dict) -> dict:
    if call.p.raw("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")  # the sandbox has no inline mode
    message_id = call.p.integer("message_id", error="message to edit not found")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    record = call.sb.message(call.bot, user["id"], message_id)
    if record is None:
        raise bad_request("message to edit not found")
    if not record.get("from_bot"):
        raise bad_request("message can't be edited")
    return record


NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a current "
    "content and reply markup of the message"
)


def _save_edit(call: Call, user: dict, record: dict, changes: dict, markup: dict | None) -> dict:
    message = dict(record["message"])
    old_markup = message.get("reply_markup")
    if all(message.get(k) == v for k, v in changes.items()) and old_markup == markup:
        raise bad_request(NOT_MODIFIED)
    for field, value in changes.items():
        if value is None:
            message.pop(field, None)
        else:
            message[field] = value
    if markup is None:
        message.pop("reply_markup", None)  # an edit without reply_markup removes the inline keyboard
    else:
        message["reply_markup"] = markup
    message["edit_date"] = now()
    kept = record.get("markup") if markup is None and "inline_keyboard" not in (record.get("markup") or {}) else markup
    call.sb.put_message(call.bot, user["id"], {**record, "message": message, "markup": kept})
    return message


@method("editMessageText")
def edit_message_text(call: Call) -> dict:
    user = call.chat(check_blocked=False)
    record = _editable(call, user)
    if "text" not in record["message"]:
        raise bad_request("there is no text in the message to edit")
    text, entities = messages.formatted(
        call.p.text("text"),
        call.p.text("parse_mode"),
        call.p.json("entities", "can't parse entities JSON object"),
        limit=messages.MAX_TEXT,
        empty="message text is empty",
        too_long="MESSAGE_TOO_LONG",
    )
    markup = call.markup(inline_only=True)
    return _save_edit(call, user, record, {"text": text, "entities": entities or None}, markup)


@method("editMessageCaption")
def edit_message_caption(call: Call) -> dict:
    user = call.chat(check_blocked=False)
    record = _editable(call, user)
    if "text" in record["message"]:
        raise bad_request("there is no caption in the message to edit")
    caption = _caption(call)
    markup = call.markup(inline_only=True)
    changes = {"caption": caption.get("caption"), "caption_entities": caption.get("caption_entities")}
    return _save_edit(call, user, record, changes, markup)


@method("editMessageReplyMarkup")
def edit_message_reply_markup(call: Call) -> dict:
    user = call.chat(check_blocked=False)
    record = _editable(call, user)
    return _save_edit(call, user, record, {}, call.markup(inline_only=True))


@method("deleteMessage")
def delete_message(call: Call) -> bool:
    user = call.chat(check_blocked=False)
    message_id = call.p.integer("message_id", error="message to delete not found")
    if message_id is None or not call.sb.delete_message(call.bot, user["id"], message_id):
        raise bad_request("message to delete not found")
    return True


@method("answerCallbackQuery")
def answer_callback_query(call: Call) -> bool:
    query = call.sb.callback_query(call.bot, call.p.text("callback_query_id") or "")
    if query is None or query["answered"]:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = call.p.text("text")
    if text and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    call.sb.answer_callback_query(call.bot, query, text, call.p.boolean("show_alert"), call.p.text("url"))
    return True


# --- files, chats, commands -------------------------------------------------------------------


@method("getFile")
def get_file(call: Call) -> dict:
    file_id = call.p.text("file_id")
    if not file_id:
        raise bad_request("file_id is empty")
    meta = call.sb.file(call.bot, file_id)
    if meta is None:
        raise bad_request("invalid file_id")
    if meta["file_size"] > MAX_DOWNLOAD:
        raise bad_request("file is too big")
    return {k: meta[k] for k in ("file_id", "file_unique_id", "file_size", "file_path")}


@method("getChat")
def get_chat(call: Call) -> dict:
    user = call.chat(check_blocked=False)
    return {**chat_json(user), "accent_color_id": 0, "max_reaction_count": 11}


def _scope_key(call: Call) -> tuple[str, str]:
    scope = call.p.json("scope", "can't parse BotCommandScope JSON object") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise bad_request("can't parse BotCommandScope JSON object")
    return json.dumps(scope, sort_keys=True), call.p.text("language_code") or ""


@method("setMyCommands")
def set_my_commands(call: Call) -> bool:
    commands = call.p.json("commands", "can't parse commands JSON object")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND.match(str(command.get("command", "")).lstrip("/")):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("command description must be non-empty")
    cleaned = [{"command": str(c["command"]).lstrip("/"), "description": str(c["description"])} for c in commands]
    scope, language = _scope_key(call)
    call.sb.set_commands(call.bot, scope, language, cleaned)
    return True


@method("getMyCommands")
def get_my_commands(call: Call) -> list[dict]:
    scope, language = _scope_key(call)
    return call.sb.commands(call.bot, scope, language)


@method("deleteMyCommands")
def delete_my_commands(call: Call) -> bool:
    scope, language = _scope_key(call)
    call.sb.set_commands(call.bot, scope, language, None)
    return True
