"""The pieces under the sender: text splitting, the Redis slot limiter, the update ledger."""

from __future__ import annotations

import time

import pytest

from botworker.ledger import UpdateLedger
from webapp.telegram.ratelimit import SendLimiter, interval_us
from webapp.telegram.send import TEXT_LIMIT, split_text, telegram_length


def test_short_text_is_one_part():
    assert split_text("hello") == ["hello"]
    assert split_text("x" * TEXT_LIMIT) == ["x" * TEXT_LIMIT]


def test_split_prefers_paragraphs_then_lines_then_words():
    para = "a" * 3000
    text = f"{para}\n\n{para}\n\n{para}"
    assert split_text(text) == [para, para, para]

    lines = "\n".join(["b" * 1000] * 9)
    parts = split_text(lines)
    assert all(telegram_length(p) <= TEXT_LIMIT for p in parts)
    assert "\n".join(parts) == lines  # cut exactly at line breaks, nothing lost

    words = " ".join(["word"] * 2000)
    parts = split_text(words)
    assert all(telegram_length(p) <= TEXT_LIMIT for p in parts)
    assert " ".join(parts) == words


def test_giant_word_is_cut_hard_and_emoji_count_twice():
    assert [len(p) for p in split_text("z" * 9000)] == [4096, 4096, 808]
    emoji = "😀" * 3000  # 6000 UTF-16 units
    parts = split_text(emoji)
    assert [telegram_length(p) for p in parts] == [4096, 1904]
    assert "".join(parts) == emoji


def _slot(limiter, limits) -> tuple[float, float]:
    """When the reserved slot comes (monotonic seconds), and how uncertain that is: the limiter
    counts from the moment Redis ran the call, somewhere between our before and after."""
    before = time.monotonic()
    delay = limiter.reserve(limits)
    after = time.monotonic()
    return (before + after) / 2 + delay, (after - before) / 2


def test_limiter_spaces_slots_evenly_and_chat_limit_dominates(app_ctx):
    from webapp.extensions import redis_store

    limiter = SendLimiter(redis_store.client)
    bot = limiter.bot_key("42")
    first_delay = limiter.reserve([(bot, 10)])
    assert first_delay == pytest.approx(0, abs=0.01)
    slots = [_slot(limiter, [(bot, 10)]) for _ in range(4)]
    step = interval_us(10) / 1_000_000
    for (earlier, e1), (later, e2) in zip(slots, slots[1:], strict=False):
        assert later - earlier == pytest.approx(step, abs=0.01 + e1 + e2)

    chat = limiter.chat_key("42", 7)
    (first, e1), (second, e2) = (_slot(limiter, [(bot, 1000), (chat, 1)]) for _ in range(2))
    assert second - first == pytest.approx(interval_us(1) / 1_000_000, abs=0.02 + e1 + e2)


def test_limiter_penalty_holds_everyone_back(app_ctx):
    from webapp.extensions import redis_store

    limiter = SendLimiter(redis_store.client)
    key = limiter.bot_key("43")
    limiter.penalize(key, 3)
    assert limiter.reserve([(key, 30)]) == pytest.approx(3, abs=0.05)


def test_slots_reserved_together_are_the_slots_one_by_one(app_ctx):
    from webapp.extensions import redis_store

    limiter = SendLimiter(redis_store.client)
    lane = (limiter.bot_key("46"), 10)  # a slot every 103 ms
    step, chat_step = interval_us(10) / 1_000_000, interval_us(1) / 1_000_000
    chats = [(limiter.chat_key("46", chat), 1) for chat in (1, 2, 1)]
    delays = limiter.reserve_many(lane, chats)
    # Two chats one bot interval apart; chat 1's second message waits out its own limit.
    assert delays == [pytest.approx(0, abs=0.01), pytest.approx(step, abs=0.01), pytest.approx(chat_step, abs=0.01)]
    # A single reservation afterwards comes after all of them.
    after = limiter.reserve([lane, (limiter.chat_key("46", 3), 1)])
    assert after == pytest.approx(chat_step + step, abs=0.05)
    assert limiter.reserve_many(lane, []) == []


def test_ledger_claims_each_update_once(app_ctx):
    from webapp.extensions import redis_store

    ledger = UpdateLedger(redis_store.client, "44")
    assert ledger.last() == 0
    assert ledger.claim_next(10) and ledger.claim_next(11)
    assert not ledger.claim_next(11) and not ledger.claim_next(5)
    assert ledger.last() == 11
    assert 0 < redis_store.client.ttl(ledger.last_key) <= 24 * 3600  # lapses with Telegram's retention

    webhook = UpdateLedger(redis_store.client, "45")
    assert webhook.claim_once(7) and webhook.claim_once(5)  # webhook deliveries may come out of order
    assert not webhook.claim_once(7)
    assert webhook.last() == 7


def test_environment_proxies_are_honoured_per_origin(monkeypatch):
    from webapp.telegram import botapi

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    botapi._environ_proxies.cache_clear()
    try:
        assert botapi.proxies_for("https://api.telegram.org/bot1:x/sendMessage")["https"] == "http://proxy.example:3128"
        assert not botapi.proxies_for("http://127.0.0.1:5000/sandbox/bot1:x/getMe").get("http")
        # The session itself no longer reads the environment on each request; the call passes them.
        assert botapi.session().trust_env is False
    finally:
        botapi._environ_proxies.cache_clear()


def test_a_changed_encryption_key_is_not_answered_from_the_token_cache(app_ctx, monkeypatch):
    from cryptography.fernet import Fernet
    from flask import current_app

    from webapp.telegram.models import Bot
    from webapp.telegram.tokens import decrypt_token, set_bot_token

    bot = Bot(name="cache", vertical="clinic")
    set_bot_token(bot, "123:secret-token-value")
    assert decrypt_token(bot) == "123:secret-token-value"
    monkeypatch.setitem(current_app.config, "TOKEN_ENCRYPTION_KEY", Fernet.generate_key().decode())
    with pytest.raises(RuntimeError, match="cannot be decrypted"):
        decrypt_token(bot)
