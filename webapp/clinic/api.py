"""Seed 002's bot API (``/api/bot/...``): thin views — parse, call the clinic services, serialize.

The clinic's bot authenticates with ``Authorization: Bearer <TELEGRAM_BOT_API_SECRET>`` and acts
for every patient; staff (doctor and above) may call the same endpoints with a JWT, within what
``webapp.clinic.access`` lets them reach — a doctor, their own schedule and their own patients.
A patient belongs to one clinic organization: a request finds (or registers) the patient of the
organization it speaks for — that of the appointment or doctor it names, else of the clinic it names
(``clinic_id``, seed 002's ``organization_id``), else the staff caller's own, else the default clinic's.
Anything out of reach answers 404. The payment provider's callback is open but HMAC-verified; a document download link
is open but signed and expires after 48 hours. The broadcast endpoints belong to the broadcasts
vertical.

A refused rule (``ServiceError``) is answered by the app's one handler, which rolls the request back;
a view that writes flushes before it serialises, and the request commits once, at its end
(``webapp.core.unit_of_work``).
"""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

from webapp.clinic import access, schemas
from webapp.clinic.models import Appointment, Branch, Clinic, Doctor, Document, Invoice, Patient, Service
from webapp.clinic.services import booking, clock, documents, payments, support
from webapp.clinic.services.common import default_clinic, get_or_404, t
from webapp.clinic.services.directory import list_branches, list_doctors, list_services
from webapp.clinic.services.iin import validate_iin
from webapp.clinic.services.patients import (
    PatientData,
    patient_by_telegram,
    require_patient,
    upsert_patient,
    user_for_telegram,
)
from webapp.clinic.services.render import local_time
from webapp.clinic.services.slots import day_slots, local_start
from webapp.core.apispec import serves_bytes, spec
from webapp.core.db import iso
from webapp.core.errors import ApiError
from webapp.core.permissions import SERVICE_SHARED_SECRET, public, require_role
from webapp.core.roles import Role
from webapp.core.schemas import SEED_ERRORS, ErrorBody, responses
from webapp.core.services import ServiceError
from webapp.core.tenancy import organization_id_of
from webapp.extensions import db

bp = Blueprint("clinic_api", __name__)
SECURITY = [{"service_secret": []}, {"jwt": []}]
TAGS = ["clinic"]


def staff_or_bot(view):
    """The clinic bot (shared secret) or a JWT user of role doctor or above."""
    return require_role(Role.DOCTOR, service=SERVICE_SHARED_SECRET)(view)


def actor() -> access.Actor:
    """The caller: the clinic bot's service token acts as the system, a JWT caller as themselves."""
    return g.user if g.get("user") is not None else access.SYSTEM


def speaks_for(clinic_id: int | None = None, appointment: Appointment | None = None) -> int:
    """The organization whose patient the request means (see the module's docstring); a named clinic
    the caller does not reach is ServiceError 404."""
    if appointment is not None:
        return appointment.doctor.clinic.organization_id
    if clinic_id is not None:
        return reachable(Clinic, clinic_id, "Clinic", "clinic_id").organization_id
    own = organization_id_of(actor())
    return own if own is not None else default_clinic().organization_id


def reachable_patient(telegram_user_id: int, organization_id: int) -> Patient:
    """The organization's active patient of a Telegram id, if the caller reaches them; else ServiceError 404."""
    patient = require_patient(telegram_user_id, organization_id)
    access.require(access.can_read(actor(), patient), "Patient", "telegram_user_id")
    return patient


def visible_patient(telegram_user_id: int, clinic_id: int | None) -> Patient | None:
    """The patient a listing is about, None when unknown or out of the caller's reach (an empty list)."""
    try:
        patient = patient_by_telegram(telegram_user_id, speaks_for(clinic_id))
    except ServiceError:
        return None
    return patient if patient is not None and access.can_read(actor(), patient) else None


def narrow(query):
    """A directory listing narrowed to what the caller reaches (the bot: every clinic)."""
    return access.scope(query, actor())


def reachable(model, key, what: str, field: str):
    """The row, if the caller reaches it; else ServiceError 404."""
    row = get_or_404(model, key, what, field)
    access.require(access.can_read(actor(), row), what, field)
    return row


