"""Realtor side of the realty bot: my listings (card, activate/deactivate, calendar, blocks), the
add-listing wizard, bookings to confirm or cancel, and the moderation queue of the platform's moderators."""

from __future__ import annotations

from datetime import timedelta

from telebot import TeleBot, types
from telebot.handler_backends import State, StatesGroup

from botworker.callbacks import Callback
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


# The buttons of the staff side (r:<name>:<part>…).
MY_LISTINGS_PAGE = ui.callback("ml")
LISTING_CARD = ui.callback("lc")
ACTIVATE = ui.callback("act")  # listing:1 (activate) or listing:0 (take down)
CALENDAR = ui.callback("cal")
BLOCK = ui.callback("blk")
WIZARD_AMENITY = ui.callback("wa")  # an amenity code, or "=" for Done
BOOKINGS_PAGE = ui.callback("sb")
CONFIRM = ui.callback("ok")
CANCEL = ui.callback("no")
MODERATION_PAGE = ui.callback("mq")
APPROVE = ui.callback("ap")
REJECT = ui.callback("rj")

# The add-listing wizard's text steps: state, field, question, may be skipped.
WIZARD_STEPS = [
    (ListingWizard.title, "title", "➕ New listing. Step 1 of 8: the title?", False),
    (ListingWizard.city, "city", "Step 2 of 8: the city?", False),
    (ListingWizard.district, "district", "Step 3 of 8: the district (or Skip)?", True),
    (ListingWizard.price, "price_per_night", "Step 4 of 8: the price per night (a number)?", False),
    (ListingWizard.guests, "max_guests", "Step 5 of 8: how many guests at most?", False),
    (ListingWizard.description, "description", "Step 6 of 8: a description?", False),
]


def short(listing: Listing) -> str:
    state = ui.status_text(listing.status) + ("" if listing.is_active else " · " + t("🚫 hidden"))
    price = ui.money(listing.price_per_night, listing.agency.currency)
    return f"#{listing.id} {listing.title} — {listing.city}\n   💰 {price} · {state}"


def my_listings_page(page: int) -> tuple[str, types.InlineKeyboardMarkup | None]:
    query = listings.staff_listings(current_user())
    found = ui.page_of(query, page)
    total = found.total
    if not total:
        return t("You have no listings yet. Add one with ➕ Add listing."), None
    items = found.items
    rows = [[(f"#{lst.id} {lst.title[:30]}", LISTING_CARD.new(lst.id))] for lst in items]
    rows.append(ui.nav_row(MY_LISTINGS_PAGE, page, total))
    return "\n\n".join(short(lst) for lst in items), ui.inline(*rows)


def card_actions(listing: Listing) -> types.InlineKeyboardMarkup:
    toggle = (
        (t("Take down"), ACTIVATE.new(listing.id, 0))
        if listing.is_active
        else (t("Activate"), ACTIVATE.new(listing.id, 1))
    )
    return ui.inline([toggle, (t("Calendar"), CALENDAR.new(listing.id))], [(t("Add block"), BLOCK.new(listing.id))])


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
    found = ui.page_of(query, page)
    total = found.total
    if not total:
        return t("No current bookings of your listings."), None
    items = found.items
    rows = []
    for booking in items:
        row = []
        if booking.status == BookingStatus.PENDING.value:
            row.append((t("Confirm") + f" #{booking.id}", CONFIRM.new(booking.id)))
        row.append((t("Cancel") + f" #{booking.id}", CANCEL.new(booking.id)))
        rows.append(row)
    rows.append(ui.nav_row(BOOKINGS_PAGE, page, total))
    return "\n\n".join(booking_line(b) + f"\n   👤 {b.guest.display_name}" for b in items), ui.inline(*rows)


def moderation_page(page: int) -> tuple[str, types.InlineKeyboardMarkup | None]:
    query = listings.moderation_queue(current_user())
    found = ui.page_of(query, page)
    total = found.total
    if not total:
        return t("No listings wait for moderation."), None
    items = found.items
    rows = [
        [(t("Approve") + f" #{lst.id}", APPROVE.new(lst.id)), (t("Reject") + f" #{lst.id}", REJECT.new(lst.id))]
        for lst in items
    ]
    rows.append(ui.nav_row(MODERATION_PAGE, page, total))
    text = "\n\n".join(
        short(lst) + f"\n   👤 {lst.realtor.display_name if lst.realtor else '—'} · {lst.agency.name}" for lst in items
    )
    return t("Waiting for moderation: %(n)s", n=total) + "\n\n" + text, ui.inline(*rows)


