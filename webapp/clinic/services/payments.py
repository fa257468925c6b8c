"""Invoices and their payment through a provider — here the demo provider.

Invoice status: pending → paid | failed; paid → refunded. The provider reports outcomes to
``POST /api/bot/payments/callback/`` with the raw body signed by HMAC-SHA256 under
PAYMENT_WEBHOOK_SECRET (hex, header ``X-Signature``). A callback that repeats the current status
changes nothing, so the provider may retry freely.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask import current_app

from webapp.clinic.models import (
    Appointment,
    AppointmentStatus,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Patient,
    PrepaymentStatus,
)
from webapp.clinic.services import clock
from webapp.clinic.services.common import bot_audit
from webapp.core.services import ServiceError
from webapp.extensions import db

DEMO_PROVIDER = "demo"
MAX_AMOUNT = Decimal("100000000")
SIGNATURE_HEADER = "X-Signature"
# Allowed moves and what each does to the appointment's prepayment state.
TRANSITIONS = {
    (InvoiceStatus.PENDING, InvoiceStatus.PAID): PrepaymentStatus.PAID,
    (InvoiceStatus.PENDING, InvoiceStatus.FAILED): PrepaymentStatus.FAILED,
    (InvoiceStatus.PAID, InvoiceStatus.REFUNDED): PrepaymentStatus.REFUNDED,
}


def clean_amount(value) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as exc:
        raise ServiceError("Amount must be a number", 422, "VALIDATION_ERROR", "amount") from exc
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise ServiceError("Amount must be positive and at most 100 000 000", 422, "VALIDATION_ERROR", "amount")
    return amount


def create_invoice(
    patient: Patient,
    amount,
    *,
    description: str | None = None,
    kind: InvoiceKind = InvoiceKind.SERVICE,
    appointment: Appointment | None = None,
    source: str = "bot",
) -> Invoice:
    amount = clean_amount(amount)
    if appointment is not None and appointment.patient_id != patient.id:
        raise ServiceError("Appointment not found", 404, "NOT_FOUND", "appointment_id")
    invoice = Invoice(
        patient=patient,
        appointment=appointment,
        kind=kind.value,
        amount=amount,
        currency=(appointment.branch.clinic.currency if appointment else "KZT"),
        description=(description or "").strip()[:300] or None,
        provider=DEMO_PROVIDER,
        provider_reference=f"DEMO-{uuid.uuid4().hex[:24].upper()}",
        status=InvoiceStatus.PENDING.value,
    )
    db.session.add(invoice)
    db.session.flush()
    bot_audit("invoice.create", patient, None, source, invoice_id=invoice.id, amount=str(amount))
    return invoice


def request_prepayment(appointment: Appointment, *, source: str = "bot") -> Invoice:
    """The prepayment invoice of an appointment (the pending one again if it already exists)."""
    if appointment.status not in (AppointmentStatus.BOOKED.value, AppointmentStatus.CONFIRMED.value):
        raise ServiceError("Only a live appointment can be prepaid", 409, "INVALID_STATE", "appointment_id")
    amount = appointment.service.prepayment_amount
    if not amount or amount <= 0:
        raise ServiceError("This service takes no prepayment", 409, "NO_PREPAYMENT", "appointment_id")
    if appointment.prepayment_status == PrepaymentStatus.PAID.value:
        raise ServiceError("This appointment is already prepaid", 409, "ALREADY_PAID", "appointment_id")
    existing = db.session.scalar(
        db.select(Invoice).where(
            Invoice.appointment_id == appointment.id,
            Invoice.kind == InvoiceKind.PREPAYMENT.value,
            Invoice.status == InvoiceStatus.PENDING.value,
        )
    )
    if existing is not None:
        return existing
    invoice = create_invoice(
        appointment.patient,
        amount,
        description=f"Prepayment: {appointment.service.name}",
        kind=InvoiceKind.PREPAYMENT,
        appointment=appointment,
        source=source,
    )
    appointment.prepayment_status = PrepaymentStatus.PENDING.value
    return invoice


def _apply(invoice: Invoice, target: InvoiceStatus, now: datetime, source: str) -> bool:
    """Move ``invoice`` to ``target``; False when it is already there (a repeated report)."""
    current = InvoiceStatus(invoice.status)
    if current == target:
        return False
    effect = TRANSITIONS.get((current, target))
    if effect is None:
        raise ServiceError(
            f"A {current.value} payment cannot become {target.value}", 409, "INVALID_TRANSITION", "status"
        )
    invoice.status = target.value
    setattr(invoice, {"paid": "paid_at", "failed": "failed_at", "refunded": "refunded_at"}[target.value], now)
    appointment = invoice.appointment
    if appointment is not None and invoice.kind == InvoiceKind.PREPAYMENT.value:
        appointment.prepayment_status = effect.value
    bot_audit(f"invoice.{target.value}", invoice.patient, None, source, invoice_id=invoice.id)
    return True


def settle_cancelled_appointment(appointment: Appointment, now: datetime) -> None:
    """A cancelled appointment's pending invoices fail and its paid prepayment is refunded (demo provider)."""
    for invoice in db.session.scalars(db.select(Invoice).where(Invoice.appointment_id == appointment.id)):
        if invoice.status == InvoiceStatus.PENDING.value:
            _apply(invoice, InvoiceStatus.FAILED, now, "cancel")
        elif invoice.status == InvoiceStatus.PAID.value:
            _apply(invoice, InvoiceStatus.REFUNDED, now, "cancel")


