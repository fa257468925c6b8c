"""The class middleware every bot runs: who is writing, in which language, and one commit per update.

The app context of the update is pushed by ``BotdeskTeleBot`` around the whole of middleware +
handler (so even a failing filter cannot leak it). Here, before the handler: hold the update's
replies until it commits (``transport.HeldReplies``), load or create the sender's
``TelegramAccount``, refuse users whose account is blocked, set the locale, update last_seen and
seed 000's BotSession counters. After it: commit, then send the replies; or, when the handler
raised, roll back (its replies are dropped with its writes) and tell the user in their language —
a ServiceError's own message (a rule refused), anything else an apology. A send that met a 403
marks the chat's account blocked, as ``webapp.telegram.send`` does.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import g
from telebot import types
from telebot.handler_backends import BaseMiddleware, SkipHandler
from telebot.util import update_types

from botworker import texts
from botworker.context import use_language, user_language
from botworker.transport import HeldReplies, held_replies
from webapp.core.i18n import TRANSLATIONS_DIR, Catalog
from webapp.core.ratelimit import allow_update
from webapp.core.services import (
    ServiceError,
    count_message,
    ensure_telegram_account,
    find_telegram_account,
    normalize_language,
)
from webapp.extensions import db
from webapp.telegram.models import Bot
from webapp.telegram.send import mark_blocked

log = logging.getLogger("botworker")


def sender_of(obj: Any) -> types.User | None:
    user = getattr(obj, "from_user", None)
    return None if user is None or user.is_bot else user


def chat_id_of(obj: Any) -> int | None:
    """The chat a reply to ``obj`` goes to (messages, callback queries, chat member updates)."""
    chat = getattr(obj, "chat", None)
    if chat is None and isinstance(obj, types.CallbackQuery) and obj.message is not None:
        chat = obj.message.chat
    if chat is not None:
        return chat.id
    user = sender_of(obj)
    return user.id if user else None


class UpdateMiddleware(BaseMiddleware):
    def __init__(self, bot, bot_id: int) -> None:
        super().__init__()
        self.update_sensitive = False
        self.update_types = update_types
        self.bot = bot
        self.bot_id = bot_id

    def pre_process(self, obj: Any, data: dict) -> SkipHandler | None:
        HeldReplies.start(self.bot.token)
        g.botdesk_bot_id = self.bot_id
        user = sender_of(obj)
        if user is None:
            return None
        chat_id = chat_id_of(obj)
        first_contact = find_telegram_account(user.id, self.bot_id) is None
        account = ensure_telegram_account(
            self.bot_id,
            user.id,
            chat_id=chat_id if chat_id and chat_id > 0 else None,  # groups have negative ids
            username=user.username,
            first_name=user.first_name,
            last_name=user.last_name,
            language_code=user.language_code,
        )
        g.botdesk_account = account
        g.botdesk_first_contact = first_contact
        use_language(normalize_language(account.language or account.user.language))
        if isinstance(obj, types.Message):
            command = obj.content_type == "text" and (obj.text or "").startswith("/")
            count_message(account, voice=obj.content_type == "voice", command=command)
            if account.blocked_bot:  # writing to the bot again means they unblocked it
                account.blocked_bot = False
                account.blocked_at = None
        handle, notify = allow_update(self.bot_id, user.id)
        if not handle:
            log.info("update %s: account %s over the update rate limit", g.get("botdesk_update_id"), account.id)
            if notify:
                try:
                    self.answer(obj, texts.t("You are sending messages too fast. Please wait a moment and try again."))
                except Exception:  # the notice is a courtesy: a flood must never break polling
                    log.warning("update %s: could not send the slow-down notice", g.get("botdesk_update_id"))
            return SkipHandler()
        if not account.user.is_active:
            log.info("update %s: blocked account %s refused", g.get("botdesk_update_id"), account.id)
            self.answer(obj, texts.t("Your account is blocked. Please contact support."))
            return SkipHandler()
        return None

    def post_process(self, obj: Any, data: dict, exception: BaseException | None) -> None:
        if exception is None:
            try:
                db.session.commit()
            except Exception as exc:  # the commit itself failed: nothing of the update happened
                fail_update(self.bot, obj, exc)
                return
            finish_update()
            return
        if isinstance(exception, ServiceError):
            refuse_update(self.bot, obj, exception)
            return
        fail_update(self.bot, obj, exception)

    def answer(self, obj: Any, text: str) -> None:
        tell(self.bot, obj, text)


def tell(bot, obj: Any, text: str) -> None:
    """A short notice for the sender: an alert on a button press (a chat message if the press
    was already answered), else a message to the chat."""
    if isinstance(obj, types.CallbackQuery):
        try:
            bot.answer_callback_query(obj.id, text, show_alert=True)
            return
        except Exception:  # answered already (or expired): say it in the chat instead
            log.info("update %s: callback query already answered; telling the chat", g.get("botdesk_update_id"))
    chat_id = chat_id_of(obj)
    if chat_id is not None:
        bot.send_message(chat_id, text)


def finish_update() -> None:
    """After the update's commit (or rollback): send the replies that were committed, in order, and
    mark the chats whose send met a 403 as having blocked the bot (committed on their own)."""
    held = held_replies()
    if held is None:
        return
    held.release()
    _mark_blocked(held)


def _mark_blocked(held: HeldReplies) -> None:
    if not held.blocked:
        return
    chats, held.blocked = held.blocked, []
    try:
        bot = db.session.get(Bot, g.get("botdesk_bot_id"))
        if bot is not None:
            for chat_id in dict.fromkeys(chats):
                mark_blocked(bot, int(chat_id))
        # After the update's own commit, in a transaction of its own: the 403 came from a reply
        # that was sent once the update had committed.
        db.session.commit()
    except Exception:  # the replies went (or did not); losing the mark is not worth failing the update
        db.session.rollback()
        log.exception("update %s: could not mark a blocked chat", g.get("botdesk_update_id"))


_catalogs: dict[str, Catalog] = {}


def refusal_text(bot, message: str) -> str:
    """A ServiceError's message in the user's language: service messages are English msgids of the
    vertical's catalog (or the bot's, or the web's)."""
    vertical = getattr(getattr(bot, "spec", None), "vertical", None)
    for domain in (vertical, "bot", "messages"):
        if not domain or not any(Path(TRANSLATIONS_DIR).glob(f"*/LC_MESSAGES/{domain}.po")):
            continue
        catalog = _catalogs.get(domain) or _catalogs.setdefault(domain, Catalog(domain))
        text = catalog.for_language(user_language(), message)
        if text != message:
            return text
    return message


