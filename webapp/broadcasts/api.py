"""Broadcast JSON API: seed 002's ``/api/bot/broadcast/...`` endpoints and what the console needs.

Seed 002 (marketer and up, or the seed's bot with ``Authorization: Bearer <TELEGRAM_BOT_API_SECRET>``):
``POST /api/bot/broadcast/create/``, ``POST /api/bot/broadcast/<id>/start/``,
``GET /api/bot/broadcast/<id>/stats/`` — plus ``/pause/``, ``/resume/`` and ``/cancel/`` next to them.

Console API (marketer and up, JWT): segments CRUD and preview (count + sample of 20), broadcasts
CRUD, test send to yourself, send now / schedule / unschedule / pause / resume / cancel, progress,
deliveries. Thin: validate → service → serialise; a refused service call is a 4xx with nothing written
(the app's one ServiceError handler rolls the request back; a view that writes flushes before it
serialises, and the request commits once, at its end: ``webapp.core.unit_of_work``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, g, jsonify

from webapp.broadcasts import access
from webapp.broadcasts import schemas as bs
from webapp.broadcasts.models import Broadcast, BroadcastDelivery, Segment
from webapp.broadcasts.schemas import (
    BroadcastIn,
    BroadcastPatch,
    BroadcastQuery,
    ButtonIn,
    DeliveryQuery,
    PreviewIn,
    ScheduleIn,
    SegmentIn,
    SegmentPatch,
    SegmentQuery,
)
from webapp.broadcasts.services import lifecycle, reports, segments
from webapp.broadcasts.services.delivery import send_test
from webapp.broadcasts.services.segments import FilterError
from webapp.core.apispec import JWT, spec
from webapp.core.db import iso
from webapp.core.errors import ApiError
from webapp.core.pagination import paginate
from webapp.core.permissions import SERVICE_SHARED_SECRET, require_role
from webapp.core.roles import Role
from webapp.core.schemas import SEED_ERRORS, responses
from webapp.extensions import db
from webapp.telegram.models import Bot, Vertical

bp = Blueprint("broadcasts_api", __name__)

SERVICE_OR_JWT = [{"jwt": []}, {"service_secret": []}]
TAGS = ["broadcasts"]


def filter_fields(prefix: str) -> Callable:
    """Name a refused filter by where it sits in the request body (``filters.city``): a segment's
    filters come as ``filters``, a broadcast's own as ``segment_filters``. The refusal itself is
    answered, and the request rolled back, by the app's one ServiceError handler."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except FilterError as exc:
                raise FilterError(
                    [
                        {**d, "field": f"{prefix}.{d['field']}" if d["field"] != prefix else d["field"]}
                        for d in exc.details
                    ]
                ) from exc

        return wrapper

    return decorator


def _actor():
    return g.get("user")


def _who():
    """The access layer's actor: the signed-in user, or the platform for the seed's shared secret."""
    return access.actor_of(g.get("user"))


def _source() -> str:
    return "api" if g.get("user") is not None else "bot"


# --- serialisers -----------------------------------------------------------------------------------


def segment_out(segment: Segment) -> dict:
    return {
        "id": segment.id,
        "bot_id": segment.bot_id,
        "name": segment.name,
        "description": segment.description,
        "filters": segment.filters,
        "created_by": str(segment.created_by_id) if segment.created_by_id else None,
        "created_at": iso(segment.created_at),
        "updated_at": iso(segment.updated_at),
    }