def reachable_appointment(appointment_id: int | None) -> Appointment | None:
    if appointment_id is None:
        return None
    appointment = db.session.get(Appointment, appointment_id)
    access.require(access.can_read(actor(), appointment), "Appointment", "appointment_id")
    return appointment


def _money(value) -> str:
    return f"{value:.2f}"


# --- serialisers -----------------------------------------------------------------------------------


def patient_link_json(patient: Patient, telegram_user_id: int) -> dict:
    """Seed 002's PatientTelegramLink, with the patient fields the bot shows in its profile."""
    user = patient.user
    account = (
        next((a for a in user.telegram_accounts if a.telegram_user_id == telegram_user_id), None) if user else None
    )
    return {
        "id": str(account.id) if account else None,
        "patient": patient.id,
        "telegram_user_id": telegram_user_id,
        "telegram_username": account.username if account else None,
        "language": patient.language,
        "consents_json": patient.consents,
        "is_active": patient.is_active,
        "last_interaction_at": iso(account.last_seen) if account else None,
        "created_at": iso(patient.created_at),
        "patient_full_name": patient.full_name,
        "patient_phone": patient.phone,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "middle_name": patient.middle_name,
        "birth_date": patient.birth_date.isoformat(),
        "sex": patient.sex,
        "iin": patient.iin,
        "osms_status": patient.osms_status,
        "tags": patient.tags,
    }


def branch_json(branch: Branch) -> dict:
    return {"id": branch.id, "name": branch.name, "address": branch.address, "phone": branch.phone}


def service_json(service: Service) -> dict:
    return {
        "id": service.id,
        "name": service.name,
        "name_kk": service.name_kk,
        "price": _money(service.price),
        "duration_minutes": service.duration_minutes,
        "prepayment_amount": _money(service.prepayment_amount),
    }


def doctor_json(doctor: Doctor) -> dict:
    return {"id": doctor.id, "full_name": doctor.full_name, "specialty": doctor.specialty, "photo": doctor.photo_url}


def appointment_json(appointment: Appointment) -> dict:
    """Seed 002's AppointmentSerializer (local date and times of the clinic) plus UTC instants."""
    start = local_time(appointment)
    end = appointment.ends_at.astimezone(start.tzinfo)
    return {
        "id": appointment.id,
        "date": start.date().isoformat(),
        "time_from": f"{start:%H:%M:%S}",
        "time_to": f"{end:%H:%M:%S}",
        "doctor_name": appointment.doctor.full_name,
        "service_name": appointment.service.name,
        "branch_name": appointment.branch.name,
        "branch_address": appointment.branch.address,
        "status": appointment.status,
        "notes": appointment.notes or "",
        "created_at": iso(appointment.created_at),
        "employee_id": appointment.doctor_id,
        "service_id": appointment.service_id,
        "branch_id": appointment.branch_id,
        "starts_at": iso(appointment.starts_at),
        "ends_at": iso(appointment.ends_at),
        "timezone": appointment.timezone,
        "price": _money(appointment.price),
        "prepayment_status": appointment.prepayment_status,
    }


def document_json(document: Document, now) -> dict:
    return {
        "id": str(document.id),
        "patient": document.patient_id,
        "patient_name": document.patient.full_name,
        "document_type": document.doc_type,
        "title": document.title,
        "language": document.language,
        "file_path": document.file_path,
        "appointment_id": document.appointment_id,
        "expires_at": iso(document.expires_at),
        "is_expired": document.is_expired(now),
        "created_at": iso(document.generated_at),
    }


def invoice_json(invoice: Invoice) -> dict:
    return {
        "invoice_id": invoice.id,
        "number": invoice.number,
        "amount": float(invoice.amount),
        "currency": invoice.currency,
        "status": invoice.status,
        "payment_id": invoice.provider_reference,
        "provider": invoice.provider,
        "qr_code_url": None,  # the demo provider has no QR; the bot pays it in-process
        "appointment_id": invoice.appointment_id,
        "kind": invoice.kind,
        "paid_at": iso(invoice.paid_at),
        "created_at": iso(invoice.created_at),
    }


# --- patients --------------------------------------------------------------------------------------


