"""Handlers of the helpdesk bot: thin — read the update, call webapp.helpdesk.services, reply."""

from __future__ import annotations

import logging
from functools import cache

from flask import current_app
from telebot import TeleBot, types
from telebot.handler_backends import State, StatesGroup

from botworker import common
from botworker.callbacks import Callback
from botworker.context import current_bot, current_user, user_language
from webapp.core.db import iso
from webapp.core.services import SUPPORTED_LANGUAGES, ServiceError
from webapp.extensions import db
from webapp.helpdesk import services
from webapp.helpdesk.access import is_staff_of
from webapp.helpdesk.models import Ticket, TicketStatus
from webapp.helpdesk.services.telegram import (
    alerts_enabled,
    bot_category,
    bot_ticket,
    customer_tickets,
    recent_messages,
    set_alerts,
    ticket_for_reply,
)
from webapp.helpdesk.texts import priority_label, status_label, t

log = logging.getLogger("botworker.helpdesk")

# The buttons of this bot (a UUID keeps them within 64 bytes).
CATEGORY = Callback("hd:cat")
SHOW = Callback("hd:t")
WRITE = Callback("hd:w")
CLOSE = Callback("hd:x")
BTN_NEW = "📝 New ticket"
BTN_MINE = "📋 My tickets"
BTN_ALERTS = "🔔 Ticket alerts"
BTN_SKIP = "⏭ Skip"
MEDIA = ["text", "photo", "document"]
LIST_LIMIT = 10
RECENT_MESSAGES = 5


class NewTicket(StatesGroup):
    category = State()
    title = State()
    description = State()
    attachment = State()


class Conversation(StatesGroup):
    chatting = State()  # data: ticket_id — every message goes into that ticket


def tr(message: str, **params) -> str:
    return t(user_language(), message, **params)


@cache
def labels(message: str) -> frozenset[str]:
    return frozenset(t(language, message) for language in SUPPORTED_LANGUAGES)


def is_button(message: types.Message, label: str) -> bool:
    return message.content_type == "text" and message.text in labels(label)


def inline(*rows: list[tuple[str, str]]) -> types.InlineKeyboardMarkup:
    markup = types.InlineKeyboardMarkup()
    for row in rows:
        markup.row(*(types.InlineKeyboardButton(text, callback_data=data) for text, data in row))
    return markup


def main_menu(language: str) -> types.ReplyKeyboardMarkup:
    markup = types.ReplyKeyboardMarkup(resize_keyboard=True)
    markup.row(t(language, BTN_NEW), t(language, BTN_MINE))
    markup.row(common.help_button(language), common.language_button(language))
    return markup


def menu_for_current_user() -> types.ReplyKeyboardMarkup:
    language = user_language()
    markup = main_menu(language)
    if services.is_staff(current_user()):
        markup.row(t(language, BTN_ALERTS))
    return markup


def help_text(language: str) -> str:
    return t(
        language,
        "What I can do:\n📝 New ticket — describe a problem to our support team\n"
        "📋 My tickets — see your tickets, their status, write into them or close them\n"
        "Reply to any message from support to answer it.\n\n/start — start over, /menu — main menu",
    )


def on_start(bot: TeleBot, message: types.Message) -> None:
    name = message.from_user.first_name if message.from_user else ""
    bot.send_message(
        message.chat.id,
        tr("Hello, %(name)s! This is the support service. Open a ticket and we will answer here.", name=name),
        reply_markup=menu_for_current_user(),
    )


def ticket_line(ticket: Ticket, language: str) -> str:
    return f"#{ticket.ref} · {status_label(language, ticket.status)} · {ticket.title}"


def _(message: str) -> str:
    """Marks a helpdesk msgid for extraction (the refusals below); it is translated where shown."""
    return message


def _refusal(exc: ServiceError) -> ServiceError:
    """What the update's boundary tells the user for a refused message: the helpdesk's own words for
    a closed ticket or someone else's, the service's message otherwise."""
    if exc.field == "ticket":
        return ServiceError(_("This ticket is closed. Open a new one from the menu."), exc.status, exc.code, exc.field)
    if exc.status == 403:
        return ServiceError(_("You cannot do this with this ticket."), exc.status, exc.code, exc.field)
    return exc


