"""Idempotent demo data: staff accounts for every role, and whatever each vertical adds.

The demo password is printed by ``run-all``; it is a demo convenience, not a secret, and the demo
data is only seeded on request (``seed-demo``, ``run-all``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from webapp.core.models import Membership, Organization, User
from webapp.core.roles import Role
from webapp.core.services import create_staff_user
from webapp.extensions import db

DEMO_PASSWORD = "botdesk-demo"
DEMO_EMAIL_DOMAIN = "demo.botdesk.local"  # every demo staff account's e-mail ends with it
DEMO_STAFF = (
    ("superuser", Role.SUPERUSER),
    ("admin", Role.ADMIN),
    ("moderator", Role.MODERATOR),
    ("helper", Role.HELPER),
    ("marketer", Role.MARKETER),
    ("doctor", Role.DOCTOR),
    ("realtor", Role.REALTOR),
)


def _seed_staff() -> Iterator[str]:
    for username, role in DEMO_STAFF:
        if db.session.scalar(db.select(User.id).filter_by(username=username)) is None:
            create_staff_user(
                username,
                f"{username}@{DEMO_EMAIL_DOMAIN}",
                DEMO_PASSWORD,
                role,
                source="cli",
                first_name=username.capitalize(),
                language="ru",
            )
            yield f"created demo user {username} ({role.value})"


def seed_demo() -> Iterator[str]:
    """Staff first, then each package's ``demo.seed()`` (bots before the verticals that use them)."""
    from webapp.verticals import each_module

    seeders: list[Callable[[], Iterator[str]]] = [_seed_staff, *(m.seed for m in each_module("demo"))]
    for seeder in seeders:
        yield from seeder()
        # The command's boundary, once per package: a package whose seed fails keeps the ones before
        # it, and running the command again completes the rest.
        db.session.commit()


def demo_logins() -> list[tuple[str, list[str]]]:
    """The demo's staff logins by organization ("" for the platform's own roles), as ``run-all``
    prints them: every business's admin and staff, not only the platform's roles."""
    rows = db.session.execute(
        db.select(User.username, User.role, Organization.name)
        .outerjoin(Membership, Membership.user_id == User.id)
        .outerjoin(Organization, Organization.id == Membership.organization_id)
        .where(
            User.email.like(f"%@{DEMO_EMAIL_DOMAIN}"),
            User.is_active.is_(True),
            User.role != Role.USER.value,  # the demo's guests sign in through the bots, not the console
        )
        .order_by(Organization.name.nulls_first(), User.username)
    ).all()
    by_organization: dict[str, list[str]] = {}
    for username, role, organization in rows:
        by_organization.setdefault(organization or "", []).append(f"{username} ({role})")
    return list(by_organization.items())