@bp.post("/api/bot/patient/upsert/")
@staff_or_bot
@spec.validate(
    json=schemas.PatientUpsertIn,
    resp=responses(schemas.PatientUpsertOut, 201, SEED_ERRORS, HTTP_200=schemas.PatientUpsertOut),
    tags=TAGS,
    security=SECURITY,
)
def patient_upsert(json: schemas.PatientUpsertIn):
    """Create the patient of a Telegram user, or update them (201 created / 200 updated)."""
    data = PatientData(
        first_name=json.first_name,
        last_name=json.last_name,
        middle_name=json.middle_name,
        phone=json.phone,
        birth_date=json.birth_date,
        sex=json.sex,
        iin=json.iin,
        language=json.language,
        consents=json.consents,
        osms_status=json.osms_status,
    )

    def run():
        # Doctors neither register nor rewrite patients, and an admin registers and rewrites only its
        # organization's: 404, as if the account did not exist.
        access.require(access.can_register_patients(actor()), "Patient", "telegram_user_id")
        organization_id = speaks_for(json.named_clinic)
        existing = patient_by_telegram(json.telegram_user_id, organization_id)
        access.require(existing is None or access.can_claim(actor(), existing), "Patient", "telegram_user_id")
        data.cleaned()  # refuse bad input before any account is created for it
        user = user_for_telegram(json.telegram_user_id, json.telegram_username, json.language)
        return upsert_patient(
            user, data, organization_id=organization_id, source="api", telegram_user_id=json.telegram_user_id
        )

    patient, created = run()
    db.session.flush()
    body = {
        "patient_id": patient.id,
        "telegram_link_id": patient_link_json(patient, json.telegram_user_id)["id"],
        "created": created,
        "full_name": patient.full_name,
    }
    return jsonify(body), 201 if created else 200


@bp.post("/api/bot/patient/verify-iin/")
@staff_or_bot
@spec.validate(
    json=schemas.VerifyIinIn, resp=responses(schemas.IinVerdictOut, errors=SEED_ERRORS), tags=TAGS, security=SECURITY
)
def verify_iin(json: schemas.VerifyIinIn):
    """Check an IIN (and, when given, that it matches a birth date and sex); always 200 with the verdict."""
    result = validate_iin(json.iin, birth_date=json.birth_date, sex=json.sex)
    return jsonify(
        {
            "valid": result.valid,
            "iin": result.iin,
            "birth_date": result.birth_date.isoformat() if result.birth_date else None,
            "sex": result.sex,
            "error": t(json.language, result.reason) if result.reason else None,
            "code": result.code,
        }
    )


@bp.get("/api/bot/patient/by-telegram/<int:telegram_user_id>/")
@staff_or_bot
@spec.validate(
    query=schemas.ClinicQuery, resp=responses(schemas.PatientLinkOut, errors=SEED_ERRORS), tags=TAGS, security=SECURITY
)
def patient_by_telegram_id(telegram_user_id: int, query: schemas.ClinicQuery):
    """The patient linked to a Telegram user id (404 when not registered)."""
    patient = visible_patient(telegram_user_id, query.named_clinic)
    if patient is None:
        raise ApiError(404, "Patient not found", "NOT_FOUND")
    return jsonify(patient_link_json(patient, telegram_user_id))


# --- booking ---------------------------------------------------------------------------------------


@bp.get("/api/bot/branches/")
@staff_or_bot
@spec.validate(
    query=schemas.BranchesQuery, resp=responses(schemas.BranchList, errors=SEED_ERRORS), tags=TAGS, security=SECURITY
)
def branches(query: schemas.BranchesQuery):
    """Active branches (of one clinic with ``organization_id``/``clinic_id``)."""
    return jsonify([branch_json(b) for b in list_branches(query.clinic_id or query.organization_id, narrow)])


@bp.get("/api/bot/services/")
@staff_or_bot
@spec.validate(
    query=schemas.ServicesQuery, resp=responses(schemas.ServiceList, errors=SEED_ERRORS), tags=TAGS, security=SECURITY
)
def services(query: schemas.ServicesQuery):
    """Active services, those of one branch with ``branch_id``."""
    return jsonify([service_json(s) for s in list_services(query.branch_id, narrow)])


@bp.get("/api/bot/doctors/")
@staff_or_bot
@spec.validate(
    query=schemas.DoctorsQuery, resp=responses(schemas.DoctorList, errors=SEED_ERRORS), tags=TAGS, security=SECURITY
)
def doctors(query: schemas.DoctorsQuery):
    """Doctors providing ``service_id`` (at ``branch_id``), working on ``date`` when given."""
    return jsonify([doctor_json(d) for d in list_doctors(query.service_id, query.branch_id, query.date, narrow)])


