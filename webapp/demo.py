"""Idempotent demo data: staff accounts for every role, and whatever each vertical adds.

The demo password is printed by ``run-all``; it is a demo convenience, not a secret, and the demo
data is only seeded on request (``seed-demo``, ``run-all``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from webapp.core.models import User
from webapp.core.roles import Role
from webapp.core.services import create_staff_user
from webapp.extensions import db

DEMO_PASSWORD = "botdesk-demo"
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
                f"{username}@demo.botdesk.local",
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
        db.session.commit()
