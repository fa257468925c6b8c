"""Patient documents: PDFs (fpdf2 with an embedded DejaVu Sans, which has Cyrillic and the Kazakh
letters ә ғ қ ң ө ұ ү һ і) and their signed download links, valid 48 hours.

A link is ``itsdangerous``-signed with DOWNLOAD_SIGNING_KEY and carries its own expiry; the
document row expires at the same moment, after which the clean-up job deletes the file.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from itsdangerous import BadSignature, URLSafeSerializer

from webapp.clinic.models import (
    VISITED,
    Appointment,
    Document,
    DocumentType,
    Invoice,
    InvoiceStatus,
    Patient,
)
from webapp.clinic.services import clock
from webapp.clinic.services.common import clinic_language, local_midnight_utc, organization_clinic, t, zone
from webapp.clinic.services.render import date_text, local_time, money, status_label, time_text
from webapp.clinic.words import VALUES
from webapp.core.services import ServiceError
from webapp.extensions import db

LINK_TTL = timedelta(hours=48)
FONT_DIR = Path(__file__).resolve().parents[1] / "fonts"
SIGNING_SALT = "clinic-document-link"
TITLES = {
    DocumentType.TICKET: "Appointment ticket",
    DocumentType.VISIT: "Certificate of visit",
    DocumentType.TAX: "Certificate of paid medical services for %(year)s",
}


def _storage_dir() -> Path:
    path = Path(current_app.config["UPLOAD_DIR"]) / "clinic" / "documents"
    path.mkdir(parents=True, exist_ok=True)
    return path


class _Pdf:
    """An A4 document in DejaVu Sans: our few blocks, and FPDF's own methods through ``__getattr__``.

    A wrapper rather than an FPDF subclass so that fpdf2 (with fontTools) is imported by the first
    document, not with this module: ~0.15 CPU-s that every process building the app (each RQ worker,
    web and cron process) paid for documents that few of them render.
    """

    def __init__(self) -> None:
        from fpdf import FPDF

        self._fpdf = FPDF(format="A4")
        self.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(True, margin=15)
        self.add_page()

    def __getattr__(self, name: str):
        return getattr(self._fpdf, name)

    def heading(self, text: str, size: int = 16) -> None:
        self.set_font("DejaVu", "B", size)
        self.multi_cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def field(self, label: str, value: str) -> None:
        self.set_font("DejaVu", "B", 11)
        self.cell(55, 7, label)
        self.set_font("DejaVu", "", 11)
        self.multi_cell(0, 7, value, new_x="LMARGIN", new_y="NEXT")

    def paragraph(self, text: str) -> None:
        self.set_font("DejaVu", "", 11)
        self.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")


def invoice_text(invoice: Invoice, language: str) -> str:
    """What was paid for, in the reader's language (the stored description is the payer's)."""
    if invoice.appointment is None:
        return invoice.description or ""
    with force_locale(language):
        kind = str(VALUES["clinic_invoice_kind"].get(invoice.kind, invoice.kind))
    return f"{kind}: {invoice.appointment.service.display_name(language)}"


def _patient_block(pdf: _Pdf, patient: Patient, language: str) -> None:
    pdf.field(t(language, "Patient"), patient.full_name)
    pdf.field(t(language, "Date of birth"), f"{patient.birth_date:%d.%m.%Y}")
    if patient.iin:
        pdf.field(t(language, "IIN"), patient.iin)


def _appointment_block(pdf: _Pdf, appointment: Appointment, language: str) -> None:
    local = local_time(appointment)
    branch = appointment.branch
    pdf.field(t(language, "Service"), appointment.service.display_name(language))
    pdf.field(t(language, "Doctor"), appointment.doctor.full_name)
    pdf.field(t(language, "Branch"), ", ".join(p for p in (branch.name, branch.address) if p))
    pdf.field(t(language, "Date and time"), f"{date_text(local)} {time_text(local)}")
    pdf.field(t(language, "Status"), status_label(appointment.status, language))


def yearly_payments(patient: Patient, year: int, timezone: str) -> list[Invoice]:
    """The patient's invoices paid within the local calendar ``year`` (the tax certificate's lines)."""
    tz = zone(timezone)
    start, end = local_midnight_utc(date(year, 1, 1), tz), local_midnight_utc(date(year + 1, 1, 1), tz)
    return list(
        db.session.scalars(
            db.select(Invoice)
            .where(
                Invoice.patient_id == patient.id,
                Invoice.status == InvoiceStatus.PAID.value,
                Invoice.paid_at >= start,
                Invoice.paid_at < end,
            )
            .order_by(Invoice.paid_at)
        )
    )


def _render(
    doc_type: DocumentType,
    patient: Patient,
    language: str,
    appointment: Appointment | None,
    year: int | None,
    now: datetime,
) -> tuple[str, bytes]:
    clinic = appointment.branch.clinic if appointment else organization_clinic(patient.organization_id)
    title = t(language, TITLES[doc_type], year=year)
    pdf = _Pdf()
    pdf.heading(clinic.name, 13)
    pdf.heading(title)
    _patient_block(pdf, patient, language)
    if doc_type in (DocumentType.TICKET, DocumentType.VISIT):
        pdf.field(t(language, "Number"), f"#{appointment.id}")
        _appointment_block(pdf, appointment, language)
        if doc_type == DocumentType.VISIT:
            pdf.ln(4)
            pdf.paragraph(t(language, "This certifies that the patient attended the clinic at the time stated above."))
    else:
        tz = zone(clinic.timezone)
        invoices = yearly_payments(patient, year, clinic.timezone)
        pdf.ln(2)
        for invoice in invoices:
            paid = invoice.paid_at.astimezone(tz)
            line = f"{invoice_text(invoice, language)}  {money(invoice.amount, invoice.currency)}"
            pdf.paragraph(f"{paid:%d.%m.%Y}  {invoice.number}  {line}")
        pdf.ln(2)
        shown = "; ".join(money(total, currency) for currency, total in paid_totals(invoices).items())
        pdf.field(t(language, "Total paid"), shown or money(0, clinic.currency))
    pdf.ln(6)
    generated = now.astimezone(zone(clinic.timezone))
    pdf.set_font("DejaVu", "", 9)
    pdf.cell(0, 6, t(language, "Generated %(when)s", when=f"{generated:%d.%m.%Y %H:%M}"))
    return title, bytes(pdf.output())


def paid_totals(invoices) -> dict[str, Decimal]:
    """What was paid, per currency: a clinic may bill in more than one, and amounts never add across them."""
    totals: dict[str, Decimal] = {}
    for invoice in invoices:
        totals[invoice.currency] = totals.get(invoice.currency, Decimal(0)) + invoice.amount
    return totals


def generate_document(
    patient: Patient,
    doc_type: str,
    *,
    language: str | None = None,
    appointment_id: int | None = None,
    year: int | None = None,
    now: datetime | None = None,
) -> Document:
    now = clock.resolve(now)
    language = clinic_language(language or patient.language)
    try:
        kind = DocumentType(doc_type)
    except ValueError as exc:
        raise ServiceError("Unsupported document type", 422, "VALIDATION_ERROR", "document_type") from exc
    appointment = None
    if kind in (DocumentType.TICKET, DocumentType.VISIT):
        appointment = db.session.get(Appointment, appointment_id) if appointment_id else None
        if appointment is None or appointment.patient_id != patient.id:
            raise ServiceError("Appointment not found", 404, "NOT_FOUND", "appointment_id")
        if kind == DocumentType.VISIT and appointment.status not in VISITED:
            raise ServiceError(
                "A certificate of visit needs a visit that took place", 409, "NOT_VISITED", "appointment_id"
            )
    else:
        year = year or now.astimezone(zone(organization_clinic(patient.organization_id).timezone)).year
        if not 2000 <= year <= now.year:
            raise ServiceError("Year is out of range", 422, "VALIDATION_ERROR", "year")
    title, content = _render(kind, patient, language, appointment, year, now)
    document = Document(
        id=uuid.uuid4(),
        patient=patient,
        appointment=appointment,
        doc_type=kind.value,
        title=title,
        language=language,
        generated_at=now,
        expires_at=now + LINK_TTL,
        size_bytes=len(content),
    )
    document.file_path = f"{document.id}.pdf"
    db.session.add(document)
    db.session.flush()  # the row first: a refused insert leaves no orphan file behind
    (_storage_dir() / document.file_path).write_bytes(content)
    return document


def list_documents(patient: Patient, doc_type: str | None = None, now: datetime | None = None) -> list[Document]:
    """The patient's documents whose link is still valid, newest first."""
    now = clock.resolve(now)
    query = db.select(Document).where(
        Document.patient_id == patient.id, Document.cleaned_at.is_(None), Document.expires_at > now
    )
    if doc_type:
        query = query.where(Document.doc_type == doc_type)
    return list(db.session.scalars(query.order_by(Document.generated_at.desc())))


