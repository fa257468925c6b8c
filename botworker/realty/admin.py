"""Agency admin («Супер Админ») and superuser parts of the realty bot: realtors, agency metrics,
agencies on/off with details, user search, recent users with role and status buttons, and
platform-wide realtors with change/remove agency. Role and status changes go through the same
audited services as the console (source "bot")."""

from __future__ import annotations

from telebot import TeleBot, types
from telebot.handler_backends import State, StatesGroup

from botworker.callbacks import Callback
from botworker.context import current_user, user_language
from botworker.realty import ui
from botworker.realty.ui import t
from webapp.core.models import User
from webapp.core.roles import Role
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.realty import access
from webapp.realty.models import Agency
from webapp.realty.services import agencies

# Role buttons of the seed («Гость/Риелтор/Супер Админ/Суперпользователь») and their codes in callback data.
ROLE_CODES = {"g": Role.USER, "r": Role.REALTOR, "a": Role.ADMIN, "s": Role.SUPERUSER}
ROLE_LABELS = {Role.USER: "Guest", Role.REALTOR: "Realtor", Role.ADMIN: "Super Admin", Role.SUPERUSER: "Superuser"}


class AddRealtor(StatesGroup):
    email = State()
    phone = State()
    name = State()
    password = State()


# The buttons of the admin and superuser menus (r:<name>:<part>…); users by the hex of their id.
REALTORS_PAGE = ui.callback("rl")
REALTOR_ACTIVE = ui.callback("ra")  # user:1|0 (an agency admin's own realtor)
ADD_REALTOR = ui.CB + "radd"
AGENCIES_PAGE = ui.callback("ag")
AGENCY_ACTIVE = ui.callback("agt")  # agency:1|0
AGENCY_DETAILS = ui.callback("agd")
USERS_PAGE = ui.callback("ul")
USER_CARD = ui.callback("uc")
USER_ROLE = ui.callback("ur")  # user:role code
USER_STATUS = ui.callback("us")  # user:1|0
PLATFORM_REALTORS_PAGE = ui.callback("pl")
REALTOR_CARD = ui.callback("pc")
REALTOR_STATUS = ui.callback("pt")  # user:1|0
REMOVE_AGENCY = ui.callback("px")
MOVE_REALTOR = ui.callback("pm")
MOVE_TO = ui.callback("ps")  # user:agency

# The add-realtor conversation's text steps: state, field, next state, its question.
ADD_REALTOR_STEPS = [
    (AddRealtor.email, "email", AddRealtor.phone, "Phone (or Skip)?"),
    (AddRealtor.phone, "phone", AddRealtor.name, "Name?"),
    (AddRealtor.name, "first_name", AddRealtor.password, "Password (at least 8 characters)?"),
]


class FindUser(StatesGroup):
    query = State()


class MoveRealtor(StatesGroup):
    query = State()


def role_name(role: str) -> str:
    try:
        return t(ROLE_LABELS.get(Role(role), role))
    except ValueError:
        return role


def active_text(active: bool) -> str:
    return t("✅ active") if active else t("🚫 blocked")


def user_line(user: User) -> str:
    agency = agencies.agency_of_member(user)  # a blocked realtor still shows their agency
    contacts = " · ".join(p for p in (user.email, user.phone) if p)
    where = f" · 🏢 {agency.name}" if agency else ""
    return (
        f"{user.display_name} — {role_name(user.role)} · {active_text(user.is_active)}{where}\n   {contacts}".rstrip()
    )


def user_card_markup(user: User) -> types.InlineKeyboardMarkup:
    uid = user.id.hex
    roles = [
        (("• " if user.role == role.value else "") + role_name(role.value), USER_ROLE.new(uid, code))
        for code, role in ROLE_CODES.items()
    ]
    toggle = (t("Block"), USER_STATUS.new(uid, 0)) if user.is_active else (t("Unblock"), USER_STATUS.new(uid, 1))
    return ui.inline(roles[:2], roles[2:], [toggle])


