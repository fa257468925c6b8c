"""Auth endpoints with the seeds' paths and payloads (000: Telegram id, 003: WebApp, 004: staff)."""

from __future__ import annotations

import jwt as pyjwt
from flask import Blueprint, current_app, g, jsonify
from flask_jwt_extended import get_jwt, get_jwt_identity, verify_jwt_in_request

from webapp.core.apispec import JWT, spec
from webapp.core.auth import schemas, tokens
from webapp.core.auth.initdata import InitDataError, verify_init_data
from webapp.core.auth.service_tokens import (
    generate_service_token,
    get_service_token,
    revoke_service_token,
    service_tokens_query,
)
from webapp.core.db import iso
from webapp.core.errors import ApiError, auth_failure, validation_error
from webapp.core.models import ServiceToken, User
from webapp.core.permissions import SERVICE_ANY, optional_service, public, require_role
from webapp.core.roles import SEED_003_ROLE, Role
from webapp.core.schemas import SEED_004_ERRORS, SEED_ERRORS, V1_ERRORS, responses
from webapp.core.services import (
    authenticate_staff,
    find_user_by_telegram_id,
    get_user,
    mark_login,
    normalize_phone,
    record_audit,
    register_telegram_user,
    upsert_webapp_user,
)
from webapp.core.tenancy import is_superuser, organization_id_of
from webapp.extensions import db, limiter
from webapp.telegram.tokens import enabled_bot_tokens

bp = Blueprint("auth_api", __name__)


def _auth_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


# --- serialisers -----------------------------------------------------------------------------------


def user_seed_000(user: User) -> dict:
    return {"id": str(user.id), "phone_number": user.phone, "language": user.language, "is_active": user.is_active}


def user_seed_003(user: User) -> dict:
    account = user.primary_telegram
    return {
        "id": str(user.id),
        "telegram_id": account.telegram_user_id if account else None,
        "username": user.username or (account.username if account else None),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": SEED_003_ROLE[Role(user.role)],
        "is_active": user.is_active,
        "created_at": iso(user.created_at),
        "updated_at": iso(user.updated_at),
    }


def _tokens_response(user: User, status: int = 200):
    mark_login(user)
    db.session.flush()
    return jsonify({**tokens.issue_tokens(user), "user": user_seed_000(user)}), status


def _telegram_login_gate() -> None:
    if current_app.config["TELEGRAM_LOGIN_REQUIRES_SERVICE_AUTH"] and g.get("service") is None:
        raise ApiError(401, "Service authentication required", "UNAUTHORIZED")


def chat_id_customer(telegram_chat_id: str) -> User | None:
    """The bot customer behind a Telegram id, None for anyone else.

    Knowing a Telegram id proves nothing, so chat-id login reaches only plain customers: role
    ``user`` and no password (an account with a password has a console login to protect). Staff
    are "not registered" here, exactly as an unknown id is.
    """
    user = find_user_by_telegram_id(int(telegram_chat_id))
    if user is None or user.role != Role.USER.value or user.password_hash:
        return None
    return user


def _active(user: User) -> User:
    if not user.is_active:
        raise ApiError(403, "Account is blocked", "FORBIDDEN")
    return user


# --- seed 000 ---------------------------------------------------------------------------------------


@bp.post("/api/auth/telegram-register/")
@limiter.limit(_auth_limit)
@optional_service
@spec.validate(
    json=schemas.TelegramRegisterIn, resp=responses(schemas.TelegramTokensOut, 201, SEED_ERRORS), tags=["auth"]
)
def telegram_register(json: schemas.TelegramRegisterIn):
    """Register a user by Telegram chat id (seed 000); 409 when already registered."""
    _telegram_login_gate()
    phone = normalize_phone(json.phone_number) if json.phone_number else None
    user = register_telegram_user(
        int(json.telegram_chat_id),
        phone=phone,
        language=json.language,
        first_name=json.first_name,
        last_name=json.last_name,
        username=json.username,
    )
    return _tokens_response(user, 201)


@bp.post("/api/auth/telegram-login/")
@limiter.limit(_auth_limit)
@optional_service
@spec.validate(
    json=schemas.TelegramLoginIn, resp=responses(schemas.TelegramTokensOut, errors=SEED_ERRORS), tags=["auth"]
)
def telegram_login(json: schemas.TelegramLoginIn):
    """Tokens for a registered Telegram chat id; the phone, when given, must match."""
    _telegram_login_gate()
    user = chat_id_customer(json.telegram_chat_id)
    if user is None:
        raise ApiError(404, "User is not registered; send /start to the bot first", "NOT_FOUND")
    _active(user)
    if json.phone_number:
        phone = normalize_phone(json.phone_number)
        if user.phone and user.phone != phone:
            raise ApiError(401, "Phone number does not match", "INVALID_CREDENTIALS")
    return _tokens_response(user)


