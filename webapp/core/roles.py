"""Roles and the one rule that decides whether a user holds a role (SPEC.md, "Organizations and roles").

Platform roles: ``superuser`` (everything, every organization) and ``moderator`` (realty
marketplace moderation and its reports, nothing else). Organization roles, held through a
membership (``webapp.core.tenancy``): ``admin`` (everything inside its own organization, so it
grants the organization's staff roles) and the sibling staff roles ``realtor``, ``helper``,
``doctor``, ``marketer``, which do not grant each other. ``user``: customers; every active account
holds it. A blocked (inactive) user holds no role at all. Which organization's rows a role reaches is
the access layers' business, not this module's.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    SUPERUSER = "superuser"
    ADMIN = "admin"
    MODERATOR = "moderator"
    REALTOR = "realtor"
    HELPER = "helper"
    DOCTOR = "doctor"
    MARKETER = "marketer"
    USER = "user"

    @property
    def rank(self) -> int:
        return ROLE_RANK[self]

    @classmethod
    def parse(cls, value: str | Role) -> Role:
        if isinstance(value, Role):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError as exc:
            raise ValueError(f"unknown role {value!r}") from exc


STAFF_ROLES = frozenset({Role.REALTOR, Role.HELPER, Role.DOCTOR, Role.MARKETER})
ORGANIZATION_ROLES = frozenset({Role.ADMIN, *STAFF_ROLES})
PLATFORM_ROLES = frozenset({Role.SUPERUSER, Role.MODERATOR})
# How far up a role sits, for ordering (who may manage whom); not what it grants.
ROLE_RANK = {
    Role.SUPERUSER: 100,
    Role.ADMIN: 80,
    Role.MODERATOR: 60,
    Role.REALTOR: 40,
    Role.HELPER: 40,
    Role.DOCTOR: 40,
    Role.MARKETER: 40,
    Role.USER: 10,
}
ALL_ROLES = tuple(Role)


def role_grants(held: Role | str, required: Role | str) -> bool:
    """True when a user whose role is ``held`` may act as ``required``."""
    held, required = Role.parse(held), Role.parse(required)
    if held == required or held == Role.SUPERUSER or required == Role.USER:
        return True
    return held == Role.ADMIN and required in STAFF_ROLES


def user_has_role(user, *required: Role | str) -> bool:
    """True when ``user`` is active and holds at least one of ``required`` (any, not all)."""
    if user is None or not getattr(user, "is_active", False):
        return False
    return any(role_grants(user.role, r) for r in required)


# The helpdesk seed (003) names roles in upper case. It documents USER, HELPER, MODERATOR and ADMIN;
# the platform's other roles are shown as themselves, so a client that reads a role and saves it
# back never turns a doctor into a helper.
SEED_003_ROLE = {role: role.value.upper() for role in Role}
FROM_SEED_003_ROLE = {shown: role for role, shown in SEED_003_ROLE.items()}
