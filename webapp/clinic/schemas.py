"""Request bodies and query strings of the clinic bot API, with seed 002's field names."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from webapp.core.limits import BoundedDate, field_error
from webapp.core.schemas import StrictModel

TelegramId = Field(..., gt=0, lt=10**15, description="Telegram user id")
Id = Field(..., gt=0, lt=2**31)
OptionalId = Field(None, gt=0, lt=2**31)
Language = Literal["ru", "kk"]
SexValue = Literal["M", "F"]


class InClinic(StrictModel):
    """A patient request names the clinic whose patient it means (seed 002 calls a clinic
    ``organization_id``, as ``/api/bot/branches/`` does); none: the caller's own, or the default clinic."""

    clinic_id: int | None = OptionalId
    organization_id: int | None = Field(None, gt=0, lt=2**31, description="alias of clinic_id (seed 002)")

    @property
    def named_clinic(self) -> int | None:
        return self.clinic_id or self.organization_id


class PatientUpsertIn(InClinic):
    telegram_user_id: int = TelegramId
    telegram_username: str | None = Field(None, max_length=64)
    language: Language = "ru"
    first_name: str = Field(..., min_length=1, max_length=100)
    last_name: str = Field(..., min_length=1, max_length=100)
    middle_name: str | None = Field(None, max_length=100)
    phone: str = Field(..., min_length=1, max_length=32)
    birth_date: BoundedDate
    sex: SexValue
    iin: str | None = Field(None, max_length=20)
    consents: dict[str, bool] = Field(default_factory=dict)
    osms_status: Literal["insured", "not_insured", "unknown"] | None = None


class VerifyIinIn(StrictModel):
    iin: str = Field(..., min_length=1, max_length=32)
    birth_date: BoundedDate | None = None
    sex: SexValue | None = None
    language: Language = "ru"


class BranchesQuery(StrictModel):
    organization_id: int | None = OptionalId
    clinic_id: int | None = OptionalId


class ServicesQuery(StrictModel):
    branch_id: int | None = OptionalId


class DoctorsQuery(StrictModel):
    service_id: int | None = OptionalId
    branch_id: int | None = OptionalId
    date: BoundedDate | None = None


class SlotsQuery(StrictModel):
    doctor_id: int = Id
    date: BoundedDate
    service_id: int | None = OptionalId
    branch_id: int | None = OptionalId


class AppointmentIn(StrictModel):
    telegram_user_id: int = TelegramId
    employee_id: int | None = Field(None, gt=0, lt=2**31, description="the doctor (seed 002's name)")
    doctor_id: int | None = Field(None, gt=0, lt=2**31, description="alias of employee_id")
    service_id: int = Id
    branch_id: int = Id
    date: BoundedDate
    time: dt.time
    notes: str | None = Field(None, max_length=1000)

    @model_validator(mode="after")
    def _doctor_given(self):
        if self.employee_id is None and self.doctor_id is None:
            raise field_error("employee_id", "employee_id is required")
        if self.employee_id is not None and self.doctor_id is not None and self.employee_id != self.doctor_id:
            raise field_error("doctor_id", "employee_id and doctor_id differ")
        return self

    @property
    def doctor(self) -> int:
        return self.employee_id or self.doctor_id


class ClinicQuery(InClinic):
    pass


class TelegramUserQuery(InClinic):
    telegram_user_id: int = TelegramId


class AppointmentPatchIn(StrictModel):
    date: BoundedDate
    time: dt.time
    telegram_user_id: int | None = Field(None, gt=0, lt=10**15, description="when given, must be the patient's")


class CancelIn(StrictModel):
    reason: str | None = Field(None, max_length=300)
    telegram_user_id: int | None = Field(None, gt=0, lt=10**15)


class DocumentsQuery(InClinic):
    telegram_user_id: int = TelegramId
    type: Literal["ticket", "visit", "tax"] | None = None


class DocumentGenerateIn(InClinic):
    telegram_user_id: int = TelegramId
    document_type: Literal["ticket", "visit", "tax"]
    language: Language | None = None
    appointment_id: int | None = OptionalId
    year: int | None = Field(None, ge=2000, le=2100)


class InvoiceIn(InClinic):
    telegram_user_id: int = TelegramId
    amount: Decimal = Field(..., gt=0, le=100_000_000, max_digits=12, decimal_places=2)
    description: str | None = Field(None, max_length=300)
    appointment_id: int | None = OptionalId


class FeedbackIn(StrictModel):
    telegram_user_id: int = TelegramId
    appointment_id: int = Id
    score: int = Field(..., ge=0, le=10)
    comment: str | None = Field(None, max_length=2000)


class SupportTicketIn(InClinic):
    telegram_user_id: int = TelegramId
    subject: str = Field(..., min_length=1, max_length=200)
    message: str = Field(..., min_length=1, max_length=4000)


class FaqQuery(InClinic):
    """Which clinic's FAQ (none: the caller's organization, else the default clinic's) and in which
    of the clinic bot's languages."""

    language: Literal["ru", "kk", "uz", "en"] = "ru"
