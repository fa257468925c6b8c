"""End to end through the sandbox: the real worker runs the realty bot, a sandbox user talks to it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.fixtures.realty import future
from tests.fixtures.telegram import buttons, callback_answer, eventually, inline_data, press, say


class Chat:
    """One sandbox user's conversation with the bot."""

    def __init__(self, sandbox, bot, user) -> None:
        self.sandbox, self.bot, self.user = sandbox, bot, user

    def send(self, text: str, contains: str | None = None, timeout: float = 15) -> dict:
        predicate = (lambda m: contains in (m.get("text") or "")) if contains else None
        return say(self.sandbox, self.bot, self.user, text, timeout=timeout, predicate=predicate)

    def press(self, message: dict, data: str, contains: str | None = None, timeout: float = 15) -> dict:
        pressed = press(self.sandbox, self.bot, self.user, message, data)
        predicate = (lambda m: contains in (m.get("text") or "")) if contains else None
        return self.sandbox.wait_for_bot_message(
            self.bot.token, self.user.chat_id, after_message_id=pressed["after"], timeout=timeout, predicate=predicate
        )

    def press_edit(self, message: dict, data: str, contains: str, timeout: float = 15) -> dict:
        """Press a button whose answer edits ``message`` in place; returns the edited message."""
        press(self.sandbox, self.bot, self.user, message, data)

        def edited():
            for m in self.sandbox.transcript(self.bot.token, self.user.chat_id):
                if m["message_id"] == message["message_id"] and contains in (m.get("text") or ""):
                    return m
            return None

        found = eventually(edited, timeout=timeout)
        assert found, f"message {message['message_id']} never showed {contains!r}"
        return found

    def start(self, language: str) -> dict:
        offer = self.send("/start")
        return self.press(offer, f"lang:start:{language}", contains="!")


def link_account(app, user_ns, bot_ns, tg, language: str = "en") -> None:
    """Give a staff user a Telegram account on this bot (as /link would), speaking ``language``."""
    from webapp.core.models import TelegramAccount, User
    from webapp.extensions import db

    with app.app_context():
        db.session.add(
            TelegramAccount(
                user_id=user_ns.id,
                bot_id=bot_ns.bot_id,
                telegram_user_id=tg.user_id,
                chat_id=tg.chat_id,
                language=language,
            )
        )
        db.session.get(User, user_ns.id).language = language
        db.session.commit()


@pytest.fixture
def realty_bot(sandbox_bot, run_bot):
    bot = sandbox_bot("realty")
    run_bot(bot)
    return bot


def test_guest_search_book_pay_and_the_realtor_is_told(app, sandbox, realty_bot, tg_user, realty_world, run_jobs):
    w = realty_world
    realtor_tg = tg_user(realty_bot, first_name="Realtor", language_code="en")
    link_account(app, w.realtor_a, realty_bot, realtor_tg)
    guest = Chat(sandbox, realty_bot, tg_user(realty_bot, first_name="Guest", language_code="en"))

    welcome = guest.start("en")
    assert "🔍 Search" in buttons(welcome) and "📦 My bookings" in buttons(welcome)
    cities = guest.send("🔍 Search", contains="Popular cities")
    tashkent = dict(zip(buttons(cities), inline_data(cities), strict=True))["Tashkent"]
    guest.press(cities, tashkent, contains="Step 2")
    guest.send(f"{future(3)} {future(5)}", contains="Step 3")
    guest.send("⏭ Skip", contains="Step 4")
    amenities = guest.send("2", contains="Step 5")
    results = guest.press(amenities, "r:sa:=", contains="Found: 1")
    assert "Alpha flat" in results["text"]
    assert inline_data(results)[:3] == [f"r:l:{w.listing_a.id}", f"r:b:{w.listing_a.id}", f"r:f:{w.listing_a.id}"]
    summary = guest.press(results, f"r:b:{w.listing_a.id}", contains="Please check your booking")
    confirm = next(d for d in inline_data(summary) if d.startswith("r:bk:"))
    booked = guest.press(summary, confirm, contains="is created")
    pay_button = next(d for d in inline_data(booked) if d.startswith("r:pay:"))
    booking_id = int(pay_button.split(":")[2])
    paid = guest.press(booked, pay_button, contains="Payment")
    assert f"Booking #{booking_id} is confirmed" in paid["text"]

    from webapp.extensions import db
    from webapp.realty.models import Booking

    def status():
        with app.app_context():
            return db.session.get(Booking, booking_id).status

    assert status() == "confirmed"
    assert run_jobs("notifications") >= 3  # new booking → realtor; created → guest; paid → both
    told = sandbox.wait_for_bot_message(
        realty_bot.token, realtor_tg.chat_id, predicate=lambda m: "is paid" in (m.get("text") or "")
    )
    assert f"Booking #{booking_id}" in told["text"] and "confirmed" in told["text"]


