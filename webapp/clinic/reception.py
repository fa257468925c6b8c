"""The reception's console: a doctor's day or week at a branch, booking from a free cell (an existing
patient found by IIN, phone or name, or one registered on the spot), an appointment's page with its
state-machine steps, and a patient's card.

Every read goes through ``webapp.clinic.access`` and every change through the clinic's services
(``booking``, ``patients``): an organization's admin works on all its doctors, a doctor only on their
own schedule, and another organization's rows are not found. The services' refusals (a taken time,
a step the appointment's status does not allow) reach the reader as translated flash messages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from babel.dates import format_date
from flask import abort, flash, jsonify, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user

from webapp.admin.base import SecureView, date_arg, int_arg
from webapp.clinic import access
from webapp.clinic.agenda import build_agenda, patient_json, search_patients
from webapp.clinic.models import Appointment, Branch, Doctor, Document, Invoice, Patient, Service
from webapp.clinic.services import booking, clock, documents
from webapp.clinic.services.common import catalog, zone
from webapp.clinic.services.directory import doctor_offers
from webapp.clinic.services.iin import validate_iin
from webapp.clinic.services.patients import PatientData, age_on, register_walk_in
from webapp.core.i18n import current_language, format_money
from webapp.core.roles import Role
from webapp.core.services import ServiceError
from webapp.extensions import db

_l = catalog.lazy_gettext
WEEK = 7
LANGUAGES = (("ru", "Русский"), ("kk", "Қазақша"), ("uz", "Oʻzbekcha"), ("en", "English"))

STEPS = {
    "confirm": booking.confirm_appointment,
    "arrived": booking.mark_arrived,
    "completed": booking.complete_appointment,
    "no_show": booking.mark_no_show,
    "cancel": booking.cancel_appointment,
}
VERBS = (*STEPS, "reschedule")
# The buttons an appointment's page offers in each status (the service still decides; a step that
# also depends on the time, like a no-show before the start, is refused there in words).
OFFERED = {
    "booked": ("confirm", "arrived", "completed", "no_show", "reschedule", "cancel"),
    "confirmed": ("arrived", "completed", "no_show", "reschedule", "cancel"),
    "arrived": ("completed",),
}
STEP_NAMES = {
    "confirm": _l("Confirm"),
    "arrived": _l("Patient arrived"),
    "completed": _l("Visit completed"),
    "no_show": _l("No-show"),
}
# What each step needs, said to the reader when the service refuses it.
STEP_RULES = {
    "confirm": _l("Only a booked appointment can be confirmed, and only before it starts."),
    "arrived": _l("Only a booked or confirmed appointment can be marked arrived."),
    "completed": _l("Only a booked, confirmed or arrived appointment can be completed, and only after it starts."),
    "no_show": _l("Only a booked or confirmed appointment can be marked a no-show, and only after it starts."),
    "cancel": _l("Only a booked or confirmed appointment can be cancelled, and only before it starts."),
    "reschedule": _l("Only a booked or confirmed appointment can be rescheduled, and only before it starts."),
}
STEP_DONE = {
    "confirm": _l("The appointment is confirmed."),
    "arrived": _l("The patient's arrival is marked."),
    "completed": _l("The visit is completed."),
    "no_show": _l("The appointment is marked a no-show."),
    "cancel": _l("The appointment is cancelled."),
    "reschedule": _l("The appointment is moved."),
}
REFUSALS = {
    "SLOT_TAKEN": _l("This time is already taken. Choose another free time."),
    "SLOT_IN_PAST": _l("This time has already passed."),
    "NOT_A_SLOT": _l("The doctor does not receive at this time."),
    "PATIENT_BUSY": _l("The patient already has an appointment at this time."),
    "NOT_OFFERED": _l("This service is not available with this doctor at this branch."),
    "BEYOND_HORIZON": _l("This date is too far ahead to book."),
    "IIN_TAKEN": _l("This IIN is already registered: find the patient by it."),
    "CONFLICT": _l("This patient or IIN is already registered."),
    "CONSENT_REQUIRED": _l("The patient's consent to personal data processing is required."),
    "NOT_FOUND": _l("Not found: it may belong to another clinic or no longer exist."),
}
FIELD_ERRORS = {
    "first_name": _l("Enter the first name in letters."),
    "last_name": _l("Enter the last name in letters."),
    "middle_name": _l("Enter the patronymic in letters, or leave it empty."),
    "phone": _l("Enter a valid phone number."),
    "language": _l("Choose the patient's language."),
}


def refusal(exc: ServiceError, verb: str | None = None) -> str:
    """A service's refusal in the reader's language."""
    if verb and exc.code in ("INVALID_TRANSITION", "CANNOT_RESCHEDULE"):
        return str(STEP_RULES[verb])
    if exc.code == "INVALID_IIN":  # the IIN check's reasons are messages of the clinic's catalog
        return catalog.gettext(exc.message)
    if exc.code in REFUSALS:
        return str(REFUSALS[exc.code])
    if exc.field in FIELD_ERRORS:
        return str(FIELD_ERRORS[exc.field])
    return catalog.gettext("The request could not be carried out. Check the data and try again.")


def parse_start(value: str | None) -> datetime | None:
    """A slot's start as the calendar sends it (ISO 8601 with its offset), in UTC; None when malformed."""
    try:
        parsed = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    if parsed.tzinfo is None or not 1900 < parsed.year < 2100:
        return None
    return parsed.astimezone(UTC)


