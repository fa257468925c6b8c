"""Guest side of the realty bot: step-by-step search, listing cards, booking with the demo payment,
my bookings (cancel, review), favourites, reviews and notifications. A refusal (ServiceError)
propagates: the update's boundary rolls it back and tells the user "⚠️ " and why, in their language."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation

from telebot import TeleBot, types
from telebot.handler_backends import State, StatesGroup

from botworker.callbacks import Callback
from botworker.context import current_account, current_bot, current_user, user_language
from botworker.realty import ui
from botworker.realty.ui import t
from webapp.core.services import ServiceError
from webapp.extensions import db, redis_store
from webapp.realty.models import Booking, BookingStatus, Listing
from webapp.realty.services import bookings, listings, notify, social

SEARCH_TTL = 24 * 3600
POPULAR_CITIES = 6

# The buttons of the guest side (r:<name>:<part>…).
SEARCH_CITY = ui.callback("sc")  # position of a popular city in the conversation's list
SEARCH_AMENITY = ui.callback("sa")  # an amenity code, or "=" for Done
SEARCH_PAGE = ui.callback("sp")
DETAILS = ui.callback("l")
FAVORITE = ui.callback("f")
UNFAVORITE = ui.callback("uf")
FAVORITES_PAGE = ui.callback("fv")
BOOK = ui.callback("b")  # a listing: book it with the saved search's dates, or ask them
CONFIRM_STAY = ui.callback("bk")  # listing:check-in:check-out:guests
NOT_BOOKED = ui.CB + "bx"
PAY = ui.callback("pay")
CANCEL_BOOKING = ui.callback("cb")
MY_BOOKINGS_PAGE = ui.callback("mb")
REVIEW = ui.callback("rv")  # a booking
RATING = ui.callback("rt")  # booking:stars
MARK_READ = ui.CB + "n:read"


class SearchStates(StatesGroup):
    city = State()
    dates = State()
    price = State()
    guests = State()
    amenities = State()


class BookStates(StatesGroup):
    dates = State()


class ReviewStates(StatesGroup):
    text = State()


# --- the saved search (filters outlive the conversation: pages and "Book" buttons use them) -------


def _search_key(user_id: int) -> str:
    return f"botdesk:realty:search:{current_bot().id}:{user_id}"


def save_search(user_id: int, filters: dict) -> None:
    redis_store.client.set(_search_key(user_id), json.dumps(filters), ex=SEARCH_TTL)


def load_search(user_id: int) -> dict:
    raw = redis_store.client.get(_search_key(user_id))
    return json.loads(raw) if raw else {}


def to_filters(saved: dict) -> listings.SearchFilters:
    return listings.SearchFilters(
        city=saved.get("city"),
        check_in=date.fromisoformat(saved["check_in"]) if saved.get("check_in") else None,
        check_out=date.fromisoformat(saved["check_out"]) if saved.get("check_out") else None,
        price_min=Decimal(saved["price_min"]) if saved.get("price_min") else None,
        price_max=Decimal(saved["price_max"]) if saved.get("price_max") else None,
        guests=saved.get("guests"),
        amenities=saved.get("amenities") or [],
    )


def price_hint(example: listings.PriceExample | None) -> str:
    """How to answer the price step, with the real range of nightly prices as the example."""
    if example is None:
        return t("Send a price range like “from-to”, or one number for “up to”")
    return t(
        "Send a price range in %(currency)s like %(low)s-%(high)s, or just %(high)s for “up to %(high)s”",
        currency=example.currency,
        low=example.low,
        high=example.high,
    )


def parse_price(text: str, example: listings.PriceExample | None = None) -> tuple[str | None, str | None]:
    """ "30000-200000" → (30000, 200000); "200000" → (None, 200000): up to; "30000-" → (30000, None)."""
    text = text.replace(" ", "").replace("\u00a0", "").replace("—", "-")
    low, sep, high = text.partition("-")
    if not sep:
        low, high = "", low
    try:
        values = [str(Decimal(v)) if v else None for v in (low, high)]
    except InvalidOperation as exc:
        raise ServiceError(price_hint(example), 422) from exc
    if all(v is None for v in values) or any(v is not None and not Decimal(v).is_finite() for v in values):
        raise ServiceError(price_hint(example), 422)
    if any(v is not None and Decimal(v) < 0 for v in values):
        raise ServiceError(price_hint(example), 422)
    return values[0], values[1]


def stay_summary(offer: bookings.BookingQuote) -> str:
    """The booking as the guest confirms it: dates, nights, price per night and the total."""
    currency = offer.currency
    return t(
        "Please check your booking:\n🏠 %(title)s\n📅 %(check_in)s — %(check_out)s\n🌙 Nights: %(nights)s\n"
        "👥 Guests: %(guests)s\n💰 %(price)s × %(nights)s = %(total)s\n\nConfirm the booking?",
        title=offer.listing.title,
        check_in=f"{offer.check_in:%d.%m.%Y}",
        check_out=f"{offer.check_out:%d.%m.%Y}",
        nights=offer.nights,
        guests=offer.guests,
        price=ui.money(offer.listing.price_per_night, currency),
        total=ui.money(offer.total, currency),
    )


# --- rendering -------------------------------------------------------------------------------------


def listing_line(n: int, listing: Listing) -> str:
    place = ", ".join(p for p in (listing.city, listing.district) if p)
    rating, count = social.rating_of(listing.id)
    stars = f" · ⭐ {rating}" if count else ""
    price = ui.money(listing.price_per_night, listing.agency.currency)
    return f"{n}. {listing.title} — {place}\n   💰 {price} {t('per night')} · 👥 {listing.max_guests}{stars}"


def listing_card(listing: Listing) -> str:
    rating, count = social.rating_of(listing.id)
    lines = [
        f"🏠 {listing.title}",
        "📍 " + ", ".join(p for p in (listing.city, listing.district, listing.address) if p),
        "💰 " + ui.money(listing.price_per_night, listing.agency.currency) + " " + t("per night"),
        "👥 " + t("Up to %(n)s guests", n=listing.max_guests),
    ]
    if listing.amenities:
        lines.append("✨ " + ", ".join(ui.amenity_text(a) for a in listing.amenities))
    if count:
        lines.append("⭐ " + t("%(rating)s (%(count)s reviews)", rating=rating, count=count))
    if listing.photos:
        lines.append("📷 " + t("Photos: %(n)s", n=len(listing.photos)))
    lines += ["", listing.description]
    return "\n".join(lines)


def booking_line(booking: Booking) -> str:
    return (
        f"#{booking.id} {booking.listing.title}\n"
        f"   📅 {booking.check_in:%d.%m.%Y} — {booking.check_out:%d.%m.%Y} · 👥 {booking.guests}\n"
        f"   💰 {ui.money(booking.total_price, booking.listing.agency.currency)} · {ui.status_text(booking.status)}"
        + (" · 💳 " + t("paid") if booking.is_paid else "")
    )


def booking_actions(booking: Booking) -> list[tuple[str, str]]:
    row = []
    if booking.status == BookingStatus.PENDING.value and not booking.is_paid:
        row.append((t("Pay (demo)") + f" #{booking.id}", PAY.new(booking.id)))
    if booking.status in (BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value):
        row.append((t("Cancel") + f" #{booking.id}", CANCEL_BOOKING.new(booking.id)))
    if social.awaits_review(booking):
        row.append((t("Leave a review") + f" #{booking.id}", REVIEW.new(booking.id)))
    return row


def results_page(page: int) -> tuple[str, types.InlineKeyboardMarkup]:
    saved = load_search(current_user_tg_id())
    result = listings.search(to_filters(saved), page, ui.PAGE_SIZE)
    if not result["total"]:
        return t("Nothing found. Try other dates, a wider price range or fewer amenities."), None
    first = (page - 1) * ui.PAGE_SIZE
    lines = [t("Found: %(n)s", n=result["total"])]
    rows = []
    for n, listing in enumerate(result["items"], first + 1):
        lines.append(listing_line(n, listing))
        rows.append(
            [
                (f"{n}. " + t("Details"), DETAILS.new(listing.id)),
                (t("Book"), BOOK.new(listing.id)),
                (t("To favorites"), FAVORITE.new(listing.id)),
            ]
        )
    rows.append(ui.nav_row(SEARCH_PAGE, page, result["total"]))
    return "\n\n".join(lines), ui.inline(*rows)


def current_user_tg_id() -> int:
    return current_account().telegram_user_id


def bookings_page(page: int) -> tuple[str, types.InlineKeyboardMarkup | None]:
    query = bookings.guest_bookings(current_user())
    found = ui.page_of(query, page)
    total, items = found.total, found.items
    if not total:
        return t("You have no bookings yet. Find a place with 🔍 Search."), None
    rows = [booking_actions(b) for b in items]
    rows.append(ui.nav_row(MY_BOOKINGS_PAGE, page, total))
    return "\n\n".join(booking_line(b) for b in items), ui.inline(*rows)


def favorites_page(page: int) -> tuple[str, types.InlineKeyboardMarkup | None]:
    query = social.favorites_of(current_user())
    found = ui.page_of(query, page)
    total, favorites = found.total, found.items
    if not total:
        return t("No favorites yet. Add listings from search results with “To favorites”."), None
    first = (page - 1) * ui.PAGE_SIZE
    lines, rows = [], []
    for n, favorite in enumerate(favorites, first + 1):
        lines.append(listing_line(n, favorite.listing))
        rows.append(
            [
                (f"{n}. " + t("Details"), DETAILS.new(favorite.listing_id)),
                (t("Book"), BOOK.new(favorite.listing_id)),
                (t("Remove"), UNFAVORITE.new(favorite.listing_id)),
            ]
        )
    rows.append(ui.nav_row(FAVORITES_PAGE, page, total))
    return "\n\n".join(lines), ui.inline(*rows)


# --- handlers --------------------------------------------------------------------------------------


def step(bot: TeleBot, message: types.Message, state: State, text: str, markup=None) -> None:
    bot.set_state(message.from_user.id, state, message.chat.id)
    ui.reply(bot, message.chat.id, text, markup or ui.skip_keyboard())


def skipped(message: types.Message) -> bool:
    return message.text in ui.labels(ui.SKIP)


def cancel(message: types.Message, bot: TeleBot) -> None:
    """✖️ Cancel, in every step of every conversation of this bot."""
    ui.to_menu(bot, message, t("Cancelled."))


# -- search -----------------------------------------------------------------------------------------


def search_start(message: types.Message, bot: TeleBot) -> None:
    cities = listings.popular_cities(POPULAR_CITIES)
    step(bot, message, SearchStates.city, t("🔍 Step 1 of 5. Which city? Type it or pick one below."))
    if cities:
        # Buttons carry the city's position (a Cyrillic name could outgrow 64 bytes of callback data).
        with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
            data["cities"] = cities
        buttons = [(city, SEARCH_CITY.new(n)) for n, city in enumerate(cities)]
        ui.reply(bot, message.chat.id, t("Popular cities:"), ui.inline(buttons[:3], buttons[3:]))


def got_city(bot: TeleBot, chat_id: int, user_id: int, city: str | None) -> None:
    with bot.retrieve_data(user_id, chat_id) as data:
        data["city"] = city
    bot.set_state(user_id, SearchStates.dates, chat_id)
    ui.reply(
        bot,
        chat_id,
        t("Step 2 of 5. Dates of your stay: check-in and check-out, e.g. %(example)s", example=ui.example_dates()),
        ui.skip_keyboard(),
    )


def search_city(message: types.Message, bot: TeleBot) -> None:
    got_city(bot, message.chat.id, message.from_user.id, None if skipped(message) else message.text.strip()[:100])


def search_city_button(call: types.CallbackQuery, bot: TeleBot) -> None:
    bot.answer_callback_query(call.id)
    if bot.get_state(call.from_user.id, call.message.chat.id) != SearchStates.city.name:
        return
    with bot.retrieve_data(call.from_user.id, call.message.chat.id) as data:
        cities = data.get("cities") or []
    position = SEARCH_CITY.ints(call, 1)
    if position is not None and 0 <= position[0] < len(cities):
        got_city(bot, call.message.chat.id, call.from_user.id, cities[position[0]])


def search_dates(message: types.Message, bot: TeleBot) -> None:
    check_in = check_out = None
    if not skipped(message):  # refused dates go to the update's boundary; the step stays for another try
        check_in, check_out = ui.parse_dates(message.text)
        listings.SearchFilters(check_in=check_in, check_out=check_out).validate()
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        data["check_in"] = check_in.isoformat() if check_in else None
        data["check_out"] = check_out.isoformat() if check_out else None
        city = data.get("city")
    hint = price_hint(listings.price_example(city))
    step(bot, message, SearchStates.price, t("Step 3 of 5. Price per night.") + " " + hint)


def search_price(message: types.Message, bot: TeleBot) -> None:
    low = high = None
    if not skipped(message):
        with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
            city = data.get("city")
        # A refused range goes to the update's boundary (its message is already in the user's
        # language); the step stays for another try.
        low, high = parse_price(message.text, listings.price_example(city))
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        data["price_min"], data["price_max"] = low, high
    step(bot, message, SearchStates.guests, t("Step 4 of 5. How many guests?"))


def search_guests(message: types.Message, bot: TeleBot) -> None:
    guests = None
    if not skipped(message):
        if not message.text.strip().isdigit() or not 1 <= int(message.text.strip()) <= 50:
            ui.reply(bot, message.chat.id, "⚠️ " + t("Send a number from 1 to 50"))
            return
        guests = int(message.text.strip())
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        data["guests"] = guests
        data["amenities"] = []
    bot.set_state(message.from_user.id, SearchStates.amenities, message.chat.id)
    ui.reply(
        bot,
        message.chat.id,
        t("Step 5 of 5. Amenities you need (tap to choose), then Done."),
        ui.amenities_keyboard(SEARCH_AMENITY.prefix, []),
    )


def search_amenity(call: types.CallbackQuery, bot: TeleBot) -> None:
    chat_id, user_id = call.message.chat.id, call.from_user.id
    if bot.get_state(user_id, chat_id) != SearchStates.amenities.name:
        bot.answer_callback_query(call.id, t("This search is over. Start a new one with 🔍 Search."))
        return
    code = call.data[len(SEARCH_AMENITY.prefix) :]
    with bot.retrieve_data(user_id, chat_id) as data:
        chosen = list(data.get("amenities") or [])
        if code != "=":
            chosen = [c for c in chosen if c != code] if code in chosen else [*chosen, code]
            data["amenities"] = chosen
        saved = dict(data)
    bot.answer_callback_query(call.id)
    if code != "=":
        bot.edit_message_reply_markup(
            chat_id, call.message.message_id, reply_markup=ui.amenities_keyboard(SEARCH_AMENITY.prefix, chosen)
        )
        return
    bot.delete_state(user_id, chat_id)
    fields = ("city", "check_in", "check_out", "price_min", "price_max", "guests", "amenities")
    save_search(user_id, {k: saved.get(k) for k in fields})
    bot.edit_message_reply_markup(chat_id, call.message.message_id, reply_markup=None)
    ui.reply(bot, chat_id, t("Searching…"), ui.main_menu(user_language()))
    text, markup = results_page(1)
    ui.reply(bot, chat_id, text, markup)


def search_page(call: types.CallbackQuery, bot: TeleBot) -> None:
    page = SEARCH_PAGE.ints(call, 1)
    if page is None:
        ui.stale(bot, call)
        return
    bot.answer_callback_query(call.id)
    text, markup = results_page(page[0])
    ui.edit(bot, call, text, markup)


# -- listing card, favourites -----------------------------------------------------------------------


def details(call: types.CallbackQuery, bot: TeleBot) -> None:
    listing_id = DETAILS.ints(call, 1)
    if listing_id is None:
        raise ServiceError("Listing not found", 404, "NOT_FOUND")
    listing = listings.visible_listing(listing_id[0])
    bot.answer_callback_query(call.id)
    markup = ui.inline([(t("Book"), BOOK.new(listing.id)), (t("To favorites"), FAVORITE.new(listing.id))])
    ui.reply(bot, call.message.chat.id, listing_card(listing), markup)


def favorite(call: types.CallbackQuery, bot: TeleBot) -> None:
    listing_id = FAVORITE.ints(call, 1)
    if listing_id is None:
        ui.stale(bot, call)
        return
    social.add_favorite(current_user(), listing_id[0])
    bot.answer_callback_query(call.id, t("⭐ Added to favorites"))


def unfavorite(call: types.CallbackQuery, bot: TeleBot) -> None:
    listing_id = UNFAVORITE.ints(call, 1)
    if listing_id is None:
        ui.stale(bot, call)
        return
    social.remove_favorite(current_user(), listing_id[0])
    bot.answer_callback_query(call.id, t("Removed from favorites"))
    text, markup = favorites_page(1)
    ui.edit(bot, call, text, markup)


def favorites(message: types.Message, bot: TeleBot) -> None:
    text, markup = favorites_page(1)
    ui.reply(bot, message.chat.id, text, markup)


def favorites_nav(call: types.CallbackQuery, bot: TeleBot) -> None:
    page = FAVORITES_PAGE.ints(call, 1)
    if page is None:
        ui.stale(bot, call)
        return
    bot.answer_callback_query(call.id)
    text, markup = favorites_page(page[0])
    ui.edit(bot, call, text, markup)


# -- booking and the demo payment -------------------------------------------------------------------


def offer_stay(bot: TeleBot, chat_id: int, listing_id: int, check_in: date, check_out: date, guests: int) -> None:
    """Show the stay with its nights and total and ask to confirm it; nothing is booked yet."""
    offer = bookings.quote_booking(listing_id, check_in, check_out, guests)
    confirm = CONFIRM_STAY.new(listing_id, f"{check_in:%Y%m%d}", f"{check_out:%Y%m%d}", guests)
    ui.reply(bot, chat_id, stay_summary(offer), ui.inline([(t("✅ Confirm"), confirm), (t(ui.CANCEL), NOT_BOOKED)]))


def book_confirmed(call: types.CallbackQuery, bot: TeleBot) -> None:
    try:
        listing_id, check_in, check_out, guests = CONFIRM_STAY.parts(call)[:4]
        stay = (int(listing_id), ui.parse_compact_date(check_in), ui.parse_compact_date(check_out), int(guests))
    except ValueError:
        ui.stale(bot, call)
        return
    booking = bookings.create_booking(current_user(), *stay)
    bot.answer_callback_query(call.id)
    bot.edit_message_reply_markup(call.message.chat.id, call.message.message_id, reply_markup=None)
    text = t(
        "Booking #%(id)s is created and waits for confirmation.\n%(line)s", id=booking.id, line=booking_line(booking)
    )
    ui.reply(bot, call.message.chat.id, text, ui.inline(booking_actions(booking)))


def book_cancelled(call: types.CallbackQuery, bot: TeleBot) -> None:
    bot.answer_callback_query(call.id)
    ui.edit(bot, call, call.message.text + "\n\n" + t("✖️ Not booked."), None)


def book_button(call: types.CallbackQuery, bot: TeleBot) -> None:
    """ "Book" under a listing: with the saved search's dates straight to the offer, else ask them."""
    listing_id = BOOK.ints(call, 1)
    if listing_id is None:
        ui.stale(bot, call)
        return
    listing_id = listing_id[0]
    bot.answer_callback_query(call.id)
    saved = load_search(call.from_user.id)
    guests = saved.get("guests") or 1
    if saved.get("check_in"):
        check_in, check_out = date.fromisoformat(saved["check_in"]), date.fromisoformat(saved["check_out"])
        offer_stay(bot, call.message.chat.id, listing_id, check_in, check_out, guests)
        return
    bot.set_state(call.from_user.id, BookStates.dates, call.message.chat.id)
    with bot.retrieve_data(call.from_user.id, call.message.chat.id) as data:
        data["listing_id"] = listing_id
        data["guests"] = guests
    today = listings.listing_today(listing_id)
    ui.reply(
        bot,
        call.message.chat.id,
        t("Dates of your stay: check-in and check-out, e.g. %(example)s", example=ui.example_dates(today)),
        ui.cancel_keyboard(),
    )


