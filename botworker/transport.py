"""How every TeleBot of this process reaches its own Bot API server.

pyTelegramBotAPI keeps ``apihelper.API_URL`` in one module-global, but one worker may serve a
sandbox bot and a real one at once. So ``API_URL`` stays unset (telebot then builds
``https://api.telegram.org/bot<token>/<method>``) and ``apihelper.CUSTOM_REQUEST_SENDER`` — the hook
telebot calls for every request — re-targets each call by its token to the URL registered for that
bot. The same hook applies the bot's global send limit (shared through Redis with
``webapp.telegram.send``) and waits out a 429's ``retry_after``, so handler replies never trip
Telegram's flood control either. File downloads are routed by ``BotdeskTeleBot`` (runner.py).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import requests
from telebot import apihelper

from webapp import metrics
from webapp.telegram import botapi
from webapp.telegram.ratelimit import SendLimiter
from webapp.telegram.send import limiter_key

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "https://api.telegram.org/bot"
# Methods that deliver a message count against the bot's messages-per-second limit.
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
MAX_RETRIES_429 = 5


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
        route = self.route(token)
        target = route.api_template.format(token, api_method)
        proxies = proxies or botapi.proxies_for(target)
        lane = None
        if route.limiter is not None and api_method in SEND_METHODS:
            lane = route.limiter.bot_key(limiter_key(token))
        for attempt in range(MAX_RETRIES_429 + 1):
            if lane is not None:
                route.limiter.wait([(lane, route.per_second)])
            response = botapi.session().request(
                method, target, params=params, files=files, timeout=timeout, proxies=proxies
            )
            _count(route, api_method, response.status_code)
            if response.status_code != 429 or api_method == "getUpdates" or attempt == MAX_RETRIES_429:
                return response
            if files and not _rewind(files):
                return response
            retry_after = botapi.ApiReply.from_response(response).retry_after or 1
            log.warning("429 on %s, retrying in %ss", api_method, retry_after)
            if lane is not None:
                route.limiter.penalize(lane, retry_after)
            else:
                time.sleep(retry_after)
        return response


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


SENDER = RoutedSender()


def install() -> RoutedSender:
    """Make telebot send through ``SENDER`` (idempotent)."""
    apihelper.API_URL = None
    apihelper.FILE_URL = None
    apihelper.CUSTOM_REQUEST_SENDER = SENDER
    return SENDER