def metrics_text(agency: Agency) -> str:
    m = agencies.agency_metrics(agency)
    cur = m["currency"]
    lines = [
        f"🏢 {agency.name} ({agency.city}) · {active_text(agency.is_active)}",
        t("Realtors: %(n)s", n=m["realtors"]),
        t("Listings: %(total)s (approved %(approved)s, pending %(pending)s)", **m["listings"]),
        t("Bookings: %(total)s (confirmed %(confirmed)s, completed %(completed)s)", **m["bookings"]),
        t("Revenue: %(amount)s", amount=ui.money(float(m["revenue"]), cur)),
        t("Contacts: %(contacts)s", contacts=" · ".join(v for v in m["contacts"].values() if v) or "—"),
    ]
    if m["top_listings"]:
        lines += ["", t("Top listings:")]
        lines += [
            f"{i}. {x['title']} — {ui.money(float(x['revenue']), cur)}" for i, x in enumerate(m["top_listings"], 1)
        ]
    if m["top_realtors"]:
        lines += ["", t("Top realtors:")]
        lines += [
            f"{i}. {x['name']} — {ui.money(float(x['revenue']), cur)}" for i, x in enumerate(m["top_realtors"], 1)
        ]
    return "\n".join(lines)


def agency_realtors_page(page: int) -> tuple[str, types.InlineKeyboardMarkup]:
    agency_id = access.agency_id_of(current_user())
    query = agencies.agency_realtors(agency_id)
    found = ui.page_of(query, page)
    total = found.total
    items = found.items
    rows = [
        [
            (
                (t("Deactivate") if u.is_active else t("Activate")) + f" · {u.display_name[:20]}",
                REALTOR_ACTIVE.new(u.id.hex, 0 if u.is_active else 1),
            )
        ]
        for u in items
    ]
    rows.append(ui.nav_row(REALTORS_PAGE, page, total))
    rows.append([(t("➕ Add"), ADD_REALTOR)])
    text = "\n\n".join(user_line(u) for u in items) if items else t("No realtors in your agency yet.")
    return text, ui.inline(*rows)


def agencies_page(page: int) -> tuple[str, types.InlineKeyboardMarkup | None]:
    query = agencies.all_agencies()
    found = ui.page_of(query, page)
    total = found.total
    if not total:
        return t("No agencies yet."), None
    items = found.items
    rows = []
    lines = []
    staff = agencies.member_counts(items)
    for agency in items:
        members = staff.get(agency.id, 0)
        lines.append(f"#{agency.id} {agency.name} — {agency.city} · {active_text(agency.is_active)} · 👥 {members}")
        toggle = (t("Deactivate"), AGENCY_ACTIVE.new(agency.id, 0))
        if not agency.is_active:
            toggle = (t("Activate"), AGENCY_ACTIVE.new(agency.id, 1))
        rows.append([(t("Details") + f" #{agency.id}", AGENCY_DETAILS.new(agency.id)), toggle])
    rows.append(ui.nav_row(AGENCIES_PAGE, page, total))
    return "\n".join(lines), ui.inline(*rows)


def users_page(page: int) -> tuple[str, types.InlineKeyboardMarkup | None]:
    query = agencies.recent_users()
    found = ui.page_of(query, page)
    total = found.total
    items = found.items
    first = (page - 1) * ui.PAGE_SIZE
    lines = [f"{n}. {user_line(u)}" for n, u in enumerate(items, first + 1)]
    rows = [[(f"{n}. {u.display_name[:25]}", USER_CARD.new(u.id.hex))] for n, u in enumerate(items, first + 1)]
    rows.append(ui.nav_row(USERS_PAGE, page, total))
    return "\n\n".join(lines) or t("No users."), ui.inline(*rows)


def realtors_page(page: int) -> tuple[str, types.InlineKeyboardMarkup | None]:
    query = agencies.platform_realtors()
    found = ui.page_of(query, page)
    total = found.total
    if not total:
        return t("No realtors on the platform."), None
    items = found.items
    first = (page - 1) * ui.PAGE_SIZE
    lines = [f"{n}. {user_line(u)}" for n, u in enumerate(items, first + 1)]
    rows = [[(f"{n}. {u.display_name[:25]}", REALTOR_CARD.new(u.id.hex))] for n, u in enumerate(items, first + 1)]
    rows.append(ui.nav_row(PLATFORM_REALTORS_PAGE, page, total))
    return "\n\n".join(lines), ui.inline(*rows)


def realtor_card_markup(user: User) -> types.InlineKeyboardMarkup:
    uid = user.id.hex
    toggle = (t("Deactivate"), REALTOR_STATUS.new(uid, 0))
    if not user.is_active:
        toggle = (t("Activate"), REALTOR_STATUS.new(uid, 1))
    return ui.inline(
        [(t("Change agency"), MOVE_REALTOR.new(uid)), (t("Remove agency"), REMOVE_AGENCY.new(uid))], [toggle]
    )


# --- handlers --------------------------------------------------------------------------------------
# A refused action (ServiceError) propagates: the update's boundary rolls it back and shows why in
# an alert.


