"""Webhook delivery: each queued update is POSTed to the bot's URL, in order, until it is accepted.

Delivery runs in a daemon thread of whichever process queued the update. A Redis lock per bot
makes one deliverer at a time across all processes (updates stay in order and are sent once);
the lock holder keeps going until the queue is empty, and re-checks after letting go so an
update queued at that moment is not stranded. A refused or failed delivery is retried with a
growing pause, and getWebhookInfo reports the last error, as Telegram does.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid

import requests

from webapp.sandbox.store import Sandbox, key, now

log = logging.getLogger(__name__)
LOCK_MS = 60_000
TIMEOUT = 10
MAX_BACKOFF = 15

_running: set[int] = set()
_guard = threading.Lock()
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


def kick(sb: Sandbox, bot: dict) -> None:
    """Make sure someone delivers this bot's pending updates (this process, unless another does)."""
    with _guard:
        if bot["id"] in _running:
            return
        _running.add(bot["id"])
    thread = threading.Thread(target=_run, args=(sb, bot["id"]), name=f"sandbox-webhook-{bot['id']}", daemon=True)
    thread.start()


def _run(sb: Sandbox, bot_id: int) -> None:
    try:
        while _deliver_while_locked(sb, bot_id):
            pass
    except Exception:  # a daemon thread must not die silently; the next update kicks a new one
        log.exception("sandbox webhook delivery for bot %s failed", bot_id)
    finally:
        with _guard:
            _running.discard(bot_id)
    # An update queued after our last look but before we left _running found us still "running"
    # and did not start a deliverer; look once more so it is not stranded until the next update.
    try:
        bot = sb.bot(bot_id)
        if bot and bot.get("webhook_url") and sb.pending_count(bot):
            kick(sb, bot)
    except Exception:
        log.exception("sandbox webhook re-check for bot %s failed", bot_id)


def _deliver_while_locked(sb: Sandbox, bot_id: int) -> bool:
    """Deliver until the queue is empty; True when it should run again (work arrived meanwhile)."""
    lock, me = key("bot", bot_id, "delivering"), uuid.uuid4().hex
    if not sb.r.set(lock, me, nx=True, px=LOCK_MS):
        return False  # another process is delivering and will see our update
    try:
        failures = 0
        while True:
            bot = sb.bot(bot_id)
            if bot is None or not bot.get("webhook_url"):
                return False
            pending = sb.pending_updates(bot, 1)
            if not pending:
                break
            sb.r.pexpire(lock, LOCK_MS)
            if _post(sb, bot, pending[0]):
                failures = 0
                sb.drop_update(bot, pending[0]["update_id"])
            else:
                failures += 1
                time.sleep(min(2 ** (failures - 1), MAX_BACKOFF))
                sb.r.pexpire(lock, LOCK_MS)
    finally:
        sb.r.eval(_RELEASE, 1, lock, me)
    bot = sb.bot(bot_id)
    return bool(bot and bot.get("webhook_url") and sb.pending_count(bot))


def _post(sb: Sandbox, bot: dict, update: dict) -> bool:
    headers = {"Content-Type": "application/json"}
    if bot.get("webhook_secret"):
        headers["X-Telegram-Bot-Api-Secret-Token"] = bot["webhook_secret"]
    try:
        response = requests.post(bot["webhook_url"], json=update, headers=headers, timeout=TIMEOUT)
    except requests.RequestException as exc:
        error = f"Connection error: {exc.__class__.__name__}"
    else:
        if 200 <= response.status_code < 300:
            if bot.get("webhook_last_error_date"):
                sb.set_bot_field(bot, webhook_last_error_date=None, webhook_last_error_message=None)
            return True
        error = f"Wrong response from the webhook: {response.status_code} {response.reason}"
    sb.set_bot_field(bot, webhook_last_error_date=now(), webhook_last_error_message=error)
    return False
