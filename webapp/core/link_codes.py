"""Link codes (``link_codes``): how a Telegram account gets tied to a staff account.

Two ways use the one table and the one keyed digest (the digits or token are never stored):

- seed 001's ``/link`` (``webapp.realty.services.accounts``): a 6-digit code e-mailed to the account,
  typed into the bot; the row names the Telegram account it was asked from;
- a staff member's deep link from their console profile (here): ``https://t.me/<bot>?start=<code>``.
  The row names no Telegram account (whoever opens the link is the one being linked), so the code
  is a long random token rather than digits. It is single use, expires after
  ``LINK_CODE_TTL_MINUTES``, a new one replaces the older unused one, and it links only on a bot of
  the staff member's own organization; it moves only that bot's account to the staff member.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import current_app

from webapp.core import tenancy
from webapp.core.db import utcnow
from webapp.core.models import LinkCode, TelegramAccount, User
from webapp.core.roles import STAFF_ROLES, Role, user_has_role
from webapp.core.services import record_audit
from webapp.extensions import db

if TYPE_CHECKING:
    from webapp.telegram.models import Bot

# ``/start <payload>``: Telegram allows A-Z a-z 0-9 _ - and 64 characters; the prefix tells a staff
# link code from any other payload a vertical may use.
STAFF_CODE_PREFIX = "link-"


def digest(code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def is_staff_code(payload: str | None) -> bool:
    return bool(payload) and payload.startswith(STAFF_CODE_PREFIX) and len(payload) <= 64


def issue_staff_code(user: User, now: datetime | None = None) -> tuple[str, datetime]:
    """A fresh deep-link code for ``user`` and when it expires; their older unused ones stop working."""
    now = now or utcnow()
    db.session.execute(
        sa.update(LinkCode)
        .where(LinkCode.user_id == user.id, LinkCode.telegram_account_id.is_(None), LinkCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    code = STAFF_CODE_PREFIX + secrets.token_urlsafe(18)
    expires_at = now + timedelta(minutes=current_app.config["LINK_CODE_TTL_MINUTES"])
    db.session.add(LinkCode(user_id=user.id, code_hash=digest(code), created_at=now, expires_at=expires_at))
    db.session.flush()
    return code, expires_at


class StaffLink(enum.StrEnum):
    LINKED = "linked"
    INVALID = "invalid"  # unknown, already used or replaced by a newer one
    EXPIRED = "expired"
    OTHER_ORGANIZATION = "other_organization"


def redeem_staff_code(
    account: TelegramAccount, bot: Bot, code: str, now: datetime | None = None
) -> tuple[StaffLink, User | None]:
    """Link ``account`` (the sender's, on ``bot``) to the staff member whose code this is.

    A code of another organization is refused and stays usable on its own organization's bots."""
    now = now or utcnow()
    row = db.session.scalar(
        sa.select(LinkCode).where(LinkCode.code_hash == digest(code or ""), LinkCode.telegram_account_id.is_(None))
    )
    if row is None or row.used_at is not None:
        return StaffLink.INVALID, None
    if row.expires_at <= now:
        return StaffLink.EXPIRED, None
    staff = db.session.get(User, row.user_id)
    if staff is None or not staff.is_active or not user_has_role(staff, Role.MODERATOR, *STAFF_ROLES):
        return StaffLink.INVALID, None
    if not tenancy.in_organization(staff, bot.organization_id):
        return StaffLink.OTHER_ORGANIZATION, None
    # Single use also when two chats race with the same code: only one UPDATE finds it unused.
    claimed = db.session.execute(
        sa.update(LinkCode)
        .where(LinkCode.id == row.id, LinkCode.used_at.is_(None))
        .values(used_at=now, telegram_account_id=account.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return StaffLink.INVALID, None
    if account.user_id != staff.id:
        record_audit(staff, "user.link_telegram", "user", staff.id, account.user_id, account.telegram_user_id, "bot")
        account.user = staff
    db.session.flush()
    return StaffLink.LINKED, staff
