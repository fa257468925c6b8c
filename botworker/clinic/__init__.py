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
from webapp.clinic.services.common import CLINIC_LANGUAGES, clinic_language, t
from webapp.clinic.services.patients import set_language as set_patient_language


def main_menu(language: str) -> types.ReplyKeyboardMarkup:
    return _menu(clinic_language(language))


def help_text(language: str) -> str:
    return t(
        clinic_language(language),
        "What I can do:\n📅 book an appointment\n📋 show, reschedule or cancel your appointments\n"
        "📄 send your documents (PDF)\n💳 show your balance and take payments\n👤 show your profile\n"
        "❓ answer questions and pass yours to an operator\n\n/start — start over, /menu — main menu",
    )


def on_language(language: str) -> None:
    """/language (or the first-contact keyboard) changes a registered patient's language too: the
    bot, the reminders and the documents speak the patient's language."""
    patient = current_patient()
    if patient is not None and language in CLINIC_LANGUAGES:
        set_patient_language(patient, language)


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
