"""The bot worker: one TeleBot per enabled bot, each long-polling in its own thread.

- Every update is handled in an app context of its own, behind ``UpdateMiddleware`` (account,
  language, counters, commit/rollback; the handler's replies go out after the commit, held on that
  context's ``g``, so threads never share them). Updates of one chat are handled one after another, in
  order; different chats in parallel (telebot's thread pool alone would let a user's second
  message overtake the first).
- A handler that raises, a network error or a Telegram error never stops polling: it is logged
  (with the update id) and polling goes on with a back-off.
- No update is handled twice across a restart: see ``botworker.ledger``.
- SIGTERM/SIGINT: polling stops, in-flight handlers finish, then the process exits.
- Bots are re-read every few seconds, so a bot enabled, added or changed in the console is
  picked up (and a disabled one stopped) without restarting the worker.
"""

from __future__ import annotations

import logging
import math
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, g
from telebot import TeleBot, apihelper, custom_filters, types
from telebot.states.sync.middleware import StateMiddleware
from telebot.util import update_types

from botworker import common, registry, startup, transport
from botworker.ledger import UpdateLedger
from botworker.middleware import UpdateMiddleware, chat_id_of, fail_update
from botworker.storage import AppRedisStateStorage
from webapp import metrics
from webapp.extensions import db
from webapp.telegram import botapi
from webapp.telegram.models import Bot, BotMode
from webapp.telegram.ratelimit import SendLimiter
from webapp.telegram.send import limiter_key
from webapp.telegram.tokens import decrypt_token, fingerprint

log = logging.getLogger("botworker")

UPDATE_ID_ATTR = "botdesk_update_id"
DEFAULT_POLL_TIMEOUT = 10  # seconds a getUpdates long poll waits (stop() cuts it short)
RELOAD_SECONDS = 10
# Handlers spend most of their time waiting (database, a send slot, the network), so the pool grows
# with the bot's send limit until it can keep every send slot busy (Little's law: about a quarter
# second of handling per update); bounded below the database pool's 15 connections.
MIN_HANDLER_THREADS, MAX_HANDLER_THREADS = 4, 12
SHUTDOWN_GRACE = 30


@dataclass(frozen=True)
class BotSpec:
    """What the worker needs to serve a bot, read once from its row (no session needed afterwards)."""

    id: int
    name: str
    vertical: str
    token: str
    is_sandbox: bool
    rate_limit_per_second: int
    mode: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.token)

    @classmethod
    def of(cls, bot: Bot) -> BotSpec:
        return cls(
            id=bot.id,
            name=bot.name,
            vertical=bot.vertical,
            token=decrypt_token(bot),
            is_sandbox=bot.is_sandbox,
            rate_limit_per_second=bot.rate_limit_per_second or 30,
            mode=bot.mode,
        )


def handler_threads(per_second: float) -> int:
    return max(MIN_HANDLER_THREADS, min(MAX_HANDLER_THREADS, math.ceil(per_second / 4)))


class _LogOnlyExceptionHandler:
    """Handler exceptions reach UpdateMiddleware.post_process, which logs them with the update id."""

    def handle(self, exception: Exception) -> bool:
        return True