def book_dates(message: types.Message, bot: TeleBot) -> None:
    check_in, check_out = ui.parse_dates(message.text)  # refused: the step stays for another try
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        listing_id, guests = data["listing_id"], data.get("guests") or 1
    bot.delete_state(message.from_user.id, message.chat.id)
    offer_stay(bot, message.chat.id, listing_id, check_in, check_out, guests)


def guest_booking(bot: TeleBot, call: types.CallbackQuery, kind: Callback) -> Booking | None:
    """The user's own booking a ``kind`` button names, or None after answering it as stale."""
    booking_id = kind.ints(call, 1)
    try:
        if booking_id is None:
            raise ServiceError("Booking not found", 404, "NOT_FOUND")
        return bookings.own_booking(current_user(), booking_id[0])
    except ServiceError:
        ui.stale(bot, call)
        return None


def pay(call: types.CallbackQuery, bot: TeleBot) -> None:
    booking = guest_booking(bot, call, PAY)
    if booking is None:
        return
    payment = bookings.pay_demo(current_user(), booking)
    bot.answer_callback_query(call.id, t("💳 Paid"))
    bot.edit_message_reply_markup(call.message.chat.id, call.message.message_id, reply_markup=None)
    text = t(
        "💳 Payment of %(amount)s received (demo). Booking #%(id)s is confirmed.",
        amount=ui.money(payment.amount, payment.currency),
        id=booking.id,
    )
    ui.reply(bot, call.message.chat.id, text)


