"""The clinic's public pages: the full consent texts a patient reads before registering in the bot."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from webapp.clinic.services.consents import consent_page
from webapp.core.permissions import public

bp = Blueprint("clinic_pages", __name__)


@bp.get("/clinic/<int:clinic_id>/consents/<language>/")
@public
def consents(clinic_id: int, language: str):
    """Open to anyone: the link stands in the bot's registration, before the patient has an account."""
    page = consent_page(clinic_id, language)
    if page is None:
        abort(404)
    return render_template("clinic/consents.html", page=page)
