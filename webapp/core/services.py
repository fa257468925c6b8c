"""Account rules: registration by Telegram id, staff login, role and status changes (audited).

Plain functions over the session: they flush, the caller (request, job, bot update) commits.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

import sqlalchemy as sa

from webapp.core.db import insert_missing, utcnow
from webapp.core.models import AuditLog, TelegramAccount, TelegramPerson, User
from webapp.core.roles import STAFF_ROLES, Role
from webapp.extensions import db

SUPPORTED_LANGUAGES = ("ru", "kk", "uz", "en")


class ServiceError(Exception):
    """A business rule refused the operation. ``status`` is the HTTP status an API answers with."""

    def __init__(self, message: str, status: int = 409, code: str = "CONFLICT", field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.field = field


def normalize_phone(raw: str, default_region: str = "UZ") -> str:
    """E.164 form of a phone number, or ServiceError(422) with the reason."""
    # Imported by the first number, not with the module: 58 modules that each RQ worker and cron loaded.
    import phonenumbers

    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ServiceError("Not a phone number", 422, "VALIDATION_ERROR", "phone_number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ServiceError("Phone number is not valid", 422, "VALIDATION_ERROR", "phone_number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_language(value: str | None, default: str = "ru") -> str:
    if not value:
        return default
    code = value.strip().lower().replace("_", "-").split("-")[0]
    return code if code in SUPPORTED_LANGUAGES else default


def record_audit(
    actor: User | None, action: str, target_type: str, target_id: str, old=None, new=None, source: str = "api"
) -> AuditLog:
    entry = AuditLog(
        actor_id=actor.id if actor else None,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        old_value=None if old is None else str(old),
        new_value=None if new is None else str(new),
        source=source,
    )
    db.session.add(entry)
    return entry


# --- Telegram-identified users ---------------------------------------------------------------------


def find_telegram_account(telegram_user_id: int, bot_id: int | None = None) -> TelegramAccount | None:
    return db.session.scalar(
        db.select(TelegramAccount).where(
            TelegramAccount.telegram_user_id == telegram_user_id,
            TelegramAccount.bot_id.is_(None) if bot_id is None else TelegramAccount.bot_id == bot_id,
        )
    )


def find_user_by_telegram_id(telegram_user_id: int) -> User | None:
    """Telegram user ids are global, so one person is one User whichever bot they talk to."""
    account = db.session.scalar(
        db.select(TelegramAccount)
        .where(TelegramAccount.telegram_user_id == telegram_user_id)
        .order_by(TelegramAccount.bot_id.is_not(None), TelegramAccount.id)
        .limit(1)
    )
    return account.user if account else None


def _insert_account(bot_id: int | None, telegram_user_id: int, user_id: uuid.UUID, **fields) -> bool:
    """The account row unless the user already has one on this bot (True: this call made it)."""
    values = {"bot_id": bot_id, "telegram_user_id": telegram_user_id, "user_id": user_id, **fields}
    if bot_id is None:  # NULLs are distinct in the (bot_id, telegram_user_id) key: a partial index covers them
        return insert_missing(
            TelegramAccount, values, ("telegram_user_id",), TelegramAccount.__table__.c.bot_id.is_(None)
        )
    return insert_missing(TelegramAccount, values, ("bot_id", "telegram_user_id"))


def _person_owner(telegram_user_id: int, user_id: uuid.UUID) -> uuid.UUID:
    """The User this Telegram user id is: ``user_id`` if this call is the first to say so, else the
    one an earlier or concurrent first contact (on any bot) recorded."""
    insert_missing(TelegramPerson, {"telegram_user_id": telegram_user_id, "user_id": user_id})
    return db.session.scalar(
        sa.select(TelegramPerson.user_id).where(TelegramPerson.telegram_user_id == telegram_user_id)
    )


def _drop_user(user_id: uuid.UUID) -> None:
    """Forget a user this transaction made for a Telegram id a concurrent caller claimed first."""
    db.session.execute(sa.delete(User).where(User.id == user_id))


def ensure_telegram_account(
    bot_id: int | None,
    telegram_user_id: int,
    chat_id: int | None = None,
    username: str | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    language_code: str | None = None,
) -> TelegramAccount:
    """The account of a Telegram user as ``bot_id`` sees them, created (with its User) on first contact.

    Profile fields follow what Telegram last said; ``language`` is set once from Telegram's
    language_code and afterwards only by the user's own choice. Safe against concurrent first
    contacts of one person, on one bot or several: ``telegram_people`` decides which User the person
    is, the account's unique key which row the bot keeps; the losers drop the user they made.
    """
    account = find_telegram_account(telegram_user_id, bot_id)
    if account is None:
        user = find_user_by_telegram_id(telegram_user_id)
        if user is None:
            candidate, language = uuid.uuid4(), normalize_language(language_code)
            fields = {"first_name": first_name, "last_name": last_name, "language": language}
            insert_missing(User, {"id": candidate, **fields})
        else:
            candidate, language = user.id, user.language
        owner = _person_owner(telegram_user_id, candidate)
        if user is None and owner != candidate:  # the person's first contact on another bot won
            _drop_user(candidate)
        # Every racer agrees on the owner; the account's unique key keeps one row for this bot.
        _insert_account(bot_id, telegram_user_id, owner, chat_id=chat_id or telegram_user_id, language=language)
        account = find_telegram_account(telegram_user_id, bot_id)
    account.username = username or account.username
    account.first_name = first_name or account.first_name
    account.last_name = last_name or account.last_name
    if chat_id:
        account.chat_id = chat_id
    account.last_seen = utcnow()
    return account


def count_message(account: TelegramAccount, *, voice: bool = False, command: bool = False) -> None:
    """Seed 000's BotSession counters, incremented in SQL so concurrent updates lose no message."""
    account.messages_count = TelegramAccount.messages_count + 1
    if voice:
        account.voice_messages_count = TelegramAccount.voice_messages_count + 1
    if command:
        account.commands_executed = TelegramAccount.commands_executed + 1