# --- handlers --------------------------------------------------------------------------------------


def one_id(bot: TeleBot, call: types.CallbackQuery, kind: Callback) -> int | None:
    """The id a ``kind`` button carries, or None after answering it as stale."""
    found = kind.ints(call, 1)
    if found is None:
        ui.stale(bot, call)
        return None
    return found[0]


def editable(bot: TeleBot, call: types.CallbackQuery, kind: Callback) -> Listing | None:
    """The listing a ``kind`` button names if the user may edit it, or None after answering stale."""
    listing_id = one_id(bot, call, kind)
    if listing_id is None:
        return None
    try:
        return listings.editable_listing(current_user(), listing_id)
    except ServiceError:
        ui.stale(bot, call)
        return None


def paged(bot: TeleBot, call: types.CallbackQuery, kind: Callback, page_of_list) -> None:
    """◀ / ▶ of a list: the page the button names, in place."""
    page = one_id(bot, call, kind)
    if page is None:
        return
    bot.answer_callback_query(call.id)
    ui.edit(bot, call, *page_of_list(page))


def show_list(bot: TeleBot, message: types.Message, page_of_list) -> None:
    """The first page of a list (refused with the reason by the update's boundary, e.g. to a user who
    is not staff)."""
    text, markup = page_of_list(1)
    ui.reply(bot, message.chat.id, text, markup)


# -- my listings ------------------------------------------------------------------------------------


def my_listings(message: types.Message, bot: TeleBot) -> None:
    show_list(bot, message, my_listings_page)


def my_listings_nav(call: types.CallbackQuery, bot: TeleBot) -> None:
    paged(bot, call, MY_LISTINGS_PAGE, my_listings_page)


def listing_card_staff(call: types.CallbackQuery, bot: TeleBot) -> None:
    listing = editable(bot, call, LISTING_CARD)
    if listing is None:
        return
    bot.answer_callback_query(call.id)
    extra = f"\n\n{ui.status_text(listing.status)}"
    if listing.rejection_reason:
        extra += f": {listing.rejection_reason}"
    ui.reply(bot, call.message.chat.id, listing_card(listing) + extra, card_actions(listing))


def toggle_active(call: types.CallbackQuery, bot: TeleBot) -> None:
    listing = editable(bot, call, ACTIVATE)
    if listing is None:
        return
    listings.set_listing_active(current_user(), listing, ACTIVATE.parts(call)[1:2] == ["1"])
    bot.answer_callback_query(call.id, t("Listing is visible") if listing.is_active else t("Listing is hidden"))
    bot.edit_message_reply_markup(call.message.chat.id, call.message.message_id, reply_markup=card_actions(listing))


def calendar(call: types.CallbackQuery, bot: TeleBot) -> None:
    listing = editable(bot, call, CALENDAR)
    if listing is None:
        return
    bot.answer_callback_query(call.id)
    markup = ui.inline([(t("Add block"), BLOCK.new(listing.id))])
    ui.reply(bot, call.message.chat.id, calendar_text(listing), markup)


def block_start(call: types.CallbackQuery, bot: TeleBot) -> None:
    listing = editable(bot, call, BLOCK)
    if listing is None:
        return
    bot.answer_callback_query(call.id)
    bot.set_state(call.from_user.id, BlockStates.dates, call.message.chat.id)
    with bot.retrieve_data(call.from_user.id, call.message.chat.id) as data:
        data["listing_id"] = listing.id
    example = listings.agency_today(listing.agency) + timedelta(days=7)
    text = t(
        "Send the first night and the day after the last one, and a reason if you like, e.g. %(example)s",
        example=f"{example} {example + timedelta(days=2)} " + t("repairs"),
    )
    ui.reply(bot, call.message.chat.id, text, ui.cancel_keyboard())


def block_save(message: types.Message, bot: TeleBot) -> None:
    parts = message.text.split(maxsplit=2)
    # A refusal goes to the update's boundary; the step stays for another try.
    date_from, date_to = ui.parse_dates(" ".join(parts[:2]))
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        listing = listings.editable_listing(current_user(), data["listing_id"])
    block = listings.add_block(current_user(), listing, date_from, date_to, parts[2] if len(parts) > 2 else None)
    ui.to_menu(bot, message, t("⛔ Blocked %(from)s — %(to)s.", **{"from": block.date_from, "to": block.date_to}))


# -- add-listing wizard -----------------------------------------------------------------------------