def broadcast_out(broadcast: Broadcast) -> dict:
    texts = broadcast.texts or {}
    return {
        "id": broadcast.id,
        "bot_id": broadcast.bot_id,
        "bot": broadcast.bot.name,
        "title": broadcast.title,
        "text": broadcast.text,
        "texts": texts,
        "text_ru": texts.get("ru", broadcast.text),
        "text_kk": texts.get("kk"),
        "buttons": broadcast.buttons or [],
        "has_photo": broadcast.photo_name is not None,
        "segment_id": broadcast.segment_id,
        "segment_filters": broadcast.filters,
        "allow_paid_broadcast": broadcast.allow_paid_broadcast,
        "status": broadcast.status,
        "scheduled_at": iso(broadcast.scheduled_at),
        "started_at": iso(broadcast.started_at),
        "finished_at": iso(broadcast.finished_at),
        "total_recipients": broadcast.total_count,
        "sent_count": broadcast.sent_count,
        "delivered_count": broadcast.sent_count,
        "failed_count": broadcast.failed_count,
        "blocked_count": broadcast.blocked_count,
        "unknown_count": broadcast.unknown_count,
        "pending_count": broadcast.pending_count,
        "last_error": broadcast.last_error,
        "created_by": str(broadcast.created_by_id) if broadcast.created_by_id else None,
        "created_by_name": broadcast.created_by.display_name if broadcast.created_by else None,
        "created_at": iso(broadcast.created_at),
        "updated_at": iso(broadcast.updated_at),
    }


def delivery_out(row: BroadcastDelivery, with_identities: bool) -> dict:
    return {
        "id": row.id,
        "telegram_account_id": row.telegram_account_id,
        # Marketers see how a broadcast went, never who the recipients are on Telegram.
        "chat_id": row.chat_id if with_identities else None,
        "language": row.language,
        "status": row.status,
        "attempts": row.attempts,
        "telegram_message_id": row.telegram_message_id,
        "error": row.error,
        "sending_at": iso(row.sending_at),
        "finished_at": iso(row.finished_at),
    }


def _broadcast(broadcast_id: int) -> Broadcast:
    """The broadcast if the caller's organization owns its bot; else 404 (never 403)."""
    return access.get_broadcast(_who(), broadcast_id)


def _segment(segment_id: int) -> Segment:
    return access.get_segment(_who(), segment_id)


def _buttons(value: list[list[ButtonIn]] | None) -> list | None:
    if value is None:
        return None
    return [[button.model_dump(exclude_none=True) for button in row] for row in value]


def _texts(body: BroadcastIn) -> tuple[str, dict[str, str]]:
    texts = dict(body.texts or {})
    if body.text_kk:
        texts["kk"] = body.text_kk
    if body.text_ru and body.text:
        texts["ru"] = body.text_ru
    main = body.text or body.text_ru or body.text_kk
    if not main:
        raise ApiError(
            422, "Invalid data", "VALIDATION_ERROR", [{"field": "text", "message": "Give text (or text_ru / text_kk)"}]
        )
    return main, texts


def _default_bot_id() -> int:
    """Seed 002's client knows one clinic: its bot, when the platform has exactly one."""
    query = sa.select(Bot.id).where(Bot.vertical == Vertical.CLINIC.value, Bot.enabled.is_(True)).limit(2)
    ids = db.session.scalars(access.scope(query, _who(), Bot)).all()
    if len(ids) != 1:
        raise ApiError(422, "Invalid data", "VALIDATION_ERROR", [{"field": "bot_id", "message": "bot_id is required"}])
    return ids[0]


# --- seed 002 --------------------------------------------------------------------------------------


@bp.post("/api/bot/broadcast/create/")
@bp.post("/api/broadcasts/")
@require_role(Role.MARKETER, service=SERVICE_SHARED_SECRET)
@spec.validate(json=BroadcastIn, resp=responses(bs.BroadcastOut, 201, SEED_ERRORS), tags=TAGS, security=SERVICE_OR_JWT)
@filter_fields("segment_filters")
def create_broadcast(json: BroadcastIn):
    """Create a broadcast (a draft; scheduled at once when ``scheduled_at`` is given)."""
    text, texts = _texts(json)
    filters = json.segment_filters if json.segment_filters is not None else json.segment_filters_json
    bot = access.get_bot(_who(), json.bot_id or _default_bot_id())
    access.check_audience(_who(), bot, json.segment_id, filters)
    broadcast = lifecycle.create_broadcast(
        _actor(),
        bot_id=bot.id,
        title=json.title,
        text=text,
        texts=texts,
        buttons=_buttons(json.buttons),
        segment_id=json.segment_id,
        filters=filters,
        allow_paid_broadcast=json.allow_paid_broadcast,
        source=_source(),
    )
    if json.scheduled_at is not None:
        lifecycle.schedule_broadcast(_actor(), broadcast, json.scheduled_at, source=_source())
    db.session.flush()
    return jsonify(broadcast_out(broadcast)), 201