def register_telegram_user(
    telegram_user_id: int,
    phone: str | None = None,
    language: str | None = None,
    bot_id: int | None = None,
    first_name: str | None = None,
    last_name: str | None = None,
    username: str | None = None,
) -> User:
    """Create a user and their Telegram account; ServiceError(409) when the Telegram user exists."""

    def refusal() -> ServiceError:
        # Asked again after the phone clashed: a concurrent twin of this very registration may have
        # committed between the two reads, and then it is the account that is taken, not the phone.
        if find_user_by_telegram_id(telegram_user_id) is not None:
            return ServiceError("This Telegram account is already registered", 409, "ALREADY_REGISTERED")
        return ServiceError("This phone number belongs to another account", 409, "PHONE_TAKEN", "phone_number")

    if find_user_by_telegram_id(telegram_user_id) is not None:
        raise refusal()
    if phone and db.session.scalar(db.select(User.id).filter_by(phone=phone)) is not None:
        raise refusal()
    user_id = uuid.uuid4()
    language = normalize_language(language)
    fields = {"first_name": first_name, "last_name": last_name}
    if not insert_missing(User, {"id": user_id, "phone": phone, "language": language, **fields}):
        raise refusal()  # only the phone can clash
    if _person_owner(telegram_user_id, user_id) != user_id:  # a first contact on a bot came first
        _drop_user(user_id)
        raise refusal()
    account = {"chat_id": telegram_user_id, "username": username, "language": language, "last_seen": utcnow()}
    if not _insert_account(bot_id, telegram_user_id, user_id, **fields, **account):
        _drop_user(user_id)
        raise refusal()
    return db.session.get(User, user_id)


def upsert_webapp_user(tg_user: dict, bot_id: int | None = None) -> User:
    """The user behind verified WebApp ``initData``: found by Telegram id, else created."""
    account = ensure_telegram_account(
        bot_id,
        tg_user["id"],
        username=tg_user.get("username"),
        first_name=tg_user.get("first_name"),
        last_name=tg_user.get("last_name"),
        language_code=tg_user.get("language_code"),
    )
    return account.user


def authenticate_staff(login: str, password: str) -> User | None:
    """The user whose username or e-mail is ``login`` and whose password matches, else None."""
    login = (login or "").strip()
    if not login or not password:
        return None
    user = db.session.scalar(
        db.select(User).where(db.or_(User.username == login, db.func.lower(User.email) == login.lower()))
    )
    if user is None or not user.check_password(password):
        return None
    return user


def mark_login(user: User, when: datetime | None = None) -> None:
    user.last_login_at = when or utcnow()


