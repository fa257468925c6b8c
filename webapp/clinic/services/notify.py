"""Where a patient is reached outside a conversation (reminders, NPS): their chat with the clinic's
own bot, else with a clinic bot of their organization or of the platform — the outbox's one
``chat_for``. The messages themselves are outbox rows (``webapp.telegram.outbox``)."""

from __future__ import annotations

from webapp.clinic.models import Clinic, Patient
from webapp.telegram.models import Vertical
from webapp.telegram.outbox import Chat, chat_for


def patient_chat(patient: Patient, clinic: Clinic | None = None) -> Chat | None:
    """Where to reach the patient (never through another organization's bot); None when they have no
    reachable chat (never talked to a clinic bot, or blocked it)."""
    if patient.user_id is None:
        return None
    return chat_for(
        patient.user_id,
        clinic.bot_id if clinic is not None else None,
        vertical=Vertical.CLINIC.value,
        organization_id=patient.organization_id,
    )