def _transition(broadcast_id: int, move: Callable) -> Any:
    broadcast = _broadcast(broadcast_id)
    if move in (lifecycle.start_broadcast, lifecycle.resume_broadcast):
        access.check_broadcast(_who(), broadcast)
    move(_actor(), broadcast, source=_source())
    db.session.flush()
    return jsonify(broadcast_out(broadcast))


@bp.post("/api/bot/broadcast/<int:broadcast_id>/start/")
@bp.post("/api/broadcasts/<int:broadcast_id>/send/")
@require_role(Role.MARKETER, service=SERVICE_SHARED_SECRET)
@spec.validate(resp=responses(bs.BroadcastOut, errors=SEED_ERRORS), tags=TAGS, security=SERVICE_OR_JWT)
def start_broadcast(broadcast_id: int):
    """Send now: the audience is frozen and the workers start (a draft or a scheduled broadcast)."""
    return _transition(broadcast_id, lifecycle.start_broadcast)


@bp.get("/api/bot/broadcast/<int:broadcast_id>/stats/")
@bp.get("/api/broadcasts/<int:broadcast_id>/progress/")
@require_role(Role.MARKETER, service=SERVICE_SHARED_SECRET)
@spec.validate(resp=responses(bs.BroadcastStatsOut, errors=SEED_ERRORS), tags=TAGS, security=SERVICE_OR_JWT)
def broadcast_stats(broadcast_id: int):
    """Live counters: total, sent (= delivered), failed, blocked, unknown, pending; percent, rate, ETA."""
    return jsonify(reports.stats(_broadcast(broadcast_id)))


@bp.post("/api/bot/broadcast/<int:broadcast_id>/pause/")
@bp.post("/api/broadcasts/<int:broadcast_id>/pause/")
@require_role(Role.MARKETER, service=SERVICE_SHARED_SECRET)
@spec.validate(resp=responses(bs.BroadcastOut, errors=SEED_ERRORS), tags=TAGS, security=SERVICE_OR_JWT)
def pause_broadcast(broadcast_id: int):
    """Pause a sending broadcast (workers stop within a second)."""
    return _transition(broadcast_id, lifecycle.pause_broadcast)


@bp.post("/api/bot/broadcast/<int:broadcast_id>/resume/")
@bp.post("/api/broadcasts/<int:broadcast_id>/resume/")
@require_role(Role.MARKETER, service=SERVICE_SHARED_SECRET)
@spec.validate(resp=responses(bs.BroadcastOut, errors=SEED_ERRORS), tags=TAGS, security=SERVICE_OR_JWT)
def resume_broadcast(broadcast_id: int):
    """Resume a paused broadcast."""
    return _transition(broadcast_id, lifecycle.resume_broadcast)


@bp.post("/api/bot/broadcast/<int:broadcast_id>/cancel/")
@bp.post("/api/broadcasts/<int:broadcast_id>/cancel/")
@require_role(Role.MARKETER, service=SERVICE_SHARED_SECRET)
@spec.validate(resp=responses(bs.BroadcastOut, errors=SEED_ERRORS), tags=TAGS, security=SERVICE_OR_JWT)
def cancel_broadcast(broadcast_id: int):
    """Cancel for good; recipients not reached yet stay pending in the record."""
    return _transition(broadcast_id, lifecycle.cancel_broadcast)


# --- segments --------------------------------------------------------------------------------------


@bp.get("/api/broadcasts/segments/")
@require_role(Role.MARKETER)
@spec.validate(query=SegmentQuery, resp=responses(bs.SegmentPage, errors=SEED_ERRORS), tags=TAGS, security=JWT)
def list_segments(query: SegmentQuery):
    """Saved segments, newest first (``bot_id`` to narrow)."""
    select = access.scope(sa.select(Segment).order_by(Segment.id.desc()), _who(), Segment)
    if query.bot_id:
        select = select.where(Segment.bot_id == query.bot_id)
    return jsonify(paginate(select, query.page, query.size, segment_out))