@bp.get("/api/bot/slots/")
@staff_or_bot
@spec.validate(
    query=schemas.SlotsQuery, resp=responses(schemas.SlotsOut, errors=SEED_ERRORS), tags=TAGS, security=SECURITY
)
def slots(query: schemas.SlotsQuery):
    """Every grid time of the doctor's local day with whether it is free (for ``service_id``'s duration)."""
    doctor = reachable(Doctor, query.doctor_id, "Doctor", "doctor_id")
    service = reachable(Service, query.service_id, "Service", "service_id") if query.service_id else None
    found = day_slots(doctor, query.date, service=service, branch_id=query.branch_id)
    return jsonify(
        {
            "date": query.date.isoformat(),
            "timezone": doctor.clinic.timezone,
            "slots": [
                {
                    "time": f"{s.local_start:%H:%M}",
                    "available": s.available,
                    "starts_at": iso(s.starts_at),
                    "branch_id": s.branch_id,
                }
                for s in found
            ],
        }
    )


def _owned(appointment_id: int, telegram_user_id: int | None) -> Appointment:
    """The appointment, if the caller may change it: the bot (for the given patient) or its doctor/staff."""
    appointment = db.session.get(Appointment, appointment_id)
    if appointment is None:
        raise ApiError(404, "Appointment not found", "NOT_FOUND")
    if telegram_user_id is not None:
        patient = patient_by_telegram(telegram_user_id, appointment.patient.organization_id)
        if patient is None or patient.id != appointment.patient_id:
            raise ApiError(404, "Appointment not found", "NOT_FOUND")
    if not access.can_change(actor(), appointment):
        raise ApiError(404, "Appointment not found", "NOT_FOUND")
    return appointment


@bp.post("/api/bot/appointments/")
@staff_or_bot
@spec.validate(
    json=schemas.AppointmentIn, resp=responses(schemas.AppointmentOut, 201, SEED_ERRORS), tags=TAGS, security=SECURITY
)
def create_appointment(json: schemas.AppointmentIn):
    """Book a slot for the patient of ``telegram_user_id`` (409 when taken or not a slot)."""

    def run():
        doctor = get_or_404(Doctor, json.doctor, "Doctor", "employee_id")
        access.require(access.can_read(actor(), doctor), "Doctor", "employee_id")
        patient = require_patient(json.telegram_user_id, doctor.clinic.organization_id)
        access.require(access.can_book(actor(), patient, doctor), "Patient", "telegram_user_id")
        service = reachable(Service, json.service_id, "Service", "service_id")
        branch = reachable(Branch, json.branch_id, "Branch", "branch_id")
        starts_at = local_start(doctor, json.date, json.time)
        return booking.book_appointment(
            patient,
            doctor,
            service,
            branch,
            starts_at,
            notes=json.notes,
            source="api",
            telegram_user_id=json.telegram_user_id,
        )

    appointment = run()
    db.session.flush()
    return jsonify(appointment_json(appointment)), 201


@bp.get("/api/bot/appointments/my/")
@staff_or_bot
@spec.validate(
    query=schemas.TelegramUserQuery,
    resp=responses(schemas.AppointmentList, errors=SEED_ERRORS),
    tags=TAGS,
    security=SECURITY,
)
def my_appointments(query: schemas.TelegramUserQuery):
    """The patient's appointments from 30 days ago on, newest first (empty for an unknown user)."""
    patient = visible_patient(query.telegram_user_id, query.named_clinic)
    if patient is None:
        return jsonify([])
    found = booking.patient_appointments(patient)
    return jsonify([appointment_json(a) for a in found if access.can_read(actor(), a)])


@bp.patch("/api/bot/appointments/<int:appointment_id>/")
@staff_or_bot
@spec.validate(
    json=schemas.AppointmentPatchIn,
    resp=responses(schemas.AppointmentOut, errors=SEED_ERRORS),
    tags=TAGS,
    security=SECURITY,
)
def reschedule(appointment_id: int, json: schemas.AppointmentPatchIn):
    """Move the appointment to another free slot of its doctor (local ``date`` and ``time``)."""
    appointment = _owned(appointment_id, json.telegram_user_id)
    starts_at = local_start(appointment.doctor, json.date, json.time)
    booking.reschedule_appointment(appointment, starts_at, source="api", telegram_user_id=json.telegram_user_id)
    db.session.flush()
    return jsonify(appointment_json(appointment))