def ask(bot: TeleBot, chat_id: int, index: int) -> None:
    _, _, question, optional = WIZARD_STEPS[index]
    ui.reply(bot, chat_id, t(question), ui.skip_keyboard() if optional else ui.cancel_keyboard())


def wizard_start(message: types.Message, bot: TeleBot) -> None:
    if not (access.is_superuser(current_user()) or access.agency_id_of(current_user())):
        ui.reply(bot, message.chat.id, "⚠️ " + t("You are not a member of an agency"))
        return
    bot.set_state(message.from_user.id, ListingWizard.title, message.chat.id)
    ask(bot, message.chat.id, 0)


def wizard_answer(message: types.Message, bot: TeleBot) -> None:
    """The answer to the wizard's text step the user is at (``WIZARD_STEPS``)."""
    state = bot.get_state(message.from_user.id, message.chat.id)
    index = next(i for i, step in enumerate(WIZARD_STEPS) if step[0].name == state)
    _, field, _, optional = WIZARD_STEPS[index]
    value = None if optional and message.text in ui.labels(ui.SKIP) else message.text.strip()
    listings.clean_listing_fields({field: value}, creating=False)  # refused: the step is asked again
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        data[field] = value
    if index + 1 < len(WIZARD_STEPS):
        bot.set_state(message.from_user.id, WIZARD_STEPS[index + 1][0], message.chat.id)
        ask(bot, message.chat.id, index + 1)
        return
    bot.set_state(message.from_user.id, ListingWizard.amenities, message.chat.id)
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        data["amenities"] = []
    text = t("Step 7 of 8: amenities (tap to choose), then Done.")
    ui.reply(bot, message.chat.id, text, ui.amenities_keyboard(WIZARD_AMENITY.prefix, []))


def wizard_amenity(call: types.CallbackQuery, bot: TeleBot) -> None:
    chat_id, user_id = call.message.chat.id, call.from_user.id
    if bot.get_state(user_id, chat_id) != ListingWizard.amenities.name:
        ui.stale(bot, call)
        return
    code = call.data[len(WIZARD_AMENITY.prefix) :]
    with bot.retrieve_data(user_id, chat_id) as data:
        chosen = list(data.get("amenities") or [])
        if code != "=":
            chosen = [c for c in chosen if c != code] if code in chosen else [*chosen, code]
            data["amenities"] = chosen
    bot.answer_callback_query(call.id)
    if code != "=":
        markup = ui.amenities_keyboard(WIZARD_AMENITY.prefix, chosen)
        bot.edit_message_reply_markup(chat_id, call.message.message_id, reply_markup=markup)
        return
    bot.edit_message_reply_markup(chat_id, call.message.message_id, reply_markup=None)
    bot.set_state(user_id, ListingWizard.photos, chat_id)
    markup = types.ReplyKeyboardMarkup(resize_keyboard=True)
    markup.row(t(ui.DONE), t(ui.CANCEL))
    ui.reply(bot, chat_id, t("Step 8 of 8: send photos (up to 10), then press Done. Or press Done now."), markup)


def wizard_photo(message: types.Message, bot: TeleBot) -> None:
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        photos = list(data.get("photos") or [])
        if len(photos) < listings.MAX_PHOTOS:
            photos.append(message.photo[-1].file_id)
        data["photos"] = photos
    ui.reply(bot, message.chat.id, t("📷 Photos: %(n)s. Send more or press Done.", n=len(photos)))


def wizard_finish(message: types.Message, bot: TeleBot) -> None:
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        fields = {k: data.get(k) for k in (*(s[1] for s in WIZARD_STEPS), "amenities", "photos")}
    fields["photos"] = fields["photos"] or []
    try:
        listing = listings.create_listing(current_user(), fields, source="bot")
    except ServiceError as exc:
        # The wizard ends either way: the user goes back to the menu (its keyboard), which the
        # boundary cannot show. Rolled back here because the boundary will commit this update.
        db.session.rollback()
        ui.to_menu(bot, message, ui.error_text(exc))
        return
    saved = t("✅ Listing #%(id)s “%(title)s” is saved and sent to moderation.", id=listing.id, title=listing.title)
    ui.to_menu(bot, message, saved)


# -- bookings of my listings ------------------------------------------------------------------------


def staff_bookings(message: types.Message, bot: TeleBot) -> None:
    show_list(bot, message, staff_bookings_page)


def staff_bookings_nav(call: types.CallbackQuery, bot: TeleBot) -> None:
    paged(bot, call, BOOKINGS_PAGE, staff_bookings_page)


