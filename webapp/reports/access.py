"""Who reads which moderation reports: the one place the API, the console, the bot and the morning job ask.

A report is a count of one agency's moderation events (``report_scope``: the agency, or None for every
agency). The platform (superusers, the moderator) reads every agency; an agency's admin reads their own
agency; anyone else reads nothing — their figures are zeros, never another agency's.
"""

from __future__ import annotations

from webapp.core.models import User
from webapp.core.roles import Role, user_has_role
from webapp.core.tenancy import is_superuser
from webapp.extensions import db

# The "agency" of a reader who reaches none: no moderation event has it, so their figures are zeros.
NO_AGENCY = 0


def _reads_every_agency(user: User | None) -> bool:
    """The platform reads every agency's figures: its superusers and moderators."""
    return is_superuser(user) or (isinstance(user, User) and user.is_active and user.role == Role.MODERATOR.value)


def report_scope(user: User | None) -> int | None:
    """The agency a reader's report is limited to (None: every agency). Superusers and the platform
    moderator read every agency; an agency's admin reads the agency of their organization (their
    membership); anyone else — an admin of an organization that is no agency, say — reads nothing.
    The service credential (``X-Bot-Token``) is the platform's: its callers pass no user."""
    if _reads_every_agency(user):
        return None
    from webapp.realty.access import agency_id_of

    agency_id = agency_id_of(user) if user_has_role(user, Role.ADMIN) else None
    return NO_AGENCY if agency_id is None else agency_id


def service_scope(service: str | None) -> int | None:
    """The agency a service credential's report is limited to. The shared secret and an
    ``X-Bot-Token`` issued by the platform (a superuser, or a command line without a user) read
    every agency; a token an agency's admin issued reads only what its issuer may read — their
    agency, or nothing once they leave it or are blocked."""
    from webapp.core.models import ServiceToken

    if not service or not service.startswith("bot_token:"):
        return None
    row = db.session.get(ServiceToken, int(service.partition(":")[2]))
    if row is None or row.created_by_id is None:
        return None
    return report_scope(row.created_by)


def can_read_reports(user: User | None) -> bool:
    """The platform's moderators and superusers, and agencies' admins (of their own agency)."""
    return _reads_every_agency(user) or report_scope(user) != NO_AGENCY