def _reachable(model, key):
    """The row of ``model`` the signed-in account reaches, or None."""
    try:
        key = int(key)
    except (TypeError, ValueError):
        return None
    row = db.session.get(model, key) if 0 < key < 2**31 else None
    return row if access.can_read(current_user, row) else None


def _reachable_or_404(model, key):
    row = _reachable(model, key)
    if row is None:
        abort(404)
    return row


def local_time(value: datetime | None, timezone: str | None, until: datetime | None = None) -> str:
    """A stored time (or a span up to ``until``) in the clinic's zone, the zone named."""
    if value is None:
        return ""
    local = value.astimezone(zone(timezone))
    end = f"–{until.astimezone(local.tzinfo):%H:%M}" if until is not None else ""
    return f"{local:%d.%m.%Y %H:%M}{end} ({local.tzinfo.key}, {local:%Z})"


class ReceptionView(SecureView):
    """Admins (reception) and doctors; what each reaches is ``access``'s answer."""

    required_roles = (Role.DOCTOR,)  # doctors, and (by rank) admins and superusers

    def page(self, template: str, **context):
        return self.render(template, t=catalog.gettext, local_time=local_time, **context)

    # --- the calendar ------------------------------------------------------------------------------

    @expose("/")
    def index(self):
        moving = _reachable(Appointment, request.args.get("move")) if request.args.get("move") else None
        doctors = list(
            db.session.scalars(
                access.scope(sa.select(Doctor), current_user)
                .where(Doctor.is_active.is_(True))
                .order_by(Doctor.full_name)
            )
        )
        wanted = moving.doctor_id if moving else int_arg("doctor_id")
        doctor = next((d for d in doctors if d.id == wanted), doctors[0] if doctors else None)
        if doctor is None:
            return self.page("clinic/calendar.html", doctor=None, doctors=[], title=catalog.gettext("Day schedule"))
        branches = [b for b in doctor.branches if b.is_active]
        wanted_branch = moving.branch_id if moving else int_arg("branch_id")
        branch = next((b for b in branches if b.id == wanted_branch), branches[0] if branches else None)
        week = request.args.get("view") == "week"
        tz = zone(doctor.clinic.timezone)
        now = clock.now()
        day = date_arg("day") or (moving.starts_at.astimezone(tz).date() if moving else now.astimezone(tz).date())
        first = day - timedelta(days=day.weekday()) if week else day
        length = WEEK if week else 1
        agenda = build_agenda(current_user, doctor, branch.id if branch else None, first, length, now)
        step = timedelta(days=length)
        return self.page(
            "clinic/calendar.html",
            title=catalog.gettext("Week schedule") if week else catalog.gettext("Day schedule"),
            doctors=doctors,
            doctor=doctor,
            branches=branches,
            branch=branch,
            week=week,
            day=day,
            previous=first - step,
            following=first + step,
            agenda=agenda,
            moving=moving,
            headings={d.day: format_date(d.day, "EEE, d MMM", locale=current_language()) for d in agenda.days},
            can_register=access.can_register_patients(current_user),
        )

    # --- booking -----------------------------------------------------------------------------------

    @expose("/patients")
    def patients(self):
        """The booking form's search: the account's own patients by IIN, phone or name, as JSON."""
        found = search_patients(current_user, request.args.get("q"))
        return jsonify({"patients": [patient_json(p) for p in found]})

    @expose("/book", methods=("GET", "POST"))
    def book(self):
        form = request.values
        doctor = _reachable(Doctor, form.get("doctor_id"))
        branch = _reachable(Branch, form.get("branch_id"))
        starts_at = parse_start(form.get("starts_at"))
        if doctor is None or branch is None or starts_at is None:
            # A form without its time (a stale bookmark, a doctor of another clinic) points back.
            return self.page("clinic/book.html", doctor=None)
        if request.method == "POST":
            try:
                appointment = self._book(doctor, branch, starts_at, request.form)
            except ServiceError as exc:
                db.session.rollback()
                flash(refusal(exc), "error")
            else:
                flash(catalog.gettext("The appointment is booked."), "success")
                return redirect(url_for(".appointment", appointment_id=appointment.id))
        services = [s for s in doctor.services if doctor_offers(doctor, s, branch) is None]
        chosen = _reachable(Patient, form.get("patient_id")) if form.get("patient_id") else None
        return self.page(
            "clinic/book.html",
            doctor=doctor,
            branch=branch,
            starts_at=starts_at,
            local_day=starts_at.astimezone(zone(doctor.clinic.timezone)).date(),
            services=services,
            chosen=chosen,
            entered=form.to_dict(),
            languages=LANGUAGES,
            can_register=access.can_register_patients(current_user),
        )

    def _book(self, doctor: Doctor, branch: Branch, starts_at: datetime, form) -> Appointment:
        service = _reachable(Service, form.get("service_id"))
        if service is None:
            raise ServiceError("Service not found", 422, "NOT_OFFERED", "service_id")
        patient = self._patient(form) if form.get("patient_id") else self._new_patient(form, doctor)
        if not access.can_book(current_user, patient, doctor):
            raise access.not_found("Patient")
        return booking.book_appointment(
            patient, doctor, service, branch, starts_at, notes=form.get("notes"), source="console"
        )

    @staticmethod
    def _patient(form) -> Patient:
        patient = _reachable(Patient, form.get("patient_id"))
        if patient is None:
            raise access.not_found("Patient")
        return patient

    @staticmethod
    def _new_patient(form, doctor: Doctor) -> Patient:
        """A walk-in registered with the clinic of the doctor they are booked with."""
        if not access.can_register_patients(current_user):
            raise access.not_found("Patient")
        check = validate_iin(form.get("iin"), today=clock.now().date())
        if not check.valid:
            raise ServiceError(check.reason, 422, "INVALID_IIN", "iin")
        data = PatientData(
            first_name=form.get("first_name", ""),
            last_name=form.get("last_name", ""),
            middle_name=form.get("middle_name"),
            phone=form.get("phone", ""),
            birth_date=check.birth_date,
            sex=check.sex,
            iin=check.iin,
            language=form.get("language", "ru"),
            consents={"personal_data": form.get("consent") == "yes"},
        )
        return register_walk_in(data, organization_id=doctor.clinic.organization_id, source="console")

    # --- an appointment ----------------------------------------------------------------------------

    @expose("/appointment/<int:appointment_id>")
    def appointment(self, appointment_id: int):
        appointment = _reachable_or_404(Appointment, appointment_id)
        clinic = appointment.branch.clinic
        return self.page(
            "clinic/appointment.html",
            appointment=appointment,
            price=format_money(appointment.price, clinic.currency, current_language()),
            offered=OFFERED.get(appointment.status, ()),
            step_names=STEP_NAMES,
            calendar_day=appointment.starts_at.astimezone(zone(clinic.timezone)).date(),
        )

    @expose(f"/appointment/<int:appointment_id>/<any({', '.join(VERBS)}):verb>", methods=("POST",))
    def act(self, appointment_id: int, verb: str):
        appointment = _reachable_or_404(Appointment, appointment_id)
        if not access.can_change(current_user, appointment):
            abort(404)
        try:
            if verb == "reschedule":
                starts_at = parse_start(request.form.get("starts_at"))
                if starts_at is None:
                    raise ServiceError("Choose a free time", 422, "NOT_A_SLOT", "time")
                booking.reschedule_appointment(appointment, starts_at, source="console")
            else:
                STEPS[verb](appointment, source="console")
        except ServiceError as exc:
            db.session.rollback()
            flash(refusal(exc, verb), "error")
        else:
            flash(str(STEP_DONE[verb]), "success")
        return redirect(url_for(".appointment", appointment_id=appointment_id))

    # --- a patient's card --------------------------------------------------------------------------

    @expose("/patient/<int:patient_id>")
    def patient(self, patient_id: int):
        patient = _reachable_or_404(Patient, patient_id)

        def rows(model, order):
            query = sa.select(model).where(model.patient_id == patient.id).order_by(order.desc())
            return list(db.session.scalars(access.scope(query, current_user, model)))

        visits = rows(Appointment, Appointment.starts_at)
        now = clock.now()
        papers = [(doc, self._download(doc, now)) for doc in rows(Document, Document.generated_at)]
        payments = rows(Invoice, Invoice.created_at)
        language = current_language()
        return self.page(
            "clinic/patient.html",
            patient=patient,
            visits=visits,
            papers=papers,
            payments=[(p, format_money(p.amount, p.currency, language)) for p in payments],
            timezone=visits[0].branch.clinic.timezone if visits else None,
            age=age_on(patient.birth_date, now.date()),
        )

    @staticmethod
    def _download(document: Document, now: datetime) -> str | None:
        """The document's signed download link (the bot's own), or None once it has expired."""
        try:
            return documents.download_path(documents.download_token(document, now))
        except ServiceError:
            return None