def test_realtor_confirms_a_booking(app, sandbox, realty_bot, tg_user, realty, realty_world):
    w = realty_world
    booking = realty.booking(w.listing_a, w.guest, future(4), future(6))
    realtor_tg = tg_user(realty_bot, first_name="Realtor", language_code="en")
    link_account(app, w.realtor_a, realty_bot, realtor_tg)
    realtor = Chat(sandbox, realty_bot, realtor_tg)
    menu = realtor.send("/menu")
    assert buttons(menu)[:4] == ["🏠 My listings", "➕ Add listing", "📋 Bookings", "🔔 Notifications"]
    listed = realtor.send("📋 Bookings", contains=f"#{booking.id}")
    edited = realtor.press_edit(listed, f"r:ok:{booking.id}", contains="confirmed")
    assert f"r:ok:{booking.id}" not in inline_data(edited) and f"r:no:{booking.id}" in inline_data(edited)

    from webapp.extensions import db
    from webapp.realty.models import Booking

    def status():
        with app.app_context():
            return db.session.get(Booking, booking.id).status

    assert status() == "confirmed"


def test_realtor_adds_listing_and_moderator_approves(app, sandbox, realty_bot, tg_user, realty_world):
    w = realty_world
    realtor_tg, admin_tg = tg_user(realty_bot, language_code="en"), tg_user(realty_bot, language_code="en")
    link_account(app, w.realtor_a, realty_bot, realtor_tg)
    link_account(app, w.moderator, realty_bot, admin_tg)  # the platform's moderator, in no agency
    realtor, admin = Chat(sandbox, realty_bot, realtor_tg), Chat(sandbox, realty_bot, admin_tg)

    realtor.send("➕ Add listing", contains="Step 1 of 8")
    realtor.send("Cosy studio", contains="Step 2")
    realtor.send("Tashkent", contains="Step 3")
    realtor.send("⏭ Skip", contains="Step 4")
    realtor.send("abc", contains="price")  # refused, same step again
    realtor.send("75", contains="Step 5")
    realtor.send("2", contains="Step 6")
    amenities = realtor.send("Quiet and bright", contains="Step 7")
    realtor.sandbox.press(realty_bot.token, realtor_tg.user_id, amenities["message_id"], "r:wa:wifi")
    realtor.press(amenities, "r:wa:=", contains="Step 8")
    saved = realtor.send("✅ Done", contains="sent to moderation")

    from webapp.extensions import db
    from webapp.realty.models import Listing

    def saved_listing():
        with app.app_context():
            return db.session.scalar(sa.select(Listing.id).where(Listing.title == "Cosy studio"))

    assert saved_listing()  # the reply came after the update committed
    with app.app_context():
        listing = db.session.scalar(sa.select(Listing).where(Listing.title == "Cosy studio"))
        assert (listing.status, listing.agency_id, listing.realtor_id) == ("pending", w.a.id, w.realtor_a.id)
        assert (listing.price_per_night, listing.max_guests, listing.amenities) == (75, 2, ["wifi"])
        listing_id = listing.id
    assert f"#{listing_id}" in saved["text"]

    queue = admin.send("🛡 Moderation", contains="Waiting for moderation")
    assert f"r:ap:{listing_id}" in inline_data(queue)
    admin.press_edit(queue, f"r:ap:{listing_id}", contains="No listings wait")

    def status():
        with app.app_context():
            return db.session.get(Listing, listing_id).status

    assert status() == "approved"