@bp.post("/api/bot/appointments/<int:appointment_id>/cancel/")
@staff_or_bot
@spec.validate(
    json=schemas.CancelIn, resp=responses(schemas.AppointmentOut, errors=SEED_ERRORS), tags=TAGS, security=SECURITY
)
def cancel(appointment_id: int, json: schemas.CancelIn):
    """Cancel before the start (409 afterwards or when already cancelled); the body is optional."""
    appointment = _owned(appointment_id, json.telegram_user_id)
    booking.cancel_appointment(
        appointment,
        reason=json.reason,
        source="api",
        telegram_user_id=json.telegram_user_id,
    )
    db.session.flush()
    return jsonify(appointment_json(appointment))


# --- documents -------------------------------------------------------------------------------------


@bp.get("/api/bot/documents/")
@staff_or_bot
@spec.validate(
    query=schemas.DocumentsQuery, resp=responses(schemas.DocumentList, errors=SEED_ERRORS), tags=TAGS, security=SECURITY
)
def document_list(query: schemas.DocumentsQuery):
    """The patient's documents whose link is still valid (empty for an unknown user)."""
    patient = visible_patient(query.telegram_user_id, query.named_clinic)
    if patient is None:
        return jsonify([])
    now = clock.now()
    found = documents.list_documents(patient, query.type, now)
    return jsonify([document_json(d, now) for d in found if access.can_read(actor(), d)])


@bp.post("/api/bot/documents/generate/")
@staff_or_bot
@spec.validate(
    json=schemas.DocumentGenerateIn, resp=responses(schemas.DocumentOut, 201, SEED_ERRORS), tags=TAGS, security=SECURITY
)
def document_generate(json: schemas.DocumentGenerateIn):
    """Generate a PDF (ticket or visit certificate of an appointment, or the yearly tax certificate)."""

    def run():
        appointment = reachable_appointment(json.appointment_id)
        patient = reachable_patient(json.telegram_user_id, speaks_for(json.named_clinic, appointment))
        return documents.generate_document(
            patient, json.document_type, language=json.language, appointment_id=json.appointment_id, year=json.year
        )

    document = run()
    db.session.flush()
    return jsonify(document_json(document, document.generated_at)), 201


@bp.get("/api/bot/documents/<uuid:document_id>/download/")
@staff_or_bot
@spec.validate(
    resp=responses(schemas.DownloadLinkOut, errors=SEED_ERRORS, HTTP_410=ErrorBody), tags=TAGS, security=SECURITY
)
def document_download(document_id):
    """A signed download link, valid until the document expires (48 h after generation); 410 afterwards."""
    document = db.session.get(Document, document_id)
    if document is None or not access.can_read(actor(), document):
        raise ApiError(404, "Document not found", "NOT_FOUND")
    url = documents.download_url(document)
    return jsonify({"download_url": url, "expires_at": iso(document.expires_at), "filename": document.filename})


@bp.get("/api/bot/documents/download/<token>/")
@public
@spec.validate(resp=responses((None, "the PDF"), errors={404: ErrorBody, 410: ErrorBody}), tags=TAGS)
@serves_bytes("application/pdf")
def document_file(token: str):
    """The PDF behind a signed link (open: the signature is the credential)."""
    document = documents.resolve_download(token)
    content = documents.read_content(document)
    return Response(
        content,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{document.filename}"',
            "Cache-Control": "private, no-store",
        },
    )


# --- payments --------------------------------------------------------------------------------------


@bp.post("/api/bot/payments/invoice/")
@staff_or_bot
@spec.validate(
    json=schemas.InvoiceIn, resp=responses(schemas.InvoiceOut, 201, SEED_ERRORS), tags=TAGS, security=SECURITY
)
def invoice_create(json: schemas.InvoiceIn):
    """Create an invoice with the demo provider (status pending)."""

    def run():
        named = reachable_appointment(json.appointment_id)
        patient = reachable_patient(json.telegram_user_id, speaks_for(json.named_clinic, named))
        appointment = None
        if named is not None:
            appointment = booking.get_patient_appointment(patient, named.id)
        return payments.create_invoice(
            patient, json.amount, description=json.description, appointment=appointment, source="api"
        )

    invoice = run()
    db.session.flush()
    return jsonify(invoice_json(invoice)), 201


