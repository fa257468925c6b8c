"""All permission checks in one place: API decorator, console and bot helpers share ``user_has_role``.

``require_role`` is the only decorator API views use. It records what it requires on the view
(``view.required_roles``), which the permission-matrix test and the OpenAPI security read back.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, g, request
from flask_jwt_extended import current_user, verify_jwt_in_request

from webapp.core.auth.service_tokens import find_service_token, shared_secret_matches
from webapp.core.db import utcnow
from webapp.core.errors import ApiError, seed_004_path
from webapp.core.roles import Role, user_has_role

# What a view may be called with, besides a JWT of a user holding one of the roles.
SERVICE_NONE = frozenset()
SERVICE_BOT_TOKEN = frozenset({"bot_token"})  # X-Bot-Token (seed 004)
SERVICE_SHARED_SECRET = frozenset({"shared_secret"})  # Bearer TELEGRAM_BOT_API_SECRET (seed 002)
SERVICE_ANY = SERVICE_BOT_TOKEN | SERVICE_SHARED_SECRET


def forbidden(message: str = "You do not have permission to perform this action") -> ApiError:
    if seed_004_path(request.path):
        return ApiError(403, message, body={"detail": message})
    return ApiError(403, message, "FORBIDDEN")


def _service_identity(allowed: frozenset[str]) -> str | None:
    """The service a request authenticates as, None when it presents no service credential."""
    bot_token = request.headers.get("X-Bot-Token")
    if bot_token is not None and "bot_token" in allowed:
        row = find_service_token(bot_token.strip())
        if row is None:
            raise ApiError(401, "Invalid bot token", body={"detail": "Invalid bot token"})
        row.last_used_at = utcnow()  # written with the request (webapp.core.unit_of_work)
        return f"bot_token:{row.id}"
    if "shared_secret" in allowed:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer ") and shared_secret_matches(
            header[7:].strip(), current_app.config.get("TELEGRAM_BOT_API_SECRET", "")
        ):
            return "shared_secret"
    return None


def require_role(*roles: Role | str, service: frozenset[str] = SERVICE_NONE) -> Callable:
    """Allow a JWT user holding any of ``roles`` (none given: any active user), or a listed service."""
    required = tuple(Role.parse(r) for r in roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            g.service = _service_identity(service) if service else None
            if g.service is not None:
                g.user = None
                return view(*args, **kwargs)
            verify_jwt_in_request()
            user = current_user
            if not user.is_active:
                raise forbidden("Account is blocked")
            if required and not user_has_role(user, *required):
                raise forbidden()
            g.user = user
            return view(*args, **kwargs)

        wrapper.required_roles = required
        wrapper.accepted_services = service
        return wrapper

    return decorator


def optional_service(view: Callable) -> Callable:
    """Open to anyone, but a service credential that is sent must be valid (seed 000's bot sends none)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        g.service = _service_identity(SERVICE_ANY)
        return view(*args, **kwargs)

    wrapper.required_roles = None
    wrapper.accepted_services = SERVICE_ANY
    return wrapper


def public(view: Callable) -> Callable:
    """Mark a view as deliberately open (the permission matrix refuses unmarked API views)."""
    view.required_roles = None
    view.accepted_services = SERVICE_NONE
    return view