def test_superuser_changes_a_role_and_the_menu_follows(app, sandbox, realty_bot, tg_user, make_user):
    from webapp.extensions import db

    su_tg = tg_user(realty_bot, language_code="en")
    superuser = make_user("superuser")
    link_account(app, superuser, realty_bot, su_tg)
    someone = Chat(sandbox, realty_bot, tg_user(realty_bot, first_name="Dilnoza", language_code="en"))
    assert "🔍 Search" in buttons(someone.start("en"))

    su = Chat(sandbox, realty_bot, su_tg)
    listed = su.send("👥 Users", contains="Dilnoza")
    card_button = next(d for text, d in zip(buttons(listed), inline_data(listed), strict=True) if "Dilnoza" in text)
    card = su.press(listed, card_button, contains="Dilnoza")
    uid = card_button.split(":")[2]
    su.press_edit(card, f"r:ur:{uid}:r", contains="Realtor")

    from webapp.core.models import User

    def role():
        with app.app_context():
            return db.session.scalar(sa.select(User.role).where(User.first_name == "Dilnoza"))

    assert role() == "realtor"
    menu = someone.send("/menu")
    assert buttons(menu)[:2] == ["🏠 My listings", "➕ Add listing"]

    from webapp.core.models import AuditLog

    with app.app_context():
        entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "user.role"))
        assert (entry.old_value, entry.new_value, entry.source) == ("user", "realtor", "bot")


SEED_MENUS = {
    "user": ["🔍 Поиск", "📦 Мои бронирования", "⭐ Избранное", "✍ Отзывы", "🔔 Уведомления"],
    "realtor": ["🏠 Мои объекты", "➕ Добавить объект", "📋 Брони", "🔔 Уведомления"],
    "admin": ["👥 Риелторы", "🏢 Агентство", "🏠 Мои объекты", "➕ Добавить объект", "📋 Брони", "🔔 Уведомления"],
    "moderator": ["🛡 Модерация", "🔍 Поиск", "🔔 Уведомления"],
    "superuser": ["🏢 Агентства", "👤 Пользователь", "👥 Пользователи", "🧑\u200d💼 Риелторы", "🛡 Модерация"],
}


@pytest.mark.parametrize("role", list(SEED_MENUS))
def test_each_role_gets_the_seed_menu_in_russian(app, sandbox, realty_bot, tg_user, realty, make_user, role):
    user = make_user(role, language="ru")
    if role in ("realtor", "admin"):
        realty.join(user, realty.agency())
    tg = tg_user(realty_bot, language_code="ru")
    link_account(app, user, realty_bot, tg, language="ru")
    menu = Chat(sandbox, realty_bot, tg).send("/menu")
    assert menu["text"] == "Главное меню"
    labels = buttons(menu)
    assert all(label in labels for label in SEED_MENUS[role]), labels
    assert labels[-2:] == ["❓ Помощь", "🌐 Язык"]


def test_agency_isolation_in_the_bot(app, sandbox, realty_bot, tg_user, realty, realty_world):
    """Admin A's lists hold only agency A; a button kept from before a move out of the agency is refused."""
    w = realty_world
    mine = realty.booking(w.listing_a, w.guest, future(4), future(6))
    theirs = realty.booking(w.listing_b, w.guest, future(4), future(6))
    realty.listing(w.b, w.realtor_b, status="pending", title="Foreign pending")
    realty.listing(w.a, w.realtor_a, status="pending", title="Own pending")
    admin_tg = tg_user(realty_bot, language_code="en")
    link_account(app, w.admin_a, realty_bot, admin_tg)
    admin = Chat(sandbox, realty_bot, admin_tg)
    listed = admin.send("📋 Bookings", contains=f"#{mine.id}")
    assert f"#{theirs.id} " not in listed["text"] and f"r:ok:{theirs.id}" not in inline_data(listed)
    menu = admin.send("/menu")
    assert "🛡 Moderation" not in buttons(menu)  # moderation is the platform's moderators' job

    from webapp.core.services import get_user
    from webapp.extensions import db
    from webapp.realty.models import Booking
    from webapp.realty.services.agencies import get_agency, set_membership

    with app.app_context():
        set_membership(get_user(w.superuser.id), get_user(w.admin_a.id), get_agency(w.b.id))
        db.session.commit()
    pressed = press(sandbox, realty_bot, admin_tg, listed, f"r:ok:{mine.id}")
    answer = callback_answer(sandbox, realty_bot, pressed["callback_query_id"])
    assert answer["answered"] and "no longer active" in (answer.get("text") or "")
    with app.app_context():
        assert db.session.get(Booking, mine.id).status == "pending"


