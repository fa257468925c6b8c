"""Flask-JWT-Extended hooks: user lookup, Redis blocklist, and 401 bodies in the seeds' shapes."""

from __future__ import annotations

from flask_jwt_extended import JWTManager

from webapp.core.auth.tokens import is_revoked
from webapp.core.errors import auth_failure
from webapp.core.services import get_user


def init_jwt_callbacks(jwt: JWTManager) -> None:
    @jwt.user_lookup_loader
    def _load_user(_header, payload):
        return get_user(payload["sub"])

    @jwt.token_in_blocklist_loader
    def _revoked(_header, payload) -> bool:
        return is_revoked(payload)

    @jwt.expired_token_loader
    def _expired(_header, payload):
        return auth_failure("Token is invalid or expired", payload.get("type", "access"))

    @jwt.invalid_token_loader
    def _invalid(reason: str):
        return auth_failure("Token is invalid or expired")

    @jwt.unauthorized_loader
    def _missing(reason: str):
        return auth_failure("Authentication credentials were not provided")

    @jwt.revoked_token_loader
    def _revoked_response(_header, payload):
        return auth_failure("Token is blacklisted", payload.get("type", "access"))

    @jwt.user_lookup_error_loader
    def _no_user(_header, payload):
        return auth_failure("User not found")