def create_staff_user(
    username: str,
    email: str | None,
    password: str,
    role: Role | str = Role.USER,
    actor: User | None = None,
    source: str = "cli",
    **fields,
) -> User:
    role = Role.parse(role)
    if db.session.scalar(db.select(User.id).filter_by(username=username)) is not None:
        raise ServiceError(f"Username {username!r} is taken", 409, "USERNAME_TAKEN", "username")
    if email and db.session.scalar(db.select(User.id).where(db.func.lower(User.email) == email.lower())) is not None:
        raise ServiceError(f"E-mail {email!r} is taken", 409, "EMAIL_TAKEN", "email")
    user = User(username=username, email=email, role=role.value, **fields)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record_audit(actor, "user.create", "user", user.id, None, role.value, source)
    return user


# --- role and status changes -----------------------------------------------------------------------


# What an organization admin may grant and manage: its staff and its customers.
MANAGED_BY_ADMINS = frozenset({*STAFF_ROLES, Role.USER})


def _organization_id(user: User) -> int | None:
    from webapp.core.models import Membership

    return db.session.scalar(sa.select(Membership.organization_id).where(Membership.user_id == user.id))


def in_reach(actor: User, target: User) -> bool:
    """Whether ``target`` is an account ``actor`` may see as a manager: a superuser every account; an
    organization admin its own organization's staff and its own customers (``tenancy.customers_of``);
    anyone else nobody. Out of reach is "not
    found" to the caller (issue 12: an agency's admin cannot demote the clinic's doctor)."""
    if not actor.is_active:
        return False
    if actor.role == Role.SUPERUSER.value:
        return True
    if actor.role != Role.ADMIN.value:
        return False
    own = _organization_id(actor)
    if own is None:
        return False
    theirs = _organization_id(target)
    if theirs is not None:
        return theirs == own
    from webapp.core.tenancy import customers_of

    return db.session.scalar(sa.select(User.id).where(User.id == target.id, customers_of(own))) is not None


def users_in_reach(query, actor: User):
    """``in_reach`` as a filter on a query (select or Flask-Admin query) over User."""
    from webapp.core.models import Membership
    from webapp.core.tenancy import customers_of

    if not actor.is_active or actor.role not in (Role.SUPERUSER.value, Role.ADMIN.value):
        return query.filter(sa.false())
    if actor.role == Role.SUPERUSER.value:
        return query
    own = _organization_id(actor)
    if own is None:
        return query.filter(sa.false())
    members = sa.select(Membership.user_id)
    return query.filter(
        sa.or_(
            User.id.in_(members.where(Membership.organization_id == own)),
            customers_of(own),
        )
    )


def can_manage(actor: User, target: User) -> bool:
    """Superusers manage everyone (but cannot demote themselves); an organization admin manages its
    own organization's staff and customers, never another admin, a platform role or another
    organization's staff."""
    if not actor.is_active:
        return False
    if actor.role == Role.SUPERUSER.value:
        return True
    return actor.role == Role.ADMIN.value and Role(target.role) in MANAGED_BY_ADMINS and in_reach(actor, target)


def _require_reach(actor: User, target: User) -> None:
    if actor.id != target.id and not in_reach(actor, target):
        raise ServiceError("User not found", 404, "NOT_FOUND")


def change_role(actor: User, target: User, new_role: Role | str, source: str = "api") -> User:
    """Change ``target``'s role (audited). An account leaving the organization roles leaves its
    organization; a customer an organization admin makes staff joins the admin's organization."""
    from webapp.core.roles import ORGANIZATION_ROLES
    from webapp.core.tenancy import organization_of, set_membership

    new_role = Role.parse(new_role)
    if actor.id == target.id:
        raise ServiceError("You cannot change your own role", 403, "FORBIDDEN", "role")
    _require_reach(actor, target)
    if not can_manage(actor, target):
        raise ServiceError("You cannot change this user's role", 403, "FORBIDDEN", "role")
    if actor.role != Role.SUPERUSER.value and new_role not in MANAGED_BY_ADMINS:
        raise ServiceError("You cannot grant a role equal to or above your own", 403, "FORBIDDEN", "role")
    old = target.role
    if old != new_role.value:
        member_of = _organization_id(target)
        if new_role not in ORGANIZATION_ROLES and member_of is not None:
            set_membership(actor, target, None, source)
        target.role = new_role.value
        record_audit(actor, "user.role", "user", target.id, old, new_role.value, source)
        if new_role in ORGANIZATION_ROLES and member_of is None and actor.role != Role.SUPERUSER.value:
            set_membership(actor, target, organization_of(actor), source)
    return target