def cancel_booking(call: types.CallbackQuery, bot: TeleBot) -> None:
    booking = guest_booking(bot, call, CANCEL_BOOKING)
    if booking is None:
        return
    bookings.cancel_booking(current_user(), booking)
    bot.answer_callback_query(call.id, t("Booking cancelled"))
    text, markup = bookings_page(1)
    ui.edit(bot, call, text, markup)


def my_bookings(message: types.Message, bot: TeleBot) -> None:
    text, markup = bookings_page(1)
    ui.reply(bot, message.chat.id, text, markup)


def my_bookings_nav(call: types.CallbackQuery, bot: TeleBot) -> None:
    page = MY_BOOKINGS_PAGE.ints(call, 1)
    if page is None:
        ui.stale(bot, call)
        return
    bot.answer_callback_query(call.id)
    text, markup = bookings_page(page[0])
    ui.edit(bot, call, text, markup)


# -- reviews ----------------------------------------------------------------------------------------


def reviews(message: types.Message, bot: TeleBot) -> None:
    stays = social.reviewable_stays(current_user(), limit=10)
    if not stays:
        ui.reply(
            bot, message.chat.id, t("You can leave a review after a completed stay. There is nothing to review now.")
        )
        return
    rows = [[(t("Leave a review") + f" #{b.id}", REVIEW.new(b.id))] for b in stays]
    ui.reply(bot, message.chat.id, "\n\n".join(booking_line(b) for b in stays), ui.inline(*rows))