def test_search_in_russian_with_a_typed_city_and_skips(sandbox, realty_bot, tg_user, realty_world):
    guest = Chat(sandbox, realty_bot, tg_user(realty_bot, first_name="Гость", language_code="ru"))
    welcome = guest.start("ru")
    assert buttons(welcome)[:2] == ["🔍 Поиск", "📦 Мои бронирования"]
    guest.send("🔍 Поиск", contains="Шаг 1 из 5")
    guest.send("Самарканд", contains="Шаг 2 из 5")
    example = f"{future(7)} {future(10)}"  # a week ahead by the clock, never a year written in the code
    asked = guest.send("завтра", contains="Отправьте две даты")  # not dates: asked again
    assert asked["text"] == f"⚠️ Отправьте две даты: заезд и выезд, например {example}"
    guest.send("⏭ Пропустить", contains="Шаг 3 из 5")
    guest.send("⏭ Пропустить", contains="Шаг 4 из 5")
    amenities = guest.send("⏭ Пропустить", contains="Шаг 5 из 5")
    nothing = guest.press(amenities, "r:sa:=", contains="Ничего не найдено")
    assert nothing["text"].startswith("Ничего не найдено")


def test_agency_admin_adds_a_realtor(app, sandbox, realty_bot, tg_user, realty_world):
    admin_tg = tg_user(realty_bot, language_code="en")
    link_account(app, realty_world.admin_a, realty_bot, admin_tg)
    admin = Chat(sandbox, realty_bot, admin_tg)
    listed = admin.send("👥 Realtors", contains="Realtor")
    admin.press(listed, "r:radd", contains="E-mail?")
    admin.send("new.realtor@agency.test", contains="Phone")
    admin.send("+998 90 111 22 33", contains="Name?")
    admin.send("Malika", contains="Password")
    done = admin.send("long-enough-pass", contains="is added")
    assert "new.realtor@agency.test" in done["text"]

    from webapp.core.models import Membership, User
    from webapp.extensions import db

    def created():
        with app.app_context():
            user = db.session.scalar(sa.select(User).where(User.email == "new.realtor@agency.test"))
            member = db.session.get(Membership, user.id) if user else None
            return member and (user.role, user.phone, member.organization_id, user.check_password("long-enough-pass"))

    assert created() == ("realtor", "+998901112233", realty_world.a.organization_id, True)


def test_superuser_moves_a_realtor_to_another_agency(app, sandbox, realty_bot, tg_user, realty_world):
    w = realty_world
    su_tg = tg_user(realty_bot, language_code="en")
    link_account(app, w.superuser, realty_bot, su_tg)
    su = Chat(sandbox, realty_bot, su_tg)
    listed = su.send("🧑\u200d💼 Realtors", contains="Realtor")
    uid = w.realtor_a.id.hex
    card = su.press(listed, f"r:pc:{uid}", contains="Alpha Homes")
    su.press(card, f"r:pm:{uid}", contains="Agency ID")
    found = su.send("beta", contains="Choose the agency")
    assert inline_data(found) == [f"r:ps:{uid}:{w.b.id}"]
    pressed = press(sandbox, realty_bot, su_tg, found, f"r:ps:{uid}:{w.b.id}")
    assert "Beta Rent" in callback_answer(sandbox, realty_bot, pressed["callback_query_id"])["text"]

    from webapp.core.models import Membership
    from webapp.extensions import db

    def organization_now():
        with app.app_context():
            return db.session.get(Membership, w.realtor_a.id).organization_id

    assert organization_now() == w.b.organization_id