def handle_booking(bot: TeleBot, call: types.CallbackQuery, kind: Callback, action) -> None:
    booking_id = one_id(bot, call, kind)
    if booking_id is None:
        return
    try:
        booking = bookings.handled_booking(current_user(), booking_id)
    except ServiceError:
        ui.stale(bot, call)
        return
    action(current_user(), booking)  # a refusal goes to the update's boundary
    bot.answer_callback_query(call.id, ui.status_text(booking.status))
    ui.edit(bot, call, *staff_bookings_page(1))


def confirm(call: types.CallbackQuery, bot: TeleBot) -> None:
    handle_booking(bot, call, CONFIRM, bookings.confirm_booking)


def cancel(call: types.CallbackQuery, bot: TeleBot) -> None:
    handle_booking(bot, call, CANCEL, bookings.cancel_booking)


# -- moderation -------------------------------------------------------------------------------------


def moderation(message: types.Message, bot: TeleBot) -> None:
    show_list(bot, message, moderation_page)


def moderation_nav(call: types.CallbackQuery, bot: TeleBot) -> None:
    paged(bot, call, MODERATION_PAGE, moderation_page)


def moderatable(bot: TeleBot, call: types.CallbackQuery, kind: Callback) -> Listing | None:
    listing_id = one_id(bot, call, kind)
    if listing_id is None:
        return None
    try:
        return listings.moderatable_listing(current_user(), listing_id)
    except ServiceError:
        ui.stale(bot, call)
        return None


def approve(call: types.CallbackQuery, bot: TeleBot) -> None:
    listing = moderatable(bot, call, APPROVE)
    if listing is None:
        return
    listings.approve_listing(current_user(), listing)  # a refusal goes to the update's boundary
    bot.answer_callback_query(call.id, t("✅ Approved"))
    ui.edit(bot, call, *moderation_page(1))


def reject_start(call: types.CallbackQuery, bot: TeleBot) -> None:
    listing = moderatable(bot, call, REJECT)
    if listing is None:
        return
    bot.answer_callback_query(call.id)
    bot.set_state(call.from_user.id, RejectStates.reason, call.message.chat.id)
    with bot.retrieve_data(call.from_user.id, call.message.chat.id) as data:
        data["listing_id"] = listing.id
    text = t("Why is “%(title)s” rejected?", title=listing.title)
    ui.reply(bot, call.message.chat.id, text, ui.cancel_keyboard())


def reject_save(message: types.Message, bot: TeleBot) -> None:
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        listing_id = data["listing_id"]
    # A refusal goes to the update's boundary; the step stays for another try.
    listing = listings.moderatable_listing(current_user(), listing_id)
    listings.reject_listing(current_user(), listing, message.text)
    ui.to_menu(bot, message, t("⛔ Listing #%(id)s is rejected.", id=listing.id))


# -- registration (first match wins) ----------------------------------------------------------------

MESSAGES = [
    (my_listings, {"func": ui.is_label(ui.MY_LISTINGS)}),
    (block_save, {"state": BlockStates.dates, "content_types": ["text"]}),
    (wizard_start, {"func": ui.is_label(ui.ADD_LISTING)}),
    (wizard_answer, {"state": [step[0] for step in WIZARD_STEPS], "content_types": ["text"]}),
    (wizard_photo, {"state": ListingWizard.photos, "content_types": ["photo"]}),
    (wizard_finish, {"state": ListingWizard.photos, "func": ui.is_label(ui.DONE)}),
    (staff_bookings, {"func": ui.is_label(ui.BOOKINGS)}),
    (moderation, {"func": ui.is_label(ui.MODERATION)}),
    (reject_save, {"state": RejectStates.reason, "content_types": ["text"]}),
]
BUTTONS = [
    (my_listings_nav, MY_LISTINGS_PAGE),
    (listing_card_staff, LISTING_CARD),
    (toggle_active, ACTIVATE),
    (calendar, CALENDAR),
    (block_start, BLOCK),
    (wizard_amenity, WIZARD_AMENITY),
    (staff_bookings_nav, BOOKINGS_PAGE),
    (confirm, CONFIRM),
    (cancel, CANCEL),
    (moderation_nav, MODERATION_PAGE),
    (approve, APPROVE),
    (reject_start, REJECT),
]


def register(bot: TeleBot) -> None:
    for handler, filters in MESSAGES:
        bot.register_message_handler(handler, pass_bot=True, **filters)
    for handler, kind in BUTTONS:
        bot.register_callback_query_handler(handler, func=kind.matches, pass_bot=True)