def review_rating(call: types.CallbackQuery, bot: TeleBot) -> None:
    booking = guest_booking(bot, call, REVIEW)
    if booking is None:
        return
    bot.answer_callback_query(call.id)
    stars = [(("⭐" * n), RATING.new(booking.id, n)) for n in range(1, 6)]
    text = t("Rate your stay at “%(title)s”:", title=booking.listing.title)
    ui.reply(bot, call.message.chat.id, text, ui.inline(stars[:3], stars[3:]))


def review_text_step(call: types.CallbackQuery, bot: TeleBot) -> None:
    chosen = RATING.ints(call)
    if chosen is None or len(chosen) != 2:
        ui.stale(bot, call)
        return
    bot.answer_callback_query(call.id)
    bot.set_state(call.from_user.id, ReviewStates.text, call.message.chat.id)
    with bot.retrieve_data(call.from_user.id, call.message.chat.id) as data:
        data["booking_id"], data["rating"] = chosen
    ui.reply(bot, call.message.chat.id, t("A few words about your stay (or Skip):"), ui.skip_keyboard())


def review_save(message: types.Message, bot: TeleBot) -> None:
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        booking_id, rating = data["booking_id"], data["rating"]
    text = "" if skipped(message) else message.text
    try:
        social.add_review(current_user(), bookings.own_booking(current_user(), booking_id), rating, text)
    except ServiceError as exc:
        # The review ends either way: the user goes back to the menu (its keyboard), which the
        # boundary cannot show. Rolled back here because the boundary will commit this update.
        db.session.rollback()
        ui.to_menu(bot, message, ui.error_text(exc))
        return
    ui.to_menu(bot, message, t("Thank you for your review!"))


