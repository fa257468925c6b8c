"""The broadcasts console (marketer and up): compose with a Telegram-like preview and a live audience
count, test send to yourself, send now or schedule, pause / resume / cancel, a live progress page,
a list with filters and CSV exports. Every form carries the CSRF token (Flask-WTF checks every POST).
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Response, abort, flash, jsonify, redirect, request, stream_with_context, url_for
from flask_admin import expose
from flask_login import current_user

from webapp.admin import words
from webapp.admin.base import MAX_LIST_PAGE, SecureView, int_arg
from webapp.admin.dashboard import add_card
from webapp.broadcasts import access
from webapp.broadcasts.describe import LANGUAGE_WORDS, describe_filters
from webapp.broadcasts.models import Broadcast, BroadcastStatus, DeliveryStatus, Segment
from webapp.broadcasts.services import content as contents
from webapp.broadcasts.services import lifecycle, reports, segments
from webapp.broadcasts.services.delivery import send_test
from webapp.broadcasts.services.segments import LANGUAGES, VERTICAL_FIELDS, FilterError
from webapp.core.db import iso
from webapp.core.export import safe_writer
from webapp.core.i18n import Catalog
from webapp.core.pagination import fetch_page
from webapp.core.roles import Role
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.telegram.models import Bot

catalog = Catalog("broadcasts")
_ = catalog.gettext
_l = catalog.lazy_gettext

MARKETERS = (Role.MARKETER,)  # admin, moderator and superuser outrank marketer
PAGE_SIZE = 25
LIST_FIELDS = ("language", "services", "tags", "cities", "roles")
INT_FIELDS = ("age_min", "age_max", "min_visits", "active_days")


# --- forms ↔ services ------------------------------------------------------------------------------


def filters_from_form(form) -> dict[str, Any]:
    """The filter builder's fields as a filter definition (empty fields are not filters)."""
    filters: dict[str, Any] = {}
    for name in segments.SegmentFilters.model_fields:
        if name in LIST_FIELDS:
            values = [v.strip() for raw in form.getlist(name) for v in raw.split(",") if v.strip()]
            if values:
                filters[name] = [int(v) if name == "services" and v.isdigit() else v for v in values]
            continue
        value = (form.get(name) or "").strip()
        if not value:
            continue
        if name == "has_not_blocked":
            filters[name] = True
        elif name in INT_FIELDS and value.lstrip("-").isdigit():
            filters[name] = int(value)
        else:
            filters[name] = value
    return filters


def buttons_from_text(raw: str) -> list[list[dict[str, str]]]:
    """One line per row; buttons of a row separated by ``||``; ``Text | https://…`` or ``Text | data``."""
    rows = []
    for line in (raw or "").splitlines():
        if not line.strip():
            continue
        row = []
        for cell in line.split("||"):
            text, _sep, target = cell.partition("|")
            text, target = text.strip(), target.strip()
            if target.startswith(("http://", "https://", "tg://")):
                row.append({"text": text, "url": target})
            else:
                row.append({"text": text, "callback_data": target})
        rows.append(row)
    return rows


def buttons_to_text(rows: list[list[dict[str, str]]]) -> str:
    return "\n".join(
        " || ".join(f"{b['text']} | {b.get('url') or b.get('callback_data', '')}" for b in row) for row in rows or []
    )


def _error_fields(exc: ServiceError) -> dict[str, str]:
    if isinstance(exc, FilterError):
        return {d["field"]: d["message"] for d in exc.details}
    return {exc.field or "_": exc.message}


def _bots() -> list[Bot]:
    """The bots the viewer's organization owns (a superuser: every bot)."""
    return list(db.session.scalars(access.bots_query(current_user)))


def _bot_choices() -> list[dict[str, Any]]:
    return [{"id": b.id, "name": b.name, "vertical": b.vertical, "paid": b.paid_broadcast} for b in _bots()]


def _segments_of(bot_id: int | None) -> list[Segment]:
    query = access.scope(sa.select(Segment).order_by(Segment.name), current_user, Segment)
    if bot_id:
        query = query.where(Segment.bot_id == bot_id)
    return list(db.session.scalars(query))