@bp.post("/api/auth/telegram-auth/")
@limiter.limit(_auth_limit)
@optional_service
@spec.validate(json=schemas.TelegramAuthIn, resp=responses(schemas.TelegramAuthOut, errors=SEED_ERRORS), tags=["auth"])
def telegram_auth(json: schemas.TelegramAuthIn):
    """Whether the caller is authenticated as this Telegram chat id (seed 000's client checks its tokens).

    The answer is the same for a registered and an unknown id unless the caller sends that
    customer's own access token, or is the bot backend (service credential): an anonymous caller
    learns nothing about who is registered.
    """
    nobody = jsonify({"authenticated": False, "user": None})
    if g.service is None:
        verify_jwt_in_request(optional=True)
        if get_jwt_identity() is None:
            return nobody
    user = chat_id_customer(json.telegram_chat_id)
    if user is None or (g.service is None and str(user.id) != get_jwt_identity()):
        return nobody
    return jsonify({"authenticated": user.is_active, "user": user_seed_000(user)})


@bp.post("/api/token/refresh/")
@limiter.limit(_auth_limit)
@public
@spec.validate(json=schemas.RefreshIn, resp=responses(schemas.TokenPair, errors=SEED_ERRORS), tags=["auth"])
def token_refresh(json: schemas.RefreshIn):
    """Rotate: the given refresh token is revoked and a new access + refresh pair returned."""
    try:
        payload = tokens.decode_refresh(json.refresh)
    except pyjwt.ExpiredSignatureError:
        return auth_failure("Token is invalid or expired", "refresh")
    except pyjwt.PyJWTError:
        return auth_failure("Token is invalid or expired", "refresh")
    if tokens.family_revoked(payload):
        return auth_failure("Token is blacklisted", "refresh")
    user = get_user(payload["sub"])
    if user is None:
        return auth_failure("User not found", "refresh")
    _active(user)
    pair = tokens.rotate_refresh(payload, user)
    if pair is None:
        tokens.revoke_family(payload)  # a rotated token came back: whoever holds it, the session ends
        return auth_failure("Token is blacklisted", "refresh")
    return jsonify(pair)


@bp.post("/api/auth/logout/")
@require_role()
@spec.validate(
    json=schemas.LogoutIn, resp=responses(schemas.DetailOut, errors=SEED_ERRORS), tags=["auth"], security=JWT
)
def logout(json: schemas.LogoutIn):
    """End this session: every access and refresh token of this login, rotated ones included."""
    tokens.revoke_token(get_jwt())
    tokens.revoke_family(get_jwt())
    if json.refresh:  # a refresh token of an older session (issued before families) still dies
        try:
            payload = tokens.decode_refresh(json.refresh)
        except pyjwt.PyJWTError:
            payload = None
        if payload and payload["sub"] == str(g.user.id):
            tokens.revoke_token(payload)
    return jsonify({"detail": "Logged out"})


# --- seed 003 ---------------------------------------------------------------------------------------


@bp.post("/api/v1/auth/telegram")
@limiter.limit(_auth_limit)
@public
@spec.validate(json=schemas.WebAppAuthIn, resp=responses(schemas.WebAppTokensOut, errors=V1_ERRORS), tags=["auth"])
def webapp_auth(json: schemas.WebAppAuthIn):
    """Log in with Telegram WebApp initData signed by any enabled bot (or TELEGRAM_BOT_TOKEN)."""
    pairs = enabled_bot_tokens()
    try:
        fields, signer = verify_init_data(
            json.initData, [t for _, t in pairs], current_app.config["WEBAPP_INITDATA_MAX_AGE"], json.hash
        )
    except InitDataError as exc:
        raise ApiError(401, str(exc), "INVALID_INIT_DATA") from exc
    bot_id = next(bot_id for bot_id, token in pairs if token == signer)
    user = _active(upsert_webapp_user(fields["user"], bot_id))
    mark_login(user)
    db.session.flush()
    issued = tokens.issue_tokens(user)
    return jsonify(
        {
            "access_token": issued["access"],
            "refresh_token": issued["refresh"],
            "token_type": "bearer",
            "expires_in": tokens.access_expires_in(),
            "user": user_seed_003(user),
        }
    )


@bp.get("/api/v1/auth/me")
@require_role()
@spec.validate(resp=responses(schemas.UserSeed003, errors=V1_ERRORS), tags=["auth"], security=JWT)
def me():
    """The current user (seed 003 shape)."""
    return jsonify(user_seed_003(g.user))


