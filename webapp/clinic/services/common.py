"""What every clinic service module shares: the clinic's time zone, lookups that 404, the bot audit."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app

from webapp.clinic.models import BotAudit, Clinic, Patient
from webapp.core.i18n import Catalog
from webapp.core.services import ServiceError
from webapp.extensions import db

catalog = Catalog("clinic")
# Seed 002 speaks Russian and Kazakh; the platform's bots also offer Uzbek and English, and every
# clinic text is translated into all four, so a patient reads the one they chose.
CLINIC_LANGUAGES = ("ru", "kk", "uz", "en")


def clinic_language(language: str | None) -> str:
    """A language the clinic speaks (ru, kk, uz, en); anything else reads Russian."""
    return language if language in CLINIC_LANGUAGES else "ru"


def t(language: str | None, message: str, **params) -> str:
    return catalog.for_language(clinic_language(language), message, **params)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or current_app.config["CLINIC_DEFAULT_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ServiceError(f"Unknown time zone {name!r}", 422, "VALIDATION_ERROR", "timezone") from exc


def booking_horizon_days() -> int:
    """How many days ahead a visit may be booked (CLINIC_BOOKING_HORIZON_DAYS)."""
    return current_app.config["CLINIC_BOOKING_HORIZON_DAYS"]


def local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant a local calendar day begins (a skipped local midnight takes the earlier offset)."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(ZoneInfo("UTC"))


def default_clinic() -> Clinic:
    """The clinic a request speaks for when it names none (the first one), or 404 when none exists."""
    clinic = db.session.scalar(db.select(Clinic).order_by(Clinic.id).limit(1))
    if clinic is None:
        raise ServiceError("No clinic is configured", 404, "NOT_FOUND")
    return clinic


def organization_clinic(organization_id: int) -> Clinic:
    """The organization's first clinic: what a patient's document naming no visit is headed with and
    read in (a tax certificate), never another organization's."""
    clinic = db.session.scalar(
        db.select(Clinic).where(Clinic.organization_id == organization_id).order_by(Clinic.id).limit(1)
    )
    return clinic if clinic is not None else default_clinic()


def get_or_404(model, key, what: str | None = None, field: str | None = None):
    row = db.session.get(model, key) if key is not None else None
    if row is None:
        raise ServiceError(f"{what or model.__name__} not found", 404, "NOT_FOUND", field)
    return row


def bot_audit(
    action: str,
    patient: Patient | None = None,
    telegram_user_id: int | None = None,
    source: str = "bot",
    **details,
) -> BotAudit:
    entry = BotAudit(
        action=action,
        patient_id=patient.id if patient is not None else None,
        telegram_user_id=telegram_user_id,
        details=details or None,
        source=source,
    )
    db.session.add(entry)
    return entry