def target_user(bot: TeleBot, call: types.CallbackQuery, kind: Callback) -> User | None:
    """The user a ``kind`` button names, or None after answering it as stale."""
    try:
        return agencies.user_by_hex((kind.parts(call) or [""])[0])
    except ServiceError:
        ui.stale(bot, call)
        return None


def flag(call: types.CallbackQuery, kind: Callback) -> bool:
    """The 1/0 after the id of a ``kind`` button (activate / deactivate)."""
    return kind.parts(call)[1:2] == ["1"]


def paged(bot: TeleBot, call: types.CallbackQuery, kind: Callback, page_of_list) -> None:
    page = kind.ints(call, 1)
    if page is None:
        ui.stale(bot, call)
        return
    bot.answer_callback_query(call.id)
    ui.edit(bot, call, *page_of_list(page[0]))


def is_superuser(_update=None) -> bool:
    return access.is_superuser(current_user())


def is_agency_admin(_update=None) -> bool:
    user = current_user()
    return ui.menu_role(user) == "admin" and access.agency_id_of(user) is not None


# -- agency admin: realtors and the agency ----------------------------------------------------------


def realtors(message: types.Message, bot: TeleBot) -> None:
    ui.reply(bot, message.chat.id, *agency_realtors_page(1))


def realtors_nav(call: types.CallbackQuery, bot: TeleBot) -> None:
    paged(bot, call, REALTORS_PAGE, agency_realtors_page)


def realtor_toggle(call: types.CallbackQuery, bot: TeleBot) -> None:
    user = target_user(bot, call, REALTOR_ACTIVE)
    if user is None:
        return
    active = flag(call, REALTOR_ACTIVE)
    agencies.set_realtor_active(current_user(), user, active, "bot")
    bot.answer_callback_query(call.id, active_text(user.is_active))
    ui.edit(bot, call, *agency_realtors_page(1))


def add_realtor_start(call: types.CallbackQuery, bot: TeleBot) -> None:
    bot.answer_callback_query(call.id)
    bot.set_state(call.from_user.id, AddRealtor.email, call.message.chat.id)
    ui.reply(bot, call.message.chat.id, t("New realtor. E-mail?"), ui.cancel_keyboard())


def add_realtor_step(message: types.Message, bot: TeleBot) -> None:
    """The answer to the add-realtor step the user is at (``ADD_REALTOR_STEPS``)."""
    state = bot.get_state(message.from_user.id, message.chat.id)
    _, field, next_state, question = next(step for step in ADD_REALTOR_STEPS if step[0].name == state)
    value = None if message.text in ui.labels(ui.SKIP) else message.text.strip()
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        data[field] = value
    bot.set_state(message.from_user.id, next_state, message.chat.id)
    markup = ui.skip_keyboard() if next_state == AddRealtor.phone else ui.cancel_keyboard()
    ui.reply(bot, message.chat.id, t(question), markup)


def add_realtor_save(message: types.Message, bot: TeleBot) -> None:
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        fields = dict(data)
    password = message.text.strip()
    try:
        bot.delete_message(message.chat.id, message.message_id)  # do not leave the password in the chat
    except Exception:  # an old message or no rights: the account is still created
        pass
    try:
        user = agencies.add_realtor(
            current_user(),
            email=fields.get("email") or "",
            phone=fields.get("phone"),
            first_name=fields.get("first_name") or "",
            password=password,
            source="bot",
        )
    except ServiceError as exc:
        # The wizard ends either way: the user goes back to the menu (its keyboard), which the
        # boundary cannot show. Rolled back here because the boundary will commit this update.
        db.session.rollback()
        ui.to_menu(bot, message, ui.error_text(exc))
        return
    added = t("✅ Realtor %(name)s is added. They sign in with %(email)s.", name=user.display_name, email=user.email)
    ui.to_menu(bot, message, added)


def agency(message: types.Message, bot: TeleBot) -> None:
    ui.reply(bot, message.chat.id, metrics_text(access.agency_of(current_user())))


# -- superuser: agencies ----------------------------------------------------------------------------


def agencies_list(message: types.Message, bot: TeleBot) -> None:
    ui.reply(bot, message.chat.id, *agencies_page(1))


def agencies_nav(call: types.CallbackQuery, bot: TeleBot) -> None:
    paged(bot, call, AGENCIES_PAGE, agencies_page)


def agency_toggle(call: types.CallbackQuery, bot: TeleBot) -> None:
    agency_id = AGENCY_ACTIVE.ints(call, 1)
    try:
        found = agencies.get_agency(agency_id[0]) if agency_id else None
    except ServiceError:
        found = None
    if found is None:
        ui.stale(bot, call)
        return
    active = flag(call, AGENCY_ACTIVE)
    agencies.set_agency_active(current_user(), found, active, "bot")
    bot.answer_callback_query(call.id, active_text(found.is_active))
    ui.edit(bot, call, *agencies_page(1))


