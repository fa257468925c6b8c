"""Booking, as seed 002 draws it: branch → service → doctor → calendar → time → confirmation →
optional prepayment → ticket (text + .ics file). Rescheduling reuses the calendar and the times.

Each step's inline buttons carry every choice made so far in their callback data
(``cl:bk:<step>:<branch>:<service>:<doctor>[:<day or start>]``), so the conversation state lives
in the chat itself: any button works after a worker restart, and "⬅️ Back" is the previous step's
button.
"""

from __future__ import annotations

import calendar
import io
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from telebot import TeleBot, types

from botworker.clinic import texts
from botworker.clinic.base import (
    NOOP,
    answer_stale,
    appointment_action,
    appointment_keyboard,
    callback_parts,
    current_patient,
    inline,
    is_button,
    lang,
    main_menu,
    organization_id,
    refuse,
    require_patient,
    tr,
)
from webapp.clinic.models import Appointment, Branch, Clinic, Doctor, PrepaymentStatus, Service
from webapp.clinic.services import booking, clock, payments
from webapp.clinic.services.common import booking_horizon_days, t, zone
from webapp.clinic.services.directory import list_branches, list_doctors, list_services
from webapp.clinic.services.render import (
    appointment_details,
    appointment_ics,
    date_text,
    ics_filename,
    money,
    service_label,
    ticket_text,
    time_text,
)
from webapp.clinic.services.slots import available_days, day_slots
from webapp.core.services import ServiceError
from webapp.extensions import db

BOOKING_DAYS = 60  # how far ahead the calendar reaches
REFUSALS = {
    "SLOT_TAKEN": "Sorry, this time has just been taken. Please choose another one.",
    "SLOT_IN_PAST": "This time has already passed. Please choose another one.",
    "NOT_A_SLOT": "The doctor does not receive at this time. Please choose another one.",
    "PATIENT_BUSY": "You already have an appointment at this time.",
    "NOT_OFFERED": "This service is not available with this doctor at this branch.",
    "CANNOT_RESCHEDULE": "This appointment can no longer be rescheduled.",
    "BEYOND_HORIZON": "This date is too far ahead to book. Please choose an earlier one.",
}


def own_clinics(query):
    """Branches of the clinics of this bot's organization: its patients book nowhere else."""
    return query.where(Branch.clinic_id.in_(sa.select(Clinic.id).where(Clinic.organization_id == organization_id())))


def refusal_text(exc: ServiceError) -> str:
    return tr(REFUSALS.get(exc.code, "Something went wrong. Please try again later."))


def _today(doctor: Doctor) -> date:
    return clock.now().astimezone(zone(doctor.clinic.timezone)).date()


# --- keyboards -------------------------------------------------------------------------------------


def calendar_keyboard(
    doctor: Doctor, service: Service, branch_id: int, month: date, day_data, month_data, back_data: str
) -> types.InlineKeyboardMarkup:
    """A month grid: bookable days are buttons, the rest are dots; ◀️ ▶️ move within the bookable range."""
    language = lang()
    today = _today(doctor)
    last = today + timedelta(days=min(BOOKING_DAYS, booking_horizon_days() - 1))
    first_of_month = month.replace(day=1)
    month_end = first_of_month.replace(day=calendar.monthrange(month.year, month.month)[1])
    lo, hi = max(first_of_month, today), min(month_end, last)
    free = available_days(doctor, lo, hi, service=service, branch_id=branch_id) if lo <= hi else set()
    rows = [[(texts.month_title(language, first_of_month), NOOP)]]
    rows.append([(t(language, name), NOOP) for name in texts.WEEKDAYS])
    for week in calendar.Calendar().monthdatescalendar(month.year, month.month):
        row = []
        for day in week:
            if day.month != month.month:
                row.append((" ", NOOP))
            elif day in free:
                row.append((str(day.day), day_data(day)))
            else:
                row.append(("·", NOOP))
        rows.append(row)
    nav = []
    previous_month = (first_of_month - timedelta(days=1)).replace(day=1)
    next_month = month_end + timedelta(days=1)
    if previous_month >= today.replace(day=1):
        nav.append(("◀️", month_data(previous_month)))
    if next_month <= last:
        nav.append(("▶️", month_data(next_month)))
    if nav:
        rows.append(nav)
    rows.append([(t(language, texts.BACK), back_data)])
    return inline(rows)


