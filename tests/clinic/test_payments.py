"""Invoices, the demo provider's signed callback (verified, idempotent), refunds on cancel, balance."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.fixtures.clinic import MONDAY, NOW, at, build_patient
from webapp.clinic.models import Appointment, Branch, Doctor, Invoice, Patient, Service
from webapp.clinic.services import booking, payments
from webapp.core.services import ServiceError
from webapp.extensions import db


def _appointment(ids, starts_at=None):
    patient = db.session.get(Patient, build_patient().id)
    appointment = booking.book_appointment(
        patient,
        db.session.get(Doctor, ids.doctor_id),
        db.session.get(Service, ids.consult_id),
        db.session.get(Branch, ids.central_id),
        starts_at or at(MONDAY, 10),
        now=NOW,
    )
    db.session.commit()
    return appointment


def _callback(invoice, status="paid", amount=None, secret=None):
    body = json.dumps(
        {"payment_id": invoice.provider_reference, "status": status, "amount": amount or str(invoice.amount)}
    ).encode()
    return body, payments.sign(body, secret)


def _error(fn, *args, **kwargs) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        fn(*args, **kwargs)
    db.session.rollback()
    return caught.value


@pytest.mark.parametrize("amount", [0, -5, "abc", "1e12", "NaN"])
def test_invoice_amount_must_be_sane(app_ctx, clinic_data, amount):
    patient = db.session.get(Patient, build_patient().id)
    assert _error(payments.create_invoice, patient, amount).field == "amount"
    assert db.session.scalar(db.select(db.func.count(Invoice.id))) == 0


def test_prepayment_paid_through_the_signed_callback_once(app_ctx, clinic_data):
    appointment = _appointment(clinic_data)
    invoice = payments.request_prepayment(appointment)
    db.session.commit()
    assert (invoice.amount, invoice.status, appointment.prepayment_status) == (Decimal("5000.00"), "pending", "pending")
    assert payments.request_prepayment(appointment).id == invoice.id  # asking again reuses it

    body, signature = _callback(invoice)
    result = payments.handle_callback(body, signature, now=NOW)
    db.session.commit()
    assert result.changed and invoice.status == "paid" and invoice.paid_at == NOW
    assert appointment.prepayment_status == "paid"

    replay = payments.handle_callback(body, signature, now=NOW + timedelta(minutes=5))
    db.session.commit()
    assert not replay.changed and invoice.paid_at == NOW  # the same report twice changes nothing

    assert _error(payments.handle_callback, *_callback(invoice, "failed"), now=NOW).code == "INVALID_TRANSITION"
    assert _error(payments.request_prepayment, appointment).code == "ALREADY_PAID"


def test_callback_signature_and_payload_are_checked(app_ctx, clinic_data):
    invoice = payments.request_prepayment(_appointment(clinic_data))
    db.session.commit()
    body, signature = _callback(invoice)
    assert _error(payments.handle_callback, body, None).status == 401
    assert _error(payments.handle_callback, body, "0" * 64).status == 401
    assert _error(payments.handle_callback, *_callback(invoice, secret="not-the-secret")).status == 401
    tampered = body.replace(b"paid", b"failed")
    assert _error(payments.handle_callback, tampered, signature).code == "INVALID_SIGNATURE"
    assert _error(payments.handle_callback, *_callback(invoice, amount="1.00")).code == "AMOUNT_MISMATCH"
    assert _error(payments.handle_callback, *_callback(invoice, status="pending")).status == 422
    junk = b"not json"
    assert _error(payments.handle_callback, junk, payments.sign(junk)).status == 400
    unknown = json.dumps({"payment_id": "DEMO-NOPE", "status": "paid"}).encode()
    assert _error(payments.handle_callback, unknown, payments.sign(unknown)).status == 404
    assert db.session.get(Invoice, invoice.id).status == "pending"


def test_cancel_refunds_paid_and_fails_pending(app_ctx, clinic_data):
    paid_appointment = _appointment(clinic_data, at(MONDAY, 10))
    paid = payments.request_prepayment(paid_appointment)
    payments.demo_provider_pay(paid, now=NOW)
    pending_appointment = _appointment(clinic_data, at(MONDAY, 11))
    pending = payments.request_prepayment(pending_appointment)
    db.session.commit()
    later = NOW + timedelta(hours=1)
    booking.cancel_appointment(paid_appointment, now=later)
    booking.cancel_appointment(pending_appointment, now=later)
    db.session.commit()
    assert (paid.status, paid.refunded_at, paid_appointment.prepayment_status) == ("refunded", later, "refunded")
    assert (pending.status, pending_appointment.prepayment_status) == ("failed", "failed")


def test_balance_is_paid_minus_completed_visits(app_ctx, clinic_data):
    appointment = _appointment(clinic_data)
    patient = appointment.patient
    payments.demo_provider_pay(payments.request_prepayment(appointment), now=NOW)
    payments.create_invoice(patient, "1200.50")
    db.session.commit()
    assert payments.patient_balance(patient) == {
        "balance": Decimal("5000.00"),
        "paid": Decimal("5000.00"),
        "charged": Decimal("0.00"),
        "pending": Decimal("1200.50"),
    }
    booking.complete_appointment(appointment, now=at(MONDAY, 10, 30))
    db.session.commit()
    assert payments.patient_balance(patient)["balance"] == Decimal("-10000.00")
    assert db.session.get(Appointment, appointment.id).status == "completed"