@bp.get("/api/bot/payments/<int:invoice_id>/status/")
@staff_or_bot
@spec.validate(resp=responses(schemas.InvoiceOut, errors=SEED_ERRORS), tags=TAGS, security=SECURITY)
def invoice_status(invoice_id: int):
    """The invoice's payment status."""
    invoice = payments.get_invoice(invoice_id)
    if not access.can_read(actor(), invoice):
        raise ApiError(404, "Invoice not found", "NOT_FOUND")
    return jsonify(invoice_json(invoice))


@bp.post("/api/bot/payments/callback/")
@public
@spec.validate(
    resp=responses(schemas.PaymentCallbackOut, errors={400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 422: ErrorBody}),
    tags=TAGS,
)
def payment_callback():
    """The provider's report, ``{"payment_id", "status", "amount"}`` signed with HMAC-SHA256 of the raw
    body (hex, ``X-Signature``). Repeats are accepted and change nothing."""
    result = payments.handle_callback(request.get_data(), request.headers.get(payments.SIGNATURE_HEADER))
    db.session.flush()
    return jsonify({"status": "ok", "changed": result.changed, "invoice_id": result.invoice.id})


@bp.get("/api/bot/payments/balance/")
@staff_or_bot
@spec.validate(
    query=schemas.TelegramUserQuery,
    resp=responses(schemas.PatientBalanceOut, errors=SEED_ERRORS),
    tags=TAGS,
    security=SECURITY,
)
def balance(query: schemas.TelegramUserQuery):
    """Payments received minus completed visits (negative: the patient owes)."""
    patient = reachable_patient(query.telegram_user_id, speaks_for(query.named_clinic))
    figures = payments.patient_balance(patient)
    return jsonify({"currency": "KZT", **{key: float(value) for key, value in figures.items()}})


# --- feedback and support --------------------------------------------------------------------------


@bp.post("/api/bot/feedback/")
@staff_or_bot
@spec.validate(
    json=schemas.FeedbackIn, resp=responses(schemas.FeedbackOut, 201, SEED_ERRORS), tags=TAGS, security=SECURITY
)
def feedback(json: schemas.FeedbackIn):
    """Record an NPS score (0–10) for a visit that took place; one per visit."""

    def run():
        appointment = reachable_appointment(json.appointment_id)
        patient = reachable_patient(json.telegram_user_id, speaks_for(appointment=appointment))
        return support.record_feedback(
            patient, json.appointment_id, json.score, json.comment, source="api", telegram_user_id=json.telegram_user_id
        )

    row = run()
    db.session.flush()
    return jsonify({"id": str(row.id), "score": row.score, "is_low_score": row.is_low_score}), 201


@bp.post("/api/bot/support/ticket/")
@staff_or_bot
@spec.validate(
    json=schemas.SupportTicketIn,
    resp=responses(schemas.SupportTicketOut, 201, SEED_ERRORS),
    tags=TAGS,
    security=SECURITY,
)
def support_ticket(json: schemas.SupportTicketIn):
    """Open a support ticket for the patient of ``telegram_user_id``."""

    def run():
        patient = reachable_patient(json.telegram_user_id, speaks_for(json.named_clinic))
        return support.create_ticket(
            patient, json.subject, json.message, telegram_user_id=json.telegram_user_id, source="api"
        )

    ticket = run()
    db.session.flush()
    return jsonify({"ticket_id": str(ticket.id), "subject": ticket.subject, "status": ticket.status}), 201


@bp.get("/api/bot/support/faq/")
@staff_or_bot
@spec.validate(query=schemas.FaqQuery, resp=responses(schemas.FaqOut, errors=SEED_ERRORS), tags=TAGS, security=SECURITY)
def faq(query: schemas.FaqQuery):
    """The FAQ of the clinic the request speaks for (``clinic_id``, else the caller's organization,
    else the default clinic's): its own entries, then the platform's; in ru, kk, uz or en (Russian
    where that language's text is not written)."""
    items = []
    for row in support.list_faq(speaks_for(query.named_clinic)):
        question, answer = row.localized(query.language)
        items.append({"id": row.id, "question": question, "answer": answer})
    return jsonify({"faqs": items})
