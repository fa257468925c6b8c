"""The desk admin's console pages: canned replies (list, create, edit, delete) and the desk's
settings (time zone, first-response deadline). Helpers use the replies from the ticket page."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from wtforms import fields, validators

from webapp.admin.base import ScopedModelView, SecureView, int_arg
from webapp.core.models import Organization
from webapp.core.roles import Role
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.helpdesk import access
from webapp.helpdesk.models import CannedReply
from webapp.helpdesk.services import desk
from webapp.helpdesk.texts import catalog

_ = catalog.gettext
_l = catalog.lazy_gettext


class CannedReplyView(ScopedModelView):
    required_roles = (Role.ADMIN,)
    column_list = ("short_code", "content", "updated_at")
    column_default_sort = "short_code"
    column_searchable_list = ("short_code", "content")
    form_columns = ("short_code", "content")
    column_labels = {"short_code": _l("Short code"), "content": _l("Text"), "updated_at": _l("Updated")}
    column_descriptions = {"short_code": _l("Helpers type / and this code in a ticket's reply box, e.g. greet.")}
    column_formatters = {
        "short_code": lambda view, context, model, name: f"/{model.short_code}",
        "updated_at": lambda view, context, model, name: desk.desk_time(model.updated_at, model.organization_id),
    }
    form_overrides = {"content": fields.TextAreaField}
    form_args = {
        "short_code": {"validators": [validators.InputRequired()]},
        "content": {"validators": [validators.InputRequired()]},
    }
    form_widget_args = {"content": {"rows": 6}}

    # The desk admin's own replies; a superuser's: every desk's. Written through the desk service
    # (the code cleaned and unique in the desk), audited.
    access = access

    def reaches(self, reply) -> bool:
        return access.can_edit_desk(current_user, reply.organization_id)

    def refusal_text(self, exc: ServiceError) -> str:
        return _(exc.message, code=desk.clean_text(request.form.get("short_code")).lstrip("/").lower())

    def create_record(self, form):
        organization_id = access.organization_for_new_category(current_user, None)
        return desk.save_canned_reply(
            current_user, None, form.short_code.data, form.content.data, organization_id=organization_id
        )

    def update_record(self, form, model) -> None:
        desk.save_canned_reply(current_user, model, form.short_code.data, form.content.data)

    def delete_record(self, model) -> None:
        desk.delete_canned_reply(current_user, model)


class DeskSettingsView(SecureView):
    """One desk's settings. An admin edits their own desk; a superuser picks the desk (``?organization=``)."""

    required_roles = (Role.ADMIN,)

    def _organization(self) -> Organization:
        own = access.desk_of(current_user)
        chosen = own if own is not None else int_arg("organization")
        if chosen is None:
            desks = access.desk_organizations()
            chosen = desks[0] if desks else None
        organization = db.session.get(Organization, chosen) if chosen is not None else None
        if organization is None or not access.can_edit_desk(current_user, organization.id):
            abort(404)
        return organization

    @expose("/", methods=["GET", "POST"])
    def index(self):
        organization = self._organization()
        row = desk.settings_of(organization.id)
        values = {
            "timezone": row.timezone if row and row.timezone else "",
            "first_response_minutes": row.first_response_minutes if row and row.first_response_minutes else "",
        }
        if request.method == "POST":
            values = {key: request.form.get(key, "") for key in values}
            try:
                desk.save_settings(current_user, organization.id, values["timezone"], values["first_response_minutes"])
            except ServiceError as exc:
                db.session.rollback()
                flash(_(exc.message), "error")
            else:
                flash(_("Desk settings saved."), "success")
                return redirect(url_for(".index", organization=organization.id))
        return self.render(
            "helpdesk/settings.html",
            t=_,
            organization=organization,
            desks=self._desks(),
            values=values,
            zones=desk.zone_names(),
            platform_zone=desk.platform_timezone(),
            platform_minutes=desk.platform_first_response_minutes(),
            max_minutes=desk.MAX_FIRST_RESPONSE_MINUTES,
        )

    def _desks(self) -> list[Organization]:
        """The desks a superuser may switch between (an admin has just their own)."""
        if access.desk_of(current_user) is not None:
            return []
        ids = access.desk_organizations()
        return list(
            db.session.scalars(db.select(Organization).where(Organization.id.in_(ids)).order_by(Organization.name))
        )


def register_desk_admin(admin, category) -> None:
    admin.add_view(
        CannedReplyView(
            CannedReply, db.session, name=_l("Canned replies"), category=category, endpoint="helpdesk_canned"
        )
    )
    admin.add_view(
        DeskSettingsView(
            name=_l("Desk settings"), category=category, endpoint="helpdesk_settings", url="/admin/helpdesk/settings"
        )
    )