def times_keyboard(slots, time_data, back_data: str) -> types.InlineKeyboardMarkup:
    free = [s for s in slots if s.available]
    rows = [
        [(time_text(s.local_start), time_data(s.starts_at)) for s in free[i : i + 4]] for i in range(0, len(free), 4)
    ]
    rows.append([(tr(texts.BACK), back_data)])
    return inline(rows)


def _epoch(value: datetime) -> int:
    return int(value.timestamp())


def _from_epoch(text: str) -> datetime:
    return datetime.fromtimestamp(int(text), UTC)


def _month(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), 1)


def _day(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


# --- sending the ticket ----------------------------------------------------------------------------


def send_ticket(bot: TeleBot, chat_id: int, appointment: Appointment) -> None:
    """The ticket text, the .ics file, then the main menu."""
    language = lang()
    bot.send_message(chat_id, ticket_text(appointment, language))
    content = appointment_ics(appointment, language)
    bot.send_document(
        chat_id,
        types.InputFile(io.BytesIO(content), file_name=ics_filename(appointment)),
        caption=tr("📅 Add the appointment to your calendar"),
    )
    bot.send_message(
        chat_id,
        tr("✅ Appointment booked!\n\nWe have sent you a ticket. Do not forget to come on time!"),
        reply_markup=main_menu(language),
    )


def offer_prepayment_or_ticket(bot: TeleBot, chat_id: int, appointment: Appointment) -> None:
    amount = appointment.service.prepayment_amount
    if amount and amount > 0 and appointment.prepayment_status != PrepaymentStatus.PAID.value:
        price = money(amount, appointment.branch.clinic.currency)
        bot.send_message(
            chat_id,
            tr(
                "Appointment #%(id)s is booked. You may prepay %(amount)s now — this is optional.",
                id=appointment.id,
                amount=price,
            ),
            reply_markup=inline(
                [
                    [(tr("💳 Prepay %(amount)s (demo)", amount=price), f"cl:pp:pay:{appointment.id}")],
                    [(tr("Continue without prepayment"), f"cl:pp:skip:{appointment.id}")],
                ]
            ),
        )
        return
    send_ticket(bot, chat_id, appointment)


def confirmation_text(doctor: Doctor, service: Service, branch: Branch, starts_at: datetime) -> str:
    local = starts_at.astimezone(zone(doctor.clinic.timezone))
    return tr(
        "Please confirm the appointment:\n\n📍 Branch: %(branch)s\n🏥 Service: %(service)s\n👨‍⚕️ Doctor: %(doctor)s\n"
        "🗓 Date: %(date)s\n🕐 Time: %(time)s\n💰 Price: %(price)s",
        branch=branch.name,
        service=service.display_name(lang()),
        doctor=doctor.full_name,
        date=date_text(local),
        time=time_text(local),
        price=money(service.price, doctor.clinic.currency, lang()),
    )


# --- handlers --------------------------------------------------------------------------------------


def register(bot: TeleBot) -> None:
    def edit(call: types.CallbackQuery, text: str, markup: types.InlineKeyboardMarkup | None) -> None:
        bot.answer_callback_query(call.id)
        bot.edit_message_text(text, call.message.chat.id, call.message.message_id, reply_markup=markup)

    def branches_step(chat_id: int, call: types.CallbackQuery | None = None) -> None:
        rows = [[(b.name, f"cl:bk:b:{b.id}")] for b in list_branches(narrow=own_clinics)]
        if not rows:
            text, markup = tr("Sorry, booking is not available yet."), None
        else:
            text, markup = tr("Choose a branch:"), inline(rows)
        if call is None:
            bot.send_message(chat_id, text, reply_markup=markup)
        else:
            edit(call, text, markup)

    @bot.message_handler(func=lambda m: is_button(m, texts.MENU_BOOK), content_types=["text"])
    def book(message: types.Message) -> None:
        if require_patient(bot, message.chat.id) is not None:
            bot.delete_state(message.from_user.id, message.chat.id)
            branches_step(message.chat.id)

    @bot.callback_query_handler(func=lambda c: (c.data or "").startswith("cl:bk:"))
    def booking_step(call: types.CallbackQuery) -> None:
        if current_patient() is None:
            answer_stale(bot, call)
            return
        step, *args = call.data[len("cl:bk:") :].split(":")
        try:
            ids = [int(a) for a in args[:3]]
        except ValueError:
            answer_stale(bot, call)
            return
        if step == "start":
            branches_step(call.message.chat.id, call)
            return
        branch = db.session.get(Branch, ids[0]) if ids else None
        if branch is None or branch.clinic.organization_id != organization_id():
            answer_stale(bot, call)
            return
        if step == "b":
            currency, language = branch.clinic.currency, lang()
            rows = [
                [(service_label(service, currency, language), f"cl:bk:s:{branch.id}:{service.id}")]
                for service in list_services(branch.id)
            ]
            rows.append([(tr(texts.BACK), "cl:bk:start")])
            edit(call, tr("Choose a service:"), inline(rows))
            return
        service = db.session.get(Service, ids[1]) if len(ids) > 1 else None
        if service is None:
            answer_stale(bot, call)
            return
        if step == "s":
            doctors = list_doctors(service.id, branch.id)
            rows = [
                [(f"{d.full_name} — {d.specialty or ''}".rstrip(" —"), f"cl:bk:d:{branch.id}:{service.id}:{d.id}")]
                for d in doctors
            ]
            rows.append([(tr(texts.BACK), f"cl:bk:b:{branch.id}")])
            edit(call, tr("Choose a doctor:"), inline(rows))
            return
        doctor = db.session.get(Doctor, ids[2]) if len(ids) > 2 else None
        if doctor is None:
            answer_stale(bot, call)
            return
        prefix = f"{branch.id}:{service.id}:{doctor.id}"
        if step in ("d", "m"):
            month = _month(args[3]) if step == "m" else _today(doctor)
            markup = calendar_keyboard(
                doctor,
                service,
                branch.id,
                month,
                day_data=lambda d: f"cl:bk:t:{prefix}:{d:%Y%m%d}",
                month_data=lambda m: f"cl:bk:m:{prefix}:{m:%Y%m}",
                back_data=f"cl:bk:s:{branch.id}:{service.id}",
            )
            edit(call, tr("Choose a date:"), markup)
            return
        if step == "t":
            day = _day(args[3])
            slots = day_slots(doctor, day, service=service, branch_id=branch.id)
            if not any(s.available for s in slots):
                bot.answer_callback_query(
                    call.id, tr("Unfortunately, there are no free slots on the chosen date"), show_alert=True
                )
                return
            markup = times_keyboard(
                slots, lambda s: f"cl:bk:c:{prefix}:{_epoch(s)}", back_data=f"cl:bk:m:{prefix}:{day:%Y%m}"
            )
            edit(call, tr("Choose a convenient time (%(date)s):", date=f"{day:%d.%m.%Y}"), markup)
            return
        if step == "c":
            starts_at = _from_epoch(args[3])
            local_day = starts_at.astimezone(zone(doctor.clinic.timezone)).date()
            markup = inline(
                [
                    [(tr("✅ Confirm"), f"cl:bk:ok:{prefix}:{args[3]}")],
                    [(tr(texts.BACK), f"cl:bk:t:{prefix}:{local_day:%Y%m%d}")],
                    [(tr("❌ Cancel"), "cl:bk:x")],
                ]
            )
            edit(call, confirmation_text(doctor, service, branch, starts_at), markup)
            return
        if step == "ok":
            try:
                appointment = booking.book_appointment(
                    current_patient(),
                    doctor,
                    service,
                    branch,
                    _from_epoch(args[3]),
                    source="bot",
                    telegram_user_id=call.from_user.id,
                )
            except ServiceError as exc:
                refuse(bot, call, refusal_text(exc))
                return
            edit(call, confirmation_text(doctor, service, branch, appointment.starts_at), None)
            offer_prepayment_or_ticket(bot, call.message.chat.id, appointment)
            return
        answer_stale(bot, call)

    @bot.callback_query_handler(func=lambda c: c.data == "cl:bk:x")
    def booking_cancelled(call: types.CallbackQuery) -> None:
        bot.answer_callback_query(call.id)
        bot.edit_message_text(tr("Booking cancelled"), call.message.chat.id, call.message.message_id)

    @bot.callback_query_handler(func=lambda c: (c.data or "").startswith("cl:pp:"))
    def prepayment(call: types.CallbackQuery) -> None:
        action, appointment_id = (callback_parts(call, "cl:pp:") + ["", ""])[:2]
        patient = current_patient()
        try:
            appointment = booking.get_patient_appointment(patient, int(appointment_id)) if patient else None
        except (ServiceError, ValueError):
            appointment = None
        if appointment is None:
            answer_stale(bot, call)
            return
        chat_id = call.message.chat.id
        if action == "pay":
            try:
                invoice = payments.request_prepayment(appointment)
                payments.demo_provider_pay(invoice)
            except ServiceError:
                refuse(bot, call, tr("This payment is no longer possible."))
                return
            bot.answer_callback_query(call.id)
            bot.edit_message_text(
                tr("✅ Prepayment %(amount)s received.", amount=money(invoice.amount, invoice.currency)),
                chat_id,
                call.message.message_id,
            )
        else:
            bot.answer_callback_query(call.id)
            bot.edit_message_reply_markup(chat_id, call.message.message_id, reply_markup=None)
        send_ticket(bot, chat_id, appointment)

    # --- rescheduling: the same calendar and times for an existing appointment -------------------

    @bot.callback_query_handler(func=lambda c: (c.data or "").startswith("cl:rs:"))
    def reschedule_step(call: types.CallbackQuery) -> None:
        found = appointment_action(call, "cl:rs:")
        if found is None:
            answer_stale(bot, call)
            return
        step, appointment, rest = found
        doctor, service, branch_id = appointment.doctor, appointment.service, appointment.branch_id
        key = appointment.id
        if step in ("go", "m"):
            month = _month(rest[0]) if step == "m" else _today(doctor)
            markup = calendar_keyboard(
                doctor,
                service,
                branch_id,
                month,
                day_data=lambda d: f"cl:rs:t:{key}:{d:%Y%m%d}",
                month_data=lambda m: f"cl:rs:m:{key}:{m:%Y%m}",
                back_data=f"cl:rs:back:{key}",
            )
            edit(call, tr("Choose a new date for appointment #%(id)s:", id=key), markup)
            return
        if step == "t":
            day = _day(rest[0])
            slots = day_slots(doctor, day, service=service, branch_id=branch_id, exclude_appointment_id=key)
            markup = times_keyboard(
                slots, lambda s: f"cl:rs:ok:{key}:{_epoch(s)}", back_data=f"cl:rs:m:{key}:{day:%Y%m}"
            )
            edit(call, tr("Choose a new time:"), markup)
            return
        if step == "ok":
            try:
                booking.reschedule_appointment(
                    appointment, _from_epoch(rest[0]), source="bot", telegram_user_id=call.from_user.id
                )
            except ServiceError as exc:
                refuse(bot, call, refusal_text(exc))
                return
            local = appointment.starts_at.astimezone(zone(appointment.timezone))
            edit(
                call,
                tr(
                    "🔁 Appointment #%(id)s moved to %(date)s at %(time)s.",
                    id=key,
                    date=date_text(local),
                    time=time_text(local),
                ),
                None,
            )
            send_ticket(bot, call.message.chat.id, appointment)
            return
        if step == "back":
            edit(call, appointment_details(appointment, lang()), appointment_keyboard(appointment))
            return
        answer_stale(bot, call)