def _service_names(bot: Bot, filters: dict[str, Any] | None) -> dict[int, str]:
    """Names of the clinic services a definition names, from the clinic this bot serves."""
    ids = [int(s) for s in (filters or {}).get("services") or () if str(s).isdigit()]
    clinic = segments.vertical_models("clinic") if bot.vertical == "clinic" and ids else None
    if clinic is None:
        return {}
    query = (
        sa.select(clinic.Service.id, clinic.Service.name)
        .join(clinic.Clinic, clinic.Clinic.id == clinic.Service.clinic_id)
        .where(clinic.Service.id.in_(ids), clinic.Clinic.bot_id == bot.id)
    )
    return dict(db.session.execute(query).all())


def describe(bot: Bot, filters: dict[str, Any] | None) -> str:
    """A definition of ``bot``'s in words (the templates' ``describe``)."""
    return describe_filters(filters, _service_names(bot, filters))


LEFT_OUT_WORDS = {
    "user_blocked": lambda n: catalog.ngettext(
        "%(num)s account blocked on the platform", "%(num)s accounts blocked on the platform", n
    ),
    "blocked_bot": lambda n: catalog.ngettext("%(num)s blocked the bot", "%(num)s blocked the bot", n),
    "no_chat": lambda n: catalog.ngettext(
        "%(num)s never opened a chat with the bot", "%(num)s never opened a chat with the bot", n
    ),
    "patient_inactive": lambda n: catalog.ngettext(
        "%(num)s patient record closed", "%(num)s patient records closed", n
    ),
    "no_marketing_consent": lambda n: catalog.ngettext(
        "%(num)s without marketing consent", "%(num)s without marketing consent", n
    ),
}


def left_out_words(counts: dict[str, int]) -> list[dict[str, Any]]:
    """Who the delivery leaves out and why, in words (counts only: never who they are)."""
    return [
        {"reason": reason, "count": count, "text": LEFT_OUT_WORDS[reason](count)}
        for reason, count in counts.items()
        if count
    ]


def _parse_when(raw: str) -> datetime | None:
    """An ISO time with its offset (the page's script adds the browser's offset to datetime-local)."""
    try:
        return datetime.fromisoformat((raw or "").strip().replace("Z", "+00:00"))
    except ValueError:
        return None


class _Page:
    """Shared helpers of the two console views."""

    def _render(self, template: str, **context):
        return self.render(
            template,
            t=_,
            tn=catalog.ngettext,
            statuses=[s.value for s in BroadcastStatus],
            delivery_statuses=[s.value for s in DeliveryStatus],
            languages=LANGUAGES,
            vertical_fields={k: sorted(v) for k, v in VERTICAL_FIELDS.items()},
            roles=[r.value for r in Role],
            describe=describe,
            language_words=LANGUAGE_WORDS,
            **context,
        )


# --- broadcasts ------------------------------------------------------------------------------------