@bp.put("/api/v1/auth/profile")
@require_role()
@spec.validate(
    json=schemas.ProfileIn, resp=responses(schemas.UserSeed003, errors=V1_ERRORS), tags=["auth"], security=JWT
)
def update_profile(json: schemas.ProfileIn):
    """Update first/last name, username and language of the current user."""
    user: User = g.user
    changes = json.model_dump(exclude_unset=True)
    if "username" in changes and changes["username"] != user.username:
        taken = db.session.scalar(db.select(User.id).where(User.username == changes["username"], User.id != user.id))
        if taken is not None:
            raise ApiError(
                409, "Username is taken", "CONFLICT", [{"field": "username", "message": "Username is taken"}]
            )
    for required in ("first_name", "language"):
        if required in changes and changes[required] is None:
            raise validation_error(required, "This field cannot be null")
    for key, value in changes.items():
        setattr(user, key, value)
    db.session.flush()
    return jsonify(user_seed_003(user))


# --- seed 004 ---------------------------------------------------------------------------------------


@bp.post("/api/login/")
@limiter.limit(_auth_limit)
@public
@spec.validate(json=schemas.StaffLoginIn, resp=responses(schemas.StaffTokensOut, errors=SEED_004_ERRORS), tags=["auth"])
def staff_login(json: schemas.StaffLoginIn):
    """Username (or e-mail) and password → JWT pair; 401 {"detail": "Invalid credentials"}."""
    login = json.username or json.email
    if not login:
        raise validation_error("username", "username or email is required")
    user = authenticate_staff(login, json.password)
    if user is None:
        raise ApiError(401, "Invalid credentials", body={"detail": "Invalid credentials"})
    if not user.is_active:
        raise ApiError(403, "Account is blocked", body={"detail": "Account is blocked"})
    mark_login(user)
    db.session.flush()
    return jsonify({**tokens.issue_tokens(user), "user": user_seed_003(user)})


def _bot_token_out(row: ServiceToken) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "prefix": row.prefix,
        "created_at": iso(row.created_at),
        "expires_at": iso(row.expires_at),
        "revoked_at": iso(row.revoked_at),
        "last_used_at": iso(row.last_used_at),
    }


@bp.post("/api/generate_bot_token/")
@require_role(Role.ADMIN)
@spec.validate(
    json=schemas.BotTokenIn,
    resp=responses(schemas.BotTokenCreatedOut, 201, SEED_004_ERRORS),
    tags=["auth"],
    security=JWT,
)
def generate_bot_token(json: schemas.BotTokenIn):
    """A new X-Bot-Token (admins); the value is shown only in this response."""
    days = json.expires_in_days or current_app.config["BOT_TOKEN_DEFAULT_DAYS"] or None
    if not is_superuser(g.user) and organization_id_of(g.user) is None:
        # A token calls for an organization: an admin who works for none has nothing to issue one for.
        raise ApiError(
            403, "Your account works for no organization", body={"detail": "You do not work for an organization."}
        )
    plain, row = generate_service_token(g.user, json.name, days)
    record_audit(g.user, "bot_token.create", "service_token", row.id, None, row.prefix)
    return jsonify({"bot_token": plain, "expires_at": iso(row.expires_at), "id": row.id}), 201


@bp.get("/api/bot_tokens/")
@require_role(Role.ADMIN)
@spec.validate(resp=responses(schemas.BotTokenList, errors=SEED_004_ERRORS), tags=["auth"], security=JWT)
def list_bot_tokens():
    """Issued bot tokens of the caller's organization (a superuser: every one), never their values."""
    rows = db.session.scalars(service_tokens_query(g.user)).all()
    return jsonify([_bot_token_out(r) for r in rows])


@bp.delete("/api/bot_tokens/<int:token_id>/")
@require_role(Role.ADMIN)
@spec.validate(resp=responses(schemas.BotTokenOut, errors=SEED_004_ERRORS), tags=["auth"], security=JWT)
def revoke_bot_token(token_id: int):
    """Revoke a bot token of the caller's organization: it stops working at once (another's: 404)."""
    row = get_service_token(g.user, token_id)
    if row is None:
        raise ApiError(404, "Not found", body={"detail": "Not found."})
    revoke_service_token(row)
    record_audit(g.user, "bot_token.revoke", "service_token", row.id)
    db.session.flush()
    return jsonify(_bot_token_out(row))


@bp.get("/api/auth/service/")
@require_role(Role.ADMIN, service=SERVICE_ANY)
@spec.validate(
    resp=responses(schemas.ServiceWhoamiOut, errors=SEED_ERRORS),
    tags=["auth"],
    security=[{"bot_token": []}, {"service_secret": []}, {"jwt": []}],
)
def service_whoami():
    """Which credential this call was authenticated with: lets a bot check its X-Bot-Token."""
    if g.service:
        return jsonify({"service": g.service})
    return jsonify({"service": None, "user": user_seed_003(g.user)})
