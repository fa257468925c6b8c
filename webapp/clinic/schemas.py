"""Request and response models of the clinic bot API (``webapp.clinic.api``), with seed 002's field names."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, RootModel, model_validator

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


# --- output ----------------------------------------------------------------------------------------

Money = Field(description="two decimals, as a string")


class PatientUpsertOut(BaseModel):
    patient_id: int
    telegram_link_id: str | None
    created: bool
    full_name: str


class IinVerdictOut(BaseModel):
    valid: bool
    iin: str
    birth_date: str | None
    sex: str | None
    error: str | None = Field(description="why not, in the request's language")
    code: str | None


class PatientLinkOut(BaseModel):
    """Seed 002's PatientTelegramLink, with the patient fields the bot shows in its profile."""

    id: str | None
    patient: int
    telegram_user_id: int
    telegram_username: str | None
    language: str | None
    consents_json: dict[str, bool]
    is_active: bool
    last_interaction_at: str | None
    created_at: str | None
    patient_full_name: str
    patient_phone: str | None
    first_name: str | None
    last_name: str | None
    middle_name: str | None
    birth_date: str
    sex: str | None
    iin: str | None
    osms_status: str | None
    tags: list[str]


class BranchOut(BaseModel):
    id: int
    name: str
    address: str | None
    phone: str | None


class BranchList(RootModel[list[BranchOut]]):
    pass


class ServiceOut(BaseModel):
    id: int
    name: str
    name_kk: str | None
    price: str = Money
    duration_minutes: int
    prepayment_amount: str = Money


class ServiceList(RootModel[list[ServiceOut]]):
    pass


class DoctorOut(BaseModel):
    id: int
    full_name: str
    specialty: str | None
    photo: str | None


class DoctorList(RootModel[list[DoctorOut]]):
    pass


class SlotOut(BaseModel):
    time: str = Field(description="HH:MM, the clinic's local time")
    available: bool
    starts_at: str | None
    branch_id: int | None


class SlotsOut(BaseModel):
    date: str
    timezone: str
    slots: list[SlotOut]


class AppointmentOut(BaseModel):
    """Seed 002's AppointmentSerializer (the clinic's local date and times) plus UTC instants."""

    id: int
    date: str
    time_from: str
    time_to: str
    doctor_name: str
    service_name: str
    branch_name: str
    branch_address: str | None
    status: str
    notes: str
    created_at: str | None
    employee_id: int
    service_id: int
    branch_id: int
    starts_at: str | None
    ends_at: str | None
    timezone: str
    price: str = Money
    prepayment_status: str | None


class AppointmentList(RootModel[list[AppointmentOut]]):
    pass


class DocumentOut(BaseModel):
    id: str
    patient: int
    patient_name: str
    document_type: str
    title: str
    language: str | None
    file_path: str | None
    appointment_id: int | None
    expires_at: str | None
    is_expired: bool
    created_at: str | None


class DocumentList(RootModel[list[DocumentOut]]):
    pass


class DownloadLinkOut(BaseModel):
    download_url: str
    expires_at: str | None
    filename: str


class InvoiceOut(BaseModel):
    invoice_id: int
    number: str
    amount: float
    currency: str
    status: str
    payment_id: str | None
    provider: str
    qr_code_url: str | None
    appointment_id: int | None
    kind: str
    paid_at: str | None
    created_at: str | None


class PaymentCallbackOut(BaseModel):
    status: str
    changed: bool = Field(description="false for a repeated report")
    invoice_id: int


class PatientBalanceOut(BaseModel):
    currency: str
    balance: float = Field(description="paid minus charged; negative: the patient owes")
    paid: float
    charged: float
    pending: float


class FeedbackOut(BaseModel):
    id: str
    score: int
    is_low_score: bool


class SupportTicketOut(BaseModel):
    ticket_id: str
    subject: str
    status: str


class FaqItem(BaseModel):
    id: int
    question: str
    answer: str


class FaqOut(BaseModel):
    faqs: list[FaqItem]
