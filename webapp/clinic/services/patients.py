"""Patients: registration from the bot (or its API), lookups by Telegram id, consents, tags."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError

from webapp.clinic.models import OsmsStatus, Patient, PatientTag, Sex
from webapp.clinic.services import clock
from webapp.clinic.services.common import CLINIC_LANGUAGES, bot_audit
from webapp.clinic.services.consents import clinic_for_bot
from webapp.clinic.services.iin import validate_iin
from webapp.core.db import insert_missing
from webapp.core.models import User
from webapp.core.services import (
    ServiceError,
    ensure_telegram_account,
    find_user_by_telegram_id,
    normalize_phone,
    record_audit,
)
from webapp.extensions import db
from webapp.telegram.models import Bot

# Letters of any script (Cyrillic with the Kazakh letters, Latin), with inner spaces, hyphens, apostrophes.
NAME_RE = re.compile(r"^[^\W\d_]+(?:[ '\-’][^\W\d_]+)*$")
OLDEST_BIRTH_YEAR = 1900
CONSENT_FIELDS = {
    "personal_data": "consent_personal_data_at",
    "medical": "consent_medical_at",
    "marketing": "consent_marketing_at",
}


def invalid(field_name: str, message: str, code: str = "VALIDATION_ERROR") -> ServiceError:
    return ServiceError(message, 422, code, field_name)


def clean_name(value: str | None, field_name: str, required: bool = True) -> str | None:
    value = " ".join((value or "").split())
    if not value:
        if required:
            raise invalid(field_name, "This field is required")
        return None
    if len(value) > 100 or not NAME_RE.match(value):
        raise invalid(field_name, "Use letters only (hyphen and apostrophe allowed), up to 100 characters")
    return value


def clean_birth_date(value: date, today: date | None = None) -> date:
    today = today or clock.now().date()
    if value > today:
        raise invalid("birth_date", "The date of birth cannot be in the future")
    if value.year < OLDEST_BIRTH_YEAR:
        raise invalid("birth_date", "The date of birth is too far in the past")
    return value


def parse_birth_date(text: str, today: date | None = None) -> date:
    """A date typed as ДД.ММ.ГГГГ (also with / or -), or ГГГГ-ММ-ДД."""
    text = (text or "").strip()
    match = re.fullmatch(r"(\d{1,2})[./\-](\d{1,2})[./\-](\d{4})", text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            parsed = date(year, month, day)
        else:
            parsed = date.fromisoformat(text)
    except ValueError as exc:
        raise invalid("birth_date", "Enter the date as DD.MM.YYYY, for example 15.03.1990") from exc
    return clean_birth_date(parsed, today)


def clean_sex(value: str | None) -> str:
    value = (value or "").strip().upper()
    if value not in (Sex.MALE.value, Sex.FEMALE.value):
        raise invalid("sex", "Sex must be M or F")
    return value


def clean_phone(value: str | None) -> str:
    if not (value or "").strip():
        raise invalid("phone", "This field is required")
    try:
        return normalize_phone(value, "KZ")
    except ServiceError as exc:
        raise invalid("phone", exc.message) from exc


def clean_iin(value: str | None, birth_date: date, sex: str, today: date | None = None) -> str:
    result = validate_iin(value, birth_date=birth_date, sex=sex, today=today)
    if not result.valid:
        raise ServiceError(result.reason, 422, "INVALID_IIN", "iin")
    return result.iin


@dataclass
class PatientData:
    first_name: str
    last_name: str
    phone: str
    birth_date: date
    sex: str
    middle_name: str | None = None
    iin: str | None = None
    language: str = "ru"
    consents: dict[str, bool] = field(default_factory=dict)
    osms_status: str | None = None

    def cleaned(self, today: date | None = None) -> PatientData:
        """A copy with every field normalised, or ServiceError(422) naming the first bad field."""
        birth_date = clean_birth_date(self.birth_date, today)
        sex = clean_sex(self.sex)
        if self.language not in CLINIC_LANGUAGES:
            raise invalid("language", "Language must be ru, kk, uz or en")
        unknown = set(self.consents) - set(CONSENT_FIELDS)
        if unknown:
            raise invalid("consents", f"Unknown consent: {sorted(unknown)[0]}")
        if self.osms_status is not None and self.osms_status not in {s.value for s in OsmsStatus}:
            raise invalid("osms_status", "OSMS status must be insured, not_insured or unknown")
        return PatientData(
            first_name=clean_name(self.first_name, "first_name"),
            last_name=clean_name(self.last_name, "last_name"),
            middle_name=clean_name(self.middle_name, "middle_name", required=False),
            phone=clean_phone(self.phone),
            birth_date=birth_date,
            sex=sex,
            iin=clean_iin(self.iin, birth_date, sex, today) if (self.iin or "").strip() else None,
            language=self.language,
            consents=dict(self.consents),
            osms_status=self.osms_status,
        )


def patient_for_user(user: User | None, organization_id: int) -> Patient | None:
    """The user's patient at one clinic organization (a person registered with two is two patients)."""
    if user is None:
        return None
    return db.session.scalar(db.select(Patient).filter_by(organization_id=organization_id, user_id=user.id))