def set_user_active(actor: User, target: User, active: bool, source: str = "api") -> User:
    if actor.id == target.id:
        raise ServiceError("You cannot block yourself", 403, "FORBIDDEN", "is_active")
    _require_reach(actor, target)
    if not can_manage(actor, target):
        raise ServiceError("You cannot change this user's status", 403, "FORBIDDEN", "is_active")
    if target.is_active != active:
        record_audit(
            actor, "user.unblock" if active else "user.block", "user", target.id, target.is_active, active, source
        )
        target.is_active = active
    return target


def get_user(user_id: str | uuid.UUID) -> User | None:
    try:
        key = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
    except ValueError:
        return None
    return db.session.get(User, key)


# --- an account's card -----------------------------------------------------------------------------

USER_CARD_FIELDS = ("username", "email", "phone", "first_name", "last_name", "language")
USERNAME_RE = re.compile(r"[\w.@+-]{3,150}")
PASSWORD_MIN_LENGTH = 8  # as ``flask create-superuser`` and the realty sign-up ask
PASSWORD_MAX_LENGTH = 512


def _(message: str) -> str:
    """Marks a message id of the console's catalog (the console translates the refusal)."""
    return message


def _card_refusal(message: str, field: str, status: int = 422, code: str = "VALIDATION_ERROR") -> ServiceError:
    return ServiceError(message, status, code, field)


def _clean_user_card(user: User, fields: dict) -> dict:
    """The card's fields trimmed and checked; a value left as it is passes (older rows may predate a rule)."""
    from email_validator import EmailNotValidError, validate_email

    values = {}
    for name in USER_CARD_FIELDS:
        if name not in fields:
            continue
        value = (fields[name] or "").strip() or None
        if value == getattr(user, name):
            continue
        if name == "username" and (value is None or not USERNAME_RE.fullmatch(value)):
            raise _card_refusal(_("A username is 3 to 150 letters, digits and . @ + - _"), name)
        if name == "email" and value is not None:
            try:
                value = validate_email(value, check_deliverability=False, test_environment=True).normalized.lower()
            except EmailNotValidError as exc:
                raise _card_refusal(_("Not a valid e-mail address"), name) from exc
        if name == "phone" and value is not None:
            value = normalize_phone(value)
        if name == "language" and value not in SUPPORTED_LANGUAGES:
            raise _card_refusal(_("Choose a language from the list"), name)
        if name in ("first_name", "last_name") and value is not None:
            value = " ".join(value.split())[:150]
        if value != getattr(user, name):
            values[name] = value
    return values


def _card_taken(user: User, values: dict) -> str | None:
    """The first field whose new value another account holds (e-mail compared without case)."""
    for name in ("username", "email", "phone"):
        if values.get(name) is None:
            continue
        column = getattr(User, name)
        match = sa.func.lower(column) == values[name].lower() if name == "email" else column == values[name]
        if db.session.scalar(sa.select(User.id).where(match, User.id != user.id)) is not None:
            return name
    return None


def update_user_card(
    actor: User, user: User, fields: dict, password: str | None = None, source: str = "console"
) -> list[str]:
    """Change an account's username, e-mail, phone, names, language and (given) password. The
    account's manager (``can_manage``) or the account itself; another is "not found". A username,
    e-mail or phone another account holds is refused — the unique keys decide, so of two saves at
    once one is refused. One audit row names the changed fields, never the password or its hash.
    Flushes only; answers the changed fields."""
    from sqlalchemy.exc import IntegrityError

    if actor.id != user.id and not (in_reach(actor, user) and can_manage(actor, user)):
        raise ServiceError(_("User not found"), 404, "NOT_FOUND")
    values = _clean_user_card(user, fields)
    if password and not (PASSWORD_MIN_LENGTH <= len(password) <= PASSWORD_MAX_LENGTH):
        raise _card_refusal(_("A password is at least 8 characters"), "password")
    taken = _card_taken(user, values)
    if taken:
        raise _card_refusal(_("This value belongs to another account"), taken, 409, "CONFLICT")
    for name, value in values.items():
        setattr(user, name, value)
    if password:
        user.set_password(password)
    changed = sorted(values) + (["password"] if password else [])
    if not changed:
        return changed
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        raise _card_refusal(_("This value belongs to another account"), "username", 409, "CONFLICT") from exc
    record_audit(actor, "user.update", "user", user.id, None, ", ".join(changed), source)
    return changed
