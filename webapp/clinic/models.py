"""Clinic models (seed 002). Times are aware UTC; each clinic's IANA time zone governs display,
schedules (local wall-clock hours) and reminder arithmetic.

Names stay obvious (``Patient``, ``Appointment``, ``Service``, ``Doctor``, ``Branch``): the
broadcasts vertical builds its segments (age, sex, services used, tags, OSMS status, last visit,
visit count, language) straight over these tables.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import Timestamps, UTCDateTime, utcnow
from webapp.core.models import Organization, User
from webapp.extensions import db
from webapp.telegram.models import Bot


def _enum(name: str, values: type[enum.Enum], length: int = 16) -> sa.Enum:
    return sa.Enum(*(v.value for v in values), name=name, native_enum=False, create_constraint=True, length=length)


def _default_timezone() -> str:
    if has_app_context():
        return current_app.config.get("CLINIC_DEFAULT_TIMEZONE", "Asia/Almaty")
    return "Asia/Almaty"


class Sex(enum.StrEnum):
    MALE = "M"
    FEMALE = "F"


class OsmsStatus(enum.StrEnum):
    """Compulsory social health insurance (ОСМС) status, a broadcast segment field."""

    INSURED = "insured"
    NOT_INSURED = "not_insured"
    UNKNOWN = "unknown"


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    ARRIVED = "arrived"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


# Statuses that hold their slot. Cancelled and no-show appointments give it back.
SLOT_HOLDING = (
    AppointmentStatus.BOOKED.value,
    AppointmentStatus.CONFIRMED.value,
    AppointmentStatus.ARRIVED.value,
    AppointmentStatus.COMPLETED.value,
)
SLOT_FREEING = (AppointmentStatus.CANCELLED.value, AppointmentStatus.NO_SHOW.value)
# A visit took place: what "services used", "last visit" and "visit count" segments count.
VISITED = (AppointmentStatus.ARRIVED.value, AppointmentStatus.COMPLETED.value)
VISITED_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in VISITED))
_SLOT_HOLDING_SQL = "status NOT IN ('cancelled', 'no_show')"


class PrepaymentStatus(enum.StrEnum):
    NONE = "none"
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    REFUNDED = "refunded"


class ReminderKind(enum.StrEnum):
    DAY_BEFORE = "d1"
    THREE_HOURS = "h3"
    ONE_HOUR = "h1"
    ARRIVED_CHECK = "arrived"
    NPS = "nps"


class ReminderState(enum.StrEnum):
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class DocumentType(enum.StrEnum):
    TICKET = "ticket"  # талон на приём
    VISIT = "visit"  # справка о посещении
    TAX = "tax"  # справка об оплате медицинских услуг за год (налоговый вычет)


class InvoiceKind(enum.StrEnum):
    PREPAYMENT = "prepayment"
    SERVICE = "service"
    TOPUP = "topup"


class InvoiceStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    REFUNDED = "refunded"


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class Clinic(db.Model):
    """Clinic settings: name and the IANA time zone every local time of the clinic is read in."""

    __tablename__ = "clinic_clinics"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The business that runs the clinic: its staff, and only they, reach the clinic's data.
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    timezone: Mapped[str] = mapped_column(sa.String(64), default=_default_timezone, nullable=False)
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    address: Mapped[str | None] = mapped_column(sa.String(300))
    currency: Mapped[str] = mapped_column(sa.String(3), default="KZT", nullable=False)
    # The bot that talks for this clinic; NULL: any clinic bot (or the platform's default bot).
    bot_id: Mapped[int | None] = mapped_column(sa.ForeignKey("bots.id", ondelete="SET NULL"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    branches: Mapped[list[Branch]] = relationship(back_populates="clinic")
    bot: Mapped[Bot | None] = relationship()
    organization: Mapped[Organization] = relationship()

    def __str__(self) -> str:
        return self.name


class Branch(db.Model):
    __tablename__ = "clinic_branches"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic_clinics.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    address: Mapped[str | None] = mapped_column(sa.String(300))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)

    clinic: Mapped[Clinic] = relationship(back_populates="branches", lazy="joined")

    def __str__(self) -> str:
        return self.name


service_branches = sa.Table(
    "clinic_service_branches",
    db.metadata,
    sa.Column("service_id", sa.ForeignKey("clinic_services.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("branch_id", sa.ForeignKey("clinic_branches.id", ondelete="CASCADE"), primary_key=True),
)
doctor_branches = sa.Table(
    "clinic_doctor_branches",
    db.metadata,
    sa.Column("doctor_id", sa.ForeignKey("clinic_doctors.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("branch_id", sa.ForeignKey("clinic_branches.id", ondelete="CASCADE"), primary_key=True),
)
doctor_services = sa.Table(
    "clinic_doctor_services",
    db.metadata,
    sa.Column("doctor_id", sa.ForeignKey("clinic_doctors.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("service_id", sa.ForeignKey("clinic_services.id", ondelete="CASCADE"), primary_key=True),
)


class Service(db.Model):
    __tablename__ = "clinic_services"
    __table_args__ = (
        sa.CheckConstraint("duration_minutes > 0 AND duration_minutes <= 720", name="duration_range"),
        sa.CheckConstraint("price >= 0", name="price_not_negative"),
        sa.CheckConstraint("prepayment_amount >= 0 AND prepayment_amount <= price", name="prepayment_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic_clinics.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    name_kk: Mapped[str | None] = mapped_column(sa.String(200))
    duration_minutes: Mapped[int] = mapped_column(sa.Integer, default=30, nullable=False)
    price: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), default=Decimal("0"), nullable=False)
    # Optional prepayment the bot offers after confirmation; 0: none.
    prepayment_amount: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), default=Decimal("0"), nullable=False)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)

    clinic: Mapped[Clinic] = relationship()
    branches: Mapped[list[Branch]] = relationship(secondary=service_branches)

    def display_name(self, language: str | None = None) -> str:
        return self.name_kk if language == "kk" and self.name_kk else self.name

    def __str__(self) -> str:
        return self.name


class Doctor(db.Model):
    __tablename__ = "clinic_doctors"
    __table_args__ = (sa.CheckConstraint("slot_step_minutes BETWEEN 5 AND 240", name="slot_step_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic_clinics.id", ondelete="CASCADE"), index=True)
    # The staff account (role doctor) that sees this doctor's appointments in the console.
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    specialty: Mapped[str | None] = mapped_column(sa.String(200))
    photo_url: Mapped[str | None] = mapped_column(sa.String(500))
    # Start times are offered on this grid from the start of each working interval.
    slot_step_minutes: Mapped[int] = mapped_column(sa.Integer, default=30, nullable=False)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)

    clinic: Mapped[Clinic] = relationship()
    user: Mapped[User | None] = relationship()
    branches: Mapped[list[Branch]] = relationship(secondary=doctor_branches)
    services: Mapped[list[Service]] = relationship(secondary=doctor_services)
    schedules: Mapped[list[DoctorSchedule]] = relationship(
        back_populates="doctor",
        cascade="all, delete-orphan",
        order_by="(DoctorSchedule.weekday, DoctorSchedule.start_time)",
    )
    days_off: Mapped[list[DoctorDayOff]] = relationship(
        back_populates="doctor", cascade="all, delete-orphan", order_by="DoctorDayOff.day"
    )

    def __str__(self) -> str:
        return self.full_name


class DoctorSchedule(db.Model):
    """One working interval of a weekday (local wall-clock time of the clinic), with an optional break."""

    __tablename__ = "clinic_doctor_schedules"
    __table_args__ = (
        sa.UniqueConstraint("doctor_id", "weekday", "start_time"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        sa.CheckConstraint("start_time < end_time", name="interval_order"),
        sa.CheckConstraint(
            "(break_start IS NULL AND break_end IS NULL) OR "
            "(break_start IS NOT NULL AND break_end IS NOT NULL AND break_start < break_end "
            "AND break_start >= start_time AND break_end <= end_time)",
            name="break_inside",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic_doctors.id", ondelete="CASCADE"), index=True)
    branch_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic_branches.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)  # 0 = Monday
    start_time: Mapped[time] = mapped_column(sa.Time, nullable=False)
    end_time: Mapped[time] = mapped_column(sa.Time, nullable=False)
    break_start: Mapped[time | None] = mapped_column(sa.Time)
    break_end: Mapped[time | None] = mapped_column(sa.Time)

    doctor: Mapped[Doctor] = relationship(back_populates="schedules")
    branch: Mapped[Branch] = relationship()

    def __str__(self) -> str:
        return f"{self.weekday}: {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class DoctorDayOff(db.Model):
    __tablename__ = "clinic_doctor_days_off"
    __table_args__ = (sa.UniqueConstraint("doctor_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic_doctors.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(sa.Date, nullable=False)
    reason: Mapped[str | None] = mapped_column(sa.String(200))

    doctor: Mapped[Doctor] = relationship(back_populates="days_off")


MARKETABLE_SQL = "is_active AND consent_marketing_at IS NOT NULL"


class Patient(Timestamps, db.Model):
    """A patient of one clinic organization. The same person registered with two organizations is two
    patients: their names, consents, tags and notes, and whatever hangs off them, are each clinic's own."""

    __tablename__ = "clinic_patients"
    __table_args__ = (
        sa.UniqueConstraint("organization_id", "user_id"),
        sa.UniqueConstraint("organization_id", "iin"),
        # A clinic segment's candidates (active, marketing consent) read from the index alone:
        # equality filters first (the bot's organization always), the age range last.
        sa.Index(
            "ix_clinic_patients_marketable",
            "organization_id",
            "sex",
            "osms_status",
            "birth_date",
            postgresql_include=["id", "user_id"],
            postgresql_where=sa.text(MARKETABLE_SQL),
            sqlite_where=sa.text(MARKETABLE_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    # The platform user behind the patient's Telegram account(s); NULL for a walk-in entered by staff.
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    first_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    last_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    middle_name: Mapped[str | None] = mapped_column(sa.String(100))
    phone: Mapped[str] = mapped_column(sa.String(32), nullable=False, index=True)  # E.164
    birth_date: Mapped[date] = mapped_column(sa.Date, nullable=False, index=True)
    sex: Mapped[str] = mapped_column(_enum("clinic_sex", Sex, 1), nullable=False, index=True)
    iin: Mapped[str | None] = mapped_column(sa.String(12))
    language: Mapped[str] = mapped_column(sa.String(8), default="ru", nullable=False)
    osms_status: Mapped[str] = mapped_column(
        _enum("clinic_osms_status", OsmsStatus), default=OsmsStatus.UNKNOWN.value, nullable=False, index=True
    )
    consent_personal_data_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_medical_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_marketing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    notes: Mapped[str | None] = mapped_column(sa.Text)

    user: Mapped[User | None] = relationship()
    organization: Mapped[Organization] = relationship()
    tag_rows: Mapped[list[PatientTag]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", lazy="selectin", order_by="PatientTag.tag"
    )

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]

    @property
    def consents(self) -> dict[str, bool]:
        return {
            "personal_data": self.consent_personal_data_at is not None,
            "medical": self.consent_medical_at is not None,
            "marketing": self.consent_marketing_at is not None,
        }

    def __str__(self) -> str:
        return self.full_name


class PatientTag(db.Model):
    __tablename__ = "clinic_patient_tags"
    __table_args__ = (sa.UniqueConstraint("patient_id", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic_patients.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)

    patient: Mapped[Patient] = relationship(back_populates="tag_rows")

    def __str__(self) -> str:
        return self.tag


class Appointment(Timestamps, db.Model):
    __tablename__ = "clinic_appointments"
    __table_args__ = (
        # The database itself refuses a second live booking of one doctor's slot, whatever the code does.
        sa.Index(
            "uq_clinic_appointments_doctor_slot",
            "doctor_id",
            "starts_at",
            unique=True,
            postgresql_where=sa.text(_SLOT_HOLDING_SQL),
            sqlite_where=sa.text(_SLOT_HOLDING_SQL),
        ),
        sa.Index("ix_clinic_appointments_doctor_starts", "doctor_id", "starts_at"),
        # Covers the visit columns a clinic segment reads per patient (see migration 0005).
        sa.Index(
            "ix_clinic_appointments_patient_starts",
            "patient_id",
            "starts_at",
            postgresql_include=["status", "branch_id", "service_id"],
        ),
        sa.Index("ix_clinic_appointments_status_starts", "status", "starts_at"),
        # A segment's "services used" probe per candidate patient: only visits, so a smaller index.
        sa.Index(
            "ix_clinic_appointments_visited",
            "patient_id",
            postgresql_include=["service_id", "branch_id"],
            postgresql_where=sa.text(VISITED_SQL),
            sqlite_where=sa.text(VISITED_SQL),
        ),
        sa.CheckConstraint("starts_at < ends_at", name="interval_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic_patients.id", ondelete="CASCADE"), nullable=False)
    doctor_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic_doctors.id", ondelete="RESTRICT"), nullable=False)
    service_id: Mapped[int] = mapped_column(
        sa.ForeignKey("clinic_services.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    branch_id: Mapped[int] = mapped_column(
        sa.ForeignKey("clinic_branches.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    status: Mapped[str] = mapped_column(
        _enum("clinic_appointment_status", AppointmentStatus), default=AppointmentStatus.BOOKED.value, nullable=False
    )
    prepayment_status: Mapped[str] = mapped_column(
        _enum("clinic_prepayment_status", PrepaymentStatus), default=PrepaymentStatus.NONE.value, nullable=False
    )
    price: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), default=Decimal("0"), nullable=False)
    notes: Mapped[str | None] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.String(16), default="bot", nullable=False)
    # When the current time was chosen (booking or last reschedule): reminders due before it are not sent.
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    rescheduled_count: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    no_show_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(300))

    patient: Mapped[Patient] = relationship(lazy="joined")
    doctor: Mapped[Doctor] = relationship(lazy="joined")
    service: Mapped[Service] = relationship(lazy="joined")
    branch: Mapped[Branch] = relationship(lazy="joined")

    @property
    def timezone(self) -> str:
        return self.branch.clinic.timezone

    def __str__(self) -> str:
        return f"#{self.id} {self.starts_at:%Y-%m-%d %H:%M}Z"


# An integer array where PostgreSQL can test it with && in the row a segment reads anyway; JSON elsewhere.
ServiceIds = sa.JSON().with_variant(postgresql.ARRAY(sa.Integer), "postgresql")


# What a clinic segment asks of the patient, copied onto each of the patient's visit summaries.
SUMMARY_PATIENT_FIELDS = ("user_id", "organization_id", "sex", "osms_status", "birth_date")
SUMMARY_MARKETABLE_FIELDS = ("is_active", "consent_marketing_at")


class VisitSummary(db.Model):
    """A patient's visits to one clinic, kept by ``clinic.services.visits`` in the same transaction
    as every appointment transition, so broadcast segments filter visit count, last visit and the
    services used as columns instead of reading every appointment of every candidate patient.

    It also carries a copy of the patient's fields a segment filters on (``SUMMARY_PATIENT_FIELDS``
    and whether the patient is marketable), refreshed with the figures and on every change of the
    patient row (``copy_patient_fields``, from the ORM flush): a segment with visit filters is then
    one range of ``ix_clinic_visit_summaries_segment`` instead of every summary of the clinic
    hash-joined with the marketable patients (issue 15)."""

    __tablename__ = "clinic_visit_summaries"
    __table_args__ = (
        # A segment's "visits ≥ N, last visit since D" within one clinic, answered from the index.
        sa.Index(
            "ix_clinic_visit_summaries_clinic_last",
            "clinic_id",
            "last_visit_at",
            postgresql_include=["visits", "service_ids"],
        ),
        # A segment with visit filters, over the marketable patients: equality filters first (the
        # bot's clinic and organization always), the age range last; the visit figures and the
        # user to join the bot's accounts on are carried, so the count reads no summary row.
        sa.Index(
            "ix_clinic_visit_summaries_segment",
            "clinic_id",
            "organization_id",
            "sex",
            "osms_status",
            "birth_date",
            postgresql_include=["last_visit_at", "visits", "service_ids", "user_id", "patient_id"],
            postgresql_where=sa.text("marketable"),
            sqlite_where=sa.text("marketable"),
        ),
    )

    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("clinic_patients.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    clinic_id: Mapped[int] = mapped_column(
        sa.ForeignKey("clinic_clinics.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    visits: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)  # arrived or completed
    first_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    no_shows: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    cancellations: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    # The services of the visits (arrived or completed), each once, ascending: "services used";
    # written with the other figures by every refresh, hence no default.
    service_ids: Mapped[list[int]] = mapped_column(ServiceIds, nullable=False)
    # Copies of the patient's row (see the class docstring); NULL only until the first copy.
    user_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    organization_id: Mapped[int | None] = mapped_column(sa.Integer)
    sex: Mapped[str | None] = mapped_column(sa.String(1))
    osms_status: Mapped[str | None] = mapped_column(sa.String(16))
    birth_date: Mapped[date | None] = mapped_column(sa.Date)
    # The patient is active and gave the marketing consent (clinic.MARKETABLE_SQL).
    marketable: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false(), nullable=False)


def copy_patient_fields(where: sa.ColumnElement[bool]) -> sa.Update:
    """The UPDATE that copies each summary's patient fields from its patient row, for the summaries
    ``where`` selects; read in SQL, so it copies what the database holds, expressions included."""
    summary, patient = VisitSummary.__table__, Patient.__table__

    def of_patient(column):
        return sa.select(column).where(patient.c.id == summary.c.patient_id).scalar_subquery()

    marketable = sa.case((sa.and_(patient.c.is_active, patient.c.consent_marketing_at.is_not(None)), True), else_=False)
    values = {name: of_patient(patient.c[name]) for name in SUMMARY_PATIENT_FIELDS}
    return sa.update(summary).where(where).values(**values, marketable=of_patient(marketable))


@sa.event.listens_for(Patient, "after_update")
def _patient_updated(mapper, connection, patient: Patient) -> None:
    """A change of a field the summaries copy reaches them in the same flush (an UPDATE of
    clinic_patients outside the ORM must call ``copy_patient_fields`` itself)."""
    state = sa.inspect(patient)
    if any(state.attrs[name].history.has_changes() for name in SUMMARY_PATIENT_FIELDS + SUMMARY_MARKETABLE_FIELDS):
        connection.execute(copy_patient_fields(VisitSummary.__table__.c.patient_id == patient.id))


class ReminderLog(db.Model):
    """One row per message the periodic scans owe for an appointment, claimed in the transaction that
    writes the message into the outbox (``claimed``: handed to the outbox, which records the delivery;
    ``skipped``: the patient has no reachable chat; ``sent``/``failed``: rows from before the outbox).

    Unique per (appointment, kind, start time it was for): two racing scans cannot both claim one
    reminder, and a reschedule (a new start time) re-arms the reminders without erasing what was
    sent for the old time.
    """

    __tablename__ = "clinic_reminder_log"
    __table_args__ = (sa.UniqueConstraint("appointment_id", "kind", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("clinic_appointments.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(_enum("clinic_reminder_kind", ReminderKind), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    state: Mapped[str] = mapped_column(
        _enum("clinic_reminder_state", ReminderState), default=ReminderState.CLAIMED.value, nullable=False
    )
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    error: Mapped[str | None] = mapped_column(sa.String(300))

    appointment: Mapped[Appointment] = relationship()


class Document(db.Model):
    __tablename__ = "clinic_documents"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic_patients.id", ondelete="CASCADE"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clinic_appointments.id", ondelete="SET NULL"), index=True
    )
    doc_type: Mapped[str] = mapped_column(_enum("clinic_document_type", DocumentType), nullable=False, index=True)
    title: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    language: Mapped[str] = mapped_column(sa.String(8), default="ru", nullable=False)
    file_path: Mapped[str | None] = mapped_column(sa.String(300))  # relative to UPLOAD_DIR; NULL once cleaned
    size_bytes: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # The download link (and the file) live 48 hours; the clean-up job removes the file afterwards.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    cleaned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    patient: Mapped[Patient] = relationship()
    appointment: Mapped[Appointment | None] = relationship()

    def is_expired(self, now: datetime) -> bool:
        return self.cleaned_at is not None or self.expires_at <= now

    @property
    def filename(self) -> str:
        return f"{self.doc_type}-{str(self.id)[:8]}.pdf"


class Invoice(Timestamps, db.Model):
    """An invoice and its payment through a provider (``demo`` here); status pending → paid/failed, paid → refunded."""

    __tablename__ = "clinic_invoices"
    __table_args__ = (sa.CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic_patients.id", ondelete="CASCADE"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clinic_appointments.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(
        _enum("clinic_invoice_kind", InvoiceKind), default=InvoiceKind.SERVICE.value, nullable=False
    )
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2), nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), default="KZT", nullable=False)
    description: Mapped[str | None] = mapped_column(sa.String(300))
    provider: Mapped[str] = mapped_column(sa.String(32), default="demo", nullable=False)
    provider_reference: Mapped[str] = mapped_column(sa.String(64), unique=True, nullable=False)
    status: Mapped[str] = mapped_column(
        _enum("clinic_invoice_status", InvoiceStatus), default=InvoiceStatus.PENDING.value, nullable=False, index=True
    )
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    patient: Mapped[Patient] = relationship()
    appointment: Mapped[Appointment | None] = relationship()

    @property
    def number(self) -> str:
        return f"INV-{self.id:06d}"

    def __str__(self) -> str:
        return self.number


