"""A desk's own settings and ready answers: its time zone, its first-response deadline, its canned
replies.

Defaults, for a desk that set nothing (``helpdesk_desk_settings`` has no row, or a blank field):

- time zone: ``HELPDESK_TIMEZONE`` if configured, else the platform's ``DEFAULT_TIMEZONE``;
- first-response deadline: ``HELPDESK_FIRST_RESPONSE_MINUTES`` if configured, else 60 minutes after
  the ticket was opened.

A desk's admin changes both on the console's "Desk settings" page.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

import sqlalchemy as sa
from flask import current_app, g, has_app_context

from webapp.core import tenancy
from webapp.core.db import insert_missing, utcnow
from webapp.core.models import User
from webapp.core.services import record_audit
from webapp.extensions import db
from webapp.helpdesk.access import can_edit_desk, scope
from webapp.helpdesk.models import CannedReply, DeskSettings
from webapp.helpdesk.services.tickets import clean_text, invalid

DEFAULT_FIRST_RESPONSE_MINUTES = 60
MAX_FIRST_RESPONSE_MINUTES = 7 * 24 * 60  # a week: beyond that a "deadline" is no longer one
SHORT_CODE = re.compile(r"^[^\W_][\w-]{0,31}$")  # letters of any script: a desk may write /привет
MAX_CANNED_CONTENT = 4000


# --- settings --------------------------------------------------------------------------------------


@cache
def zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def platform_timezone() -> str:
    return current_app.config.get("HELPDESK_TIMEZONE") or current_app.config["DEFAULT_TIMEZONE"]


def platform_first_response_minutes() -> int:
    return int(current_app.config.get("HELPDESK_FIRST_RESPONSE_MINUTES") or DEFAULT_FIRST_RESPONSE_MINUTES)


def settings_of(organization_id: int) -> DeskSettings | None:
    """The desk's row, read once per request (the inbox asks for every ticket it lists)."""
    cached = g.setdefault("helpdesk_desk_settings", {}) if has_app_context() else {}
    if organization_id not in cached:
        cached[organization_id] = db.session.get(DeskSettings, organization_id)
    return cached[organization_id]


def desk_timezone(organization_id: int) -> str:
    row = settings_of(organization_id)
    return (row.timezone if row else None) or platform_timezone()


def first_response_minutes(organization_id: int) -> int:
    row = settings_of(organization_id)
    return (row.first_response_minutes if row else None) or platform_first_response_minutes()


def desk_time(value: datetime | None, organization_id: int) -> str:
    """A stored time in the desk's zone, to the minute, with the zone named ("2026-12-05 10:30 +05")."""
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(desk_timezone(organization_id)))
    return f"{local:%Y-%m-%d %H:%M} {local:%Z}"


def _clean_minutes(value) -> int | None:
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_FIRST_RESPONSE_MINUTES:
        raise invalid(
            "first_response_minutes",
            f"The first-response deadline is a whole number of minutes from 1 to {MAX_FIRST_RESPONSE_MINUTES}",
        )
    return int(text)


def save_settings(actor: User, organization_id: int, timezone: str | None, minutes) -> DeskSettings:
    """The desk admin's settings; a blank field goes back to the platform's default."""
    if not can_edit_desk(actor, organization_id):
        raise tenancy.not_found("Organization")
    zone = (timezone or "").strip() or None
    if zone is not None and zone not in zone_names():
        raise invalid("timezone", "Unknown time zone")
    minutes = _clean_minutes(minutes)
    # Two admins saving a desk's first settings at once: one inserts, both then update the one row.
    insert_missing(DeskSettings, {"organization_id": organization_id, "updated_at": utcnow()})
    row = db.session.get(DeskSettings, organization_id, populate_existing=True)
    row.timezone, row.first_response_minutes = zone, minutes
    db.session.flush()
    if has_app_context():
        g.pop("helpdesk_desk_settings", None)
    return row


# --- canned replies --------------------------------------------------------------------------------


def clean_canned(short_code: str | None, content: str | None) -> tuple[str, str]:
    """A short code as typed after ``/`` (lower case, a leading slash dropped) and the reply's text."""
    code = clean_text(short_code).lstrip("/").lower()
    if not SHORT_CODE.match(code):
        raise invalid(
            "short_code",
            "A short code is 1 to 32 letters, digits, dashes or underscores, starting with a letter or digit",
        )
    text = clean_text(content)
    if not text:
        raise invalid("content", "Write the text of the reply")
    if len(text) > MAX_CANNED_CONTENT:
        raise invalid("content", f"A canned reply is at most {MAX_CANNED_CONTENT} characters")
    return code, text


def code_taken(organization_id: int, code: str, except_id: int | None = None) -> bool:
    query = sa.select(CannedReply.id).where(
        CannedReply.organization_id == organization_id, CannedReply.short_code == code
    )
    if except_id is not None:
        query = query.where(CannedReply.id != except_id)
    return db.session.scalar(query) is not None


def save_canned_reply(
    actor: User,
    reply: CannedReply | None,
    short_code: str | None,
    content: str | None,
    *,
    organization_id: int | None = None,
    source: str = "console",
) -> CannedReply:
    """A desk admin adds a canned reply to ``organization_id``'s desk (``reply`` None) or changes
    one: the code cleaned and unique in the desk; audited with the code. Flushes only."""
    organization_id = reply.organization_id if reply is not None else organization_id
    if organization_id is None or not can_edit_desk(actor, organization_id):
        raise tenancy.not_found("Canned reply")
    code, text = clean_canned(short_code, content)
    if code_taken(organization_id, code, except_id=reply.id if reply is not None else None):
        raise invalid("short_code", "This desk already has a canned reply /%(code)s.")
    created = reply is None
    old = None if created else reply.short_code
    if created:
        reply = CannedReply(organization_id=organization_id)
        db.session.add(reply)
    reply.short_code, reply.content = code, text
    db.session.flush()
    action = "canned_reply.create" if created else "canned_reply.update"
    record_audit(actor, action, "canned_reply", reply.id, old, code, source)
    return reply


def delete_canned_reply(actor: User, reply: CannedReply, source: str = "console") -> None:
    if not can_edit_desk(actor, reply.organization_id):
        raise tenancy.not_found("Canned reply")
    record_audit(actor, "canned_reply.delete", "canned_reply", reply.id, reply.short_code, None, source)
    db.session.delete(reply)
    db.session.flush()


def canned_replies(actor: User, organization_id: int) -> list[CannedReply]:
    """The replies ``actor`` may insert into a ticket of ``organization_id``'s desk."""
    query = scope(sa.select(CannedReply), actor, CannedReply).where(CannedReply.organization_id == organization_id)
    return list(db.session.scalars(query.order_by(CannedReply.short_code)))
