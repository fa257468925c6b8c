"""The clinic vertical's bot (seed 002): registration, booking, appointments, documents, payments,
feedback, support and profile, in Russian and Kazakh (seed 002) and in Uzbek and English."""

from __future__ import annotations

from telebot import TeleBot, types

from botworker.clinic import (
    appointments,
    booking,
    documents,
    feedback,
    payments,
    profile,
    registration,
    support,
    texts,
)
from botworker.clinic.base import current_patient, lang
from botworker.clinic.base import main_menu as _menu
from webapp.clinic.services.common import clinic_language, t


def main_menu(language: str) -> types.ReplyKeyboardMarkup:
    return _menu(clinic_language(language))


def help_text(language: str) -> str:
    return t(
        clinic_language(language),
        "What I can do:\n📅 book an appointment\n📋 show, reschedule or cancel your appointments\n"
        "📄 send your documents (PDF)\n💳 show your balance and take payments\n👤 show your profile\n"
        "❓ answer questions and pass yours to an operator\n\n/start — start over, /menu — main menu",
    )


def on_start(bot: TeleBot, message: types.Message) -> None:
    """A registered patient gets the welcome and the menu; anyone else starts the registration."""
    if current_patient() is not None:
        language = lang()
        bot.send_message(message.chat.id, t(language, texts.WELCOME), reply_markup=_menu(language))
        return
    registration.start_registration(bot, message)


def register_handlers(bot: TeleBot) -> None:
    # The main-menu buttons come first, so pressing one always leaves a half-finished conversation.
    for module in (booking, appointments, documents, payments, support, profile):
        module.register(bot)
    registration.register(bot)
    feedback.register(bot)