def refuse_update(bot, obj: Any, error: ServiceError) -> None:
    """A rule refused what the user asked: roll the update back and tell them why, in their language."""
    db.session.rollback()
    log.info("update %s refused: %s", g.get("botdesk_update_id"), error.code)  # the code: no user data
    held = held_replies()
    if held is not None:
        held.release()  # replies committed before the refusal (a commit mid-handler) still go, first
    if sender_of(obj) is not None:
        try:
            tell(bot, obj, "⚠️ " + refusal_text(bot, error.message))
        except Exception:  # best effort, as the apology
            log.exception("update %s: could not tell the user about the refusal", g.get("botdesk_update_id"))
    finish_update()


def fail_update(bot, obj: Any, exception: BaseException) -> None:
    """Roll the update's writes back (its held replies with them), log it with its update id, and tell
    the user politely — at once, since the transaction the apology would wait for never commits."""
    db.session.rollback()
    held = held_replies()
    if held is not None:
        held.release()
    log.error(
        "update %s (bot %s) failed: %s",
        g.get("botdesk_update_id"),
        g.get("botdesk_bot_id"),
        type(exception).__name__,  # the line stays free of what the user wrote; the traceback is below
        exc_info=(type(exception), exception, exception.__traceback__),
    )
    if sender_of(obj) is not None:
        try:
            tell(bot, obj, texts.t("Sorry, something went wrong. Please try again in a moment."))
        except Exception:  # the apology is best effort; the failure is already logged
            log.exception("update %s: could not tell the user about the failure", g.get("botdesk_update_id"))
    finish_update()