class BroadcastConsole(_Page, SecureView):
    required_roles = MARKETERS

    def _broadcast(self, broadcast_id: int) -> Broadcast:
        """The broadcast if the viewer's organization owns its bot; else 404."""
        try:
            return access.get_broadcast(current_user, broadcast_id)
        except ServiceError:
            abort(404)

    def _list_query(self):
        bot_id = int_arg("bot_id")
        status = request.args.get("status") or None
        if status not in (None, *(s.value for s in BroadcastStatus)):
            status = None
        query = reports.broadcasts_query(bot_id=bot_id, status=status, search=request.args.get("q") or None)
        return access.scope(query, current_user, Broadcast), {
            "bot_id": bot_id,
            "status": status,
            "q": request.args.get("q", ""),
        }

    @expose("/")
    def index(self):
        query, chosen = self._list_query()
        found = fetch_page(
            query, request.args.get("page", 1, type=int) or 1, PAGE_SIZE, shape="console", max_page=MAX_LIST_PAGE
        )
        return self._render(
            "broadcasts/list.html",
            rows=found.items,
            total=found.total,
            page=found.page,
            pages=found.pages,
            chosen=chosen,
            bots=_bots(),
        )

    @expose("/export.csv")
    def export(self):
        query, _chosen = self._list_query()
        columns = ("id", "title", "bot", "status", "scheduled_at", "started_at", "finished_at")
        counters = ("total_count", "sent_count", "failed_count", "blocked_count", "unknown_count", "pending_count")

        def generate():
            buffer = io.StringIO()
            writer = safe_writer(buffer)
            writer.writerow((*columns, *counters))
            for b in db.session.scalars(query):
                writer.writerow(
                    (
                        b.id,
                        b.title,
                        b.bot.name,
                        b.status,
                        iso(b.scheduled_at) or "",
                        iso(b.started_at) or "",
                        iso(b.finished_at) or "",
                        *(getattr(b, c) for c in counters),
                    )
                )
            yield buffer.getvalue()

        return _csv(stream_with_context(generate()), "broadcasts.csv")

    # --- compose ---------------------------------------------------------------------------------

    def _form_values(self, broadcast: Broadcast | None = None) -> dict[str, Any]:
        if broadcast is None:
            return {"bot_id": int_arg("bot_id"), "filters": {}, "texts": {}, "buttons": ""}
        return {
            "bot_id": broadcast.bot_id,
            "title": broadcast.title,
            "text": broadcast.text,
            "texts": broadcast.texts or {},
            "buttons": buttons_to_text(broadcast.buttons),
            "segment_id": broadcast.segment_id,
            "filters": broadcast.filters or {},
            "allow_paid_broadcast": broadcast.allow_paid_broadcast,
            "has_photo": broadcast.photo_name is not None,
        }

    def _compose(self, broadcast: Broadcast | None, values: dict[str, Any], errors: dict[str, str], status=200):
        return (
            self._render(
                "broadcasts/compose.html",
                broadcast=broadcast,
                values=values,
                errors=errors,
                bots=_bot_choices(),
                segments=_segments_of(None),
            ),
            status,
        )

    def _submitted(self) -> dict[str, Any]:
        form = request.form
        upload = request.files.get("photo")
        segment_id = form.get("segment_id", type=int) if form.get("audience") == "segment" else None
        return {
            "bot_id": form.get("bot_id", type=int),
            "title": form.get("title", ""),
            "text": form.get("text", ""),
            "texts": {lang: form.get(f"text_{lang}", "") for lang in LANGUAGES if form.get(f"text_{lang}", "").strip()},
            "buttons": form.get("buttons", ""),
            "segment_id": segment_id,
            "filters": filters_from_form(form) if segment_id is None else {},
            "allow_paid_broadcast": form.get("allow_paid_broadcast") == "on",
            "photo": upload.read() if upload and upload.filename else None,
            "photo_name": upload.filename if upload and upload.filename else None,
            "remove_photo": form.get("remove_photo") == "on",
        }

    @expose("/new", methods=("GET", "POST"))
    def create(self):
        if request.method == "GET":
            return self._compose(None, self._form_values(), {})
        values = self._submitted()
        if not values["bot_id"]:
            return self._compose(None, values, {"bot_id": _("Choose a bot")}, 422)
        try:
            bot = access.get_bot(current_user, values["bot_id"])
            access.check_audience(current_user, bot, values["segment_id"], values["filters"])
            broadcast = lifecycle.create_broadcast(
                current_user,
                bot_id=values["bot_id"],
                title=values["title"],
                text=values["text"],
                texts=values["texts"],
                buttons=buttons_from_text(values["buttons"]),
                segment_id=values["segment_id"],
                filters=values["filters"],
                photo=values["photo"],
                photo_name=values["photo_name"],
                allow_paid_broadcast=values["allow_paid_broadcast"],
                source="console",
            )
        except ServiceError as exc:
            db.session.rollback()
            return self._compose(None, values, _error_fields(exc), 422)
        flash(_("Draft saved."), "success")
        return redirect(url_for(".detail", broadcast_id=broadcast.id))

    @expose("/<int:broadcast_id>/edit", methods=("GET", "POST"))
    def edit(self, broadcast_id: int):
        broadcast = self._broadcast(broadcast_id)
        if request.method == "GET":
            return self._compose(broadcast, self._form_values(broadcast), {})
        values = self._submitted()
        values["bot_id"] = broadcast.bot_id
        try:
            access.check_audience(current_user, broadcast.bot, values["segment_id"], values["filters"])
            lifecycle.update_broadcast(
                broadcast,
                title=values["title"],
                text=values["text"],
                texts=values["texts"],
                buttons=buttons_from_text(values["buttons"]),
                segment_id=values["segment_id"],
                filters=values["filters"] if values["segment_id"] is None else None,
                photo=values["photo"],
                photo_name=values["photo_name"],
                remove_photo=values["remove_photo"],
                allow_paid_broadcast=values["allow_paid_broadcast"],
            )
        except ServiceError as exc:
            db.session.rollback()
            return self._compose(self._broadcast(broadcast_id), values, _error_fields(exc), 422)
        flash(_("Saved."), "success")
        return redirect(url_for(".detail", broadcast_id=broadcast.id))

    # --- live helpers of the compose page (JSON, session + CSRF header) --------------------------

    @expose("/preview", methods=("POST",))
    def preview(self):
        data = request.get_json(silent=True) or {}
        rendered = contents.render_preview(str(data.get("text") or ""))
        limit = contents.CAPTION_LIMIT if data.get("photo") else contents.TEXT_LIMIT
        if rendered["error"] is None and rendered["length"] > limit:
            rendered["error"] = _(
                "Too long: %(length)s of %(limit)s characters", length=rendered["length"], limit=limit
            )
        rendered["limit"] = limit
        return jsonify(rendered)

    @expose("/audience", methods=("POST",))
    def audience(self):
        form = request.form
        bot = db.session.get(Bot, form.get("bot_id", type=int) or 0)
        if not access.can_use_bot(current_user, bot):
            return jsonify({"error": {"bot_id": _("Choose a bot")}}), 422
        try:
            if form.get("audience") == "segment":
                segment = db.session.get(Segment, form.get("segment_id", type=int) or 0)
                if segment is None or segment.bot_id != bot.id:
                    return jsonify({"error": {"segment_id": _("Choose a segment of this bot")}}), 422
                access.check_filters(current_user, bot, segment.filters)
                return jsonify(_with_words(segments.preview(bot, segment.filters), bot))
            filters = filters_from_form(form)
            access.check_filters(current_user, bot, filters)
            return jsonify(_with_words(segments.preview(bot, filters), bot))
        except ServiceError as exc:
            return jsonify({"error": _error_fields(exc)}), 422

    # --- a broadcast -----------------------------------------------------------------------------

    def _audience_source(self, broadcast: Broadcast) -> dict[str, Any]:
        return broadcast.segment.filters if broadcast.segment is not None else broadcast.filters

    @expose("/<int:broadcast_id>")
    def detail(self, broadcast_id: int):
        broadcast = self._broadcast(broadcast_id)
        return self._render(
            "broadcasts/detail.html",
            broadcast=broadcast,
            stats=reports.stats(broadcast),
            preview=contents.render_preview(broadcast.text),
            previews={lang: contents.render_preview(text) for lang, text in (broadcast.texts or {}).items()},
            failures=reports.failures(broadcast.id),
            show_chat_ids=access.shows_identities(current_user, broadcast.bot),
            audience=self._audience_now(broadcast),
            test_linked=_has_telegram(current_user, broadcast.bot),
        )

    def _audience_now(self, broadcast: Broadcast) -> dict[str, Any] | None:
        """Who a draft or scheduled broadcast would reach now, and who it leaves out."""
        if broadcast.status not in lifecycle.EDITABLE:
            return None
        try:
            source = self._audience_source(broadcast)
            access.check_filters(current_user, broadcast.bot, source)
            filters = segments.parse_filters(source, broadcast.bot)
            return {
                "count": segments.audience_count(broadcast.bot, filters),
                "left_out": left_out_words(segments.left_out(broadcast.bot, filters)),
            }
        except ServiceError:
            return None

    @expose("/<int:broadcast_id>/progress.json")
    def progress(self, broadcast_id: int):
        stats = reports.stats(self._broadcast(broadcast_id))
        # The page shows the status in words; the code stays for the script's logic.
        return jsonify({**stats, "status_label": str(words.word(stats["status"], "broadcast_status"))})

    @expose("/<int:broadcast_id>/deliveries.csv")
    def deliveries(self, broadcast_id: int):
        broadcast = self._broadcast(broadcast_id)
        status = request.args.get("status")
        if status not in (None, "", *(s.value for s in DeliveryStatus)):
            abort(400)
        with_identities = access.shows_identities(current_user, broadcast.bot)
        stream = stream_with_context(reports.deliveries_csv(broadcast.id, status or None, with_identities))
        return _csv(stream, f"broadcast-{broadcast.id}-deliveries.csv")

    @expose(
        "/<int:broadcast_id>/<any(send, test, schedule, unschedule, pause, resume, cancel, delete):verb>",
        methods=("POST",),
    )
    def act(self, broadcast_id: int, verb: str):
        broadcast = self._broadcast(broadcast_id)
        try:
            message = self._do(broadcast, verb)
        except ServiceError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            return redirect(url_for(".detail", broadcast_id=broadcast_id))
        flash(message, "success")
        if verb == "delete":
            return redirect(url_for(".index"))
        return redirect(url_for(".detail", broadcast_id=broadcast_id))

    def _do(self, broadcast: Broadcast, verb: str) -> str:
        if verb in ("test", "send", "schedule", "resume"):
            access.check_broadcast(current_user, broadcast)
        if verb == "test":
            try:
                send_test(current_user, broadcast)
            except ServiceError as exc:
                raise _test_error(exc, broadcast) from exc
            return _("Test sent to your Telegram.")
        if verb == "schedule":
            when = _parse_when(request.form.get("scheduled_at", ""))
            if when is None or when.tzinfo is None:
                raise ServiceError(_("Pick a date and time."), 422, "VALIDATION_ERROR", "scheduled_at")
            lifecycle.schedule_broadcast(current_user, broadcast, when, source="console")
            return _("Scheduled.")
        if verb == "delete":
            lifecycle.delete_broadcast(current_user, broadcast, source="console")
            return _("Deleted.")
        move = {
            "send": lifecycle.start_broadcast,
            "unschedule": lifecycle.unschedule_broadcast,
            "pause": lifecycle.pause_broadcast,
            "resume": lifecycle.resume_broadcast,
            "cancel": lifecycle.cancel_broadcast,
        }[verb]
        move(current_user, broadcast, source="console")
        return {
            "send": _("Sending started."),
            "unschedule": _("Back to draft."),
            "pause": _("Paused."),
            "resume": _("Resumed."),
            "cancel": _("Cancelled."),
        }[verb]


