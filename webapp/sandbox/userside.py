"""What a sandbox user does in a chat: send a message of any kind, press an inline button."""

from __future__ import annotations

from webapp.sandbox import messages
from webapp.sandbox.media import guess_mime, image_size
from webapp.sandbox.schemas import CallbackIn, MessageIn
from webapp.sandbox.store import Sandbox, SandboxError, user_json


def active_member(sb: Sandbox, bot: dict, user_id: int) -> dict:
    """A user of this bot who can write to it (a user who blocked the bot must unblock it first)."""
    user = sb.member(bot, user_id)
    if user is None:
        raise SandboxError(404, f"user {user_id} has no chat with this bot")
    if sb.is_blocked(bot, user["id"]):
        raise SandboxError(409, f"user {user_id} has blocked the bot; unblock it first")
    return user


def send(sb: Sandbox, bot: dict, body: MessageIn) -> dict:
    user = active_member(sb, bot, body.user_id)
    reply_to = None
    if body.reply_to_message_id:
        reply_to = messages.quoted(sb.message(bot, user["id"], body.reply_to_message_id))
        if reply_to is None:
            raise SandboxError(404, f"message {body.reply_to_message_id} not found in this chat")
    content = _content(sb, bot, user, body)
    update_id, message_id = messages.user_message(sb, bot, user, content, reply_to)
    return {"update_id": update_id, "message_id": message_id}


def _content(sb: Sandbox, bot: dict, user: dict, body: MessageIn) -> dict:
    if body.text is not None:
        entities = messages.command_entities(body.text)
        return {"text": body.text, **({"entities": entities} if entities else {})}
    if body.contact is not None:
        contact = {
            "phone_number": body.contact.phone_number,
            "first_name": body.contact.first_name or user["first_name"],
        }
        if body.contact.last_name:
            contact["last_name"] = body.contact.last_name
        contact["user_id"] = body.contact.user_id or user["id"]
        return {"contact": contact}
    caption = {"caption": body.caption} if body.caption else {}
    if body.document is not None:
        doc = body.document
        meta = sb.store_file(
            bot, "document", doc.data(), file_name=doc.file_name, mime_type=guess_mime(doc.file_name, doc.mime_type)
        )
        return {"document": messages.file_object(meta), **caption}
    if body.photo is not None:
        data = body.photo.data()
        size = image_size(data)
        if size is None:
            raise SandboxError(400, "photo.content must be a PNG, JPEG, GIF or WebP image")
        meta = sb.store_file(bot, "photo", data, extra={"width": size[1], "height": size[2]})
        return {"photo": messages.file_object(meta), **caption}
    voice = body.voice
    meta = sb.store_file(
        bot,
        "voice",
        voice.data(),
        mime_type=guess_mime(None, voice.mime_type, "audio/ogg"),
        extra={"duration": voice.duration},
    )
    return {"voice": messages.file_object(meta), **caption}


def press(sb: Sandbox, bot: dict, body: CallbackIn) -> dict:
    """Press the inline button carrying ``data`` under a bot message: a callback_query update."""
    user = active_member(sb, bot, body.user_id)
    record = sb.message(bot, user["id"], body.message_id)
    if record is None:
        raise SandboxError(404, f"message {body.message_id} not found in this chat")
    if not any(b.get("callback_data") == body.data for b in messages.inline_buttons(record.get("markup"))):
        raise SandboxError(400, f"message {body.message_id} has no inline button with callback_data {body.data!r}")
    query_id = sb.new_callback_query(bot, user, body.message_id, body.data)
    update_id = sb.enqueue(
        bot,
        "callback_query",
        {
            "id": query_id,
            "from": user_json(user),
            "message": record["message"],
            "chat_instance": str((bot["id"] * 1_000_003 + user["id"]) % (2**62)),
            "data": body.data,
        },
    )
    return {"update_id": update_id, "callback_query_id": query_id}
