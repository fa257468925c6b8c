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

from telebot import TeleBot, types

from botworker.callbacks import Callback
from botworker.clinic import texts
from botworker.clinic.base import (
    NOOP,
    RESCHEDULE,
    _,
    answer_stale,
    appointment_action,
    appointment_keyboard,
    current_patient,
    inline,
    is_button,
    lang,
    main_menu,
    organization_id,
    refused,
    require_patient,
    tr,
)
from webapp.clinic.models import Appointment, Branch, Doctor, PrepaymentStatus, Service
from webapp.clinic.services import booking, clock, payments
from webapp.clinic.services.common import booking_horizon_days, t, zone
from webapp.clinic.services.directory import (
    BookingChoice,
    booking_choice,
    list_doctors,
    list_services,
    organization_branches,
)
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

BOOK = Callback("cl:bk")  # cl:bk:<step>:<branch>:<service>:<doctor>[:<day, month or start>]
BOOK_CANCELLED = "cl:bk:x"
PREPAY = Callback("cl:pp")  # cl:pp:<pay|skip>:<appointment>
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


def refusal_text(exc: ServiceError) -> str:
    """The clinic's words (a msgid, translated at the update's boundary) for a refused booking."""
    return REFUSALS.get(exc.code, "Something went wrong. Please try again later.")


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
                    [(tr("💳 Prepay %(amount)s (demo)", amount=price), PREPAY.new("pay", appointment.id))],
                    [(tr("Continue without prepayment"), PREPAY.new("skip", appointment.id))],
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


# --- handlers -----------------------------------------------------------------------------------------
# Each booking step is a function of (bot, call, choice, rest): ``choice`` holds the branch, service
# and doctor the button names (loaded within the bot's organization), ``rest`` whatever follows them.
# ``STEPS`` maps a step to its function and to how many of the three it needs.


def edit(bot: TeleBot, call: types.CallbackQuery, text: str, markup: types.InlineKeyboardMarkup | None) -> None:
    bot.answer_callback_query(call.id)
    bot.edit_message_text(text, call.message.chat.id, call.message.message_id, reply_markup=markup)


def branches_step(bot: TeleBot, chat_id: int, call: types.CallbackQuery | None = None) -> None:
    rows = [[(b.name, BOOK.new("b", b.id))] for b in organization_branches(organization_id())]
    if not rows:
        text, markup = tr("Sorry, booking is not available yet."), None
    else:
        text, markup = tr("Choose a branch:"), inline(rows)
    if call is None:
        bot.send_message(chat_id, text, reply_markup=markup)
    else:
        edit(bot, call, text, markup)


def step_start(bot: TeleBot, call: types.CallbackQuery, choice: BookingChoice | None, rest: list[str]) -> None:
    branches_step(bot, call.message.chat.id, call)


def step_cancelled(bot: TeleBot, call: types.CallbackQuery, choice: BookingChoice | None, rest: list[str]) -> None:
    bot.answer_callback_query(call.id)
    bot.edit_message_text(tr("Booking cancelled"), call.message.chat.id, call.message.message_id)


def step_services(bot: TeleBot, call: types.CallbackQuery, choice: BookingChoice, rest: list[str]) -> None:
    branch = choice.branch
    currency, language = branch.clinic.currency, lang()
    rows = [
        [(service_label(service, currency, language), BOOK.new("s", branch.id, service.id))]
        for service in list_services(branch.id)
    ]
    rows.append([(tr(texts.BACK), BOOK.new("start"))])
    edit(bot, call, tr("Choose a service:"), inline(rows))


def step_doctors(bot: TeleBot, call: types.CallbackQuery, choice: BookingChoice, rest: list[str]) -> None:
    branch, service = choice.branch, choice.service
    rows = [
        [(f"{d.full_name} — {d.specialty or ''}".rstrip(" —"), BOOK.new("d", branch.id, service.id, d.id))]
        for d in list_doctors(service.id, branch.id)
    ]
    rows.append([(tr(texts.BACK), BOOK.new("b", branch.id))])
    edit(bot, call, tr("Choose a doctor:"), inline(rows))


def _chosen(choice: BookingChoice) -> tuple[int, int, int]:
    return choice.branch.id, choice.service.id, choice.doctor.id


