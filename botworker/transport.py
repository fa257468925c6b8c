"""How every TeleBot of this process reaches its own Bot API server.

pyTelegramBotAPI keeps ``apihelper.API_URL`` in one module-global, but one worker may serve a
sandbox bot and a real one at once. So ``API_URL`` stays unset (telebot then builds
``https://api.telegram.org/bot<token>/<method>``) and ``apihelper.CUSTOM_REQUEST_SENDER`` — the hook
telebot calls for every request — re-targets each call by its token to the URL registered for that
bot. The same hook sends under the one policy of ``webapp.telegram.policy`` (the bot's and the
chat's limits shared through Redis with ``webapp.telegram.send``, 429 waited out, transient
failures retried, a 403 noted for the update's boundary to mark the account blocked), and holds a
handler's replies until its update commits (``HeldReplies``). File downloads are routed by
``BotdeskTeleBot`` (runner.py).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import requests
from flask import g, has_app_context
from telebot import apihelper

from webapp import metrics
from webapp.core.oncommit import on_commit
from webapp.telegram import botapi, policy
from webapp.telegram.ratelimit import SendLimiter
from webapp.telegram.send import limiter_key

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "https://api.telegram.org/bot"
SEND_METHODS = policy.SEND_METHODS
# What a handler tells the user: held until the update commits (see ``HeldReplies``). Everything
# else goes at once: reads (getFile, getMe, getChat…), whose answer the handler needs, the poll
# itself, and housekeeping such as setMyCommands or sendChatAction ("typing…").
HELD_METHODS = (SEND_METHODS - {"sendChatAction"}) | {
    "copyMessages",
    "forwardMessages",
    "editMessageText",
    "editMessageCaption",
    "editMessageMedia",
    "editMessageReplyMarkup",
    "editMessageLiveLocation",
    "stopMessageLiveLocation",
    "deleteMessage",
    "deleteMessages",
    "answerCallbackQuery",
    "answerInlineQuery",
    "setMessageReaction",
    "pinChatMessage",
    "unpinChatMessage",
}
HELD_KEY = "botdesk_held_replies"


@dataclass(frozen=True)
class Route:
    api_template: str
    limiter: SendLimiter | None = None
    per_second: float = 30
    bot: str = ""  # the bot's name, for metrics (never the token)

    @property
    def file_template(self) -> str:
        return botapi.file_url_template(self.api_template)


class RoutedSender:
    """``apihelper.CUSTOM_REQUEST_SENDER``: one Bot API server per token."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}
        self._lock = threading.Lock()

    def add_route(self, token: str, route: Route) -> None:
        with self._lock:
            self._routes[token] = route

    def remove_route(self, token: str, route: Route) -> None:
        """Forget a stopped bot's route, unless a newer bot with the same token replaced it."""
        with self._lock:
            if self._routes.get(token) is route:
                del self._routes[token]

    def __contains__(self, token: str) -> bool:
        return token in self._routes

    def route(self, token: str) -> Route:
        return self._routes.get(token) or Route(botapi.TELEGRAM_API_TEMPLATE)

    def __call__(self, method, url, params=None, files=None, timeout=None, proxies=None) -> requests.Response:
        if not url.startswith(DEFAULT_PREFIX):
            proxies = proxies or botapi.proxies_for(url)
            return botapi.session().request(method, url, params=params, files=files, timeout=timeout, proxies=proxies)
        token, _, api_method = url[len(DEFAULT_PREFIX) :].partition("/")
        call = Call(token, api_method, method, params, files, timeout, proxies)
        held = held_replies()
        if held is not None and held.holding and api_method in HELD_METHODS:
            return held.hold(call)
        return self.send_now(call)

    def send_now(self, call: Call) -> requests.Response:
        """Make ``call`` under the one send policy (``webapp.telegram.policy``); network errors raise."""
        route = self.route(call.token)
        target = route.api_template.format(call.token, call.api_method)
        proxies = call.proxies or botapi.proxies_for(target)

        def attempt() -> tuple[botapi.ApiReply, requests.Response]:
            response = botapi.session().request(
                call.method, target, params=call.params, files=call.files, timeout=call.timeout, proxies=proxies
            )
            _count(route, call.api_method, response.status_code)
            return botapi.ApiReply.from_response(response), response

        if call.api_method == "getUpdates":  # the poller has its own back-off, and stop() cuts it short
            return attempt()[1]
        limits = []
        chat_id = (call.params or {}).get("chat_id")
        if route.limiter is not None and call.api_method in SEND_METHODS:
            key = limiter_key(call.token)
            limits.append((route.limiter.bot_key(key), route.per_second))
            if chat_id is not None:
                limits.append(policy.chat_limit(route.limiter, key, chat_id))

        def rate_limited(retry_after: float) -> None:
            log.warning("429 on %s, retrying in %ss", call.api_method, retry_after)

        outcome = policy.deliver(
            attempt,
            route.limiter,
            limits,
            on_rate_limited=rate_limited,
            can_retry=(lambda: _rewind(call.files)) if call.files else None,
        )
        if outcome.reply is None:
            raise outcome.error
        if outcome.blocked and call.api_method in SEND_METHODS and chat_id is not None:
            _note_blocked(call.token, chat_id)
        return outcome.raw


def _count(route: Route, api_method: str, status: int) -> None:
    if route.limiter is None or api_method not in SEND_METHODS:
        return
    if status == 429:
        metrics.count("rate_limited", route.bot, client=route.limiter.client, path="bot")
    elif status == 200:
        metrics.count("sends", route.bot, client=route.limiter.client, path="bot")