def _download(bot: TeleBot, message: types.Message) -> tuple[bytes, str]:
    """The photo's or document's bytes and a file name; a refusal if the file is too large."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if message.content_type == "photo":
        photo = max(message.photo, key=lambda p: (p.width or 0) * (p.height or 0))
        file_id, name, size = photo.file_id, "photo.jpg", photo.file_size
    else:
        document = message.document
        file_id, name, size = document.file_id, document.file_name or "document", document.file_size
    if size and size > limit:
        # Already in the user's language (the limit is a parameter): the boundary finds no msgid and
        # shows it as it is.
        raise ServiceError(tr("The file is too large (up to %(mb)s MB).", mb=limit // (1024 * 1024)), 413)
    info = bot.get_file(file_id)
    return bot.download_file(info.file_path), name


def _add(bot: TeleBot, message: types.Message, ticket: Ticket) -> None:
    """Turn a text, photo or document message into a message of ``ticket``. A refusal propagates to
    the update's boundary, which rolls the update back (a ticket being created with it too)."""
    user = current_user()
    content = message.text if message.content_type == "text" else (message.caption or "")
    attachment_ids = []
    try:
        if message.content_type in ("photo", "document"):
            attachment_ids.append(services.store_upload(user, *_download(bot, message)).id)
        services.add_message(ticket, user, content, attachment_ids=attachment_ids, source="bot")
    except ServiceError as exc:
        raise _refusal(exc) from exc


# --- opening a ticket ------------------------------------------------------------------------------


def start_new_ticket(bot: TeleBot, message: types.Message) -> None:
    user_id, chat_id = message.from_user.id, message.chat.id
    bot.delete_state(user_id, chat_id)
    # The bot's own desk's categories (a platform bot without an organization offers every desk's).
    categories = services.list_categories(include_inactive=False, organization_id=current_bot().organization_id)
    if not categories:
        bot.set_state(user_id, NewTicket.title, chat_id)
        bot.send_message(chat_id, tr("Briefly, what is the problem? (a title)"))
        return
    bot.set_state(user_id, NewTicket.category, chat_id)
    rows = [[(str(c), CATEGORY.new(c.id))] for c in categories]
    bot.send_message(chat_id, tr("Choose a category:"), reply_markup=inline(*rows))


def ask_attachment(bot: TeleBot, chat_id: int) -> None:
    markup = types.ReplyKeyboardMarkup(resize_keyboard=True, one_time_keyboard=True)
    markup.row(tr(BTN_SKIP))
    bot.send_message(chat_id, tr("Attach a photo or a document if it helps, or press “Skip”."), reply_markup=markup)


def create_from_draft(bot: TeleBot, message: types.Message, with_attachment: bool) -> None:
    user_id, chat_id = message.from_user.id, message.chat.id
    with bot.retrieve_data(user_id, chat_id) as data:
        draft = dict(data or {})
    if "title" not in draft:  # the draft expired or was lost: start over rather than guess
        start_new_ticket(bot, message)
        return
    user = current_user()
    ticket = services.create_ticket(
        user,
        draft["title"],
        draft.get("description", ""),
        category_id=draft.get("category_id"),
        source="bot",
        bot_id=current_bot().id,
    )
    if with_attachment:
        _add(bot, message, ticket)  # a refused attachment rolls the new ticket back with it; the draft stays
    db.session.flush()
    bot.delete_state(user_id, chat_id)
    bot.set_state(user_id, Conversation.chatting, chat_id)
    bot.add_data(user_id, chat_id, ticket_id=str(ticket.id))
    bot.send_message(
        chat_id,
        tr(
            "✅ Ticket #%(ref)s is open. We will answer here.\n"
            "Anything you write now is added to the ticket; /menu leaves it.",
            ref=ticket.ref,
        ),
        reply_markup=menu_for_current_user(),
    )


# --- handlers --------------------------------------------------------------------------------------


def stale(bot: TeleBot, call: types.CallbackQuery) -> None:
    bot.answer_callback_query(call.id, tr("This button is no longer active."))


def new_ticket(message: types.Message, bot: TeleBot) -> None:
    start_new_ticket(bot, message)


def my_tickets(message: types.Message, bot: TeleBot) -> None:
    bot.delete_state(message.from_user.id, message.chat.id)
    language = user_language()
    tickets = customer_tickets(current_user(), LIST_LIMIT)
    if not tickets:
        bot.send_message(message.chat.id, tr("You have no tickets yet."), reply_markup=menu_for_current_user())
        return
    rows = [[(ticket_line(ticket, language)[:60], SHOW.new(ticket.id))] for ticket in tickets]
    bot.send_message(message.chat.id, tr("Your tickets (newest first):"), reply_markup=inline(*rows))


