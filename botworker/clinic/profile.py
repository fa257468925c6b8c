"""👤 Profile: the patient's data, the language (RU/KK/UZ/EN) and the marketing consent."""

from __future__ import annotations

from telebot import TeleBot, types

from botworker.clinic import texts
from botworker.clinic.base import answer_stale, current_patient, inline, is_button, require_patient, tr
from botworker.clinic.registration import language_keyboard
from webapp.clinic.models import Patient
from webapp.clinic.services import clock
from webapp.clinic.services.patients import apply_consents

CHANGE_LANGUAGE = "cl:prof:lang"
TOGGLE_MARKETING = "cl:prof:mk"


def profile_text(patient: Patient) -> str:
    return tr(
        "👤 %(full_name)s\n📱 %(phone)s\n🆔 IIN: %(iin)s\n🌐 Language: %(lang_name)s",
        full_name=patient.full_name,
        phone=patient.phone,
        iin=patient.iin or "—",
        lang_name=texts.LANGUAGE_NAMES.get(patient.language, patient.language),
    )


def profile_keyboard(patient: Patient) -> types.InlineKeyboardMarkup:
    marketing = tr("📢 News and offers: on") if patient.consent_marketing_at else tr("📢 News and offers: off")
    return inline([[(tr("🌐 Change language"), CHANGE_LANGUAGE)], [(marketing, TOGGLE_MARKETING)]])


def profile(message: types.Message, bot: TeleBot) -> None:
    patient = require_patient(bot, message.chat.id)
    if patient is not None:
        bot.delete_state(message.from_user.id, message.chat.id)
        bot.send_message(message.chat.id, profile_text(patient), reply_markup=profile_keyboard(patient))


def profile_action(call: types.CallbackQuery, bot: TeleBot) -> None:
    patient = current_patient()
    if patient is None:
        answer_stale(bot, call)
        return
    bot.answer_callback_query(call.id)
    if call.data == CHANGE_LANGUAGE:
        bot.send_message(call.message.chat.id, texts.WELCOME_CHOOSE_LANGUAGE, reply_markup=language_keyboard())
        return
    apply_consents(patient, {"marketing": patient.consent_marketing_at is None}, clock.now())
    bot.edit_message_text(
        profile_text(patient), call.message.chat.id, call.message.message_id, reply_markup=profile_keyboard(patient)
    )


def register(bot: TeleBot) -> None:
    bot.register_message_handler(
        profile, func=lambda m: is_button(m, texts.MENU_PROFILE), content_types=["text"], pass_bot=True
    )
    bot.register_callback_query_handler(
        profile_action, func=lambda c: c.data in (CHANGE_LANGUAGE, TOGGLE_MARKETING), pass_bot=True
    )
