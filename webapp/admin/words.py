"""The words the console shows for attribute names and stored codes, in the reader's language.

One shared vocabulary here (console "messages" domain) and, per package, an optional
``webapp/<package>/words.py`` in that package's own catalog with
- ``LABELS``: attribute name -> lazy label (``"starts_at": _l("Starts")``);
- ``VALUES``: SQLAlchemy enum name -> {stored value: lazy word} (``"clinic_sex": {"F": _l("Female")}``).
``SecureModelView`` derives its column, filter and form labels, its list/detail words and its form
choices from them; templates use the ``word`` filter. A view's own ``column_labels`` still win.
"""

from __future__ import annotations

import importlib
import uuid
from functools import cache

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from webapp.core.i18n import LANGUAGE_NAMES
from webapp.extensions import db
from webapp.verticals import PLATFORM_PACKAGES, VERTICALS, vertical_module

LABELS = {
    "id": _l("Number"),
    "name": _l("Name"),
    "title": _l("Title"),
    "description": _l("Description"),
    "text": _l("Text"),
    "notes": _l("Notes"),
    "comment": _l("Comment"),
    "status": _l("Status"),
    "kind": _l("Kind"),
    "type": _l("Type"),
    "source": _l("Source"),
    "error": _l("Error"),
    "user": _l("User"),
    "username": _l("Username"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "language": _l("Language"),
    "role": _l("Role"),
    "address": _l("Address"),
    "city": _l("City"),
    "currency": _l("Currency"),
    "amount": _l("Amount"),
    "price": _l("Price"),
    "position": _l("Position"),
    "is_active": _l("Active"),
    "enabled": _l("Enabled"),
    "created_at": _l("Created"),
    "updated_at": _l("Updated"),
    "sent_at": _l("Sent"),
    "paid_at": _l("Paid at"),
    "last_login_at": _l("Last sign-in"),
    "timezone": _l("Time zone"),
    "bot": _l("Bot"),
    "vertical": _l("Vertical"),
    "mode": _l("Mode"),
    "token": _l("Token"),
    "subject": _l("Subject"),
    "actor": _l("Who"),
    "action": _l("Action"),
    "target_type": _l("Object"),
    "target_id": _l("Name"),
    "old_value": _l("Before"),
    "new_value": _l("After"),
    "provider": _l("Provider"),
    "provider_ref": _l("Provider reference"),
    "provider_reference": _l("Provider reference"),
    "cancel_reason": _l("Cancellation reason"),
    "cancelled_at": _l("Cancelled"),
    "confirmed_at": _l("Confirmed"),
    "completed_at": _l("Completed"),
}

ROLES = {
    "superuser": _l("Superuser"),
    "admin": _l("Administrator"),
    "moderator": _l("Moderator"),
    "realtor": _l("Realtor"),
    "helper": _l("Support agent"),
    "doctor": _l("Doctor"),
    "marketer": _l("Marketer"),
    "user": _l("Customer"),
}
VALUES = {
    "user_role": ROLES,
    "bot_vertical": {
        "clinic": _l("Clinic"),
        "realty": _l("Real estate"),
        "reports": _l("Reports"),
        "helpdesk": _l("Helpdesk"),
        "finance": _l("Finance"),
    },
    "bot_mode": {"polling": _l("Polling"), "webhook": _l("Webhook")},
    "language": LANGUAGE_NAMES,
    "audit_action": {
        "user.create": _l("User created"),
        "user.role": _l("Role changed"),
        "user.block": _l("User blocked"),
        "user.unblock": _l("User unblocked"),
        "user.link_telegram": _l("Telegram linked"),
        "bot_token.create": _l("API token issued"),
        "bot_token.revoke": _l("API token revoked"),
        "agency.create": _l("Agency created"),
        "agency.update": _l("Agency changed"),
        "agency.activate": _l("Agency switched on"),
        "agency.deactivate": _l("Agency switched off"),
        "realty.membership": _l("Agency membership changed"),
        "broadcast.create": _l("Broadcast created"),
        "broadcast.schedule": _l("Broadcast scheduled"),
        "broadcast.unschedule": _l("Broadcast back to draft"),
        "broadcast.start": _l("Broadcast started"),
        "broadcast.pause": _l("Broadcast paused"),
        "broadcast.resume": _l("Broadcast resumed"),
        "broadcast.cancel": _l("Broadcast cancelled"),
        "broadcast.delete": _l("Broadcast deleted"),
        "broadcast.test": _l("Test message sent"),
        "membership.change": _l("Organization changed"),
        "organization.create": _l("Organization created"),
        "organization.activate": _l("Organization switched on"),
        "organization.deactivate": _l("Organization switched off"),
    },
    "audit_target": {
        "user": _l("User"),
        "agency": _l("Agency"),
        "broadcast": _l("Broadcast"),
        "service_token": _l("API token"),
        "organization": _l("Organization"),
    },
    "audit_source": {"console": _l("Console"), "api": _l("API"), "cli": _l("Command line"), "bot": _l("Bot")},
    # RQ's queues (webapp.jobs.queues.QUEUE_NAMES), as the jobs page names them.
    "rq_queue": {
        "default": _l("General jobs"),
        "broadcasts": _l("Broadcast delivery"),
        "notifications": _l("Notifications"),
        "reminders": _l("Reminders"),
        "email": _l("E-mail"),
    },
}
# Plain string columns that hold one of the codes above.
KINDS = {"language": "language", "action": "audit_action", "target_type": "audit_target", "source": "audit_source"}
# What the before/after values of an audit entry are, by the entry's kind of object.
AUDIT_VALUES = {"user": "user_role", "broadcast": "broadcast_status"}
# Where an audit entry's object is found, to name it: "module:Model.attribute".
AUDIT_TARGETS = {
    "user": "webapp.core.models:User.username",
    "organization": "webapp.core.models:Organization.name",
    "agency": "webapp.realty.models:Agency.name",
    "broadcast": "webapp.broadcasts.models:Broadcast.title",
    "service_token": "webapp.core.models:ServiceToken.name",
}


@cache
def vocabulary(package: str) -> tuple[dict, dict]:
    """(labels, values) for the models of ``webapp.<package>``: the shared words, then its own."""
    labels, values = dict(LABELS), dict(VALUES)
    module = vertical_module(package, "words") if package in (*PLATFORM_PACKAGES, *VERTICALS) else None
    if module is not None:
        labels.update(getattr(module, "LABELS", {}))
        values.update(getattr(module, "VALUES", {}))
    return labels, values


@cache
def every_value() -> dict:
    """Each enum's words, whichever package it belongs to (names are unique across packages)."""
    found = dict(VALUES)
    for package in (*PLATFORM_PACKAGES, *VERTICALS):
        found.update(vocabulary(package)[1])
    return found


def word(value, kind: str):
    """The word for a stored ``value`` of enum ``kind`` (the SQLAlchemy enum name); the value if none."""
    if value is None:
        return ""
    return every_value().get(kind, {}).get(str(value), value)


def audit_value(entry, value):
    """An audit entry's before/after value in words: a role, a status, an organization's name."""
    if value is None:
        return ""
    if entry.action == "membership.change":
        return _name_of("organization", value) or value
    kind = AUDIT_VALUES.get(entry.target_type)
    return word(value, kind) if kind else value


def audit_target(entry) -> str:
    """What an audit entry is about, by name (a user's username, not their UUID) where it still exists."""
    return _name_of(entry.target_type, entry.target_id) or entry.target_id or ""


def _name_of(target_type: str, target_id) -> str | None:
    found = AUDIT_TARGETS.get(target_type)
    if found is None or target_id in (None, ""):
        return None
    module, _, rest = found.partition(":")
    model_name, _, attribute = rest.partition(".")
    model = getattr(importlib.import_module(module), model_name)
    key_type = model.__mapper__.primary_key[0].type.python_type
    try:
        key = uuid.UUID(str(target_id)) if key_type is uuid.UUID else key_type(target_id)
    except (TypeError, ValueError):
        return None
    row = db.session.get(model, key)
    return str(getattr(row, attribute)) if row is not None else None


def column_kind(column) -> str | None:
    """The enum name whose words a model column's values take, if any."""
    if isinstance(column.type, sa.Enum) and column.type.name:
        return column.type.name
    return KINDS.get(column.key)


def choices(kind: str) -> list[tuple[str, object]]:
    return list(every_value()[kind].items())


def count_rows(number: int) -> str:
    """ "50 rows" with the language's plural form (the console's page-size menu)."""
    return ngettext("%(num)s row", "%(num)s rows", number)
