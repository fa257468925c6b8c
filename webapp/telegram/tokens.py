"""Bot tokens at rest: Fernet-encrypted, looked up by a SHA-256 fingerprint, never shown again."""

from __future__ import annotations

import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

from webapp.extensions import db
from webapp.telegram.models import Bot


def _fernet() -> Fernet:
    return Fernet(current_app.config["TOKEN_ENCRYPTION_KEY"].encode())


def fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def encrypt_token(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode()


@functools.lru_cache(maxsize=256)
def _decrypt(key: str, ciphertext: str) -> str:
    # Every send needs the token; a broadcast sends hundreds a second, each decrypt costing an HMAC
    # and an AES pass. Keyed by the encryption key too, so a changed key is never answered from here.
    return Fernet(key.encode()).decrypt(ciphertext.encode()).decode()


def decrypt_token(bot: Bot) -> str:
    try:
        return _decrypt(current_app.config["TOKEN_ENCRYPTION_KEY"], bot.token_encrypted)
    except InvalidToken as exc:
        raise RuntimeError(f"bot {bot.name}: token cannot be decrypted with TOKEN_ENCRYPTION_KEY") from exc


def set_bot_token(bot: Bot, token: str) -> None:
    bot.token_encrypted = encrypt_token(token)
    bot.token_fingerprint = fingerprint(token)


def find_bot_by_token(token: str) -> Bot | None:
    return db.session.scalar(db.select(Bot).filter_by(token_fingerprint=fingerprint(token)))


def enabled_bot_tokens() -> list[tuple[int | None, str]]:
    """(bot id, token) of every enabled bot, plus the environment's default bot (id None)."""
    pairs: list[tuple[int | None, str]] = []
    for bot in db.session.scalars(db.select(Bot).filter_by(enabled=True)):
        try:
            pairs.append((bot.id, decrypt_token(bot)))
        except RuntimeError:
            current_app.logger.error("bot %s has an unreadable token; skipped", bot.name)
    default = current_app.config.get("TELEGRAM_BOT_TOKEN")
    if default and all(token != default for _, token in pairs):
        pairs.append((None, default))
    return pairs