def step_calendar(bot: TeleBot, call: types.CallbackQuery, choice: BookingChoice, rest: list[str]) -> None:
    """ "d" opens the calendar on this month, "m" on the month the button names."""
    month = _month(rest[0]) if rest else _today(choice.doctor)
    chosen = _chosen(choice)
    markup = calendar_keyboard(
        choice.doctor,
        choice.service,
        choice.branch.id,
        month,
        day_data=lambda d: BOOK.new("t", *chosen, f"{d:%Y%m%d}"),
        month_data=lambda m: BOOK.new("m", *chosen, f"{m:%Y%m}"),
        back_data=BOOK.new("s", choice.branch.id, choice.service.id),
    )
    edit(bot, call, tr("Choose a date:"), markup)


def step_times(bot: TeleBot, call: types.CallbackQuery, choice: BookingChoice, rest: list[str]) -> None:
    day = _day(rest[0])
    slots = day_slots(choice.doctor, day, service=choice.service, branch_id=choice.branch.id)
    if not any(s.available for s in slots):
        bot.answer_callback_query(
            call.id, tr("Unfortunately, there are no free slots on the chosen date"), show_alert=True
        )
        return
    chosen = _chosen(choice)
    markup = times_keyboard(
        slots, lambda s: BOOK.new("c", *chosen, _epoch(s)), back_data=BOOK.new("m", *chosen, f"{day:%Y%m}")
    )
    edit(bot, call, tr("Choose a convenient time (%(date)s):", date=f"{day:%d.%m.%Y}"), markup)


def step_confirm(bot: TeleBot, call: types.CallbackQuery, choice: BookingChoice, rest: list[str]) -> None:
    starts_at = _from_epoch(rest[0])
    local_day = starts_at.astimezone(zone(choice.doctor.clinic.timezone)).date()
    chosen = _chosen(choice)
    markup = inline(
        [
            [(tr("✅ Confirm"), BOOK.new("ok", *chosen, rest[0]))],
            [(tr(texts.BACK), BOOK.new("t", *chosen, f"{local_day:%Y%m%d}"))],
            [(tr("❌ Cancel"), BOOK_CANCELLED)],
        ]
    )
    edit(bot, call, confirmation_text(choice.doctor, choice.service, choice.branch, starts_at), markup)


def step_book(bot: TeleBot, call: types.CallbackQuery, choice: BookingChoice, rest: list[str]) -> None:
    try:
        appointment = booking.book_appointment(
            current_patient(),
            choice.doctor,
            choice.service,
            choice.branch,
            _from_epoch(rest[0]),
            source="bot",
            telegram_user_id=call.from_user.id,
        )
    except ServiceError as exc:
        raise refused(refusal_text(exc), exc) from exc
    edit(bot, call, confirmation_text(choice.doctor, choice.service, choice.branch, appointment.starts_at), None)
    offer_prepayment_or_ticket(bot, call.message.chat.id, appointment)


# step → (function, how many of branch/service/doctor it needs, how many parts follow them)
STEPS = {
    "start": (step_start, 0, 0),
    "x": (step_cancelled, 0, 0),
    "b": (step_services, 1, 0),
    "s": (step_doctors, 2, 0),
    "d": (step_calendar, 3, 0),
    "m": (step_calendar, 3, 1),
    "t": (step_times, 3, 1),
    "c": (step_confirm, 3, 1),
    "ok": (step_book, 3, 1),
}


def book(message: types.Message, bot: TeleBot) -> None:
    """📅 Book: the first step, the branches of this bot's organization."""
    if require_patient(bot, message.chat.id) is not None:
        bot.delete_state(message.from_user.id, message.chat.id)
        branches_step(bot, message.chat.id)


def booking_step(call: types.CallbackQuery, bot: TeleBot) -> None:
    """Any ``cl:bk:`` button: the step it names, with the choices it carries (see ``STEPS``)."""
    step, *args = BOOK.parts(call) or [""]
    found = STEPS.get(step)
    if current_patient() is None or found is None:
        answer_stale(bot, call)
        return
    handler, needed, extra = found
    try:
        ids = [int(a) for a in args[:needed]]
    except ValueError:
        ids = []
    if len(ids) < needed or len(args) < needed + extra:
        answer_stale(bot, call)
        return
    try:
        choice = booking_choice(organization_id(), *ids) if needed else None
    except ServiceError:  # a branch, service or doctor of another organization (or gone): not found
        answer_stale(bot, call)
        return
    try:
        handler(bot, call, choice, args[needed:])
    except ValueError:  # a day, month or time in the button that is not one
        answer_stale(bot, call)


