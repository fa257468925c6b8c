"""The realty bot (seed 001): a menu per role — Guest, Realtor, Super Admin (agency admin),
Superuser, and the platform's Moderator — on a reply keyboard, list actions on inline keyboards,
and /register, /link."""

from __future__ import annotations

from telebot import TeleBot, types

from botworker.context import current_user, user_language
from botworker.realty import account, admin, guest, staff, ui
from botworker.realty.ui import main_menu

HELP = {
    "guest": "🔍 Search — find a place step by step and book it\n📦 My bookings — pay (demo), cancel, review\n"
    "⭐ Favorites · ✍ Reviews · 🔔 Notifications",
    "realtor": "🏠 My listings — card, activate/deactivate, calendar, blocks\n➕ Add listing — the wizard\n"
    "📋 Bookings — confirm or cancel\n🔔 Notifications",
    "admin": "👥 Realtors — add, activate/deactivate\n🏢 Agency — metrics and top listings/realtors\n"
    "🏠 My listings · ➕ Add listing · 📋 Bookings",
    "moderator": "🛡 Moderation — approve or reject new listings of any agency\n🔍 Search · 🔔 Notifications",
    "superuser": "🏢 Agencies — on/off and details\n👤 User — find by e-mail/phone\n"
    "👥 Users — change role or status\n🧑‍💼 Realtors — change or remove agency\n🛡 Moderation",
}
GREETINGS = {
    "guest": "Hello, %(name)s! Find and book a place to stay with 🔍 Search.",
    "realtor": "Hello, %(name)s! Your listings and bookings are in the menu below.",
    "admin": "Hello, %(name)s! Manage your agency from the menu below.",
    "moderator": "Hello, %(name)s! New listings of every agency wait for you in 🛡 Moderation.",
    "superuser": "Hello, %(name)s! The platform's agencies, users and realtors are in the menu below.",
}
COMMANDS = (
    "/start, /menu — main menu\n/register — register (phone + e-mail)\n/link — link an existing account\n"
    "/language — language\n/help — this help"
)


def help_text(language: str) -> str:
    try:
        role = ui.menu_role(current_user())
    except RuntimeError:
        role = "guest"
    return ui.catalog.for_language(language, HELP[role]) + "\n\n" + ui.catalog.for_language(language, COMMANDS)


def on_start(bot: TeleBot, message: types.Message) -> None:
    language = user_language()
    user = current_user()
    name = message.from_user.first_name if message.from_user else user.display_name
    role = ui.menu_role(user)
    greeting = GREETINGS[role]
    bot.send_message(
        message.chat.id, ui.catalog.for_language(language, greeting, name=name), reply_markup=main_menu(language)
    )


def register_handlers(bot: TeleBot) -> None:
    guest.register(bot)  # first: its Cancel handler must win in every conversation state
    staff.register(bot)
    admin.register(bot)
    account.register_account_commands(bot, main_menu)


__all__ = ["help_text", "main_menu", "on_start", "register_handlers"]