def toggle_alerts(message: types.Message, bot: TeleBot) -> None:
    """/alerts or 🔔: a staff member of this bot's desk switches new-ticket alerts on or off."""
    user = current_user()
    desk = current_bot().organization_id
    if not (is_staff_of(user, desk) if desk is not None else services.is_staff(user)):  # this bot's desk
        bot.send_message(message.chat.id, tr("Ticket alerts are for support staff."))
        return
    enabled = not alerts_enabled(user)
    set_alerts(user, current_bot().id, enabled)
    text = (
        tr("🔔 Alerts are on: new tickets will come here. Reply to an alert to answer the customer.")
        if enabled
        else tr("🔕 Alerts are off.")
    )
    bot.send_message(message.chat.id, text, reply_markup=menu_for_current_user())


def replied_ticket(message: types.Message) -> Ticket | None:
    """The ticket a reply (to an alert or a support message) is about, if any."""
    replied = message.reply_to_message
    if replied is None or message.chat.type != "private":
        return None
    return ticket_for_reply(current_user(), current_bot().id, message.chat.id, replied.message_id)


def reply_to_notification(message: types.Message, bot: TeleBot) -> None:
    ticket = replied_ticket(message)
    _add(bot, message, ticket)
    bot.reply_to(message, tr("✅ Added to ticket #%(ref)s.", ref=ticket.ref))


# -- opening a ticket -------------------------------------------------------------------------------


def category_chosen(call: types.CallbackQuery, bot: TeleBot) -> None:
    user_id, chat_id = call.from_user.id, call.message.chat.id
    category = bot_category(call.data[len(CATEGORY.prefix) :], current_bot().organization_id)
    if category is None:
        stale(bot, call)
        return
    bot.answer_callback_query(call.id)
    bot.set_state(user_id, NewTicket.title, chat_id)
    bot.add_data(user_id, chat_id, category_id=str(category.id))
    bot.edit_message_text(tr("Category: %(name)s", name=str(category)), chat_id, call.message.message_id)
    bot.send_message(chat_id, tr("Briefly, what is the problem? (a title)"))


def category_expected(message: types.Message, bot: TeleBot) -> None:
    bot.send_message(message.chat.id, tr("Please choose a category with the buttons above."))


def title_given(message: types.Message, bot: TeleBot) -> None:
    title = " ".join((message.text or "").split())
    if not title or len(title) > 200:
        bot.send_message(message.chat.id, tr("The title should be 1 to 200 characters. Try again:"))
        return
    bot.set_state(message.from_user.id, NewTicket.description, message.chat.id)
    bot.add_data(message.from_user.id, message.chat.id, title=title)
    bot.send_message(message.chat.id, tr("Now describe the problem in detail:"))


def description_given(message: types.Message, bot: TeleBot) -> None:
    description = (message.text or "").strip()
    if len(description) > 4000:
        bot.send_message(message.chat.id, tr("Please keep the description under 4000 characters."))
        return
    bot.set_state(message.from_user.id, NewTicket.attachment, message.chat.id)
    bot.add_data(message.from_user.id, message.chat.id, description=description)
    ask_attachment(bot, message.chat.id)


def text_expected(message: types.Message, bot: TeleBot) -> None:
    bot.send_message(message.chat.id, tr("Please answer with text; you can attach files in the next step."))


def attachment_given(message: types.Message, bot: TeleBot) -> None:
    create_from_draft(bot, message, with_attachment=True)


def attachment_skipped(message: types.Message, bot: TeleBot) -> None:
    if not is_button(message, BTN_SKIP):
        ask_attachment(bot, message.chat.id)
        return
    create_from_draft(bot, message, with_attachment=False)


# -- a ticket: view, write, close -------------------------------------------------------------------


def own_ticket(bot: TeleBot, call: types.CallbackQuery, kind: Callback) -> Ticket | None:
    """The ticket a ``kind`` button names if the user may see it, else None after answering stale."""
    ticket = bot_ticket(current_user(), call.data[len(kind.prefix) :])
    if ticket is None:
        stale(bot, call)
    return ticket