def agency_details(call: types.CallbackQuery, bot: TeleBot) -> None:
    agency_id = AGENCY_DETAILS.ints(call, 1)
    bot.answer_callback_query(call.id)
    try:
        found = agencies.get_agency(agency_id[0]) if agency_id else None
    except ServiceError:
        found = None
    if found is not None:
        ui.reply(bot, call.message.chat.id, metrics_text(found))


# -- superuser: one user, recent users --------------------------------------------------------------


def find_user_start(message: types.Message, bot: TeleBot) -> None:
    bot.set_state(message.from_user.id, FindUser.query, message.chat.id)
    ui.reply(bot, message.chat.id, t("E-mail or phone of the user?"), ui.cancel_keyboard())


def find_user(message: types.Message, bot: TeleBot) -> None:
    found = agencies.find_users(message.text)
    bot.delete_state(message.from_user.id, message.chat.id)
    if not found:
        ui.reply(bot, message.chat.id, t("Nobody found."), ui.main_menu(user_language()))
        return
    ui.reply(bot, message.chat.id, t("Found: %(n)s", n=len(found)), ui.main_menu(user_language()))
    for user in found[:3]:
        ui.reply(bot, message.chat.id, user_line(user), user_card_markup(user))


def users(message: types.Message, bot: TeleBot) -> None:
    ui.reply(bot, message.chat.id, *users_page(1))


def users_nav(call: types.CallbackQuery, bot: TeleBot) -> None:
    paged(bot, call, USERS_PAGE, users_page)


def user_card(call: types.CallbackQuery, bot: TeleBot) -> None:
    user = target_user(bot, call, USER_CARD)
    if user is not None:
        bot.answer_callback_query(call.id)
        ui.reply(bot, call.message.chat.id, user_line(user), user_card_markup(user))


def user_role(call: types.CallbackQuery, bot: TeleBot) -> None:
    user = target_user(bot, call, USER_ROLE)
    if user is None:
        return
    role = ROLE_CODES.get((USER_ROLE.parts(call) + [""])[1])
    if role is None:
        ui.stale(bot, call)
        return
    agencies.set_role(current_user(), user, role, "bot")
    bot.answer_callback_query(call.id, role_name(user.role))
    ui.edit(bot, call, user_line(user), user_card_markup(user))


def user_status(call: types.CallbackQuery, bot: TeleBot) -> None:
    user = target_user(bot, call, USER_STATUS)
    if user is None:
        return
    active = flag(call, USER_STATUS)
    agencies.set_realtor_active(current_user(), user, active, "bot")
    bot.answer_callback_query(call.id, active_text(user.is_active))
    ui.edit(bot, call, user_line(user), user_card_markup(user))


# -- superuser: realtors platform-wide --------------------------------------------------------------


def all_realtors(message: types.Message, bot: TeleBot) -> None:
    ui.reply(bot, message.chat.id, *realtors_page(1))


def all_realtors_nav(call: types.CallbackQuery, bot: TeleBot) -> None:
    paged(bot, call, PLATFORM_REALTORS_PAGE, realtors_page)


def realtor_card(call: types.CallbackQuery, bot: TeleBot) -> None:
    user = target_user(bot, call, REALTOR_CARD)
    if user is not None:
        bot.answer_callback_query(call.id)
        ui.reply(bot, call.message.chat.id, user_line(user), realtor_card_markup(user))


def realtor_status(call: types.CallbackQuery, bot: TeleBot) -> None:
    user = target_user(bot, call, REALTOR_STATUS)
    if user is None:
        return
    active = flag(call, REALTOR_STATUS)
    agencies.set_realtor_active(current_user(), user, active, "bot")
    bot.answer_callback_query(call.id, active_text(user.is_active))
    ui.edit(bot, call, user_line(user), realtor_card_markup(user))


def realtor_remove_agency(call: types.CallbackQuery, bot: TeleBot) -> None:
    user = target_user(bot, call, REMOVE_AGENCY)
    if user is None:
        return
    agencies.set_membership(current_user(), user, None, "bot")
    bot.answer_callback_query(call.id, t("Removed from the agency"))
    ui.edit(bot, call, user_line(user), realtor_card_markup(user))