class Feedback(db.Model):
    """NPS answer: 0–10 and an optional comment, at most one per appointment."""

    __tablename__ = "clinic_feedback"
    __table_args__ = (sa.CheckConstraint("score BETWEEN 0 AND 10", name="score_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clinic_appointments.id", ondelete="SET NULL"), unique=True
    )
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("clinic_patients.id", ondelete="CASCADE"), index=True)
    score: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)

    patient: Mapped[Patient] = relationship()
    appointment: Mapped[Appointment | None] = relationship()

    @property
    def is_low_score(self) -> bool:
        return self.score <= 6  # NPS detractor


class Faq(db.Model):
    """A question and its answer in the clinic bot's ❓ FAQ. A row with an organization is that
    organization's own (its clinics' bots show it first); without one it is the platform's general
    text every clinic bot shows."""

    __tablename__ = "clinic_faq"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    question_ru: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    answer_ru: Mapped[str] = mapped_column(sa.Text, nullable=False)
    question_kk: Mapped[str | None] = mapped_column(sa.String(300))
    answer_kk: Mapped[str | None] = mapped_column(sa.Text)
    question_uz: Mapped[str | None] = mapped_column(sa.String(300))
    answer_uz: Mapped[str | None] = mapped_column(sa.Text)
    question_en: Mapped[str | None] = mapped_column(sa.String(300))
    answer_en: Mapped[str | None] = mapped_column(sa.Text)
    position: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    is_active: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)

    organization: Mapped[Organization | None] = relationship()

    LANGUAGES = ("ru", "kk", "uz", "en")

    def localized(self, language: str | None) -> tuple[str, str]:
        """The question and answer in ``language``; Russian unless both are written in it (half a
        translation would pair a question with an answer in another language)."""
        if language in self.LANGUAGES:
            question, answer = getattr(self, f"question_{language}"), getattr(self, f"answer_{language}")
            if question and answer:
                return question, answer
        return self.question_ru, self.answer_ru

    def __str__(self) -> str:
        return self.question_ru


class SupportTicket(db.Model):
    __tablename__ = "clinic_support_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clinic_patients.id", ondelete="SET NULL"), index=True)
    telegram_user_id: Mapped[int | None] = mapped_column(sa.BigInteger, index=True)
    subject: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    message: Mapped[str] = mapped_column(sa.Text, nullable=False)
    status: Mapped[str] = mapped_column(
        _enum("clinic_ticket_status", TicketStatus), default=TicketStatus.OPEN.value, nullable=False, index=True
    )
    assigned_to_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    patient: Mapped[Patient | None] = relationship()
    assigned_to: Mapped[User | None] = relationship()


class BotAudit(db.Model):
    """What a patient did through the bot or the bot API (seed 002's BotAudit)."""

    __tablename__ = "clinic_bot_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    patient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("clinic_patients.id", ondelete="SET NULL"), index=True)
    telegram_user_id: Mapped[int | None] = mapped_column(sa.BigInteger, index=True)
    action: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    details: Mapped[dict | None] = mapped_column(sa.JSON)
    source: Mapped[str] = mapped_column(sa.String(16), default="bot", nullable=False)

    patient: Mapped[Patient | None] = relationship()