def show_ticket(call: types.CallbackQuery, bot: TeleBot) -> None:
    ticket = own_ticket(bot, call, SHOW)
    if ticket is None:
        return
    bot.answer_callback_query(call.id)
    language = user_language()
    user = current_user()
    lines = [
        f"#{ticket.ref} · {ticket.title}",
        tr("Status: %(status)s", status=status_label(language, ticket.status)),
        tr("Priority: %(priority)s", priority=priority_label(language, ticket.priority)),
    ]
    if ticket.category:
        lines.append(tr("Category: %(name)s", name=str(ticket.category)))
    lines.append(tr("Opened: %(when)s UTC", when=(iso(ticket.created_at) or "")[:16].replace("T", " ")))
    recent = recent_messages(ticket, user, RECENT_MESSAGES)
    if recent:
        lines.append("")
        for item in recent:
            who = tr("You") if item.author_id == user.id else tr("Support")
            attached = " 📎" if item.attachments else ""
            lines.append(f"— {who}: {item.content[:300]}{attached}")
    buttons = []
    if ticket.status != TicketStatus.CLOSED.value:
        buttons.append([(tr("✍️ Write"), WRITE.new(ticket.id)), (tr("🔒 Close"), CLOSE.new(ticket.id))])
    bot.send_message(call.message.chat.id, "\n".join(lines), reply_markup=inline(*buttons) if buttons else None)


def write_into(call: types.CallbackQuery, bot: TeleBot) -> None:
    ticket = own_ticket(bot, call, WRITE)
    if ticket is None:
        return
    bot.answer_callback_query(call.id)
    chat_id = call.message.chat.id
    bot.set_state(call.from_user.id, Conversation.chatting, chat_id)
    bot.add_data(call.from_user.id, chat_id, ticket_id=str(ticket.id))
    bot.send_message(chat_id, tr("Write your message for ticket #%(ref)s (text, photo or document):", ref=ticket.ref))


def close_ticket(call: types.CallbackQuery, bot: TeleBot) -> None:
    ticket = own_ticket(bot, call, CLOSE)
    if ticket is None:
        return
    try:
        services.set_status(ticket, TicketStatus.CLOSED, current_user())
    except ServiceError as exc:  # the boundary rolls back and shows this as an alert on the button
        raise ServiceError(_("This ticket cannot be closed now."), exc.status, exc.code) from exc
    bot.answer_callback_query(call.id)
    bot.delete_state(call.from_user.id, call.message.chat.id)
    bot.send_message(call.message.chat.id, tr("🔒 Ticket #%(ref)s is closed. Thank you!", ref=ticket.ref))


def chat_message(message: types.Message, bot: TeleBot) -> None:
    """Anything written while a ticket is open goes into it."""
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        ticket_id = (data or {}).get("ticket_id")
    ticket = bot_ticket(current_user(), ticket_id)
    if ticket is None:
        bot.delete_state(message.from_user.id, message.chat.id)
        bot.send_message(message.chat.id, tr("Choose a ticket in “My tickets” first."))
        return
    _add(bot, message, ticket)
    bot.reply_to(message, tr("✅ Added to ticket #%(ref)s.", ref=ticket.ref))


# --- registration (first match wins) ---------------------------------------------------------------

PRIVATE = {"chat_types": ["private"]}
MESSAGES = [
    (new_ticket, {"func": lambda m: is_button(m, BTN_NEW), **PRIVATE}),
    (my_tickets, {"func": lambda m: is_button(m, BTN_MINE), **PRIVATE}),
    (toggle_alerts, {"func": lambda m: is_button(m, BTN_ALERTS), **PRIVATE}),
    (toggle_alerts, {"commands": ["alerts"], **PRIVATE}),
    (reply_to_notification, {"func": lambda m: replied_ticket(m) is not None, "content_types": MEDIA}),
    (category_expected, {"state": NewTicket.category, "content_types": MEDIA}),
    (title_given, {"state": NewTicket.title, "content_types": ["text"]}),
    (description_given, {"state": NewTicket.description, "content_types": ["text"]}),
    (text_expected, {"state": [NewTicket.title, NewTicket.description], "content_types": ["photo", "document"]}),
    (attachment_given, {"state": NewTicket.attachment, "content_types": ["photo", "document"]}),
    (attachment_skipped, {"state": NewTicket.attachment, "content_types": ["text"]}),
    (chat_message, {"state": Conversation.chatting, "content_types": MEDIA}),
]
BUTTONS = [(category_chosen, CATEGORY), (show_ticket, SHOW), (write_into, WRITE), (close_ticket, CLOSE)]


def register_handlers(bot: TeleBot) -> None:
    for handler, filters in MESSAGES:
        bot.register_message_handler(handler, pass_bot=True, **filters)
    for handler, kind in BUTTONS:
        bot.register_callback_query_handler(handler, func=kind.matches, pass_bot=True)