def realtor_move_start(call: types.CallbackQuery, bot: TeleBot) -> None:
    user = target_user(bot, call, MOVE_REALTOR)
    if user is None:
        return
    bot.answer_callback_query(call.id)
    bot.set_state(call.from_user.id, MoveRealtor.query, call.message.chat.id)
    with bot.retrieve_data(call.from_user.id, call.message.chat.id) as data:
        data["user"] = user.id.hex
    ui.reply(bot, call.message.chat.id, t("Agency ID, or part of its name or city?"), ui.cancel_keyboard())


def realtor_move_search(message: types.Message, bot: TeleBot) -> None:
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        uid = data["user"]
    found = agencies.find_agencies(message.text, limit=8)
    if not found:
        ui.reply(bot, message.chat.id, t("No agency found. Try again or press Cancel."))
        return
    bot.delete_state(message.from_user.id, message.chat.id)
    ui.reply(bot, message.chat.id, t("Found: %(n)s", n=len(found)), ui.main_menu(user_language()))
    rows = [[(f"#{a.id} {a.name} ({a.city})"[:40], MOVE_TO.new(uid, a.id))] for a in found]
    ui.reply(bot, message.chat.id, t("Choose the agency:"), ui.inline(*rows))


def realtor_move(call: types.CallbackQuery, bot: TeleBot) -> None:
    user = target_user(bot, call, MOVE_TO)
    if user is None:
        return
    try:
        target = agencies.get_agency(int((MOVE_TO.parts(call) + [""])[1]))
    except (ServiceError, ValueError):
        ui.stale(bot, call)
        return
    agencies.set_membership(current_user(), user, target, "bot")
    bot.answer_callback_query(call.id, t("Moved to %(name)s", name=target.name))
    ui.edit(bot, call, user_line(user), realtor_card_markup(user))


# -- registration (first match wins) ----------------------------------------------------------------


def menu_of(label: str, allowed):
    """A filter: the menu button ``label``, pressed by a user ``allowed`` to use it."""
    pressed = ui.is_label(label)
    return lambda m: pressed(m) and allowed()


def button_of(kind: Callback, allowed=None):
    """A filter: a ``kind`` button (pressed by a user ``allowed`` to use it, when given)."""
    return lambda c: kind.matches(c) and (allowed is None or allowed())


MESSAGES = [
    (realtors, {"func": menu_of(ui.REALTORS, is_agency_admin)}),
    (add_realtor_step, {"state": [step[0] for step in ADD_REALTOR_STEPS], "content_types": ["text"]}),
    (add_realtor_save, {"state": AddRealtor.password, "content_types": ["text"]}),
    (agency, {"func": menu_of(ui.AGENCY, is_agency_admin)}),
    (agencies_list, {"func": menu_of(ui.AGENCIES, is_superuser)}),
    (find_user_start, {"func": menu_of(ui.USER, is_superuser)}),
    (find_user, {"state": FindUser.query, "content_types": ["text"]}),
    (users, {"func": menu_of(ui.USERS, is_superuser)}),
    (all_realtors, {"func": menu_of(ui.ALL_REALTORS, is_superuser)}),
    (realtor_move_search, {"state": MoveRealtor.query, "content_types": ["text"]}),
]
BUTTONS = [
    (realtors_nav, button_of(REALTORS_PAGE, is_agency_admin)),
    (realtor_toggle, button_of(REALTOR_ACTIVE)),
    (add_realtor_start, lambda c: c.data == ADD_REALTOR),
    (agencies_nav, button_of(AGENCIES_PAGE, is_superuser)),
    (agency_toggle, button_of(AGENCY_ACTIVE)),
    (agency_details, button_of(AGENCY_DETAILS, is_superuser)),
    (users_nav, button_of(USERS_PAGE, is_superuser)),
    (user_card, button_of(USER_CARD, is_superuser)),
    (user_role, button_of(USER_ROLE)),
    (user_status, button_of(USER_STATUS)),
    (all_realtors_nav, button_of(PLATFORM_REALTORS_PAGE, is_superuser)),
    (realtor_card, button_of(REALTOR_CARD, is_superuser)),
    (realtor_status, button_of(REALTOR_STATUS)),
    (realtor_remove_agency, button_of(REMOVE_AGENCY)),
    (realtor_move_start, button_of(MOVE_REALTOR, is_superuser)),
    (realtor_move, button_of(MOVE_TO)),
]


def register(bot: TeleBot) -> None:
    for handler, filters in MESSAGES:
        bot.register_message_handler(handler, pass_bot=True, **filters)
    for handler, matches in BUTTONS:
        bot.register_callback_query_handler(handler, func=matches, pass_bot=True)