def patient_by_telegram(telegram_user_id: int, organization_id: int) -> Patient | None:
    return patient_for_user(find_user_by_telegram_id(telegram_user_id), organization_id)


def require_patient(telegram_user_id: int, organization_id: int) -> Patient:
    patient = patient_by_telegram(telegram_user_id, organization_id)
    if patient is None or not patient.is_active:
        raise ServiceError("Patient not found", 404, "NOT_FOUND", "telegram_user_id")
    return patient


def bot_organization_id(bot: Bot | None) -> int:
    """The clinic organization a bot registers patients for: its own, else its clinic's (a platform
    bot linked to none speaks for the default clinic)."""
    if bot is not None and bot.organization_id is not None:
        return bot.organization_id
    return clinic_for_bot(bot.id if bot is not None else None).organization_id


def user_for_telegram(telegram_user_id: int, username: str | None = None, language: str | None = None) -> User:
    """The platform user of a Telegram id (created with a default-bot account on first sight)."""
    user = find_user_by_telegram_id(telegram_user_id)
    if user is None:
        user = ensure_telegram_account(None, telegram_user_id, username=username, language_code=language).user
    return user


def apply_consents(patient: Patient, consents: dict[str, bool], now: datetime) -> None:
    """A consent given keeps its first timestamp; one withdrawn (False) is cleared; one not mentioned stays."""
    for key, attribute in CONSENT_FIELDS.items():
        if key not in consents:
            continue
        if consents[key] and getattr(patient, attribute) is None:
            setattr(patient, attribute, now)
        elif not consents[key]:
            setattr(patient, attribute, None)


def _iin_owner(organization_id: int, iin: str, patient: Patient | None) -> Patient | None:
    """Another patient of the organization holding ``iin``; other organizations' are never consulted."""
    with db.session.no_autoflush:
        owner = db.session.scalar(db.select(Patient).filter_by(organization_id=organization_id, iin=iin))
    return owner if owner is not None and owner is not patient else None


def iin_taken(patient: Patient) -> bool:
    return bool(patient.iin) and _iin_owner(patient.organization_id, patient.iin, patient) is not None


def upsert_patient(
    user: User,
    data: PatientData,
    *,
    organization_id: int,
    source: str = "bot",
    telegram_user_id: int | None = None,
    now: datetime | None = None,
) -> tuple[Patient, bool]:
    """Create the patient of ``user`` at ``organization_id`` or update them. Returns (patient, created).

    A new patient must consent to personal-data processing (the seed's registration refuses
    otherwise). The IIN is unique within the organization: one already registered to someone else
    there is a 409; another organization's patients are neither consulted nor hinted at.
    """
    now = clock.resolve(now)
    data = data.cleaned(now.date())
    patient = patient_for_user(user, organization_id)
    created = patient is None
    if created:
        _require_consent(data)
    _require_free_iin(organization_id, data.iin, patient)
    if created:  # a concurrent twin of this registration may insert first: then this one updates
        required = ("first_name", "last_name", "phone", "birth_date", "sex", "language")
        values = {"organization_id": organization_id, "user_id": user.id}
        values.update({name: getattr(data, name) for name in required})
        created = insert_missing(Patient, values, ("organization_id", "user_id"))
        patient = patient_for_user(user, organization_id)
    patient.first_name = data.first_name
    patient.last_name = data.last_name
    patient.middle_name = data.middle_name
    patient.phone = data.phone
    patient.birth_date = data.birth_date
    patient.sex = data.sex
    if data.iin:
        patient.iin = data.iin
    patient.language = data.language
    if data.osms_status:
        patient.osms_status = data.osms_status
    apply_consents(patient, data.consents, now)
    user.language = data.language
    user.first_name = user.first_name or data.first_name
    user.last_name = user.last_name or data.last_name
    _flush_or_taken()
    bot_audit("patient.register" if created else "patient.update", patient, telegram_user_id, source)
    return patient, created