def _has_telegram(user, bot: Bot) -> bool:
    return any(a.bot_id == bot.id and a.chat_id is not None for a in user.telegram_accounts)


def _test_error(exc: ServiceError, broadcast: Broadcast) -> ServiceError:
    """The send path's error for a test send, in the marketer's language and saying what to do."""
    if exc.code == "NO_TELEGRAM_ACCOUNT":
        message = _(
            "Your Telegram is not linked to the bot %(bot)s yet. Open your profile (your name at the top right), "
            "press “Get a link” next to this bot, open the link in Telegram and press Start, then send the test again.",
            bot=broadcast.bot.name,
        )
    elif exc.code == "BLOCKED":
        message = _(
            "You have blocked the bot %(bot)s in Telegram: unblock it, then send the test again.",
            bot=broadcast.bot.name,
        )
    elif exc.code == "TELEGRAM_ERROR":
        message = _("Telegram did not accept the test message. Check the text and try again.")
    else:
        return exc
    return ServiceError(message, exc.status, exc.code, exc.field)


def _with_words(preview: dict[str, Any], bot: Bot) -> dict[str, Any]:
    """The audience preview plus what the compose page shows in words."""
    return {
        **preview,
        "left_out_words": left_out_words(preview["left_out"]),
        "description": describe(bot, preview["filters"]),
    }


