"""Guest side of the realty bot: step-by-step search, listing cards, booking with the demo payment,
my bookings (cancel, review), favourites, reviews and notifications."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from telebot import TeleBot, types
from telebot.handler_backends import State, StatesGroup

from botworker.context import current_account, current_bot, current_user, user_language
from botworker.realty import ui
from botworker.realty.ui import t
from webapp.core.services import ServiceError
from webapp.extensions import db, redis_store
from webapp.realty.models import Booking, BookingStatus, Listing
from webapp.realty.services import bookings, listings, notify, social

SEARCH_TTL = 24 * 3600


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
        row.append((t("Pay (demo)") + f" #{booking.id}", f"pay:{booking.id}"))
    if booking.status in (BookingStatus.PENDING.value, BookingStatus.CONFIRMED.value):
        row.append((t("Cancel") + f" #{booking.id}", f"cb:{booking.id}"))
    if booking.status == BookingStatus.COMPLETED.value and not _reviewed(booking):
        row.append((t("Leave a review") + f" #{booking.id}", f"rv:{booking.id}"))
    return row


def _reviewed(booking: Booking) -> bool:
    from webapp.realty.models import Review

    return db.session.scalar(sa.select(Review.id).where(Review.booking_id == booking.id)) is not None


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
                (f"{n}. " + t("Details"), f"l:{listing.id}"),
                (t("Book"), f"b:{listing.id}"),
                (t("To favorites"), f"f:{listing.id}"),
            ]
        )
    rows.append(ui.nav_row("sp:", page, result["total"]))
    return "\n\n".join(lines), ui.inline(*rows)


def current_user_tg_id() -> int:
    return current_account().telegram_user_id


def bookings_page(page: int) -> tuple[str, types.InlineKeyboardMarkup | None]:
    query = bookings.guest_bookings(current_user())
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    if not total:
        return t("You have no bookings yet. Find a place with 🔍 Search."), None
    items = db.session.scalars(query.limit(ui.PAGE_SIZE).offset((page - 1) * ui.PAGE_SIZE)).unique().all()
    rows = [booking_actions(b) for b in items]
    rows.append(ui.nav_row("mb:", page, total))
    return "\n\n".join(booking_line(b) for b in items), ui.inline(*rows)


def favorites_page(page: int) -> tuple[str, types.InlineKeyboardMarkup | None]:
    query = social.favorites_of(current_user())
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    if not total:
        return t("No favorites yet. Add listings from search results with “To favorites”."), None
    first = (page - 1) * ui.PAGE_SIZE
    favorites = db.session.scalars(query.limit(ui.PAGE_SIZE).offset(first)).unique().all()
    lines, rows = [], []
    for n, favorite in enumerate(favorites, first + 1):
        lines.append(listing_line(n, favorite.listing))
        rows.append(
            [
                (f"{n}. " + t("Details"), f"l:{favorite.listing_id}"),
                (t("Book"), f"b:{favorite.listing_id}"),
                (t("Remove"), f"uf:{favorite.listing_id}"),
            ]
        )
    rows.append(ui.nav_row("fv:", page, total))
    return "\n\n".join(lines), ui.inline(*rows)


# --- handlers --------------------------------------------------------------------------------------


def register(bot: TeleBot) -> None:
    chat = ui.Chat(bot)
    reply = chat.reply
    back_to_menu = chat.to_menu

    def step(message: types.Message, state: State, text: str, markup=None) -> None:
        bot.set_state(message.from_user.id, state, message.chat.id)
        reply(message.chat.id, text, markup or ui.skip_keyboard())

    def skipped(message: types.Message) -> bool:
        return message.text in ui.labels(ui.SKIP)

    # Cancel works in every step of every conversation of this bot.
    @bot.message_handler(func=ui.is_label(ui.CANCEL), state="*")
    def cancel(message: types.Message) -> None:
        back_to_menu(message, t("Cancelled."))

    # -- search -------------------------------------------------------------------------------------

    @bot.message_handler(func=ui.is_label(ui.SEARCH))
    def search_start(message: types.Message) -> None:
        with_cities = db.session.scalars(
            sa.select(Listing.city)
            .where(Listing.status == "approved", Listing.is_active.is_(True))
            .group_by(Listing.city)
            .order_by(sa.func.count().desc(), Listing.city)
            .limit(6)
        ).all()
        step(message, SearchStates.city, t("🔍 Step 1 of 5. Which city? Type it or pick one below."))
        if with_cities:
            # Buttons carry the city's position (a Cyrillic name could outgrow 64 bytes of callback data).
            with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
                data["cities"] = list(with_cities)
            buttons = [(city, f"sc:{n}") for n, city in enumerate(with_cities)]
            reply(message.chat.id, t("Popular cities:"), ui.inline(buttons[:3], buttons[3:]))

    def got_city(chat_id: int, user_id: int, city: str | None) -> None:
        with bot.retrieve_data(user_id, chat_id) as data:
            data["city"] = city
        bot.set_state(user_id, SearchStates.dates, chat_id)
        reply(
            chat_id,
            t("Step 2 of 5. Dates of your stay: check-in and check-out, e.g. %(example)s", example=ui.example_dates()),
            ui.skip_keyboard(),
        )

    @bot.message_handler(state=SearchStates.city, content_types=["text"])
    def search_city(message: types.Message) -> None:
        got_city(message.chat.id, message.from_user.id, None if skipped(message) else message.text.strip()[:100])

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "sc:"))
    def search_city_button(call: types.CallbackQuery) -> None:
        bot.answer_callback_query(call.id)
        if bot.get_state(call.from_user.id, call.message.chat.id) != SearchStates.city.name:
            return
        with bot.retrieve_data(call.from_user.id, call.message.chat.id) as data:
            cities = data.get("cities") or []
        position = int(call.data.split(":")[2])
        if position < len(cities):
            got_city(call.message.chat.id, call.from_user.id, cities[position])

    @bot.message_handler(state=SearchStates.dates, content_types=["text"])
    def search_dates(message: types.Message) -> None:
        check_in = check_out = None
        if not skipped(message):
            try:
                check_in, check_out = ui.parse_dates(message.text)
                listings.SearchFilters(check_in=check_in, check_out=check_out).validate()
            except ServiceError as exc:
                reply(message.chat.id, ui.error_text(exc))
                return
        with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
            data["check_in"] = check_in.isoformat() if check_in else None
            data["check_out"] = check_out.isoformat() if check_out else None
            city = data.get("city")
        hint = price_hint(listings.price_example(city))
        step(message, SearchStates.price, t("Step 3 of 5. Price per night.") + " " + hint)

    @bot.message_handler(state=SearchStates.price, content_types=["text"])
    def search_price(message: types.Message) -> None:
        low = high = None
        if not skipped(message):
            with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
                city = data.get("city")
            try:
                low, high = parse_price(message.text, listings.price_example(city))
            except ServiceError as exc:
                reply(message.chat.id, "⚠️ " + exc.message)
                return
        with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
            data["price_min"], data["price_max"] = low, high
        step(message, SearchStates.guests, t("Step 4 of 5. How many guests?"))

    @bot.message_handler(state=SearchStates.guests, content_types=["text"])
    def search_guests(message: types.Message) -> None:
        guests = None
        if not skipped(message):
            if not message.text.strip().isdigit() or not 1 <= int(message.text.strip()) <= 50:
                reply(message.chat.id, "⚠️ " + t("Send a number from 1 to 50"))
                return
            guests = int(message.text.strip())
        with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
            data["guests"] = guests
            data["amenities"] = []
        bot.set_state(message.from_user.id, SearchStates.amenities, message.chat.id)
        reply(
            message.chat.id,
            t("Step 5 of 5. Amenities you need (tap to choose), then Done."),
            ui.amenities_keyboard("sa:", []),
        )

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "sa:"))
    def search_amenity(call: types.CallbackQuery) -> None:
        chat_id, user_id = call.message.chat.id, call.from_user.id
        if bot.get_state(user_id, chat_id) != SearchStates.amenities.name:
            bot.answer_callback_query(call.id, t("This search is over. Start a new one with 🔍 Search."))
            return
        code = call.data.split(":", 2)[2]
        with bot.retrieve_data(user_id, chat_id) as data:
            chosen = list(data.get("amenities") or [])
            if code != "=":
                chosen = [c for c in chosen if c != code] if code in chosen else [*chosen, code]
                data["amenities"] = chosen
            saved = dict(data)
        bot.answer_callback_query(call.id)
        if code != "=":
            bot.edit_message_reply_markup(
                chat_id, call.message.message_id, reply_markup=ui.amenities_keyboard("sa:", chosen)
            )
            return
        bot.delete_state(user_id, chat_id)
        save_search(
            user_id,
            {
                k: saved.get(k)
                for k in ("city", "check_in", "check_out", "price_min", "price_max", "guests", "amenities")
            },
        )
        bot.edit_message_reply_markup(chat_id, call.message.message_id, reply_markup=None)
        reply(chat_id, t("Searching…"), ui.main_menu(user_language()))
        try:
            text, markup = results_page(1)
        except ServiceError as exc:
            reply(chat_id, ui.error_text(exc))
            return
        reply(chat_id, text, markup)

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "sp:"))
    def search_page(call: types.CallbackQuery) -> None:
        bot.answer_callback_query(call.id)
        text, markup = results_page(int(call.data.split(":")[2]))
        bot.edit_message_text(text, call.message.chat.id, call.message.message_id, reply_markup=markup)

    # -- listing card, favourites -----------------------------------------------------------------

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "l:"))
    def details(call: types.CallbackQuery) -> None:
        try:
            listing = listings.visible_listing(int(call.data.split(":")[2]))
        except ServiceError as exc:
            bot.answer_callback_query(call.id, ui.error_text(exc))
            return
        bot.answer_callback_query(call.id)
        markup = ui.inline([(t("Book"), f"b:{listing.id}"), (t("To favorites"), f"f:{listing.id}")])
        reply(call.message.chat.id, listing_card(listing), markup)

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "f:"))
    def favorite(call: types.CallbackQuery) -> None:
        try:
            social.add_favorite(current_user(), int(call.data.split(":")[2]))
        except ServiceError as exc:
            bot.answer_callback_query(call.id, ui.error_text(exc))
            return
        bot.answer_callback_query(call.id, t("⭐ Added to favorites"))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "uf:"))
    def unfavorite(call: types.CallbackQuery) -> None:
        social.remove_favorite(current_user(), int(call.data.split(":")[2]))
        bot.answer_callback_query(call.id, t("Removed from favorites"))
        text, markup = favorites_page(1)
        bot.edit_message_text(text, call.message.chat.id, call.message.message_id, reply_markup=markup)

    @bot.message_handler(func=ui.is_label(ui.FAVORITES))
    def favorites(message: types.Message) -> None:
        text, markup = favorites_page(1)
        reply(message.chat.id, text, markup)

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "fv:"))
    def favorites_nav(call: types.CallbackQuery) -> None:
        bot.answer_callback_query(call.id)
        text, markup = favorites_page(int(call.data.split(":")[2]))
        bot.edit_message_text(text, call.message.chat.id, call.message.message_id, reply_markup=markup)

    # -- booking and the demo payment ---------------------------------------------------------------

    def book(chat_id: int, user_id: int, listing_id: int, check_in, check_out, guests: int) -> None:
        """Show the stay with its nights and total and ask to confirm it; nothing is booked yet."""
        try:
            offer = bookings.quote_booking(listing_id, check_in, check_out, guests)
        except ServiceError as exc:
            db.session.rollback()
            reply(chat_id, ui.error_text(exc))
            return
        stay = f"{listing_id}:{check_in:%Y%m%d}:{check_out:%Y%m%d}:{guests}"
        reply(chat_id, stay_summary(offer), ui.inline([(t("✅ Confirm"), f"bk:{stay}"), (t(ui.CANCEL), "bx")]))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "bk:"))
    def book_confirmed(call: types.CallbackQuery) -> None:
        try:
            listing_id, check_in, check_out, guests = call.data.split(":")[2:6]
            stay = (int(listing_id), ui.parse_compact_date(check_in), ui.parse_compact_date(check_out), int(guests))
        except ValueError:
            bot.answer_callback_query(call.id, t("This button is no longer active."))
            return
        try:
            booking = bookings.create_booking(current_user(), *stay)
        except ServiceError as exc:
            db.session.rollback()
            bot.answer_callback_query(call.id, ui.error_text(exc), show_alert=True)
            return
        bot.answer_callback_query(call.id)
        bot.edit_message_reply_markup(call.message.chat.id, call.message.message_id, reply_markup=None)
        text = t(
            "Booking #%(id)s is created and waits for confirmation.\n%(line)s",
            id=booking.id,
            line=booking_line(booking),
        )
        reply(call.message.chat.id, text, ui.inline(booking_actions(booking)))

    @bot.callback_query_handler(func=lambda c: c.data == ui.CB + "bx")
    def book_cancelled(call: types.CallbackQuery) -> None:
        bot.answer_callback_query(call.id)
        chat.edit(call, call.message.text + "\n\n" + t("✖️ Not booked."), None)

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "b:"))
    def book_button(call: types.CallbackQuery) -> None:
        bot.answer_callback_query(call.id)
        listing_id = int(call.data.split(":")[2])
        saved = load_search(call.from_user.id)
        if saved.get("check_in"):
            book(
                call.message.chat.id,
                call.from_user.id,
                listing_id,
                date.fromisoformat(saved["check_in"]),
                date.fromisoformat(saved["check_out"]),
                saved.get("guests") or 1,
            )
            return
        bot.set_state(call.from_user.id, BookStates.dates, call.message.chat.id)
        with bot.retrieve_data(call.from_user.id, call.message.chat.id) as data:
            data["listing_id"] = listing_id
            data["guests"] = saved.get("guests") or 1
        listing = db.session.get(Listing, listing_id)
        today = listings.agency_today(listing.agency) if listing is not None else None
        reply(
            call.message.chat.id,
            t("Dates of your stay: check-in and check-out, e.g. %(example)s", example=ui.example_dates(today)),
            ui.cancel_keyboard(),
        )

    @bot.message_handler(state=BookStates.dates, content_types=["text"])
    def book_dates(message: types.Message) -> None:
        try:
            check_in, check_out = ui.parse_dates(message.text)
        except ServiceError as exc:
            reply(message.chat.id, ui.error_text(exc))
            return
        with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
            listing_id, guests = data["listing_id"], data.get("guests") or 1
        bot.delete_state(message.from_user.id, message.chat.id)
        book(message.chat.id, message.from_user.id, listing_id, check_in, check_out, guests)

    def guest_booking(call: types.CallbackQuery) -> Booking | None:
        booking = db.session.get(Booking, int(call.data.split(":")[2]))
        if booking is None or booking.guest_id != current_user().id:
            bot.answer_callback_query(call.id, t("This button is no longer active."))
            return None
        return booking

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "pay:"))
    def pay(call: types.CallbackQuery) -> None:
        booking = guest_booking(call)
        if booking is None:
            return
        try:
            payment = bookings.pay_demo(current_user(), booking)
        except ServiceError as exc:
            db.session.rollback()
            bot.answer_callback_query(call.id, ui.error_text(exc))
            return
        bot.answer_callback_query(call.id, t("💳 Paid"))
        bot.edit_message_reply_markup(call.message.chat.id, call.message.message_id, reply_markup=None)
        reply(
            call.message.chat.id,
            t(
                "💳 Payment of %(amount)s received (demo). Booking #%(id)s is confirmed.",
                amount=ui.money(payment.amount, payment.currency),
                id=booking.id,
            ),
        )

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "cb:"))
    def cancel_booking(call: types.CallbackQuery) -> None:
        booking = guest_booking(call)
        if booking is None:
            return
        try:
            bookings.cancel_booking(current_user(), booking)
        except ServiceError as exc:
            db.session.rollback()
            bot.answer_callback_query(call.id, ui.error_text(exc))
            return
        bot.answer_callback_query(call.id, t("Booking cancelled"))
        text, markup = bookings_page(1)
        bot.edit_message_text(text, call.message.chat.id, call.message.message_id, reply_markup=markup)

    @bot.message_handler(func=ui.is_label(ui.MY_BOOKINGS))
    def my_bookings(message: types.Message) -> None:
        text, markup = bookings_page(1)
        reply(message.chat.id, text, markup)

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "mb:"))
    def my_bookings_nav(call: types.CallbackQuery) -> None:
        bot.answer_callback_query(call.id)
        text, markup = bookings_page(int(call.data.split(":")[2]))
        bot.edit_message_text(text, call.message.chat.id, call.message.message_id, reply_markup=markup)

    # -- reviews ------------------------------------------------------------------------------------

    @bot.message_handler(func=ui.is_label(ui.REVIEWS))
    def reviews(message: types.Message) -> None:
        stays = db.session.scalars(social.reviewable_bookings(current_user()).limit(10)).unique().all()
        if not stays:
            reply(message.chat.id, t("You can leave a review after a completed stay. There is nothing to review now."))
            return
        rows = [[(t("Leave a review") + f" #{b.id}", f"rv:{b.id}")] for b in stays]
        reply(message.chat.id, "\n\n".join(booking_line(b) for b in stays), ui.inline(*rows))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "rv:"))
    def review_rating(call: types.CallbackQuery) -> None:
        booking = guest_booking(call)
        if booking is None:
            return
        bot.answer_callback_query(call.id)
        stars = [(("⭐" * n), f"rt:{booking.id}:{n}") for n in range(1, 6)]
        reply(
            call.message.chat.id,
            t("Rate your stay at “%(title)s”:", title=booking.listing.title),
            ui.inline(stars[:3], stars[3:]),
        )

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "rt:"))
    def review_text_step(call: types.CallbackQuery) -> None:
        _, _, booking_id, rating = call.data.split(":")
        bot.answer_callback_query(call.id)
        bot.set_state(call.from_user.id, ReviewStates.text, call.message.chat.id)
        with bot.retrieve_data(call.from_user.id, call.message.chat.id) as data:
            data["booking_id"], data["rating"] = int(booking_id), int(rating)
        reply(call.message.chat.id, t("A few words about your stay (or Skip):"), ui.skip_keyboard())

    @bot.message_handler(state=ReviewStates.text, content_types=["text"])
    def review_save(message: types.Message) -> None:
        with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
            booking_id, rating = data["booking_id"], data["rating"]
        booking = db.session.get(Booking, booking_id)
        text = "" if skipped(message) else message.text
        try:
            if booking is None:
                raise ServiceError("Booking not found", 404)
            social.add_review(current_user(), booking, rating, text)
        except ServiceError as exc:
            db.session.rollback()
            back_to_menu(message, ui.error_text(exc))
            return
        back_to_menu(message, t("Thank you for your review!"))

    # -- notifications ------------------------------------------------------------------------------

    @bot.message_handler(func=ui.is_label(ui.NOTIFICATIONS))
    def notifications(message: types.Message) -> None:
        rows = notify.unread(current_user(), limit=10)
        if not rows:
            reply(message.chat.id, t("No unread notifications."))
            return
        text = "\n\n".join(f"🔔 {n.created_at:%d.%m %H:%M} UTC\n{n.text}" for n in reversed(rows))
        reply(message.chat.id, text, ui.inline([(t("Mark as read"), "n:read")]))

    @bot.callback_query_handler(func=lambda c: c.data == ui.CB + "n:read")
    def notifications_read(call: types.CallbackQuery) -> None:
        changed = notify.mark_read(current_user())
        bot.answer_callback_query(call.id, t("Marked as read: %(n)s", n=changed))
        bot.edit_message_reply_markup(call.message.chat.id, call.message.message_id, reply_markup=None)