class BotdeskTeleBot(TeleBot):
    """A TeleBot bound to a Flask app and a Bot row (see the module docstring)."""

    def __init__(self, spec: BotSpec, app: Flask, claim: Callable[[int], bool] | None = None) -> None:
        client = app.extensions["botdesk_redis"]
        super().__init__(
            spec.token,
            threaded=True,
            num_threads=handler_threads(spec.rate_limit_per_second),
            use_class_middlewares=True,
            state_storage=AppRedisStateStorage(client),
            exception_handler=_LogOnlyExceptionHandler(),
            validate_token=False,
        )
        self.app = app
        self.spec = spec
        self.claim = claim
        self._chains: dict[Any, deque] = {}
        self._chains_lock = threading.Lock()
        self._inflight = 0
        self._idle = threading.Condition()

    # -- updates ------------------------------------------------------------------------------------

    def process_new_updates(self, updates: list[types.Update]) -> None:
        fresh = []
        for update in updates:
            if self.claim is not None and not self.claim(update.update_id):
                log.warning("bot %s: update %s was handled already; skipped", self.spec.name, update.update_id)
                continue
            for field in update_types:
                part = getattr(update, field, None)
                if part is not None:
                    setattr(part, UPDATE_ID_ATTR, update.update_id)
            fresh.append(update)
        if fresh:
            super().process_new_updates(fresh)

    def _run_middlewares_and_handler(self, message, handlers, middlewares, update_type) -> None:
        with self.app.app_context():
            g.botdesk_update_id = getattr(message, UPDATE_ID_ATTR, None)
            g.botdesk_bot_id = self.spec.id
            try:
                super()._run_middlewares_and_handler(message, handlers, middlewares, update_type)
            except Exception as exc:  # a filter or middleware failed: same treatment as a handler error
                fail_update(self, message, exc)
            finally:
                metrics.count("updates", self.spec.name)

    # -- per-chat ordering and shutdown ------------------------------------------------------------

    def _exec_task(self, task, *args, **kwargs) -> None:
        key = chat_id_of(args[0]) if args else None
        with self._idle:
            self._inflight += 1
        if key is None:
            self.worker_pool.put(self._run_task, task, args, kwargs)
            return
        with self._chains_lock:
            chain = self._chains.get(key)
            if chain is not None:  # this chat's earlier update is still being handled: queue behind it
                chain.append((task, args, kwargs))
                return
            self._chains[key] = deque([(task, args, kwargs)])
        self.worker_pool.put(self._run_chain, key)

    def _run_chain(self, key) -> None:
        while True:
            with self._chains_lock:
                chain = self._chains[key]
                if not chain:
                    del self._chains[key]
                    return
                task, args, kwargs = chain.popleft()
            self._run_task(task, args, kwargs)

    def _run_task(self, task, args, kwargs) -> None:
        try:
            task(*args, **kwargs)
        except Exception:
            log.exception("bot %s: task failed", self.spec.name)
        finally:
            with self._idle:
                self._inflight -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every handed-out update has been handled; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._inflight > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    # -- conventions ---------------------------------------------------------------------------------

    def register_next_step_handler(self, *args, **kwargs):
        raise NotImplementedError("next-step handlers live in memory and die with the worker; use bot.set_state")

    def register_for_reply(self, *args, **kwargs):
        raise NotImplementedError("reply handlers live in memory and die with the worker; use bot.set_state")

    # -- files come from the bot's own Bot API server ------------------------------------------------

    def get_file_url(self, file_id: str | None) -> str:
        return transport.SENDER.route(self.token).file_template.format(self.token, self.get_file(file_id).file_path)

    def download_file(self, file_path: str) -> bytes:
        url = transport.SENDER.route(self.token).file_template.format(self.token, file_path)
        timeout = (apihelper.CONNECT_TIMEOUT, apihelper.READ_TIMEOUT)
        response = botapi.session().get(url, timeout=timeout, proxies=botapi.proxies_for(url))
        if response.status_code != 200:
            raise apihelper.ApiHTTPException("Download file", response)
        return response.content


def build_bot(
    app: Flask,
    spec: BotSpec,
    *,
    claim: Callable[[int], bool] | None = None,
    vertical: registry.VerticalBot | None = None,
    extra_handlers: Callable[[TeleBot], None] | None = None,
) -> BotdeskTeleBot:
    """A TeleBot for ``spec`` with the middleware, the common handlers and its vertical's handlers.

    ``vertical`` replaces the one found by the bot's vertical (tests, benchmarks);
    ``extra_handlers`` registers more handlers just before the common fallbacks.
    """
    transport.install()
    client = app.extensions["botdesk_redis"]
    template = botapi.api_url_template(spec.is_sandbox, app.config)
    route = transport.Route(template, SendLimiter(client), spec.rate_limit_per_second, bot=spec.name)
    transport.SENDER.add_route(spec.token, route)
    bot = BotdeskTeleBot(spec, app, claim)
    bot.route = route
    bot.setup_middleware(UpdateMiddleware(bot, spec.id))
    bot.setup_middleware(StateMiddleware(bot))
    bot.add_custom_filter(custom_filters.StateFilter(bot))
    bot.add_custom_filter(custom_filters.TextMatchFilter())
    vertical = vertical or registry.vertical_bot(spec.vertical)
    common.register_commands(bot, vertical)
    vertical.register_handlers(bot)
    if extra_handlers is not None:
        extra_handlers(bot)
    common.register_fallbacks(bot, vertical)
    return bot