@bp.post("/api/broadcasts/segments/")
@require_role(Role.MARKETER)
@spec.validate(json=SegmentIn, resp=responses(bs.SegmentOut, 201, SEED_ERRORS), tags=TAGS, security=JWT)
@filter_fields("filters")
def create_segment(json: SegmentIn):
    """Save a segment of a bot's audience."""
    bot = access.get_bot(_who(), json.bot_id)
    access.check_filters(_who(), bot, json.filters)
    segment = segments.create_segment(_actor(), bot.id, json.name, json.filters, json.description)
    db.session.flush()
    return jsonify(segment_out(segment)), 201


@bp.post("/api/broadcasts/segments/preview/")
@require_role(Role.MARKETER)
@spec.validate(json=PreviewIn, resp=responses(bs.PreviewOut, errors=SEED_ERRORS), tags=TAGS, security=JWT)
@filter_fields("filters")
def preview_filters(json: PreviewIn):
    """Audience count and a sample of 20 first names for unsaved filters."""
    bot = access.get_bot(_who(), json.bot_id)
    access.check_filters(_who(), bot, json.filters)
    return jsonify(segments.preview(bot, json.filters))


@bp.get("/api/broadcasts/segments/<int:segment_id>/")
@require_role(Role.MARKETER)
@spec.validate(resp=responses(bs.SegmentOut, errors=SEED_ERRORS), tags=TAGS, security=JWT)
def get_segment(segment_id: int):
    """One segment."""
    return jsonify(segment_out(_segment(segment_id)))


@bp.patch("/api/broadcasts/segments/<int:segment_id>/")
@require_role(Role.MARKETER)
@spec.validate(json=SegmentPatch, resp=responses(bs.SegmentOut, errors=SEED_ERRORS), tags=TAGS, security=JWT)
@filter_fields("filters")
def update_segment(segment_id: int, json: SegmentPatch):
    """Rename, describe or change the filters of a segment."""
    segment = _segment(segment_id)
    access.check_filters(_who(), segment.bot, json.filters)
    segment = segments.update_segment(segment, name=json.name, filters=json.filters, description=json.description)
    db.session.flush()
    return jsonify(segment_out(segment))


@bp.delete("/api/broadcasts/segments/<int:segment_id>/")
@require_role(Role.MARKETER)
@spec.validate(resp=responses(None, 204, SEED_ERRORS), tags=TAGS, security=JWT)
def delete_segment(segment_id: int):
    """Delete a segment (broadcasts keep their copy of its filters)."""
    segments.delete_segment(_segment(segment_id))
    db.session.flush()
    return "", 204


@bp.get("/api/broadcasts/segments/<int:segment_id>/preview/")
@require_role(Role.MARKETER)
@spec.validate(resp=responses(bs.PreviewOut, errors=SEED_ERRORS), tags=TAGS, security=JWT)
@filter_fields("filters")
def preview_segment(segment_id: int):
    """Audience count and a sample of 20 of a saved segment, as it is now."""
    segment = _segment(segment_id)
    access.check_filters(_who(), segment.bot, segment.filters)
    return jsonify(segments.preview(segment.bot, segment.filters))


# --- broadcasts ------------------------------------------------------------------------------------


@bp.get("/api/broadcasts/")
@require_role(Role.MARKETER)
@spec.validate(query=BroadcastQuery, resp=responses(bs.BroadcastPage, errors=SEED_ERRORS), tags=TAGS, security=JWT)
def list_broadcasts(query: BroadcastQuery):
    """Broadcasts, newest first; filters: bot_id, status, q (title contains)."""
    select = reports.broadcasts_query(bot_id=query.bot_id, status=query.status, search=query.q)
    select = access.scope(select, _who(), Broadcast)
    return jsonify(paginate(select, query.page, query.size, broadcast_out))