def test_booking_is_confirmed_from_a_summary_in_the_listings_currency(app, sandbox, realty_bot, tg_user, realty):
    """Search examples come from the clock and the real prices; "Book" shows dates, nights and the total
    in the listing's currency with Confirm / Cancel, and only Confirm books."""
    from webapp.extensions import db
    from webapp.realty.models import Booking

    def bookings():
        with app.app_context():
            return db.session.scalars(sa.select(Booking)).all()

    uzs = realty.agency("Samarkand Stays", city="Samarkand", timezone="Asia/Tashkent")
    cheap = realty.listing(uzs, title="Registan flat", city="Samarkand", price="350000.00")
    realty.listing(uzs, title="Villa", city="Samarkand", price="1200000.00")
    kzt = realty.agency("Shymkent Homes", city="Shymkent", timezone="Asia/Tashkent", currency="KZT")
    steppe = realty.listing(kzt, title="Steppe flat", city="Shymkent", price="25000.00")
    guest = Chat(sandbox, realty_bot, tg_user(realty_bot, first_name="Guest", language_code="en"))
    guest.start("en")

    guest.send("🔍 Search", contains="Step 1")
    dates = guest.send("Samarkand", contains="Step 2")
    assert dates["text"] == f"Step 2 of 5. Dates of your stay: check-in and check-out, e.g. {future(7)} {future(10)}"
    price = guest.send(f"{future(7)} {future(10)}", contains="Step 3")
    assert price["text"] == (
        "Step 3 of 5. Price per night. Send a price range in UZS like 300000-2000000, "
        "or just 2000000 for “up to 2000000”"
    )
    refused = guest.send("cheap", contains="⚠️")
    assert refused["text"] == "⚠️ Send a price range in UZS like 300000-2000000, or just 2000000 for “up to 2000000”"
    guest.send("300000-500000", contains="Step 4")
    amenities = guest.send("2", contains="Step 5")
    results = guest.press(amenities, "r:sa:=", contains="Found: 1")
    assert "Registan flat" in results["text"] and "Villa" not in results["text"]

    summary = guest.press(results, f"r:b:{cheap.id}", contains="Please check your booking")
    d7, d10 = future(7), future(10)
    assert summary["text"] == (
        f"Please check your booking:\n🏠 Registan flat\n📅 {d7:%d.%m.%Y} — {d10:%d.%m.%Y}\n🌙 Nights: 3\n"
        "👥 Guests: 2\n💰 350 000 UZS × 3 = 1 050 000 UZS\n\nConfirm the booking?"
    )
    assert buttons(summary) == ["✅ Confirm", "✖️ Cancel"]
    assert inline_data(summary) == [f"r:bk:{cheap.id}:{d7:%Y%m%d}:{d10:%Y%m%d}:2", "r:bx"]
    assert bookings() == []  # nothing is booked before Confirm
    guest.press_edit(summary, "r:bx", contains="Not booked")
    assert bookings() == []

    summary = guest.press(results, f"r:b:{cheap.id}", contains="Please check your booking")
    created = guest.press(summary, inline_data(summary)[0], contains="is created")
    assert "💰 1 050 000 UZS" in created["text"]

    def booked():
        rows = bookings()
        return len(rows) == 1 and (rows[0].listing_id, rows[0].check_in, rows[0].check_out, rows[0].total_price)

    assert booked() == (cheap.id, d7, d10, 1050000)

    # Without dates in the search, "Book" asks for them (example from the listing agency's today) first.
    guest.send("🔍 Search", contains="Step 1")
    guest.send("Shymkent", contains="Step 2")
    price = guest.send("⏭ Skip", contains="Step 3")
    assert "in KZT like 20000-30000" in price["text"]
    guest.send("⏭ Skip", contains="Step 4")
    amenities = guest.send("⏭ Skip", contains="Step 5")
    results = guest.press(amenities, "r:sa:=", contains="Found: 1")
    asked = guest.press(results, f"r:b:{steppe.id}", contains="Dates of your stay")
    assert asked["text"] == f"Dates of your stay: check-in and check-out, e.g. {future(7)} {future(10)}"
    summary = guest.send(f"{future(3)} {future(5)}", contains="Please check your booking")
    assert "🌙 Nights: 2\n👥 Guests: 1\n💰 25 000 KZT × 2 = 50 000 KZT" in summary["text"]