def prepayment(call: types.CallbackQuery, bot: TeleBot) -> None:
    """💳 Prepay or continue without: then the ticket."""
    action, appointment_id = (PREPAY.parts(call) + ["", ""])[:2]
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
        except ServiceError as exc:
            raise refused(_("This payment is no longer possible."), exc) from exc
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


# --- rescheduling: the same calendar and times for an existing appointment -------------------------


def reschedule_calendar(bot: TeleBot, call: types.CallbackQuery, appointment: Appointment, rest: list[str]) -> None:
    """ "go" opens the calendar on this month, "m" on the month the button names."""
    key = appointment.id
    month = _month(rest[0]) if rest else _today(appointment.doctor)
    markup = calendar_keyboard(
        appointment.doctor,
        appointment.service,
        appointment.branch_id,
        month,
        day_data=lambda d: RESCHEDULE.new("t", key, f"{d:%Y%m%d}"),
        month_data=lambda m: RESCHEDULE.new("m", key, f"{m:%Y%m}"),
        back_data=RESCHEDULE.new("back", key),
    )
    edit(bot, call, tr("Choose a new date for appointment #%(id)s:", id=key), markup)


def reschedule_times(bot: TeleBot, call: types.CallbackQuery, appointment: Appointment, rest: list[str]) -> None:
    key, day = appointment.id, _day(rest[0])
    slots = day_slots(
        appointment.doctor,
        day,
        service=appointment.service,
        branch_id=appointment.branch_id,
        exclude_appointment_id=key,
    )
    markup = times_keyboard(
        slots, lambda s: RESCHEDULE.new("ok", key, _epoch(s)), back_data=RESCHEDULE.new("m", key, f"{day:%Y%m}")
    )
    edit(bot, call, tr("Choose a new time:"), markup)


def reschedule_done(bot: TeleBot, call: types.CallbackQuery, appointment: Appointment, rest: list[str]) -> None:
    try:
        booking.reschedule_appointment(
            appointment, _from_epoch(rest[0]), source="bot", telegram_user_id=call.from_user.id
        )
    except ServiceError as exc:
        raise refused(refusal_text(exc), exc) from exc
    local = appointment.starts_at.astimezone(zone(appointment.timezone))
    text = tr(
        "🔁 Appointment #%(id)s moved to %(date)s at %(time)s.",
        id=appointment.id,
        date=date_text(local),
        time=time_text(local),
    )
    edit(bot, call, text, None)
    send_ticket(bot, call.message.chat.id, appointment)


def reschedule_back(bot: TeleBot, call: types.CallbackQuery, appointment: Appointment, rest: list[str]) -> None:
    edit(bot, call, appointment_details(appointment, lang()), appointment_keyboard(appointment))


# step → (function, how many parts follow the appointment id)
RESCHEDULE_STEPS = {
    "go": (reschedule_calendar, 0),
    "m": (reschedule_calendar, 1),
    "t": (reschedule_times, 1),
    "ok": (reschedule_done, 1),
    "back": (reschedule_back, 0),
}


def reschedule_step(call: types.CallbackQuery, bot: TeleBot) -> None:
    """Any ``cl:rs:`` button of the patient's own appointment (see ``RESCHEDULE_STEPS``)."""
    found = appointment_action(call, RESCHEDULE)
    step = RESCHEDULE_STEPS.get(found[0]) if found is not None else None
    if step is None or len(found[2]) < step[1]:
        answer_stale(bot, call)
        return
    handler, _ = step
    try:
        handler(bot, call, found[1], found[2])
    except ValueError:  # a day, month or time in the button that is not one
        answer_stale(bot, call)


def register(bot: TeleBot) -> None:
    bot.register_message_handler(
        book, func=lambda m: is_button(m, texts.MENU_BOOK), content_types=["text"], pass_bot=True
    )
    bot.register_callback_query_handler(booking_step, func=BOOK.matches, pass_bot=True)
    bot.register_callback_query_handler(prepayment, func=PREPAY.matches, pass_bot=True)
    bot.register_callback_query_handler(reschedule_step, func=RESCHEDULE.matches, pass_bot=True)
