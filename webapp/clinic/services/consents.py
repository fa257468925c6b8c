"""The consents a patient gives at registration, as the full texts they read before agreeing.

Each clinic is the operator of its patients' personal data, so the texts name that clinic (its
name, address and phone from the Clinic row): one platform serves several clinics, and a patient
must see whom they give their consent to. The page is served by the platform itself at a stable
address per clinic and language (``/clinic/<clinic id>/consents/<language>/``), so the link the bot
shows always works — also in the sandbox demo — and reads in the language the patient registers in.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from webapp.clinic.models import Clinic
from webapp.clinic.services.common import CLINIC_LANGUAGES, clinic_language, default_clinic, t
from webapp.extensions import db

# consent key → (title, text); English msgids of the "clinic" catalog. The keys are those of
# PatientData.consents and of the registration's consent buttons, in the same order.
CONSENT_DOCUMENTS = {
    "personal_data": (
        "1. Consent to the processing of personal data",
        "I agree that %(clinic)s (“the clinic”) collects, records, stores, uses and, where the law requires, "
        "transfers my personal data — surname, first name and patronymic, IIN, date of birth, sex, phone number, "
        "Telegram account and information about my health — in order to register me as a patient, book my "
        "appointments and remind me of them, keep my medical records and issue my documents and invoices. The "
        "data is kept for as long as the law on medical records requires. I may withdraw this consent by "
        "contacting the clinic; data the clinic is obliged by law to keep is kept.",
    ),
    "medical": (
        "2. Informed voluntary consent to medical intervention",
        "I agree to the examinations, tests and treatment the clinic’s doctors prescribe within the services I "
        "book. Before each intervention the doctor explains its purpose, method, possible risks and "
        "alternatives, and I may ask questions. I may refuse an intervention or stop it at any time; the doctor "
        "then explains what the refusal may lead to.",
    ),
    "marketing": (
        "3. Consent to news and offers",
        "I agree that the clinic sends me news, health reminders and special offers in this Telegram bot. This "
        "consent is optional and does not affect my treatment. I can switch it off at any time in “👤 Profile”.",
    ),
}


@dataclass(frozen=True)
class ConsentPage:
    language: str
    title: str
    clinic: str
    contacts: str
    sections: list[tuple[str, str]]


def clinic_for_bot(bot_id: int | None) -> Clinic:
    """The clinic a bot talks for: the one linked to it, else the default clinic (404 when none)."""
    if bot_id is not None:
        clinic = db.session.scalar(db.select(Clinic).filter_by(bot_id=bot_id))
        if clinic is not None:
            return clinic
    return default_clinic()


def consent_path(clinic: Clinic, language: str) -> str:
    return f"/clinic/{clinic.id}/consents/{clinic_language(language)}/"


def consent_url(clinic: Clinic, language: str) -> str:
    """The absolute address of the clinic's consent texts in ``language`` (for a Telegram link button)."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + consent_path(clinic, language)


def consent_page(clinic_id: int, language: str) -> ConsentPage | None:
    """The full consent texts of a clinic in ``language``; None when no such clinic or language."""
    clinic = db.session.get(Clinic, clinic_id)
    if clinic is None or language not in CLINIC_LANGUAGES:
        return None
    contacts = ", ".join(part for part in (clinic.address, clinic.phone) if part)
    return ConsentPage(
        language=language,
        title=t(language, "Patient consents"),
        clinic=clinic.name,
        contacts=contacts,
        sections=[
            (t(language, title), t(language, text, clinic=clinic.name)) for title, text in CONSENT_DOCUMENTS.values()
        ],
    )
