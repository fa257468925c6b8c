"""The console form an agency admin adds a realtor to their own agency with (a superuser names
the agency). ``agencies.add_realtor`` decides: an admin adds realtors, nothing else, and only to
the agency of their own organization; the new account becomes that organization's member."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from webapp.core.roles import Role, user_has_role
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.realty import access
from webapp.realty.listing_pages import error_text, t
from webapp.realty.models import Agency
from webapp.realty.services import agencies

FIELDS = ("username", "first_name", "phone", "email")


class RealtorPages:
    @property
    def can_create(self) -> bool:
        return user_has_role(current_user, Role.ADMIN)

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self):
        if not self.can_create:
            flash(t("You do not have permission to do this"), "error")
            return redirect(url_for(".index_view"))
        values = {name: request.form.get(name, "") for name in FIELDS}
        if request.method == "POST":
            try:
                user = agencies.add_realtor(
                    current_user,
                    username=values["username"],
                    email=values["email"],
                    phone=values["phone"],
                    first_name=values["first_name"],
                    password=request.form.get("password", ""),
                    agency_id=request.form.get("agency_id", type=int) if access.is_superuser(current_user) else None,
                    source="console",
                )
            except ServiceError as exc:
                db.session.rollback()
                flash(error_text(exc), "error")
            else:
                flash(t("Realtor %(name)s is added; they can sign in now.", name=user.display_name), "success")
                return redirect(url_for(".index_view"))
        choices = []
        if access.is_superuser(current_user):
            choices = db.session.scalars(db.select(Agency).order_by(Agency.name)).all()
        agency = None if choices else access.agency_of(current_user)
        return self.render("realty/realtor_form.html", t=t, values=values, agencies=choices, agency=agency)
