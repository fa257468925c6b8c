"""Organizations in tests: one test organization that fixtures' data and staff belong to unless a
test says otherwise"""

from __future__ import annotations

TEST_ORGANIZATION = "Test organization"
DEFAULT = object()  # "the test organization", distinct from None ("no organization")


def default_organization_id() -> int:
    """The test organization's id, created on first use (inside an app context)."""
    from webapp.core.tenancy import ensure_organization
    from webapp.extensions import db

    organization = ensure_organization(TEST_ORGANIZATION)
    db.session.commit()
    return organization.id


def organization_id_or_default(organization) -> int | None:
    return default_organization_id() if organization is DEFAULT else organization
