"""PDF documents: Kazakh letters really rendered (embedded DejaVu), signed links for 48 hours, clean-up."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from tests.fixtures.clinic import MONDAY, NOW, at, build_patient
from webapp.clinic.models import Branch, Doctor, Document, Patient, Service
from webapp.clinic.services import booking, documents, payments
from webapp.clinic.services.documents import FONT_DIR
from webapp.core.services import ServiceError
from webapp.extensions import db

KAZAKH = "әғқңөұүһі"


def _unicode_in_pdf(content: bytes) -> set[str]:
    """Characters the PDF's ToUnicode maps declare, i.e. the text drawn with the embedded font."""
    chars = set()
    for block in re.findall(rb"beginbfchar\n(.*?)endbfchar", content, re.S):
        for _cid, code in re.findall(rb"<([0-9A-F]{4})> <([0-9A-F]{4,})>", block):
            chars.add(chr(int(code, 16)))
    return chars


def _appointment(ids, patient_id):
    appointment = booking.book_appointment(
        db.session.get(Patient, patient_id),
        db.session.get(Doctor, ids.doctor_id),
        db.session.get(Service, ids.consult_id),
        db.session.get(Branch, ids.central_id),
        at(MONDAY, 10),
        now=NOW,
    )
    db.session.commit()
    return appointment


def test_vendored_font_has_every_kazakh_letter():
    font = TTFont(FONT_DIR / "DejaVuSans.ttf")
    cmap = font.getBestCmap()
    glyphs = font["glyf"]
    for letter in KAZAKH + KAZAKH.upper():
        name = cmap.get(ord(letter))
        assert name is not None, letter
        assert glyphs[name].numberOfContours != 0, f"{letter} has an empty glyph"


def test_ticket_pdf_draws_kazakh_text(app_ctx, clinic_data):
    patient = build_patient(first_name="Әлішер", last_name="Ғұмарұлы", middle_name="Қоңырбайұлы", language="kk")
    db.session.get(Branch, clinic_data.central_id).name = "Шаһар филиалы"
    appointment = _appointment(clinic_data, patient.id)
    document = documents.generate_document(
        db.session.get(Patient, patient.id), "ticket", appointment_id=appointment.id, now=NOW
    )
    db.session.commit()
    content = documents.read_content(document)
    assert content.startswith(b"%PDF") and b"DejaVuSans" in content
    assert set(KAZAKH) <= _unicode_in_pdf(content)
    assert document.title == "Қабылдауға талон" and document.language == "kk"
    assert (document.generated_at, document.expires_at) == (NOW, NOW + timedelta(hours=48))


def test_tax_certificate_counts_the_years_payments(app_ctx, clinic_data):
    patient = db.session.get(Patient, build_patient().id)
    paid = payments.create_invoice(patient, "12000")
    payments.demo_provider_pay(paid, now=NOW)
    payments.create_invoice(patient, "999")  # pending: not on the certificate
    db.session.commit()
    document = documents.generate_document(patient, "tax", year=2030, now=NOW + timedelta(days=1))
    assert document.title == "Справка об оплате медицинских услуг за 2030 год"
    assert documents.read_content(document).startswith(b"%PDF")
    assert [i.id for i in documents.yearly_payments(patient, 2030, "Asia/Almaty")] == [paid.id]
    assert documents.yearly_payments(patient, 2029, "Asia/Almaty") == []
    with pytest.raises(ServiceError):
        documents.generate_document(patient, "tax", year=2040, now=NOW)


def test_tax_certificate_totals_each_currency_apart(app_ctx, clinic_data):
    patient = db.session.get(Patient, build_patient().id)
    for amount, currency in (("12000", "KZT"), ("3000", "KZT"), ("50000", "UZS")):
        invoice = payments.create_invoice(patient, amount)
        invoice.currency = currency
        payments.demo_provider_pay(invoice, now=NOW)
    db.session.commit()
    paid = documents.yearly_payments(patient, 2030, "Asia/Almaty")
    assert documents.paid_totals(paid) == {"KZT": 15000, "UZS": 50000}
    document = documents.generate_document(patient, "tax", year=2030, now=NOW + timedelta(days=1))
    assert documents.read_content(document).startswith(b"%PDF")


def test_links_are_signed_and_expire_after_48_hours(app_ctx, clinic_data):
    patient = build_patient()
    appointment = _appointment(clinic_data, patient.id)
    document = documents.generate_document(
        db.session.get(Patient, patient.id), "ticket", appointment_id=appointment.id, now=NOW
    )
    db.session.commit()
    token = documents.download_token(document, now=NOW)
    assert documents.resolve_download(token, now=NOW + timedelta(hours=47)).id == document.id
    with pytest.raises(ServiceError) as forged:
        documents.resolve_download(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), now=NOW)
    assert forged.value.status == 404
    with pytest.raises(ServiceError) as expired:
        documents.resolve_download(token, now=NOW + timedelta(hours=48))
    assert expired.value.status == 410
    assert documents.download_url(document, now=NOW).startswith("http")
    assert "/api/bot/documents/download/" in documents.download_url(document, now=NOW)


def test_cleanup_deletes_expired_files_once(app_ctx, app, clinic_data):
    patient = build_patient()
    appointment = _appointment(clinic_data, patient.id)
    owner = db.session.get(Patient, patient.id)
    old = documents.generate_document(owner, "ticket", appointment_id=appointment.id, now=NOW)
    fresh = documents.generate_document(owner, "ticket", appointment_id=appointment.id, now=NOW + timedelta(hours=30))
    db.session.commit()
    old_file = Path(app.config["UPLOAD_DIR"]) / "clinic" / "documents" / old.file_path
    assert old_file.is_file()
    later = NOW + timedelta(hours=49)
    assert documents.cleanup_expired_documents(now=later) == 1
    db.session.commit()
    assert not old_file.exists()
    assert (old.file_path, old.cleaned_at) == (None, later)
    assert fresh.file_path is not None and documents.read_content(fresh).startswith(b"%PDF")
    assert documents.cleanup_expired_documents(now=later) == 0
    assert [d.id for d in documents.list_documents(owner, now=later)] == [fresh.id]
    assert db.session.scalar(db.select(db.func.count(Document.id))) == 2  # rows stay: the history