def register_walk_in(
    data: PatientData, *, organization_id: int, source: str = "console", now: datetime | None = None
) -> Patient:
    """A patient the reception registers at the desk of ``organization_id``'s clinic: no Telegram
    account behind them (``user_id`` stays empty until they find the clinic's bot). The same rules as
    the bot's registration: consent to personal-data processing, an IIN unique in the organization."""
    now = clock.resolve(now)
    data = data.cleaned(now.date())
    _require_consent(data)
    _require_free_iin(organization_id, data.iin, None)
    required = ("first_name", "last_name", "middle_name", "phone", "birth_date", "sex", "iin", "language")
    patient = Patient(organization_id=organization_id, **{name: getattr(data, name) for name in required})
    if data.osms_status:
        patient.osms_status = data.osms_status
    apply_consents(patient, data.consents, now)
    db.session.add(patient)
    _flush_or_taken()
    bot_audit("patient.register", patient, None, source)
    return patient


def _require_consent(data: PatientData) -> None:
    if not data.consents.get("personal_data"):
        raise ServiceError(
            "Consent to personal data processing is required", 422, "CONSENT_REQUIRED", "consents.personal_data"
        )


def _require_free_iin(organization_id: int, iin: str | None, patient: Patient | None) -> None:
    if iin and _iin_owner(organization_id, iin, patient) is not None:
        raise ServiceError("This IIN is already registered", 409, "IIN_TAKEN", "iin")


def _flush_or_taken() -> None:
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:  # a concurrent registration took the IIN or the user first
        raise ServiceError("This patient or IIN is already registered", 409, "CONFLICT", "iin") from exc


def set_language(patient: Patient, language: str) -> None:
    if language not in CLINIC_LANGUAGES:
        raise invalid("language", "Language must be ru, kk, uz or en")
    patient.language = language
    if patient.user is not None:
        patient.user.language = language


# What staff write on a patient's card in the console (consents are the patient's own to give).
CARD_FIELDS = (
    "last_name",
    "first_name",
    "middle_name",
    "phone",
    "birth_date",
    "sex",
    "iin",
    "language",
    "osms_status",
    "notes",
    "is_active",
)


def save_patient_card(
    actor: User | None,
    patient: Patient | None,
    card: dict,
    tags: list[str],
    *,
    organization_id: int,
    source: str = "console",
) -> Patient:
    """Staff enter a walk-in (``patient`` None: a new patient of ``organization_id``) or correct a
    patient's card: names and phone cleaned, the IIN checked against the birth date and sex and unique
    in the organization, the tags set. Audited with the names of the fields changed, never their
    values (a card is personal data). Flushes only."""
    clean = {name: card.get(name) for name in CARD_FIELDS if name in card}
    clean["first_name"] = clean_name(card.get("first_name"), "first_name")
    clean["last_name"] = clean_name(card.get("last_name"), "last_name")
    clean["middle_name"] = clean_name(card.get("middle_name"), "middle_name", required=False)
    clean["phone"] = clean_phone(card.get("phone"))
    clean["iin"] = None
    if (card.get("iin") or "").strip():
        result = validate_iin(card["iin"], birth_date=card.get("birth_date"), sex=card.get("sex"))
        if not result.valid:
            raise invalid("iin", result.reason)
        clean["iin"] = result.iin
    created = patient is None
    if created:
        patient = Patient(organization_id=organization_id)
    changed = [name for name in CARD_FIELDS if name in clean and getattr(patient, name) != clean[name]]
    with db.session.no_autoflush:  # the card is checked before it is written
        for name in changed:
            setattr(patient, name, clean[name])
        if iin_taken(patient):
            raise invalid("iin", "This IIN is already registered.", "CONFLICT")
        before = set(patient.tags)
        set_tags(patient, tags)
    if set(patient.tags) != before:
        changed.append("tags")
    db.session.add(patient)
    db.session.flush()
    if created or changed:
        action = "patient.create" if created else "patient.update"
        record_audit(actor, action, "patient", patient.id, None, ", ".join(changed), source)
    return patient


def set_tags(patient: Patient, tags: list[str]) -> None:
    wanted = {" ".join(tag.split()).lower() for tag in tags if tag and tag.strip()}
    if any(len(tag) > 64 for tag in wanted):
        raise invalid("tags", "A tag is at most 64 characters")
    for row in list(patient.tag_rows):
        if row.tag not in wanted:
            patient.tag_rows.remove(row)
    for tag in sorted(wanted - set(patient.tags)):
        patient.tag_rows.append(PatientTag(tag=tag))


def age_on(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
