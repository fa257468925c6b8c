"""Agency admin («Супер Админ») and superuser parts of the realty bot: realtors, agency metrics,
agencies on/off with details, user search, recent users with role and status buttons, and
platform-wide realtors with change/remove agency. Role and status changes go through the same
audited services as the console (source "bot")."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from telebot import TeleBot, types
from telebot.handler_backends import State, StatesGroup

from botworker.context import current_user, user_language
from botworker.realty import ui
from botworker.realty.staff import count, page_of
from botworker.realty.ui import t
from webapp.core.models import Membership, User
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
    agency_id = access.member_agency_id(user)  # a blocked realtor still shows their agency
    agency = db.session.get(Agency, agency_id) if agency_id is not None else None
    contacts = " · ".join(p for p in (user.email, user.phone) if p)
    where = f" · 🏢 {agency.name}" if agency else ""
    return (
        f"{user.display_name} — {role_name(user.role)} · {active_text(user.is_active)}{where}\n   {contacts}".rstrip()
    )


def user_card_markup(user: User) -> types.InlineKeyboardMarkup:
    uid = user.id.hex
    roles = [
        (("• " if user.role == role.value else "") + role_name(role.value), f"ur:{uid}:{code}")
        for code, role in ROLE_CODES.items()
    ]
    toggle = (t("Block"), f"us:{uid}:0") if user.is_active else (t("Unblock"), f"us:{uid}:1")
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
    total = count(query)
    items = page_of(query, page)
    rows = [
        [
            (
                (t("Deactivate") if u.is_active else t("Activate")) + f" · {u.display_name[:20]}",
                f"ra:{u.id.hex}:{0 if u.is_active else 1}",
            )
        ]
        for u in items
    ]
    rows.append(ui.nav_row("rl:", page, total))
    rows.append([(t("➕ Add"), "radd")])
    text = "\n\n".join(user_line(u) for u in items) if items else t("No realtors in your agency yet.")
    return text, ui.inline(*rows)


def agencies_page(page: int) -> tuple[str, types.InlineKeyboardMarkup | None]:
    query = sa.select(Agency).order_by(Agency.name, Agency.id)
    total = count(query)
    if not total:
        return t("No agencies yet."), None
    items = page_of(query, page)
    rows = []
    lines = []
    staff = dict(
        db.session.execute(
            sa.select(Membership.organization_id, sa.func.count())
            .where(Membership.organization_id.in_([a.organization_id for a in items]))
            .group_by(Membership.organization_id)
        ).all()
    )
    for agency in items:
        members = staff.get(agency.organization_id, 0)
        lines.append(f"#{agency.id} {agency.name} — {agency.city} · {active_text(agency.is_active)} · 👥 {members}")
        toggle = (t("Deactivate"), f"agt:{agency.id}:0") if agency.is_active else (t("Activate"), f"agt:{agency.id}:1")
        rows.append([(t("Details") + f" #{agency.id}", f"agd:{agency.id}"), toggle])
    rows.append(ui.nav_row("ag:", page, total))
    return "\n".join(lines), ui.inline(*rows)


def users_page(page: int) -> tuple[str, types.InlineKeyboardMarkup | None]:
    query = agencies.recent_users()
    total = count(query)
    items = page_of(query, page)
    first = (page - 1) * ui.PAGE_SIZE
    lines = [f"{n}. {user_line(u)}" for n, u in enumerate(items, first + 1)]
    rows = [[(f"{n}. {u.display_name[:25]}", f"uc:{u.id.hex}")] for n, u in enumerate(items, first + 1)]
    rows.append(ui.nav_row("ul:", page, total))
    return "\n\n".join(lines) or t("No users."), ui.inline(*rows)


def realtors_page(page: int) -> tuple[str, types.InlineKeyboardMarkup | None]:
    query = agencies.platform_realtors()
    total = count(query)
    if not total:
        return t("No realtors on the platform."), None
    items = page_of(query, page)
    first = (page - 1) * ui.PAGE_SIZE
    lines = [f"{n}. {user_line(u)}" for n, u in enumerate(items, first + 1)]
    rows = [[(f"{n}. {u.display_name[:25]}", f"pc:{u.id.hex}")] for n, u in enumerate(items, first + 1)]
    rows.append(ui.nav_row("pl:", page, total))
    return "\n\n".join(lines), ui.inline(*rows)


def realtor_card_markup(user: User) -> types.InlineKeyboardMarkup:
    uid = user.id.hex
    toggle = (t("Deactivate"), f"pt:{uid}:0") if user.is_active else (t("Activate"), f"pt:{uid}:1")
    return ui.inline([(t("Change agency"), f"pm:{uid}"), (t("Remove agency"), f"px:{uid}")], [toggle])


def register(bot: TeleBot) -> None:
    chat = ui.Chat(bot)
    reply = chat.reply
    to_menu = chat.to_menu
    edit = chat.edit

    def parts(call: types.CallbackQuery) -> list[str]:
        return call.data.split(":")[2:]

    def target_user(call: types.CallbackQuery) -> User | None:
        try:
            user = db.session.get(User, uuid.UUID(hex=parts(call)[0]))
        except ValueError:
            user = None
        if user is None:
            bot.answer_callback_query(call.id, t("This button is no longer active."))
        return user

    def guarded(call: types.CallbackQuery, action) -> bool:
        try:
            action()
        except ServiceError as exc:
            db.session.rollback()
            bot.answer_callback_query(call.id, ui.error_text(exc), show_alert=True)
            return False
        return True

    def is_superuser(_message=None) -> bool:
        return access.is_superuser(current_user())

    def is_agency_admin(_message=None) -> bool:
        user = current_user()
        return ui.menu_role(user) == "admin" and access.agency_id_of(user) is not None

    # -- agency admin: realtors and the agency ------------------------------------------------------

    @bot.message_handler(func=lambda m: ui.is_label(ui.REALTORS)(m) and is_agency_admin())
    def realtors(message: types.Message) -> None:
        reply(message.chat.id, *agency_realtors_page(1))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "rl:") and is_agency_admin())
    def realtors_nav(call: types.CallbackQuery) -> None:
        bot.answer_callback_query(call.id)
        edit(call, *agency_realtors_page(int(parts(call)[0])))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "ra:"))
    def realtor_toggle(call: types.CallbackQuery) -> None:
        user = target_user(call)
        if user is None:
            return
        if guarded(call, lambda: agencies.set_realtor_active(current_user(), user, parts(call)[1] == "1", "bot")):
            bot.answer_callback_query(call.id, active_text(user.is_active))
            edit(call, *agency_realtors_page(1))

    @bot.callback_query_handler(func=lambda c: c.data == ui.CB + "radd")
    def add_realtor_start(call: types.CallbackQuery) -> None:
        bot.answer_callback_query(call.id)
        bot.set_state(call.from_user.id, AddRealtor.email, call.message.chat.id)
        reply(call.message.chat.id, t("New realtor. E-mail?"), ui.cancel_keyboard())

    steps = [
        (AddRealtor.email, "email", AddRealtor.phone, "Phone (or Skip)?"),
        (AddRealtor.phone, "phone", AddRealtor.name, "Name?"),
        (AddRealtor.name, "first_name", AddRealtor.password, "Password (at least 8 characters)?"),
    ]

    def add_realtor_step(state, field, next_state, question):
        def handler(message: types.Message) -> None:
            value = None if message.text in ui.labels(ui.SKIP) else message.text.strip()
            with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
                data[field] = value
            bot.set_state(message.from_user.id, next_state, message.chat.id)
            reply(
                message.chat.id,
                t(question),
                ui.skip_keyboard() if next_state == AddRealtor.phone else ui.cancel_keyboard(),
            )

        bot.register_message_handler(handler, state=state, content_types=["text"])

    for step in steps:
        add_realtor_step(*step)

    @bot.message_handler(state=AddRealtor.password, content_types=["text"])
    def add_realtor_save(message: types.Message) -> None:
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
            db.session.rollback()
            to_menu(message, ui.error_text(exc))
            return
        to_menu(
            message,
            t("✅ Realtor %(name)s is added. They sign in with %(email)s.", name=user.display_name, email=user.email),
        )

    @bot.message_handler(func=lambda m: ui.is_label(ui.AGENCY)(m) and is_agency_admin())
    def agency(message: types.Message) -> None:
        reply(message.chat.id, metrics_text(access.agency_of(current_user())))

    # -- superuser: agencies ------------------------------------------------------------------------

    @bot.message_handler(func=lambda m: ui.is_label(ui.AGENCIES)(m) and is_superuser())
    def agencies_list(message: types.Message) -> None:
        reply(message.chat.id, *agencies_page(1))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "ag:") and is_superuser())
    def agencies_nav(call: types.CallbackQuery) -> None:
        bot.answer_callback_query(call.id)
        edit(call, *agencies_page(int(parts(call)[0])))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "agt:"))
    def agency_toggle(call: types.CallbackQuery) -> None:
        agency = db.session.get(Agency, int(parts(call)[0]))
        if agency is None:
            bot.answer_callback_query(call.id, t("This button is no longer active."))
            return
        if guarded(call, lambda: agencies.set_agency_active(current_user(), agency, parts(call)[1] == "1", "bot")):
            bot.answer_callback_query(call.id, active_text(agency.is_active))
            edit(call, *agencies_page(1))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "agd:") and is_superuser())
    def agency_details(call: types.CallbackQuery) -> None:
        agency = db.session.get(Agency, int(parts(call)[0]))
        bot.answer_callback_query(call.id)
        if agency is not None:
            reply(call.message.chat.id, metrics_text(agency))

    # -- superuser: one user, recent users ----------------------------------------------------------

    @bot.message_handler(func=lambda m: ui.is_label(ui.USER)(m) and is_superuser())
    def find_user_start(message: types.Message) -> None:
        bot.set_state(message.from_user.id, FindUser.query, message.chat.id)
        reply(message.chat.id, t("E-mail or phone of the user?"), ui.cancel_keyboard())

    @bot.message_handler(state=FindUser.query, content_types=["text"])
    def find_user(message: types.Message) -> None:
        found = agencies.find_users(message.text)
        bot.delete_state(message.from_user.id, message.chat.id)
        if not found:
            reply(message.chat.id, t("Nobody found."), ui.main_menu(user_language()))
            return
        reply(message.chat.id, t("Found: %(n)s", n=len(found)), ui.main_menu(user_language()))
        for user in found[:3]:
            reply(message.chat.id, user_line(user), user_card_markup(user))

    @bot.message_handler(func=lambda m: ui.is_label(ui.USERS)(m) and is_superuser())
    def users(message: types.Message) -> None:
        reply(message.chat.id, *users_page(1))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "ul:") and is_superuser())
    def users_nav(call: types.CallbackQuery) -> None:
        bot.answer_callback_query(call.id)
        edit(call, *users_page(int(parts(call)[0])))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "uc:") and is_superuser())
    def user_card(call: types.CallbackQuery) -> None:
        user = target_user(call)
        if user is not None:
            bot.answer_callback_query(call.id)
            reply(call.message.chat.id, user_line(user), user_card_markup(user))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "ur:"))
    def user_role(call: types.CallbackQuery) -> None:
        user = target_user(call)
        role = ROLE_CODES.get(parts(call)[1]) if user else None
        if role is None:
            return
        if guarded(call, lambda: agencies.set_role(current_user(), user, role, "bot")):
            bot.answer_callback_query(call.id, role_name(user.role))
            edit(call, user_line(user), user_card_markup(user))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "us:"))
    def user_status(call: types.CallbackQuery) -> None:
        user = target_user(call)
        if user is None:
            return
        if guarded(call, lambda: agencies.set_realtor_active(current_user(), user, parts(call)[1] == "1", "bot")):
            bot.answer_callback_query(call.id, active_text(user.is_active))
            edit(call, user_line(user), user_card_markup(user))

    # -- superuser: realtors platform-wide ----------------------------------------------------------

    @bot.message_handler(func=lambda m: ui.is_label(ui.ALL_REALTORS)(m) and is_superuser())
    def all_realtors(message: types.Message) -> None:
        reply(message.chat.id, *realtors_page(1))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "pl:") and is_superuser())
    def all_realtors_nav(call: types.CallbackQuery) -> None:
        bot.answer_callback_query(call.id)
        edit(call, *realtors_page(int(parts(call)[0])))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "pc:") and is_superuser())
    def realtor_card(call: types.CallbackQuery) -> None:
        user = target_user(call)
        if user is not None:
            bot.answer_callback_query(call.id)
            reply(call.message.chat.id, user_line(user), realtor_card_markup(user))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "pt:"))
    def realtor_status(call: types.CallbackQuery) -> None:
        user = target_user(call)
        if user is None:
            return
        if guarded(call, lambda: agencies.set_realtor_active(current_user(), user, parts(call)[1] == "1", "bot")):
            bot.answer_callback_query(call.id, active_text(user.is_active))
            edit(call, user_line(user), realtor_card_markup(user))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "px:"))
    def realtor_remove_agency(call: types.CallbackQuery) -> None:
        user = target_user(call)
        if user is None:
            return
        if guarded(call, lambda: agencies.set_membership(current_user(), user, None, "bot")):
            bot.answer_callback_query(call.id, t("Removed from the agency"))
            edit(call, user_line(user), realtor_card_markup(user))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "pm:") and is_superuser())
    def realtor_move_start(call: types.CallbackQuery) -> None:
        user = target_user(call)
        if user is None:
            return
        bot.answer_callback_query(call.id)
        bot.set_state(call.from_user.id, MoveRealtor.query, call.message.chat.id)
        with bot.retrieve_data(call.from_user.id, call.message.chat.id) as data:
            data["user"] = user.id.hex
        reply(call.message.chat.id, t("Agency ID, or part of its name or city?"), ui.cancel_keyboard())

    @bot.message_handler(state=MoveRealtor.query, content_types=["text"])
    def realtor_move_search(message: types.Message) -> None:
        with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
            uid = data["user"]
        found = agencies.find_agencies(message.text, limit=8)
        if not found:
            reply(message.chat.id, t("No agency found. Try again or press Cancel."))
            return
        bot.delete_state(message.from_user.id, message.chat.id)
        reply(message.chat.id, t("Found: %(n)s", n=len(found)), ui.main_menu(user_language()))
        rows = [[(f"#{a.id} {a.name} ({a.city})"[:40], f"ps:{uid}:{a.id}")] for a in found]
        reply(message.chat.id, t("Choose the agency:"), ui.inline(*rows))

    @bot.callback_query_handler(func=lambda c: c.data.startswith(ui.CB + "ps:"))
    def realtor_move(call: types.CallbackQuery) -> None:
        user = target_user(call)
        agency = db.session.get(Agency, int(parts(call)[1])) if user else None
        if agency is None:
            return
        if guarded(call, lambda: agencies.set_membership(current_user(), user, agency, "bot")):
            bot.answer_callback_query(call.id, t("Moved to %(name)s", name=agency.name))
            edit(call, user_line(user), realtor_card_markup(user))