# --- provider callback ----------------------------------------------------------------------------


def sign(body: bytes, secret: str | None = None) -> str:
    key = (secret or current_app.config["PAYMENT_WEBHOOK_SECRET"]).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CallbackResult:
    invoice: Invoice
    changed: bool


def handle_callback(body: bytes, signature: str | None, *, now: datetime | None = None) -> CallbackResult:
    """Verify and apply a provider's report ``{"payment_id", "status", "amount"}``.

    A bad or missing signature is a 401 and nothing is read; a repeated report is accepted and
    changes nothing; an amount other than the invoice's is refused.
    """
    now = clock.resolve(now)
    if not signature or not hmac.compare_digest(sign(body), signature.strip().lower()):
        raise ServiceError("Invalid signature", 401, "INVALID_SIGNATURE")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ServiceError("Body is not valid JSON", 400, "BAD_REQUEST") from exc
    if not isinstance(payload, dict):
        raise ServiceError("Body must be a JSON object", 400, "BAD_REQUEST")
    reference = payload.get("payment_id")
    if not isinstance(reference, str) or not reference:
        raise ServiceError("payment_id is required", 422, "VALIDATION_ERROR", "payment_id")
    try:
        target = InvoiceStatus(payload.get("status"))
    except ValueError as exc:
        raise ServiceError("status must be paid, failed or refunded", 422, "VALIDATION_ERROR", "status") from exc
    if target == InvoiceStatus.PENDING:
        raise ServiceError("status must be paid, failed or refunded", 422, "VALIDATION_ERROR", "status")
    invoice = db.session.scalar(db.select(Invoice).filter_by(provider_reference=reference).with_for_update())
    if invoice is None:
        raise ServiceError("Payment not found", 404, "NOT_FOUND", "payment_id")
    if "amount" in payload and clean_amount(payload["amount"]) != invoice.amount:
        raise ServiceError("Amount does not match the invoice", 422, "AMOUNT_MISMATCH", "amount")
    changed = _apply(invoice, target, now, "provider")
    db.session.flush()
    return CallbackResult(invoice, changed)


def demo_provider_pay(invoice: Invoice, outcome: str = "paid", *, now: datetime | None = None) -> CallbackResult:
    """What the demo provider does when the patient pays: report the outcome through the signed callback."""
    body = json.dumps(
        {"payment_id": invoice.provider_reference, "status": outcome, "amount": str(invoice.amount)}
    ).encode()
    return handle_callback(body, sign(body), now=now)


# --- balance ---------------------------------------------------------------------------------------


def patient_balance(patient: Patient) -> dict[str, Decimal]:
    """Paid minus charged: payments received minus the price of completed visits (negative: the patient owes)."""
    paid = db.session.scalar(
        db.select(db.func.coalesce(db.func.sum(Invoice.amount), 0)).where(
            Invoice.patient_id == patient.id, Invoice.status == InvoiceStatus.PAID.value
        )
    )
    pending = db.session.scalar(
        db.select(db.func.coalesce(db.func.sum(Invoice.amount), 0)).where(
            Invoice.patient_id == patient.id, Invoice.status == InvoiceStatus.PENDING.value
        )
    )
    charged = db.session.scalar(
        db.select(db.func.coalesce(db.func.sum(Appointment.price), 0)).where(
            Appointment.patient_id == patient.id, Appointment.status == AppointmentStatus.COMPLETED.value
        )
    )
    paid, pending, charged = (Decimal(str(v)).quantize(Decimal("0.01")) for v in (paid, pending, charged))
    return {"balance": paid - charged, "paid": paid, "charged": charged, "pending": pending}


def get_invoice(invoice_id: int) -> Invoice:
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        raise ServiceError("Invoice not found", 404, "NOT_FOUND", "invoice_id")
    return invoice


# --- what the patient's 💳 menu shows ----------------------------------------------------------------


def unpaid_invoices(patient: Patient, limit: int) -> list[Invoice]:
    """The patient's invoices still to pay, oldest first."""
    query = (
        db.select(Invoice)
        .where(Invoice.patient_id == patient.id, Invoice.status == InvoiceStatus.PENDING.value)
        .order_by(Invoice.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def patient_invoice(patient: Patient, invoice_id: int) -> Invoice:
    """The patient's own invoice ``invoice_id``; anyone else's (or a missing one) is not found."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None or invoice.patient_id != patient.id:
        raise ServiceError("Invoice not found", 404, "NOT_FOUND")
    return invoice
