"""Who may see and use which bots, segments, broadcasts and deliveries: the one place the API, the
console and the send jobs ask (issue 12).

Everything here hangs off a bot, and a bot belongs to an organization (``bots.organization_id``):

- ``SYSTEM`` (the seed's bot with the shared secret, the send jobs) and superusers: every bot,
  platform bots (``organization_id`` NULL) included — those are the superuser's alone;
- an organization's marketer or admin: its own organization's bots and what hangs off them;
- anyone else: nothing.

Another organization's object is "not found" (404), never "forbidden". On top of the scope:

- marketers learn audience counts and a sample of first names, never who the recipients are on
  Telegram (``shows_identities``);
- health filters (tags, services used, insurance) are for the clinic's own staff: an admin or a
  doctor of the organization that owns the clinic bot (``may_use_health_filters``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from webapp.broadcasts.models import Broadcast, BroadcastDelivery, Segment
from webapp.core import tenancy
from webapp.core.actors import SYSTEM, Actor
from webapp.core.models import User
from webapp.core.roles import Role
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.telegram.models import Bot, Vertical

# Seed 002's filters that say something about a patient's health.
HEALTH_FIELDS = frozenset({"tags", "services", "osms_status"})
# Who of the clinic's own organization may segment by health (the marketer may not).
HEALTH_ROLES = frozenset({Role.ADMIN.value, Role.DOCTOR.value})


def actor_of(user: User | None) -> Actor:
    """The access layer's actor for a request: no user means the platform's own service credential."""
    return SYSTEM if user is None else user


def bot_rule(actor: Actor | None) -> sa.ColumnElement[bool] | None:
    """The bots ``actor`` reaches, as a condition on Bot; None: every bot."""
    return tenancy.organization_rule(actor, Bot.organization_id)


def _reachable_bot_ids(actor: Actor | None) -> sa.Select | None:
    rule = bot_rule(actor)
    return None if rule is None else sa.select(Bot.id).where(rule)


def scope(query, actor: Actor | None, model=None):
    """Narrow a select (or a Flask-Admin query) over Bot, Segment, Broadcast or BroadcastDelivery to
    what ``actor`` reaches."""
    model = model or query.column_descriptions[0]["entity"]
    rule = bot_rule(actor)
    if rule is None:
        return query
    if model is Bot:
        return query.filter(rule)
    bot_ids = sa.select(Bot.id).where(rule)
    if model in (Segment, Broadcast):
        return query.filter(model.bot_id.in_(bot_ids))
    if model is BroadcastDelivery:
        return query.filter(
            BroadcastDelivery.broadcast_id.in_(sa.select(Broadcast.id).where(Broadcast.bot_id.in_(bot_ids)))
        )
    raise TypeError(f"broadcasts.access does not scope {model!r}")


def can_use_bot(actor: Actor | None, bot: Bot | None) -> bool:
    return bot is not None and tenancy.in_organization(actor, bot.organization_id)


def can_read(actor: Actor | None, obj: Any) -> bool:
    """Whether ``actor`` reaches ``obj`` (a bot, a segment, a broadcast or a delivery row)."""
    if obj is None:
        return False
    if isinstance(obj, Bot):
        return can_use_bot(actor, obj)
    if isinstance(obj, (Segment, Broadcast)):
        return can_use_bot(actor, obj.bot)
    if isinstance(obj, BroadcastDelivery):
        return can_use_bot(actor, obj.broadcast.bot)
    raise TypeError(f"broadcasts.access does not know {type(obj)!r}")


# Every verb on what the actor reaches is the same rule: who reaches a broadcast may act on it.
can_edit = can_send = can_read


def bots_query(actor: Actor | None) -> sa.Select:
    """The bots ``actor`` may compose for, by name."""
    return scope(sa.select(Bot).order_by(Bot.name), actor, Bot)


def get_bot(actor: Actor | None, bot_id: int | None) -> Bot:
    bot = db.session.get(Bot, bot_id) if bot_id else None
    if not can_use_bot(actor, bot):
        raise ServiceError("Bot not found", 404, "NOT_FOUND", "bot_id")
    return bot


def get_segment(actor: Actor | None, segment_id: int | None) -> Segment:
    segment = db.session.get(Segment, segment_id) if segment_id else None
    if not can_read(actor, segment):
        raise tenancy.not_found("Segment")
    return segment


def get_broadcast(actor: Actor | None, broadcast_id: int | None) -> Broadcast:
    broadcast = db.session.get(Broadcast, broadcast_id) if broadcast_id else None
    if not can_read(actor, broadcast):
        raise tenancy.not_found("Broadcast")
    return broadcast


# --- what a reachable audience may reveal ------------------------------------------------------------


def may_use_health_filters(actor: Actor | None, bot: Bot) -> bool:
    """The clinic's own staff (its organization's admin or doctor), superusers and the platform."""
    if tenancy.sees_every_organization(actor):
        return True
    return (
        isinstance(actor, User)
        and actor.is_active
        and actor.role in HEALTH_ROLES
        and tenancy.in_organization(actor, bot.organization_id)
    )


def health_fields(filters: Any) -> list[str]:
    """The health filters a definition uses (its raw JSON or parsed model)."""
    if filters is None:
        return []
    raw = filters if isinstance(filters, dict) else filters.model_dump(exclude_none=True)
    return sorted(name for name in HEALTH_FIELDS if raw.get(name) not in (None, [], ""))


def check_filters(actor: Actor | None, bot: Bot, filters: Any) -> None:
    """Refuse a definition with health filters to whoever is not the clinic's own staff (403)."""
    if bot.vertical != Vertical.CLINIC.value:
        return
    used = health_fields(filters)
    if used and not may_use_health_filters(actor, bot):
        raise ServiceError("Health filters are for the clinic's own staff", 403, "FORBIDDEN", used[0])


def check_audience(actor: Actor | None, bot: Bot, segment_id: int | None, filters: Any) -> None:
    """``check_filters`` for what a broadcast will use: the saved segment's filters or its own."""
    if segment_id:
        segment = db.session.get(Segment, segment_id)
        if segment is not None and segment.bot_id == bot.id:
            check_filters(actor, bot, segment.filters)
    check_filters(actor, bot, filters)


def check_broadcast(actor: Actor | None, broadcast: Broadcast) -> None:
    """A broadcast about to be previewed, tested or sent: its audience's filters as they are now."""
    source = broadcast.segment.filters if broadcast.segment is not None else broadcast.filters
    check_filters(actor, broadcast.bot, source)


def shows_identities(actor: Actor | None, bot: Bot) -> bool:
    """Telegram ids of recipients: the platform, superusers and the bot's organization's admin; never
    a marketer."""
    if tenancy.sees_every_organization(actor):
        return True
    return (
        isinstance(actor, User)
        and actor.is_active
        and actor.role == Role.ADMIN.value
        and tenancy.in_organization(actor, bot.organization_id)
    )
