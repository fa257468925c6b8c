"""Seed 001's account commands: ``/register`` (phone + e-mail) and ``/link`` (6-digit code by e-mail).

Link codes: stored as an HMAC (never the digits), valid ``LINK_CODE_TTL_MINUTES`` (10), and
``LINK_CODE_MAX_ATTEMPTS`` (3) wrong tries burn the code — then only a new code helps. A new code
replaces any older unused one.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app

from webapp.core.db import utcnow
from webapp.core.link_codes import digest as _digest
from webapp.core.models import LinkCode, TelegramAccount, User
from webapp.core.services import ServiceError, normalize_phone, record_audit
from webapp.extensions import db
from webapp.realty.services.listings import invalid
from webapp.realty.services.mail import send_email
from webapp.realty.services.notify import t


def clean_email(value: str) -> str:
    """A new address to store: syntax checked (no DNS lookups; ``.test`` domains allowed for test setups)."""
    try:
        return validate_email(
            (value or "").strip(), check_deliverability=False, test_environment=True
        ).normalized.lower()
    except EmailNotValidError as exc:
        raise invalid("email", "Not a valid e-mail address") from exc


def lookup_email(value: str) -> str:
    """An address to look an account up by: only its shape matters, it is compared, not mailed blindly."""
    value = (value or "").strip().lower()
    local, _, domain = value.partition("@")
    if not local or not domain or "@" in domain or " " in value or len(value) > 254:
        raise invalid("email", "Not a valid e-mail address")
    return value


def _email_taken(email: str, by: User) -> bool:
    owner = db.session.scalar(sa.select(User.id).where(sa.func.lower(User.email) == email))
    return owner is not None and owner != by.id


def register_profile(user: User, phone: str, email: str) -> User:
    """Give the Telegram user's account a phone and e-mail, and send a welcome e-mail."""
    phone = normalize_phone(phone)
    email = clean_email(email)
    if db.session.scalar(sa.select(User.id).where(User.phone == phone, User.id != user.id)) is not None:
        raise ServiceError("This phone number belongs to another account", 409, "PHONE_TAKEN", "phone")
    if _email_taken(email, user):
        raise ServiceError(
            "This e-mail belongs to another account; use /link to connect it", 409, "EMAIL_TAKEN", "email"
        )
    user.phone = phone
    user.email = email
    db.session.flush()
    send_email(
        email,
        t(user, "Welcome to Botdesk"),
        t(user, "Hello, %(name)s! Your account is registered and linked to Telegram.", name=user.display_name),
    )
    return user


def start_link(account: TelegramAccount, email: str) -> LinkCode:
    """E-mail a fresh 6-digit code to the account with ``email``; older unused codes stop working."""
    email = lookup_email(email)
    target = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))
    if target is None or not target.is_active:
        raise ServiceError("No active account has this e-mail", 404, "NOT_FOUND", "email")
    if target.id == account.user_id:
        raise ServiceError("This Telegram account is already linked to it", 409, "ALREADY_LINKED", "email")
    now = utcnow()
    db.session.execute(
        sa.update(LinkCode)
        .where(LinkCode.telegram_account_id == account.id, LinkCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    row = LinkCode(
        user_id=target.id,
        telegram_account_id=account.id,
        code_hash=_digest(code),
        created_at=now,
        expires_at=now + timedelta(minutes=current_app.config["LINK_CODE_TTL_MINUTES"]),
    )
    db.session.add(row)
    db.session.flush()
    send_email(
        target.email,
        t(target, "Your Telegram link code"),
        t(
            target,
            "Your code to link Telegram: %(code)s. It is valid for %(minutes)s minutes. "
            "If you did not ask for it, ignore this e-mail.",
            code=code,
            minutes=current_app.config["LINK_CODE_TTL_MINUTES"],
        ),
    )
    return row


class LinkOutcome(enum.StrEnum):
    LINKED = "linked"
    WRONG_CODE = "wrong_code"
    EXPIRED = "expired"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    NO_CODE = "no_code"


@dataclass
class LinkResult:
    outcome: LinkOutcome
    attempts_left: int = 0
    user: User | None = None


def confirm_link(account: TelegramAccount, code: str) -> LinkResult:
    """Check a code; returns (does not raise) so a wrong try's counted attempt is committed by the caller."""
    row = db.session.scalar(
        sa.select(LinkCode)
        .where(LinkCode.telegram_account_id == account.id, LinkCode.used_at.is_(None))
        .order_by(LinkCode.id.desc())
        .limit(1)
        .with_for_update()
    )
    if row is None:
        return LinkResult(LinkOutcome.NO_CODE)
    max_attempts = current_app.config["LINK_CODE_MAX_ATTEMPTS"]
    if row.attempts >= max_attempts:
        return LinkResult(LinkOutcome.TOO_MANY_ATTEMPTS)
    if row.expires_at <= utcnow():
        return LinkResult(LinkOutcome.EXPIRED)
    code = "".join((code or "").split())
    if not hmac.compare_digest(row.code_hash, _digest(code)):
        row.attempts += 1
        left = max_attempts - row.attempts
        return LinkResult(LinkOutcome.WRONG_CODE if left else LinkOutcome.TOO_MANY_ATTEMPTS, left)
    row.used_at = utcnow()
    target = db.session.get(User, row.user_id)
    link_telegram(target, account.telegram_user_id)
    return LinkResult(LinkOutcome.LINKED, max_attempts - row.attempts, target)


def link_telegram(target: User, telegram_user_id: int) -> None:
    """Move every bot's account of this Telegram user to ``target`` (one person, one User everywhere)."""
    accounts = db.session.scalars(
        sa.select(TelegramAccount).where(TelegramAccount.telegram_user_id == telegram_user_id)
    ).all()
    for account in accounts:
        if account.user_id != target.id:
            record_audit(target, "user.link_telegram", "user", target.id, account.user_id, telegram_user_id, "bot")
            account.user = target
    db.session.flush()