def ledger_for(app: Flask, spec: BotSpec) -> UpdateLedger:
    return UpdateLedger(app.extensions["botdesk_redis"], limiter_key(spec.token))


class Poller:
    """Long-polls one bot in a thread until stopped; nothing it meets ends the loop."""

    def __init__(
        self,
        app: Flask,
        spec: BotSpec,
        *,
        poll_timeout: int = DEFAULT_POLL_TIMEOUT,
        vertical: registry.VerticalBot | None = None,
        extra_handlers: Callable[[TeleBot], None] | None = None,
    ) -> None:
        self.spec = spec
        self.poll_timeout = poll_timeout
        self.ledger = ledger_for(app, spec)
        self.bot = build_bot(app, spec, claim=self.ledger.claim_next, vertical=vertical, extra_handlers=extra_handlers)
        self.offset = self.ledger.last() + 1
        self.stopping = threading.Event()
        self.stopped = False
        self.thread = threading.Thread(target=self._loop, name=f"poll-{spec.name}", daemon=True)

    def start(self) -> Poller:
        self.thread.start()
        return self

    def _loop(self) -> None:
        delay = 0.5
        log.info("bot %s: polling from update %s", self.spec.name, self.offset)
        while not self.stopping.is_set():
            try:
                updates = self.bot.get_updates(
                    offset=self.offset, timeout=self.poll_timeout + 10, long_polling_timeout=self.poll_timeout
                )
            except Exception as exc:  # network, 409 (another poller/webhook), 401, 5xx: wait and go on
                if self.stopping.is_set():
                    break  # our own stop() cut the long poll short
                log.warning("bot %s: getUpdates failed (%s); retrying in %.1fs", self.spec.name, self._safe(exc), delay)
                self.stopping.wait(delay)
                delay = min(delay * 2, 30)
                continue
            delay = 0.5
            if not updates:
                continue
            self.offset = max(u.update_id for u in updates) + 1
            try:
                self.bot.process_new_updates(updates)
            except Exception:
                log.exception("bot %s: dispatching updates %s failed", self.spec.name, [u.update_id for u in updates])

    def _safe(self, exc: Exception) -> str:
        """An HTTP error's text carries the request URL, and the token is part of that URL."""
        return str(exc).replace(self.spec.token, "<token>")

    def _confirm(self, offset: int) -> None:
        """getUpdates with ``offset`` and no wait: Telegram forgets everything below it, and a long
        poll still waiting (ours) is ended with 409, exactly as a newer poller would end it."""
        template = transport.SENDER.route(self.spec.token).api_template
        try:  # timeout 0: telebot's get_updates cannot ask for that, so a raw call
            botapi.call(template, self.spec.token, "getUpdates", {"offset": offset, "limit": 1, "timeout": 0})
        except Exception as exc:
            log.info("bot %s: offset confirmation failed (%s); the ledger covers it", self.spec.name, self._safe(exc))

    def stop(self, grace: float = SHUTDOWN_GRACE) -> None:
        """Stop polling at once, let handlers finish, close the thread pool (a second call does nothing)."""
        if self.stopped:
            return
        self.stopped = True
        self.stopping.set()
        if self.thread.is_alive():
            offset = self.offset
            self._confirm(offset)
            self.thread.join(timeout=self.poll_timeout + 15)
            if self.offset != offset:  # the poll that was cut short had brought more updates
                self._confirm(self.offset)
        if not self.bot.wait_idle(grace):
            log.warning("bot %s: handlers still running after %ss; stopping anyway", self.spec.name, grace)
        self.bot.worker_pool.close()
        transport.SENDER.remove_route(self.spec.token, self.bot.route)  # a disabled bot's route would stay forever
        log.info("bot %s: stopped", self.spec.name)