# -- notifications ----------------------------------------------------------------------------------


def notifications(message: types.Message, bot: TeleBot) -> None:
    rows = notify.unread(current_user(), limit=10)
    if not rows:
        ui.reply(bot, message.chat.id, t("No unread notifications."))
        return
    text = "\n\n".join(f"🔔 {n.created_at:%d.%m %H:%M} UTC\n{n.text}" for n in reversed(rows))
    ui.reply(bot, message.chat.id, text, ui.inline([(t("Mark as read"), MARK_READ)]))


def notifications_read(call: types.CallbackQuery, bot: TeleBot) -> None:
    changed = notify.mark_read(current_user())
    bot.answer_callback_query(call.id, t("Marked as read: %(n)s", n=changed))
    bot.edit_message_reply_markup(call.message.chat.id, call.message.message_id, reply_markup=None)


# -- registration (first match wins) ----------------------------------------------------------------

MESSAGES = [
    (cancel, {"func": ui.is_label(ui.CANCEL), "state": "*"}),  # first: Cancel wins in every state
    (search_start, {"func": ui.is_label(ui.SEARCH)}),
    (search_city, {"state": SearchStates.city, "content_types": ["text"]}),
    (search_dates, {"state": SearchStates.dates, "content_types": ["text"]}),
    (search_price, {"state": SearchStates.price, "content_types": ["text"]}),
    (search_guests, {"state": SearchStates.guests, "content_types": ["text"]}),
    (favorites, {"func": ui.is_label(ui.FAVORITES)}),
    (book_dates, {"state": BookStates.dates, "content_types": ["text"]}),
    (my_bookings, {"func": ui.is_label(ui.MY_BOOKINGS)}),
    (reviews, {"func": ui.is_label(ui.REVIEWS)}),
    (review_save, {"state": ReviewStates.text, "content_types": ["text"]}),
    (notifications, {"func": ui.is_label(ui.NOTIFICATIONS)}),
]
BUTTONS = [
    (search_city_button, SEARCH_CITY.matches),
    (search_amenity, SEARCH_AMENITY.matches),
    (search_page, SEARCH_PAGE.matches),
    (details, DETAILS.matches),
    (favorite, FAVORITE.matches),
    (unfavorite, UNFAVORITE.matches),
    (favorites_nav, FAVORITES_PAGE.matches),
    (book_confirmed, CONFIRM_STAY.matches),
    (book_cancelled, lambda c: c.data == NOT_BOOKED),
    (book_button, BOOK.matches),
    (pay, PAY.matches),
    (cancel_booking, CANCEL_BOOKING.matches),
    (my_bookings_nav, MY_BOOKINGS_PAGE.matches),
    (review_rating, REVIEW.matches),
    (review_text_step, RATING.matches),
    (notifications_read, lambda c: c.data == MARK_READ),
]


def register(bot: TeleBot) -> None:
    for handler, filters in MESSAGES:
        bot.register_message_handler(handler, pass_bot=True, **filters)
    for handler, matches in BUTTONS:
        bot.register_callback_query_handler(handler, func=matches, pass_bot=True)
