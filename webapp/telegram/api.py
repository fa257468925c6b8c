"""Webhook mode: Telegram POSTs updates here instead of the worker polling for them.

``POST /telegram/webhook/<bot name>`` checks ``X-Telegram-Bot-Api-Secret-Token`` against the bot's
webhook secret and hands the update to the same handlers and middleware the polling worker runs
(one TeleBot per web process per bot; handlers run on its thread pool, so the answer is fast).
Seed 000's ``/telegram/webhook/`` serves the finance bot. A malformed update is answered 200 and
logged — Telegram would otherwise re-send it forever — while a body that is not JSON gets 400.
"""

from __future__ import annotations

import hmac
import logging
import threading

from flask import Blueprint, current_app, jsonify, request

from webapp.core.apispec import spec
from webapp.core.errors import ApiError, not_found
from webapp.core.permissions import public
from webapp.core.schemas import responses
from webapp.extensions import db
from webapp.telegram.models import Bot, BotMode, Vertical
from webapp.telegram.schemas import WEBHOOK_ERRORS, WebhookAck, WebhookStatusOut

bp = Blueprint("telegram_api", __name__)
log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

_bots: dict[int, object] = {}
_bots_lock = threading.Lock()


def _webhook_bot(bot: Bot):
    """This process's TeleBot for ``bot``, rebuilt when its token or settings change."""
    from botworker.runner import BotSpec, build_bot, ledger_for

    spec = BotSpec.of(bot)
    with _bots_lock:
        telebot = _bots.get(bot.id)
        if telebot is None or telebot.spec != spec:
            if telebot is not None:  # settings changed: the old one finishes its handlers, then goes
                threading.Thread(target=telebot.worker_pool.close, daemon=True).start()
            app = current_app._get_current_object()
            telebot = build_bot(app, spec, claim=ledger_for(app, spec).claim_once)
            _bots[bot.id] = telebot
    return telebot


def _finance_bot() -> Bot | None:
    """Seed 000's single webhook: the environment's bot when it is a finance bot, else the first one."""
    return db.session.scalar(
        db.select(Bot)
        .where(Bot.vertical == Vertical.FINANCE.value, Bot.enabled.is_(True))
        .order_by((Bot.mode != BotMode.WEBHOOK.value), (Bot.name != "default"), Bot.id)
        .limit(1)
    )


def _receive(bot: Bot | None):
    if bot is None or not bot.enabled:
        raise not_found("Bot")
    given = request.headers.get(SECRET_HEADER, "")
    if not bot.webhook_secret or not hmac.compare_digest(given.encode(), bot.webhook_secret.encode()):
        raise ApiError(403, "Wrong or missing secret token", "FORBIDDEN")
    body = request.get_json(silent=True, force=True)
    if body is None:
        raise ApiError(400, "Request body is not valid JSON", "BAD_REQUEST")
    update = None
    if isinstance(body, dict):
        # Imported on the first update: RQ workers, cron and polling-mode web processes never need it.
        from telebot import types

        try:
            update = types.Update.de_json(body)
        except Exception as exc:  # Telegram would re-send a refused update forever: accept and log it
            # the exception's text may quote the update (a customer's message): its type only
            log.warning("bot %s: malformed webhook update ignored (%s)", bot.name, type(exc).__name__)
    if update is None or not isinstance(update.update_id, int):
        log.warning("bot %s: webhook body is not a Telegram update (%s)", bot.name, type(body).__name__)
        return jsonify("OK")
    try:
        _webhook_bot(bot).process_new_updates([update])
    except Exception:
        log.exception("bot %s: webhook update %s could not be dispatched", bot.name, update.update_id)
    return jsonify("OK")


@bp.post("/telegram/webhook/<name>")
@public
@spec.validate(resp=responses(WebhookAck, errors=WEBHOOK_ERRORS), tags=["telegram"])
def webhook(name: str):
    """Telegram update for the bot ``name`` (secret in X-Telegram-Bot-Api-Secret-Token); 200 "OK"."""
    return _receive(db.session.scalar(db.select(Bot).filter_by(name=name)))


@bp.post("/telegram/webhook/")
@public
@spec.validate(resp=responses(WebhookAck, errors=WEBHOOK_ERRORS), tags=["telegram"])
def finance_webhook():
    """Seed 000's webhook: a Telegram update for the finance bot; 200 "OK"."""
    return _receive(_finance_bot())


@bp.get("/telegram/webhook/")
@public
@spec.validate(resp=responses(WebhookStatusOut), tags=["telegram"])
def webhook_status():
    """Seed 000's webhook check: is a finance bot set up to receive updates here."""
    bot = _finance_bot()
    return jsonify(
        {
            "status": "ok" if bot is not None else "no_bot",
            "bot": f"@{bot.username}" if bot is not None and bot.username else None,
            "mode": bot.mode if bot is not None else None,
        }
    )