def _rewind(files: dict) -> bool:
    """Uploads are re-sent on retry only when every file can be read again from the start."""
    for value in files.values():
        stream = value[1] if isinstance(value, tuple) else value
        if isinstance(stream, bytes | str):
            continue
        if not hasattr(stream, "seek"):
            return False
        stream.seek(0)
    return True


@dataclass(frozen=True)
class Call:
    """One Bot API request as telebot handed it to ``CUSTOM_REQUEST_SENDER``."""

    token: str
    api_method: str
    method: str
    params: dict | None
    files: dict | None
    timeout: Any
    proxies: Any


def held_replies() -> HeldReplies | None:
    """The current update's holder (set by ``UpdateMiddleware``), or None outside an update."""
    return g.get(HELD_KEY) if has_app_context() else None


def _note_blocked(token: str, chat_id: int | str) -> None:
    """A 403 on a send: the update's boundary marks the chat's account blocked (see ``HeldReplies``)."""
    held = held_replies()
    if held is not None and held.token == token:
        held.blocked.append(chat_id)
    else:
        log.info("403 from Telegram outside an update; nothing marked")


class HeldReplies:
    """One update's replies, held until its transaction commits, dropped if it rolls back.

    Each held call is registered with ``on_commit``, so it follows the transaction exactly: a
    savepoint that rolls back drops the replies made inside it, a commit in the middle of the handler
    releases those made before it, and a rollback drops the rest. ``release()`` (at the update's
    boundary, after the commit or the rollback) sends what was committed, in the order the handler
    sent it, and from then on this update's calls go out at once (the apology after a failure).

    A held call returns at once with a stand-in result (``_stand_in``), since the real answer only
    exists after the commit. Handlers do not use what a send returns (they edit the message they
    were given: ``call.message.message_id``); a stand-in Message has message_id 0.

    State lives on flask ``g``: one app context per update (``BotdeskTeleBot``), never shared
    between the worker's threads.
    """

    def __init__(self, sender: RoutedSender, token: str) -> None:
        self.sender = sender
        self.token = token
        self.holding = True
        self.committed: list[Call] = []
        self.blocked: list[int | str] = []  # chats whose send met a 403 during this update

    @classmethod
    def start(cls, token: str) -> HeldReplies:
        held = cls(SENDER, token)
        setattr(g, HELD_KEY, held)
        return held

    def hold(self, call: Call) -> requests.Response:
        if call.files:
            call = replace(call, files=_readable(call.files))  # a handler may close its file on return
        on_commit(partial(self.committed.append, call))
        return _stand_in_response(call)

    def release(self) -> None:
        """Send the committed replies in order; later calls of this update are not held."""
        self.holding = False
        calls, self.committed = self.committed, []
        for call in calls:
            try:
                response = self.sender.send_now(call)
            except Exception as exc:  # the change is committed; the reply is best effort, like any send
                log.warning("update %s: %s failed after the commit (%s)", g.get("botdesk_update_id"), call.api_method,
                            type(exc).__name__)  # fmt: skip
                continue
            if response.status_code != 200:
                log.warning("update %s: %s answered %s after the commit", g.get("botdesk_update_id"), call.api_method,
                            response.status_code)  # fmt: skip


def _readable(files: dict) -> dict:
    """``files`` with every stream read into bytes, so it can be sent after the handler returned."""
    copied = {}
    for name, value in files.items():
        if isinstance(value, tuple):
            stream = value[1]
            if hasattr(stream, "read"):
                value = (value[0], stream.read(), *value[2:])
        elif hasattr(value, "read"):
            value = (getattr(value, "name", None) or name, value.read())
        copied[name] = value
    return copied


def _stand_in(call: Call) -> Any:
    """What Telegram would answer, as far as telebot needs it to build its return value.

    ``types.Message.de_json`` needs message_id, date and chat (id, type); an edit of an inline
    message answers True; copyMessage a MessageId; sendMediaGroup a Message per item.
    """
    params = call.params or {}
    chat_id = params.get("chat_id")
    if call.api_method in SEND_METHODS or call.api_method.startswith("editMessage"):
        if chat_id is None:
            return True  # an inline message's edit
        chat = int(chat_id) if str(chat_id).lstrip("-").isdigit() else chat_id
        kind = "private" if isinstance(chat, int) and chat > 0 else "supergroup"
        message_id = int(params.get("message_id") or 0)  # an edit keeps its message's id
        message = {"message_id": message_id, "date": int(time.time()), "chat": {"id": chat, "type": kind}}
        if call.api_method == "copyMessage":
            return {"message_id": 0}
        if call.api_method == "sendMediaGroup":
            try:
                count = len(json.loads(params.get("media") or "[]"))
            except (TypeError, ValueError):
                count = 1
            return [message] * count
        return message
    if call.api_method in ("copyMessages", "forwardMessages"):
        return []
    return True


def _stand_in_response(call: Call) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.encoding = "utf-8"
    response._content = json.dumps({"ok": True, "result": _stand_in(call)}).encode()
    return response


SENDER = RoutedSender()


def install() -> RoutedSender:
    """Make telebot send through ``SENDER`` (idempotent)."""
    apihelper.API_URL = None
    apihelper.FILE_URL = None
    apihelper.CUSTOM_REQUEST_SENDER = SENDER
    return SENDER