def load_specs(app: Flask, name: str | None = None) -> list[BotSpec]:
    """The bots this worker serves: one by name, or every enabled polling bot (+ the environment's)."""
    from webapp.core.services import ServiceError
    from webapp.telegram.services import upsert_env_bot

    with app.app_context():
        if app.config.get("TELEGRAM_BOT_TOKEN"):
            try:
                upsert_env_bot()
                # Startup, outside any update, so no boundary commits it: this is its own unit of work.
                db.session.commit()
            except ServiceError as exc:
                db.session.rollback()
                log.error("TELEGRAM_BOT_TOKEN is set but its bot cannot be served: %s", exc.message)
        query = db.select(Bot).order_by(Bot.id)
        if name is not None:
            query = query.filter_by(name=name)
        else:
            query = query.filter_by(enabled=True, mode=BotMode.POLLING.value)
        specs = []
        for bot in db.session.scalars(query):
            try:
                specs.append(BotSpec.of(bot))
            except RuntimeError as exc:
                log.error("%s; skipped", exc)
        return specs


class BotRunner:
    """Serves a set of bots; ``run_forever`` adds signal handling and picks up console changes."""

    def __init__(self, app: Flask, name: str | None = None, poll_timeout: int = DEFAULT_POLL_TIMEOUT) -> None:
        self.app = app
        self.name = name
        self.poll_timeout = poll_timeout
        self.pollers: dict[int, Poller] = {}
        self.stopping = threading.Event()

    def reconcile(self) -> None:
        """Start bots that should run, stop those that should not (disabled, removed, token changed)."""
        wanted = {spec.id: spec for spec in load_specs(self.app, self.name)}
        for bot_id, poller in list(self.pollers.items()):
            spec = wanted.get(bot_id)
            if spec is None or spec != poller.spec:
                log.info("bot %s: configuration changed; stopping", poller.spec.name)
                poller.stop()
                del self.pollers[bot_id]
        for bot_id, spec in wanted.items():
            if bot_id not in self.pollers:
                if self.name is not None and spec.mode == BotMode.WEBHOOK.value:
                    log.warning("bot %s is in webhook mode: polling it anyway (delete-webhook to silence)", spec.name)
                self.pollers[bot_id] = Poller(self.app, spec, poll_timeout=self.poll_timeout).start()

    def run_forever(self, reload_seconds: float = RELOAD_SECONDS) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stopping.set())
        self.serve(reload_seconds)

    def serve(self, reload_seconds: float = RELOAD_SECONDS, api_wait: float = startup.API_WAIT_SECONDS) -> None:
        """Wait for the bots' Bot API servers, then serve until ``stopping`` is set."""
        specs = load_specs(self.app, self.name)
        if self.name is not None and not specs:
            raise SystemExit(f"no bot named {self.name!r}")
        templates = [botapi.api_url_template(spec.is_sandbox, self.app.config) for spec in specs]
        startup.wait_for_api(templates, self.stopping, api_wait)
        while not self.stopping.is_set():
            try:
                self.reconcile()
            except Exception:  # a database hiccup must not take the bots down
                log.exception("reading the bots failed; keeping the running ones")
            if not self.pollers:
                log.info("no enabled polling bots yet; checking again in %ss", reload_seconds)
            self.stopping.wait(reload_seconds)
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        pollers = list(self.pollers.values())
        for poller in pollers:  # stop all polls first, so the waits overlap
            poller.stopping.set()
        for poller in pollers:
            poller.stop()
        self.pollers.clear()
