"""The clinic console: settings, branches, services, doctors with their weekly schedules, patients,
appointments (the list; the reception's calendar is ``webapp.clinic.reception``), payments,
documents, feedback, FAQ, support tickets, and a dashboard (appointments per day, no-show rate, NPS)
drawn as inline SVG.

An organization's admin manages its own clinics and everything in them; superusers manage every
clinic. Every view's list, counts, details, edit, delete, actions and export ask
``webapp.clinic.access`` (the rules the API obeys too), so another organization's rows are simply
not there, and the choices of every form's related field (clinic, branches, services, the doctor's
console account, the bot) are the organization's own. A doctor sees only their own appointments —
in the list, the counts, the details page and the calendar — and moves them through the state
machine with the list actions or the calendar's appointment page; nobody edits an appointment's
time in the list (booking rules live in the services). The FAQ: an organization's admin manages
their organization's own entries (the platform's general entries, which their bots show after
them, are not listed to them); a superuser manages every entry and chooses its organization, none
for the platform's. The directory (settings, branches, services, doctors with their week and days
off, FAQ) is written through ``webapp.clinic.services.setup``, which checks, confines and audits it.
"""

from __future__ import annotations

from datetime import timedelta

from flask import flash
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.model.form import InlineFormAdmin
from flask_login import current_user
from sqlalchemy.orm import joinedload
from wtforms import SelectField, StringField

from webapp.admin import words
from webapp.admin.base import ScopedModelView, SecureView, money_formatter
from webapp.admin.charts import bars
from webapp.admin.dashboard import add_card
from webapp.clinic import access
from webapp.clinic.models import (
    Appointment,
    Branch,
    Clinic,
    Doctor,
    DoctorDayOff,
    DoctorSchedule,
    Document,
    Faq,
    Feedback,
    Invoice,
    Patient,
    ReminderLog,
    Service,
    SupportTicket,
)
from webapp.clinic.reception import ReceptionView
from webapp.clinic.services import booking, clock, setup, stats, support
from webapp.clinic.services.common import catalog, default_clinic, zone
from webapp.clinic.services.patients import CARD_FIELDS, save_patient_card
from webapp.core.db import UTCDateTime
from webapp.core.models import Organization, User
from webapp.core.roles import Role
from webapp.core.services import ServiceError
from webapp.core.tenancy import organization_id_of, organization_rule, sees_every_organization
from webapp.extensions import db
from webapp.telegram.models import Bot

_l = catalog.lazy_gettext
ADMINS = (Role.ADMIN,)
STAFF = (Role.DOCTOR,)  # doctors, and (by rank) moderators, admins and superusers
WEEKDAY_CHOICES = [
    (0, _l("Monday")),
    (1, _l("Tuesday")),
    (2, _l("Wednesday")),
    (3, _l("Thursday")),
    (4, _l("Friday")),
    (5, _l("Saturday")),
    (6, _l("Sunday")),
]


def _local(view, context, model, name) -> str:
    """A stored time in the clinic's zone, named ("2026-12-07 11:30 +05"): reception reads visits
    in the clinic's own time, whatever the platform's zone."""
    value = getattr(model, name)
    if value is None:
        return ""
    timezone = model.timezone if isinstance(model, Appointment) else None
    local = value.astimezone(zone(timezone))
    return f"{local:%Y-%m-%d %H:%M} {local:%Z}"


def _local_times(model) -> dict:
    """``_local`` for every stored time of ``model``, so its details page shows all of them alike."""
    return {column.key: _local for column in model.__table__.columns if isinstance(column.type, UTCDateTime)}


_money = money_formatter("KZT")


def _reachable(model):
    """A form field's choices: the rows of ``model`` the signed-in account reaches."""
    return lambda: access.scope(db.session.query(model), current_user, model)