def _csv(chunks, filename: str) -> Response:
    response = Response(chunks, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- segments --------------------------------------------------------------------------------------


class SegmentConsole(_Page, SecureView):
    required_roles = MARKETERS

    @expose("/")
    def index(self):
        bot_id = int_arg("bot_id")
        return self._render("broadcasts/segments.html", rows=_segments_of(bot_id), bots=_bots(), bot_id=bot_id)

    def _form(self, segment: Segment | None, values: dict[str, Any], errors: dict[str, str], status: int = 200):
        return (
            self._render(
                "broadcasts/segment_form.html", segment=segment, values=values, errors=errors, bots=_bot_choices()
            ),
            status,
        )

    @expose("/new", methods=("GET", "POST"))
    def create(self):
        if request.method == "GET":
            return self._form(None, {"bot_id": int_arg("bot_id"), "filters": {}}, {})
        values = {
            "bot_id": request.form.get("bot_id", type=int),
            "name": request.form.get("name", "").strip(),
            "description": request.form.get("description", "").strip(),
            "filters": filters_from_form(request.form),
        }
        if not values["bot_id"]:
            return self._form(None, values, {"bot_id": _("Choose a bot")}, 422)
        if not values["name"]:
            return self._form(None, values, {"name": _("Give the segment a name")}, 422)
        try:
            bot = access.get_bot(current_user, values["bot_id"])
            access.check_filters(current_user, bot, values["filters"])
            segments.create_segment(
                current_user, bot.id, values["name"], values["filters"], values["description"] or None
            )
        except ServiceError as exc:
            db.session.rollback()
            return self._form(None, values, _error_fields(exc), 422)
        flash(_("Segment saved."), "success")
        return redirect(url_for(".index"))

    def _segment(self, segment_id: int) -> Segment:
        """The segment if the viewer's organization owns its bot; else 404."""
        try:
            return access.get_segment(current_user, segment_id)
        except ServiceError:
            abort(404)

    @expose("/<int:segment_id>/edit", methods=("GET", "POST"))
    def edit(self, segment_id: int):
        segment = self._segment(segment_id)
        if request.method == "GET":
            values = {
                "bot_id": segment.bot_id,
                "name": segment.name,
                "description": segment.description or "",
                "filters": segment.filters,
            }
            return self._form(segment, values, {})
        values = {
            "bot_id": segment.bot_id,
            "name": request.form.get("name", "").strip(),
            "description": request.form.get("description", "").strip(),
            "filters": filters_from_form(request.form),
        }
        try:
            access.check_filters(current_user, segment.bot, values["filters"])
            segments.update_segment(
                segment, name=values["name"] or None, filters=values["filters"], description=values["description"]
            )
        except ServiceError as exc:
            db.session.rollback()
            return self._form(self._segment(segment_id), values, _error_fields(exc), 422)
        flash(_("Segment saved."), "success")
        return redirect(url_for(".index"))

    @expose("/<int:segment_id>/delete", methods=("POST",))
    def delete(self, segment_id: int):
        segment = self._segment(segment_id)
        segments.delete_segment(segment)
        flash(_("Segment deleted."), "success")
        return redirect(url_for(".index"))


def _sending_now(viewer) -> int:
    """Broadcasts of the viewer's organization's bots that are sending now."""
    query = sa.select(sa.func.count(Broadcast.id)).where(Broadcast.status == BroadcastStatus.SENDING.value)
    return db.session.scalar(access.scope(query, viewer, Broadcast))


def register_admin(admin) -> None:
    category = _l("Broadcasts")
    admin.add_view(BroadcastConsole(name=_l("Broadcasts"), category=category, endpoint="broadcasts"))
    admin.add_view(SegmentConsole(name=_l("Segments"), category=category, endpoint="broadcast_segments"))
    add_card(_l("Broadcasts sending now"), _sending_now, *MARKETERS)