@bp.get("/api/broadcasts/<int:broadcast_id>/")
@require_role(Role.MARKETER)
@spec.validate(resp=responses(bs.BroadcastOut, errors=SEED_ERRORS), tags=TAGS, security=JWT)
def get_broadcast(broadcast_id: int):
    """One broadcast with its counters."""
    return jsonify(broadcast_out(_broadcast(broadcast_id)))


@bp.patch("/api/broadcasts/<int:broadcast_id>/")
@require_role(Role.MARKETER)
@spec.validate(json=BroadcastPatch, resp=responses(bs.BroadcastOut, errors=SEED_ERRORS), tags=TAGS, security=JWT)
@filter_fields("segment_filters")
def update_broadcast(broadcast_id: int, json: BroadcastPatch):
    """Edit a draft or scheduled broadcast."""
    broadcast = _broadcast(broadcast_id)
    given = json.model_fields_set
    access.check_audience(_who(), broadcast.bot, json.segment_id, json.segment_filters)
    lifecycle.update_broadcast(
        broadcast,
        title=json.title,
        text=json.text,
        texts=json.texts,
        buttons=_buttons(json.buttons),
        segment_id=json.segment_id if "segment_id" in given else lifecycle.UNSET,
        filters=json.segment_filters,
        allow_paid_broadcast=json.allow_paid_broadcast,
    )
    db.session.flush()
    return jsonify(broadcast_out(broadcast))


@bp.delete("/api/broadcasts/<int:broadcast_id>/")
@require_role(Role.MARKETER)
@spec.validate(resp=responses(None, 204, SEED_ERRORS), tags=TAGS, security=JWT)
def delete_broadcast(broadcast_id: int):
    """Delete a draft."""
    lifecycle.delete_broadcast(_actor(), _broadcast(broadcast_id))
    db.session.flush()
    return "", 204


@bp.post("/api/broadcasts/<int:broadcast_id>/test/")
@require_role(Role.MARKETER)
@spec.validate(resp=responses(bs.SendTestOut, errors=SEED_ERRORS), tags=TAGS, security=JWT)
def test_broadcast(broadcast_id: int):
    """Send the broadcast to yourself (your Telegram account linked to its bot), not to the audience."""
    broadcast = _broadcast(broadcast_id)
    access.check_broadcast(_who(), broadcast)
    result = send_test(_actor(), broadcast)
    db.session.flush()
    return jsonify(result)


@bp.post("/api/broadcasts/<int:broadcast_id>/schedule/")
@require_role(Role.MARKETER)
@spec.validate(json=ScheduleIn, resp=responses(bs.BroadcastOut, errors=SEED_ERRORS), tags=TAGS, security=JWT)
def schedule_broadcast(broadcast_id: int, json: ScheduleIn):
    """Schedule (or move) the start; ``scheduled_at`` with its UTC offset, in the future."""
    broadcast = _broadcast(broadcast_id)
    access.check_broadcast(_who(), broadcast)
    lifecycle.schedule_broadcast(_actor(), broadcast, json.scheduled_at)
    db.session.flush()
    return jsonify(broadcast_out(broadcast))


@bp.post("/api/broadcasts/<int:broadcast_id>/unschedule/")
@require_role(Role.MARKETER)
@spec.validate(resp=responses(bs.BroadcastOut, errors=SEED_ERRORS), tags=TAGS, security=JWT)
def unschedule_broadcast(broadcast_id: int):
    """Back to draft."""
    return _transition(broadcast_id, lifecycle.unschedule_broadcast)


@bp.get("/api/broadcasts/<int:broadcast_id>/deliveries/")
@require_role(Role.MARKETER)
@spec.validate(query=DeliveryQuery, resp=responses(bs.DeliveryPage, errors=SEED_ERRORS), tags=TAGS, security=JWT)
def list_deliveries(broadcast_id: int, query: DeliveryQuery):
    """The recipients' delivery rows (``status`` to list e.g. the failures with their reasons)."""
    broadcast = _broadcast(broadcast_id)
    with_identities = access.shows_identities(_who(), broadcast.bot)
    select = reports.deliveries_query(broadcast_id, query.status)
    return jsonify(paginate(select, query.page, query.size, lambda row: delivery_out(row, with_identities)))
