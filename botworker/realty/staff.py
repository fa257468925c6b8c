"""Realtor side of the realty bot: my listings (card, activate/deactivate, calendar, blocks), the
add-listing wizard, bookings to confirm or cancel, and the moderation queue of the platform's moderators."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from telebot import TeleBot, types
from telebot.handler_backends import State, StatesGroup

from botworker.context import current_user
from botworker.realty import ui
from botworker.realty.guest import booking_line, listing_card
from botworker.realty.ui import t
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.realty import access
from webapp.realty.models import Booking, BookingStatus, Listing
from webapp.realty.services import bookings, listings


class ListingWizard(StatesGroup):
    title = State()
    city = State()
    district = State()
    price = State()
    guests = State()
    description = State()
    amenities = State()
    photos = State()


class BlockStates(StatesGroup):
    dates = State()


class RejectStates(StatesGroup):
    reason = State()


def count(query: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0


def page_of(query: sa.Select, page: int) -> list:
    return db.session.scalars(query.limit(ui.PAGE_SIZE).offset((page - 1) * ui.PAGE_SIZE)).unique().all()


def short(listing: Listing) -> str:
    state = ui.status_text(listing.status) + ("" if listing.is_active else " · " + t("🚫 hidden"))
    price = ui.money(listing.price_per_night, listing.agency.currency)
    return f"#{listing.id} {listing.title} — {listing.city}\n   💰 {price} · {state}"


def my_listings_page(page: int) -> tuple[str, types.InlineKeyboardMarkup | None]:
    query = listings.staff_listings(current_user())
    total = count(query)
    if not total:
        return t("You have no listings yet. Add one with ➕ Add listing."), None
    items = page_of(query, page)
    rows = [[(f"#{lst.id} {lst.title[:30]}", f"lc:{lst.id}")] for lst in items]
    rows.append(ui.nav_row("ml:", page, total))
    return "\n\n".join(short(lst) for lst in items), ui.inline(*rows)


def card_actions(listing: Listing) -> types.InlineKeyboardMarkup:
    toggle = (t("Take down"), f"act:{listing.id}:0") if listing.is_active else (t("Activate"), f"act:{listing.id}:1")
    return ui.inline([toggle, (t("Calendar"), f"cal:{listing.id}")], [(t("Add block"), f"blk:{listing.id}")])


def calendar_text(listing: Listing, days: int = 30) -> str:
    start = listings.agency_today(listing.agency)
    marks = {"free": "⬜", "pending": "🟨", "confirmed": "🟥", "completed": "🟥", "blocked": "⬛"}
    lines = [t("📅 Calendar of “%(title)s”, %(days)s days:", title=listing.title, days=days)]
    week = []
    for day in listings.calendar(listing, start, days):
        week.append(f"{day['date'][8:10]}{marks.get(day['state'], '⬜')}")
        if len(week) == 7:
            lines.append(" ".join(week))
            week = []
    if week:
        lines.append(" ".join(week))
    lines.append(t("⬜ free · 🟨 pending · 🟥 booked · ⬛ blocked"))
    blocks = listings.blocks_of(listing)
    if blocks:
        lines.append("")
        lines += [f"⛔ {b.date_from:%d.%m} — {b.date_to:%d.%m} {b.reason or ''}".rstrip() for b in blocks]
    return "\n".join(lines)


def staff_bookings_page(page: int) -> tuple[str, types.InlineKeyboardMarkup | None]:
    query = bookings.staff_bookings(current_user()).where(
        Booking.status.in_((BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value))
    )
    total = count(query)
    if not total:
        return t("No current bookings of your listings."), None
    items = page_of(query, page)
    rows = []
    for booking in items:
        row = []
        if booking.status == BookingStatus.PENDING.value:
            row.append((t("Confirm") + f" #{booking.id}", f"ok:{booking.id}"))
        row.append((t("Cancel") + f" #{booking.id}", f"no:{booking.id}"))
        rows.append(row)
    rows.append(ui.nav_row("sb:", page, total))
    return "\n\n".join(booking_line(b) + f"\n   👤 {b.guest.display_name}" for b in items), ui.inline(*rows)


def moderation_page(page: int) -> tuple[str, types.InlineKeyboardMarkup | None]:
    query = listings.moderation_queue(current_user())
    total = count(query)
    if not total:
        return t("No listings wait for moderation."), None
    items = page_of(query, page)
    rows = [
        [(t("Approve") + f" #{lst.id}", f"ap:{lst.id}"), (t("Reject") + f" #{lst.id}", f"rj:{lst.id}")] for lst in items
    ]
    rows.append(ui.nav_row("mq:", page, total))
    text = "\n\n".join(
        short(lst) + f"\n   👤 {lst.realtor.display_name if lst.realtor else '—'} · {lst.agency.name}" for lst in items
    )
    return t("Waiting for moderation: %(n)s", n=total) + "\n\n" + text, ui.inline(*rows)


def register(bot: TeleBot) -> None:
    chat = ui.Chat(bot)
    reply = chat.reply
    to_menu = chat.to_menu
    edit = chat.edit

    def arg(call: types.CallbackQuery, index: int = 2) -> str:
        return call.data.split(":")[index]

    def editable(call: types.CallbackQuery) -> Listing | None:
        listing = db.session.get(Listing, int(arg(call)))
        if listing is None or not access.can_edit_listing(current_user(), listing):
            bot.answer_callback_query(call.id, t("This button is no longer active."))
            return None
        return listing

    # -- my listings --------------------------------------------------------------------------------

    @bot.message_handler(func=ui.is_label(ui.MY_LISTINGS))
    def my_listings(message: types.Message) -> None:
        try:
            text, markup = my_listings_page(1)
        except ServiceError as exc:
            reply(message.chat.id, ui.error_text(exc))
            return
        reply(message.chat.id, text, markup)

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "ml:"))
    def my_listings_nav(call: types.CallbackQuery) -> None:
        bot.answer_callback_query(call.id)
        edit(call, *my_listings_page(int(arg(call))))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "lc:"))
    def listing_card_staff(call: types.CallbackQuery) -> None:
        listing = editable(call)
        if listing is None:
            return
        bot.answer_callback_query(call.id)
        extra = f"\n\n{ui.status_text(listing.status)}"
        if listing.rejection_reason:
            extra += f": {listing.rejection_reason}"
        reply(call.message.chat.id, listing_card(listing) + extra, card_actions(listing))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "act:"))
    def toggle_active(call: types.CallbackQuery) -> None:
        listing = editable(call)
        if listing is None:
            return
        listings.set_listing_active(current_user(), listing, arg(call, 3) == "1")
        bot.answer_callback_query(call.id, t("Listing is visible") if listing.is_active else t("Listing is hidden"))
        bot.edit_message_reply_markup(call.message.chat.id, call.message.message_id, reply_markup=card_actions(listing))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "cal:"))
    def calendar(call: types.CallbackQuery) -> None:
        listing = editable(call)
        if listing is None:
            return
        bot.answer_callback_query(call.id)
        reply(call.message.chat.id, calendar_text(listing), ui.inline([(t("Add block"), f"blk:{listing.id}")]))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "blk:"))
    def block_start(call: types.CallbackQuery) -> None:
        listing = editable(call)
        if listing is None:
            return
        bot.answer_callback_query(call.id)
        bot.set_state(call.from_user.id, BlockStates.dates, call.message.chat.id)
        with bot.retrieve_data(call.from_user.id, call.message.chat.id) as data:
            data["listing_id"] = listing.id
        example = listings.agency_today(listing.agency) + timedelta(days=7)
        reply(
            call.message.chat.id,
            t(
                "Send the first night and the day after the last one, and a reason if you like, e.g. %(example)s",
                example=f"{example} {example + timedelta(days=2)} " + t("repairs"),
            ),
            ui.cancel_keyboard(),
        )

    @bot.message_handler(state=BlockStates.dates, content_types=["text"])
    def block_save(message: types.Message) -> None:
        parts = message.text.split(maxsplit=2)
        try:
            date_from, date_to = ui.parse_dates(" ".join(parts[:2]))
            with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
                listing = db.session.get(Listing, data["listing_id"])
            block = listings.add_block(
                current_user(), listing, date_from, date_to, parts[2] if len(parts) > 2 else None
            )
        except ServiceError as exc:
            db.session.rollback()
            reply(message.chat.id, ui.error_text(exc))
            return
        to_menu(message, t("⛔ Blocked %(from)s — %(to)s.", **{"from": block.date_from, "to": block.date_to}))

    # -- add-listing wizard -------------------------------------------------------------------------

    wizard_steps = [
        (ListingWizard.title, "title", "➕ New listing. Step 1 of 8: the title?", False),
        (ListingWizard.city, "city", "Step 2 of 8: the city?", False),
        (ListingWizard.district, "district", "Step 3 of 8: the district (or Skip)?", True),
        (ListingWizard.price, "price_per_night", "Step 4 of 8: the price per night (a number)?", False),
        (ListingWizard.guests, "max_guests", "Step 5 of 8: how many guests at most?", False),
        (ListingWizard.description, "description", "Step 6 of 8: a description?", False),
    ]

    def ask(chat_id: int, index: int) -> None:
        state, _, question, optional = wizard_steps[index]
        reply(chat_id, t(question), ui.skip_keyboard() if optional else ui.cancel_keyboard())

    @bot.message_handler(func=ui.is_label(ui.ADD_LISTING))
    def wizard_start(message: types.Message) -> None:
        if not (access.is_superuser(current_user()) or access.agency_id_of(current_user())):
            reply(message.chat.id, "⚠️ " + t("You are not a member of an agency"))
            return
        bot.set_state(message.from_user.id, ListingWizard.title, message.chat.id)
        ask(message.chat.id, 0)

    def wizard_answer(index: int):
        state, field, _, optional = wizard_steps[index]

        def handler(message: types.Message) -> None:
            value = None if optional and message.text in ui.labels(ui.SKIP) else message.text.strip()
            probe = {field: value}
            try:
                listings.clean_listing_fields(probe, creating=False)
            except ServiceError as exc:
                reply(message.chat.id, ui.error_text(exc))
                return
            with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
                data[field] = value
            if index + 1 < len(wizard_steps):
                bot.set_state(message.from_user.id, wizard_steps[index + 1][0], message.chat.id)
                ask(message.chat.id, index + 1)
                return
            bot.set_state(message.from_user.id, ListingWizard.amenities, message.chat.id)
            with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
                data["amenities"] = []
            reply(
                message.chat.id,
                t("Step 7 of 8: amenities (tap to choose), then Done."),
                ui.amenities_keyboard("wa:", []),
            )

        bot.register_message_handler(handler, state=state, content_types=["text"])

    for position in range(len(wizard_steps)):
        wizard_answer(position)

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "wa:"))
    def wizard_amenity(call: types.CallbackQuery) -> None:
        chat_id, user_id = call.message.chat.id, call.from_user.id
        if bot.get_state(user_id, chat_id) != ListingWizard.amenities.name:
            bot.answer_callback_query(call.id, t("This button is no longer active."))
            return
        code = arg(call)
        with bot.retrieve_data(user_id, chat_id) as data:
            chosen = list(data.get("amenities") or [])
            if code != "=":
                chosen = [c for c in chosen if c != code] if code in chosen else [*chosen, code]
                data["amenities"] = chosen
        bot.answer_callback_query(call.id)
        if code != "=":
            bot.edit_message_reply_markup(
                chat_id, call.message.message_id, reply_markup=ui.amenities_keyboard("wa:", chosen)
            )
            return
        bot.edit_message_reply_markup(chat_id, call.message.message_id, reply_markup=None)
        bot.set_state(user_id, ListingWizard.photos, chat_id)
        markup = types.ReplyKeyboardMarkup(resize_keyboard=True)
        markup.row(t(ui.DONE), t(ui.CANCEL))
        reply(chat_id, t("Step 8 of 8: send photos (up to 10), then press Done. Or press Done now."), markup)

    @bot.message_handler(state=ListingWizard.photos, content_types=["photo"])
    def wizard_photo(message: types.Message) -> None:
        with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
            photos = list(data.get("photos") or [])
            if len(photos) < listings.MAX_PHOTOS:
                photos.append(message.photo[-1].file_id)
            data["photos"] = photos
        reply(message.chat.id, t("📷 Photos: %(n)s. Send more or press Done.", n=len(photos)))

    @bot.message_handler(state=ListingWizard.photos, func=ui.is_label(ui.DONE))
    def wizard_finish(message: types.Message) -> None:
        with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
            fields = {k: data.get(k) for k in (*(s[1] for s in wizard_steps), "amenities", "photos")}
        fields["photos"] = fields["photos"] or []
        try:
            listing = listings.create_listing(current_user(), fields, source="bot")
        except ServiceError as exc:
            db.session.rollback()
            to_menu(message, ui.error_text(exc))
            return
        to_menu(
            message,
            t("✅ Listing #%(id)s “%(title)s” is saved and sent to moderation.", id=listing.id, title=listing.title),
        )

    # -- bookings of my listings --------------------------------------------------------------------

    @bot.message_handler(func=ui.is_label(ui.BOOKINGS))
    def staff_bookings(message: types.Message) -> None:
        try:
            text, markup = staff_bookings_page(1)
        except ServiceError as exc:
            reply(message.chat.id, ui.error_text(exc))
            return
        reply(message.chat.id, text, markup)

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "sb:"))
    def staff_bookings_nav(call: types.CallbackQuery) -> None:
        bot.answer_callback_query(call.id)
        edit(call, *staff_bookings_page(int(arg(call))))

    def handle_booking(call: types.CallbackQuery, action) -> None:
        booking = db.session.get(Booking, int(arg(call)))
        if booking is None or not access.can_handle_booking(current_user(), booking):
            bot.answer_callback_query(call.id, t("This button is no longer active."))
            return
        try:
            action(current_user(), booking)
        except ServiceError as exc:
            db.session.rollback()
            bot.answer_callback_query(call.id, ui.error_text(exc))
            return
        bot.answer_callback_query(call.id, ui.status_text(booking.status))
        edit(call, *staff_bookings_page(1))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "ok:"))
    def confirm(call: types.CallbackQuery) -> None:
        handle_booking(call, bookings.confirm_booking)

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "no:"))
    def cancel(call: types.CallbackQuery) -> None:
        handle_booking(call, bookings.cancel_booking)

    # -- moderation ---------------------------------------------------------------------------------

    @bot.message_handler(func=ui.is_label(ui.MODERATION))
    def moderation(message: types.Message) -> None:
        try:
            text, markup = moderation_page(1)
        except ServiceError as exc:
            reply(message.chat.id, ui.error_text(exc))
            return
        reply(message.chat.id, text, markup)

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "mq:"))
    def moderation_nav(call: types.CallbackQuery) -> None:
        bot.answer_callback_query(call.id)
        edit(call, *moderation_page(int(arg(call))))

    def moderatable(call: types.CallbackQuery) -> Listing | None:
        listing = db.session.get(Listing, int(arg(call)))
        if listing is None or not access.can_moderate(current_user()):
            bot.answer_callback_query(call.id, t("This button is no longer active."))
            return None
        return listing

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "ap:"))
    def approve(call: types.CallbackQuery) -> None:
        listing = moderatable(call)
        if listing is None:
            return
        try:
            listings.approve_listing(current_user(), listing)
        except ServiceError as exc:
            db.session.rollback()
            bot.answer_callback_query(call.id, ui.error_text(exc))
            return
        bot.answer_callback_query(call.id, t("✅ Approved"))
        edit(call, *moderation_page(1))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "rj:"))
    def reject_start(call: types.CallbackQuery) -> None:
        listing = moderatable(call)
        if listing is None:
            return
        bot.answer_callback_query(call.id)
        bot.set_state(call.from_user.id, RejectStates.reason, call.message.chat.id)
        with bot.retrieve_data(call.from_user.id, call.message.chat.id) as data:
            data["listing_id"] = listing.id
        reply(call.message.chat.id, t("Why is “%(title)s” rejected?", title=listing.title), ui.cancel_keyboard())

    @bot.message_handler(state=RejectStates.reason, content_types=["text"])
    def reject_save(message: types.Message) -> None:
        with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
            listing = db.session.get(Listing, data["listing_id"])
        try:
            listings.reject_listing(current_user(), listing, message.text)
        except ServiceError as exc:
            db.session.rollback()
            reply(message.chat.id, ui.error_text(exc))
            return
        to_menu(message, t("⛔ Listing #%(id)s is rejected.", id=listing.id))