def _organization_rows(model, column):
    """Choices owned by an organization (``column``): the signed-in account's own (superusers: all)."""

    def factory():
        query = db.session.query(model)
        rule = organization_rule(current_user, column)
        return query if rule is None else query.filter(rule)

    return factory


def _staff_of(*roles: Role):
    """Console accounts of ``roles`` in the signed-in account's organization (superusers: every one)."""
    return lambda: access.organization_members(
        current_user, db.session.query(User).filter(User.role.in_([r.value for r in roles]))
    )


class ScopedView(ScopedModelView):
    """List, counts, details, edit, delete, actions and export: only what ``access`` lets the
    signed-in account reach (the console's one scoped base view)."""

    access = access

    def refusal_text(self, exc: ServiceError) -> str:
        return catalog.gettext(exc.message)


class DirectoryView(ScopedView):
    """A directory row (settings, branch, service, doctor, FAQ) written through ``services.setup``:
    the form is written onto the row as Flask-Admin does, then ``save`` checks it, confines it to
    the actor's organization, flushes and audits (a refusal undoes the form in the savepoint)."""

    required_roles = ADMINS

    def snapshot(self, model) -> dict:
        return setup.snapshot(model, self.audited_fields)

    def save(self, model, before: dict):
        raise NotImplementedError

    def create_record(self, form):
        model = self.build_new_instance()
        form.populate_obj(model)
        return self.save(model, {})

    def update_record(self, form, model) -> None:
        before = self.snapshot(model)
        form.populate_obj(model)
        self.save(model, before)


class ClinicAdminView(ScopedView):
    required_roles = ADMINS


class ClinicReadOnlyView(ClinicAdminView):
    can_create = can_edit = can_delete = False
    can_view_details = True