def read_content(document: Document) -> bytes:
    if document.file_path is None:
        raise ServiceError("Document expired", 410, "GONE")
    path = _storage_dir() / document.file_path
    if not path.is_file():
        raise ServiceError("Document file is missing", 410, "GONE")
    return path.read_bytes()


# --- signed links ----------------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["DOWNLOAD_SIGNING_KEY"], salt=SIGNING_SALT)


def download_token(document: Document, now: datetime | None = None) -> str:
    now = clock.resolve(now)
    if document.is_expired(now):
        raise ServiceError("Document expired", 410, "GONE")
    return _serializer().dumps({"d": str(document.id), "e": int(document.expires_at.timestamp())})


def download_path(token: str) -> str:
    return f"/api/bot/documents/download/{token}/"


def download_url(document: Document, now: datetime | None = None) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + download_path(download_token(document, now))


def resolve_download(token: str, now: datetime | None = None) -> Document:
    """The document a link names, once its signature and expiry check out (404 forged, 410 expired)."""
    now = clock.resolve(now)
    try:
        payload = _serializer().loads(token)
        document_id, expires = uuid.UUID(payload["d"]), datetime.fromtimestamp(int(payload["e"]), UTC)
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise ServiceError("Document not found", 404, "NOT_FOUND") from exc
    if expires <= now:
        raise ServiceError("The link has expired", 410, "GONE")
    document = db.session.get(Document, document_id)
    if document is None:
        raise ServiceError("Document not found", 404, "NOT_FOUND")
    if document.is_expired(now):
        raise ServiceError("The link has expired", 410, "GONE")
    return document


def cleanup_expired_documents(now: datetime | None = None) -> int:
    """Delete the files of documents whose link has expired; returns how many were cleaned."""
    now = clock.resolve(now)
    rows = db.session.scalars(
        db.select(Document).where(Document.cleaned_at.is_(None), Document.expires_at <= now)
    ).all()
    directory = _storage_dir()
    for document in rows:
        if document.file_path:
            (directory / document.file_path).unlink(missing_ok=True)
        document.file_path = None
        document.cleaned_at = now
    return len(rows)


def patient_document(patient: Patient, document_id: str) -> Document:
    """The patient's own document ``document_id`` (a UUID); anyone else's, a missing one or a
    malformed id is not found."""
    try:
        document = db.session.get(Document, uuid.UUID(document_id))
    except ValueError:
        document = None
    if document is None or document.patient_id != patient.id:
        raise ServiceError("Document not found", 404, "NOT_FOUND")
    return document