class OwnOrganizationForm:
    """A row an organization owns: a superuser chooses its organization in the form; an
    organization's admin is not asked — the row is their organization's, whatever the form posts."""

    def _without_organization(self, form):
        if not sees_every_organization(current_user):
            del form.organization
        return form

    def create_form(self, obj=None):
        return self._without_organization(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._without_organization(super().edit_form(obj))


def _organizations():
    return db.session.query(Organization).order_by(Organization.name)


class ClinicSettingsView(OwnOrganizationForm, DirectoryView):
    column_list = ("name", "organization", "timezone", "currency", "phone", "address", "bot")
    column_labels = {
        "name": _l("Name"),
        "timezone": _l("Time zone"),
        "bot": _l("Telegram bot"),
    }
    form_columns = ("organization", "name", "timezone", "currency", "phone", "address", "bot")
    form_args = {
        "organization": {"query_factory": _organizations},
        "bot": {"query_factory": _organization_rows(Bot, Bot.organization_id)},
    }
    can_delete = False
    audited_fields = setup.CLINIC_FIELDS

    def save(self, model, before):
        return setup.save_clinic_settings(current_user, model, before)


class BranchView(DirectoryView):
    column_list = ("name", "clinic", "address", "phone", "is_active")
    column_searchable_list = ("name", "address")
    column_filters = ("is_active", "clinic.name")
    column_labels = {"name": _l("Name"), "address": _l("Address"), "is_active": _l("Active")}
    form_columns = ("clinic", "name", "address", "phone", "is_active")
    form_args = {"clinic": {"query_factory": _reachable(Clinic)}}
    audited_fields = setup.BRANCH_FIELDS

    def save(self, model, before):
        return setup.save_branch(current_user, model, before)

    # Refused while visits or doctors' intervals use it: appointments keep their branch; deactivate instead.
    def delete_record(self, model) -> None:
        setup.delete_branch(current_user, model, now=clock.now())


class ServiceView(DirectoryView):
    column_list = ("name", "name_kk", "duration_minutes", "price", "prepayment_amount", "is_active")
    column_searchable_list = ("name", "name_kk")
    column_filters = ("is_active", "duration_minutes", "price")
    column_formatters = {"price": _money, "prepayment_amount": _money}
    column_labels = {
        "name": _l("Name"),
        "name_kk": _l("Name (Kazakh)"),
        "duration_minutes": _l("Duration, min"),
        "price": _l("Price"),
        "prepayment_amount": _l("Prepayment"),
        "is_active": _l("Active"),
    }
    form_columns = (
        "clinic",
        "name",
        "name_kk",
        "duration_minutes",
        "price",
        "prepayment_amount",
        "branches",
        "is_active",
    )
    form_args = {"clinic": {"query_factory": _reachable(Clinic)}, "branches": {"query_factory": _reachable(Branch)}}

    def get_query(self):
        # The money columns read the clinic's currency; the CSV export renders its rows as it streams,
        # after the request's session is gone, so the clinic comes with each row.
        return super().get_query().options(joinedload(Service.clinic))

    audited_fields = setup.SERVICE_FIELDS

    def save(self, model, before):
        return setup.save_service(current_user, model, before)

    def delete_record(self, model) -> None:
        setup.delete_service(current_user, model, now=clock.now())


class ScheduleInline(InlineFormAdmin):
    form_columns = ("id", "branch", "weekday", "start_time", "end_time", "break_start", "break_end")
    form_overrides = {"weekday": SelectField}
    form_args = {
        "weekday": {"choices": WEEKDAY_CHOICES, "coerce": int, "label": _l("Weekday")},
        "branch": {"query_factory": _reachable(Branch)},
    }
    # The week is checked as a whole (no overlaps) by ``setup.save_doctor``.


class DayOffInline(InlineFormAdmin):
    form_columns = ("id", "day", "reason")


class DoctorView(DirectoryView):
    column_list = ("full_name", "specialty", "user", "slot_step_minutes", "is_active")
    column_searchable_list = ("full_name", "specialty")
    column_filters = ("is_active", "specialty")
    column_labels = {
        "full_name": _l("Full name"),
        "specialty": _l("Specialty"),
        "user": _l("Console account"),
        "slot_step_minutes": _l("Slot step, min"),
        "is_active": _l("Active"),
    }
    form_columns = (
        "clinic",
        "full_name",
        "specialty",
        "photo_url",
        "user",
        "slot_step_minutes",
        "branches",
        "services",
        "is_active",
    )
    form_args = {
        "clinic": {"query_factory": _reachable(Clinic)},
        "branches": {"query_factory": _reachable(Branch)},
        "services": {"query_factory": _reachable(Service)},
        "user": {"query_factory": _staff_of(Role.DOCTOR)},
    }
    inline_models = (ScheduleInline(DoctorSchedule), DayOffInline(DoctorDayOff))

    def snapshot(self, model) -> dict:
        return setup.doctor_snapshot(model)

    def save(self, model, before):
        return setup.save_doctor(current_user, model, before, now=clock.now())

    def delete_record(self, model) -> None:
        setup.delete_doctor(current_user, model, now=clock.now())


class PatientView(ClinicAdminView):
    column_list = (
        "last_name",
        "first_name",
        "middle_name",
        "iin",
        "phone",
        "birth_date",
        "sex",
        "language",
        "osms_status",
        "tags",
        "created_at",
    )
    column_searchable_list = ("iin", "phone", "last_name", "first_name", "middle_name")
    column_filters = ("sex", "language", "osms_status", "birth_date", "created_at", "is_active", "tag_rows.tag")
    column_sortable_list = ("last_name", "birth_date", "created_at", "iin")
    column_default_sort = ("created_at", True)
    column_formatters = {"tags": lambda v, c, m, n: ", ".join(m.tags), "created_at": _local}
    column_formatters_export = {"tags": lambda v, c, m, n: ", ".join(m.tags)}
    column_export_list = (*column_list, "consent_marketing_at")
    column_labels = {
        "last_name": _l("Last name"),
        "first_name": _l("First name"),
        "middle_name": _l("Patronymic"),
        "iin": _l("IIN"),
        "phone": _l("Phone"),
        "birth_date": _l("Date of birth"),
        "sex": _l("Sex"),
        "osms_status": _l("OSMS"),
        "tags": _l("Tags"),
        "tag_rows.tag": _l("Tag"),
    }
    # What the card service writes, plus the tags (Flask-Admin builds only the listed columns).
    form_columns = (*CARD_FIELDS, "tag_list")
    form_overrides = {"sex": SelectField, "language": SelectField, "osms_status": SelectField}
    form_args = {
        "sex": {"choices": words.choices("clinic_sex")},
        "language": {"choices": [("ru", "Русский"), ("kk", "Қазақша")]},
        "osms_status": {"choices": words.choices("clinic_osms_status")},
    }
    form_extra_fields = {"tag_list": StringField(_l("Tags (comma-separated)"))}
    can_delete = False  # their appointments and payments stay attributable

    def on_form_prefill(self, form, id):
        form.tag_list.data = ", ".join(self.get_one(id).tags)

    # Entered and corrected through the patients service (cleaned, IIN checked, audited).
    def _card(self, form) -> dict:
        return {name: getattr(form, name).data for name in CARD_FIELDS if hasattr(form, name)}

    def _tags(self, form) -> list[str]:
        return (form.tag_list.data or "").split(",")

    def create_record(self, form):
        # A walk-in is the patient of the organization that enters them.
        organization_id = organization_id_of(current_user) or default_clinic().organization_id
        return save_patient_card(
            current_user, None, self._card(form), self._tags(form), organization_id=organization_id
        )

    def update_record(self, form, model) -> None:
        save_patient_card(
            current_user, model, self._card(form), self._tags(form), organization_id=model.organization_id
        )


class AppointmentView(ScopedView):
    """Admins and doctors; a doctor's list, counts and details hold only their own appointments."""

    required_roles = STAFF
    can_create = can_edit = can_delete = False
    can_view_details = True
    column_list = ("starts_at", "patient", "doctor", "service", "branch", "status", "prepayment_status", "price")
    column_filters = ("starts_at", "status", "doctor.full_name", "branch.name", "service.name", "prepayment_status")
    column_searchable_list = ("patient.last_name", "patient.first_name", "patient.iin", "patient.phone")
    column_sortable_list = ("starts_at", "status")
    column_default_sort = ("starts_at", True)
    column_formatters = {**_local_times(Appointment), "price": _money}
    column_formatters_export = {"starts_at": _local}
    column_labels = {
        "starts_at": _l("Starts"),
        "patient": _l("Patient"),
        "doctor": _l("Doctor"),
        "service": _l("Service"),
        "branch": _l("Branch"),
        "status": _l("Status"),
        "prepayment_status": _l("Prepayment"),
        "price": _l("Price"),
        "doctor.full_name": _l("Doctor"),
        "branch.name": _l("Branch"),
        "service.name": _l("Service"),
    }

    def _move(self, ids, transition) -> int:
        moved = 0
        rows = self.get_query().filter(Appointment.id.in_([int(i) for i in ids])).all()
        for row in rows:
            try:
                with db.session.begin_nested():  # a refused row undoes only itself
                    transition(row, source="console")
                moved += 1
            except ServiceError as exc:
                flash(f"#{row.id}: {exc.message}", "error")
        return moved

    @action("confirm", _l("Confirm"))
    def action_confirm(self, ids):
        moved = self._move(ids, booking.confirm_appointment)
        flash(catalog.gettext("%(count)s appointment(s) confirmed.", count=moved), "success")

    @action("arrived", _l("Patient arrived"))
    def action_arrived(self, ids):
        moved = self._move(ids, booking.mark_arrived)
        flash(catalog.gettext("%(count)s appointment(s) marked arrived.", count=moved), "success")

    @action("complete", _l("Visit completed"))
    def action_complete(self, ids):
        moved = self._move(ids, booking.complete_appointment)
        flash(catalog.gettext("%(count)s appointment(s) completed.", count=moved), "success")

    @action("no_show", _l("No-show"))
    def action_no_show(self, ids):
        moved = self._move(ids, booking.mark_no_show)
        flash(catalog.gettext("%(count)s appointment(s) marked no-show.", count=moved), "success")

    @action("cancel", _l("Cancel"), _l("Cancel the selected appointments?"))
    def action_cancel(self, ids):
        moved = self._move(ids, booking.cancel_appointment)
        flash(catalog.gettext("%(count)s appointment(s) cancelled.", count=moved), "success")


class InvoiceView(ClinicReadOnlyView):
    column_list = (
        "id",
        "patient",
        "appointment",
        "kind",
        "amount",
        "currency",
        "status",
        "provider_reference",
        "paid_at",
    )
    column_filters = ("status", "kind", "created_at", "paid_at", "provider")
    column_searchable_list = ("provider_reference", "patient.last_name", "patient.iin")
    column_default_sort = ("id", True)
    column_formatters = {"amount": _money, "paid_at": _local}
    column_labels = {"id": _l("Invoice"), "amount": _l("Amount"), "status": _l("Status"), "paid_at": _l("Paid")}


class DocumentView(ClinicReadOnlyView):
    column_list = ("title", "doc_type", "patient", "language", "generated_at", "expires_at", "cleaned_at")
    column_filters = ("doc_type", "generated_at", "expires_at")
    column_default_sort = ("generated_at", True)
    column_formatters = {"generated_at": _local, "expires_at": _local, "cleaned_at": _local}


class FeedbackView(ClinicReadOnlyView):
    column_list = ("created_at", "score", "comment", "patient", "appointment")
    column_filters = ("score", "created_at")
    column_default_sort = ("created_at", True)
    column_formatters = {"created_at": _local}
    column_labels = {"score": _l("Score"), "comment": _l("Comment")}


class FaqView(OwnOrganizationForm, DirectoryView):
    """An admin's list holds their organization's entries only (``access.scope``): the platform's
    general entries are the platform's to edit, so they are not listed to them at all."""

    column_list = ("position", "question_ru", "organization", "is_active")
    column_default_sort = "position"
    column_searchable_list = ("question_ru", "question_kk", "question_uz", "question_en")
    column_formatters = {"organization": lambda v, c, m, n: m.organization.name if m.organization else _l("Platform")}
    form_columns = (
        "organization",
        "position",
        *(f"{part}_{language}" for language in Faq.LANGUAGES for part in ("question", "answer")),
        "is_active",
    )
    form_args = {
        "organization": {
            "query_factory": _organizations,
            "blank_text": _l("Platform"),
            "description": _l("None: the platform's general FAQ, shown by every clinic bot"),
        }
    }

    audited_fields = setup.FAQ_FIELDS

    def save(self, model, before):
        return setup.save_faq(current_user, model, before)

    def delete_record(self, model) -> None:
        setup.delete_faq(current_user, model)


class SupportTicketView(ClinicAdminView):
    column_list = ("created_at", "subject", "patient", "status", "assigned_to", "resolved_at")
    column_filters = ("status", "created_at")
    column_searchable_list = ("subject", "message")
    column_default_sort = ("created_at", True)
    column_formatters = {"created_at": _local, "resolved_at": _local}
    form_columns = ("status", "assigned_to")
    form_args = {"assigned_to": {"query_factory": _staff_of(Role.ADMIN, Role.DOCTOR, Role.HELPER)}}
    can_create = can_delete = False
    can_view_details = True

    # Moved and assigned through the support service (audited), never a raw write of the form.
    def update_record(self, form, model) -> None:
        support.update_support_ticket(
            current_user, model, status=form.status.data, assigned_to=form.assigned_to.data, source="console"
        )

    @action("close", _l("Close"))
    def action_close(self, ids):
        for ticket in self.get_query().filter(SupportTicket.id.in_([int(i) for i in ids])).all():
            try:
                with db.session.begin_nested():
                    support.close_ticket(ticket)
            except ServiceError as exc:
                flash(f"#{ticket.id}: {exc.message}", "error")


class ReminderLogView(ClinicReadOnlyView):
    column_list = ("claimed_at", "appointment", "kind", "state", "due_at", "sent_at", "error")
    column_filters = ("kind", "state", "due_at")
    column_default_sort = ("claimed_at", True)
    column_formatters = {"claimed_at": _local, "due_at": _local, "sent_at": _local}


# --- dashboard -------------------------------------------------------------------------------------


class ClinicDashboard(SecureView):
    required_roles = STAFF

    @expose("/")
    def index(self):
        timezone = _first_clinic_timezone()
        now = clock.now()
        today = now.astimezone(zone(timezone)).date()
        per_day = stats.appointments_per_day(
            today - timedelta(days=13), today + timedelta(days=14), timezone, narrow=_narrow
        )
        rate = stats.no_show_rate(now - timedelta(days=30), now, narrow=_narrow)
        score = stats.nps(now - timedelta(days=90), narrow=_narrow)
        return self.render(
            "clinic/dashboard.html",
            t=catalog.gettext,
            today=today,
            today_count=dict(per_day).get(today, 0),
            per_day=bars([(f"{d:%d.%m}", n) for d, n in per_day]),
            no_show=None if rate is None else round(100 * rate),
            nps=score,
            nps_chart=bars([(str(n), count) for n, count in enumerate(score.distribution)]),
        )


def _narrow(query, model):
    """The dashboard's figures count only what the signed-in account reaches."""
    return access.scope(query, current_user, model)


def _first_clinic_timezone() -> str | None:
    clinic = db.session.scalar(access.scope(db.select(Clinic), current_user, Clinic).order_by(Clinic.id).limit(1))
    return clinic.timezone if clinic else None


def _appointments_today(viewer) -> int:  # the viewer is the signed-in account _narrow scopes by
    timezone = _first_clinic_timezone()
    today = clock.now().astimezone(zone(timezone)).date()
    return dict(stats.appointments_per_day(today, today, timezone, narrow=_narrow)).get(today, 0)


def register_admin(admin) -> None:
    category = _l("Clinic")

    def add(view_class, model, name, endpoint):
        admin.add_view(view_class(model, db.session, name=name, category=category, endpoint=endpoint))

    admin.add_view(ClinicDashboard(name=_l("Clinic dashboard"), category=category, endpoint="clinic_dashboard"))
    admin.add_view(ReceptionView(name=_l("Calendar"), category=category, endpoint="clinic_day"))
    add(AppointmentView, Appointment, _l("Appointments"), "clinic_appointments")
    add(PatientView, Patient, _l("Patients"), "clinic_patients")
    add(DoctorView, Doctor, _l("Doctors"), "clinic_doctors")
    add(ServiceView, Service, _l("Services"), "clinic_services")
    add(BranchView, Branch, _l("Branches"), "clinic_branches")
    add(InvoiceView, Invoice, _l("Payments"), "clinic_payments")
    add(DocumentView, Document, _l("Documents"), "clinic_documents")
    add(FeedbackView, Feedback, _l("Feedback"), "clinic_feedback")
    add(FaqView, Faq, _l("FAQ"), "clinic_faq")
    add(SupportTicketView, SupportTicket, _l("Support tickets"), "clinic_support")
    add(ReminderLogView, ReminderLog, _l("Reminder log"), "clinic_reminders")
    add(ClinicSettingsView, Clinic, _l("Clinic settings"), "clinic_settings")
    add_card(_l("Clinic: appointments today"), _appointments_today, *STAFF)
