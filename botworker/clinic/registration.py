"""Registration, in seed 002's order: language (RU/KK) → first name → last name → patronymic
(optional) → phone (contact button or typed) → date of birth → sex → IIN (validated) → consents →
the patient is created → main menu.

Every step validates its answer and re-asks with the reason; "⬅️ Back" returns to the previous
step. The answers live in the FSM data (Redis), so a worker restart does not lose them.
"""

from __future__ import annotations

from datetime import date

from flask import g
from telebot import TeleBot, types
from telebot.handler_backends import State, StatesGroup

from botworker.clinic import texts
from botworker.clinic.base import (
    back_keyboard,
    callback_parts,
    current_patient,
    inline,
    is_button,
    lang,
    main_menu,
    tr,
)
from botworker.context import current_user, set_language
from webapp.clinic.services.common import t
from webapp.clinic.services.iin import validate_iin
from webapp.clinic.services.patients import (
    PatientData,
    clean_name,
    clean_phone,
    parse_birth_date,
    upsert_patient,
)
from webapp.clinic.services.patients import set_language as set_patient_language
from webapp.core.services import ServiceError
from webapp.extensions import db

CONSENT_KEYS = ("personal_data", "medical", "marketing")
CONSENT_LABELS = {
    "personal_data": "1. Personal data processing",
    "medical": "2. Medical intervention",
    "marketing": "3. Marketing messages",
}
SKIP_COMMAND = "/skip"
CONSENTS_TEXT = (
    "Please read the consents:\n\n1. Personal data processing\n2. Medical intervention\n3. Marketing messages"
)


class Reg(StatesGroup):
    language = State()
    first_name = State()
    last_name = State()
    middle_name = State()
    phone = State()
    birth_date = State()
    sex = State()
    iin = State()
    consents = State()


QUESTIONS = {
    Reg.first_name.name: "Enter your first name:",
    Reg.last_name.name: "Enter your last name:",
    Reg.middle_name.name: "Enter your patronymic (or /skip to skip):",
    Reg.phone.name: "Send your phone number:",
    Reg.birth_date.name: "Enter your date of birth as DD.MM.YYYY (for example, 15.03.1990):",
    Reg.sex.name: "Choose your sex:",
    Reg.iin.name: "Enter your IIN (12 digits):",
}
BIRTH_DATE_REASONS = {
    "The date of birth cannot be in the future": "The date of birth cannot be in the future.",
    "The date of birth is too far in the past": "Please check the year of birth.",
}
ORDER = [Reg.first_name, Reg.last_name, Reg.middle_name, Reg.phone, Reg.birth_date, Reg.sex, Reg.iin, Reg.consents]


def _ids(message: types.Message) -> tuple[int, int]:
    return message.from_user.id, message.chat.id


def language_keyboard() -> types.InlineKeyboardMarkup:
    return inline([[(name, f"cl:reg:lang:{code}") for code, name in texts.LANGUAGE_NAMES.items()]])


def consent_keyboard(language: str, chosen: dict[str, bool]) -> types.InlineKeyboardMarkup:
    rows = [
        [(("☑️ " if chosen.get(key) else "⬜ ") + t(language, CONSENT_LABELS[key]), f"cl:reg:c:{key}")]
        for key in CONSENT_KEYS
    ]
    rows.append([(t(language, "✅ Accept and continue"), "cl:reg:ok")])
    rows.append([(t(language, "❌ Decline"), "cl:reg:no")])
    return inline(rows)


def ask(bot: TeleBot, user_id: int, chat_id: int, state: State, prefix: str = "") -> None:
    """Put the user on ``state`` and send its question (``prefix``: e.g. why the last answer failed)."""
    bot.set_state(user_id, state, chat_id)
    language = lang()
    if state == Reg.language:
        bot.send_message(chat_id, texts.WELCOME_CHOOSE_LANGUAGE, reply_markup=language_keyboard())
        return
    keyboards = {
        Reg.middle_name.name: back_keyboard([tr(texts.SKIP)]),
        Reg.phone.name: back_keyboard([types.KeyboardButton(tr(texts.SHARE_PHONE), request_contact=True)]),
        Reg.sex.name: back_keyboard([tr(texts.MALE), tr(texts.FEMALE)]),
    }
    if state == Reg.consents:
        with bot.retrieve_data(user_id, chat_id) as data:
            chosen = data.setdefault("consents", {"personal_data": False, "medical": False, "marketing": False})
        # The reply keyboard of the IIN step stays on screen, so "⬅️ Back" still works here.
        bot.send_message(
            chat_id,
            prefix + tr(CONSENTS_TEXT),
            reply_markup=consent_keyboard(language, chosen),
        )
        return
    bot.send_message(
        chat_id, prefix + tr(QUESTIONS[state.name]), reply_markup=keyboards.get(state.name) or back_keyboard()
    )


def start_registration(bot: TeleBot, message: types.Message) -> None:
    """The first step: the language when the user's is not RU/KK yet, else straight to the first name."""
    user_id, chat_id = _ids(message)
    bot.delete_state(user_id, chat_id)
    if current_user().language in texts.LANGUAGE_NAMES:
        bot.set_state(user_id, Reg.first_name, chat_id)
        bot.send_message(
            chat_id, tr(texts.WELCOME) + "\n\n" + tr("Enter your first name:"), reply_markup=back_keyboard()
        )
    else:
        ask(bot, user_id, chat_id, Reg.language)


def _previous(state: str | None) -> State:
    names = [s.name for s in ORDER]
    index = names.index(state) if state in names else 0
    return Reg.language if index == 0 else ORDER[index - 1]


def register(bot: TeleBot) -> None:
    states = [s.name for s in (Reg.language, *ORDER)]

    @bot.message_handler(state=states, func=lambda m: is_button(m, texts.BACK), content_types=["text"])
    def back(message: types.Message) -> None:
        user_id, chat_id = _ids(message)
        ask(bot, user_id, chat_id, _previous(bot.get_state(user_id, chat_id)))

    @bot.callback_query_handler(func=lambda c: (c.data or "").startswith("cl:reg:lang:"))
    def language_chosen(call: types.CallbackQuery) -> None:
        code = callback_parts(call, "cl:reg:lang:")[0]
        if code not in texts.LANGUAGE_NAMES:
            bot.answer_callback_query(call.id)
            return
        set_language(code)
        bot.answer_callback_query(call.id)
        if current_patient() is not None:  # a registered patient changing the language from the profile
            set_patient_language(current_patient(), code)
            bot.send_message(call.message.chat.id, tr("Language changed"), reply_markup=main_menu(code))
            return
        bot.set_state(call.from_user.id, Reg.first_name, call.message.chat.id)
        bot.send_message(
            call.message.chat.id,
            tr(texts.WELCOME) + "\n\n" + tr("Enter your first name:"),
            reply_markup=back_keyboard(),
        )

    def take_name(message: types.Message, key: str, field: str, following: State, required: bool = True) -> None:
        user_id, chat_id = _ids(message)
        text = message.text or ""
        if not required and (is_button(message, texts.SKIP) or text.strip() == SKIP_COMMAND):
            text = ""
        try:
            value = clean_name(text, field, required=required)
        except ServiceError:
            bot.send_message(
                chat_id, tr("Please use letters only (a hyphen or apostrophe is fine), up to 100 characters.")
            )
            return
        bot.add_data(user_id, chat_id, **{key: value})
        ask(bot, user_id, chat_id, following)

    @bot.message_handler(state=Reg.first_name, content_types=["text"])
    def first_name(message: types.Message) -> None:
        take_name(message, "first_name", "first_name", Reg.last_name)

    @bot.message_handler(state=Reg.last_name, content_types=["text"])
    def last_name(message: types.Message) -> None:
        take_name(message, "last_name", "last_name", Reg.middle_name)

    @bot.message_handler(state=Reg.middle_name, content_types=["text"])
    def middle_name(message: types.Message) -> None:
        take_name(message, "middle_name", "middle_name", Reg.phone, required=False)

    @bot.message_handler(state=Reg.phone, content_types=["contact", "text"])
    def phone(message: types.Message) -> None:
        user_id, chat_id = _ids(message)
        if message.content_type == "contact":
            if message.contact.user_id not in (None, user_id):
                bot.send_message(chat_id, tr("Please send your own phone number."))
                return
            raw = message.contact.phone_number
        else:
            raw = message.text
        try:
            value = clean_phone(raw)
        except ServiceError:
            bot.send_message(chat_id, tr("This does not look like a phone number. Example: +7 701 123 45 67"))
            return
        bot.add_data(user_id, chat_id, phone=value)
        ask(bot, user_id, chat_id, Reg.birth_date)

    @bot.message_handler(state=Reg.birth_date, content_types=["text"])
    def birth_date(message: types.Message) -> None:
        user_id, chat_id = _ids(message)
        try:
            value = parse_birth_date(message.text)
        except ServiceError as exc:
            reason = BIRTH_DATE_REASONS.get(exc.message)
            bot.send_message(
                chat_id,
                tr(reason)
                if reason
                else tr("Invalid date format. Please enter the date as DD.MM.YYYY (for example, 15.03.1990):"),
            )
            return
        bot.add_data(user_id, chat_id, birth_date=value.isoformat())
        ask(bot, user_id, chat_id, Reg.sex)

    @bot.message_handler(state=Reg.sex, content_types=["text"])
    def sex(message: types.Message) -> None:
        user_id, chat_id = _ids(message)
        if is_button(message, texts.MALE):
            value = "M"
        elif is_button(message, texts.FEMALE):
            value = "F"
        else:
            bot.send_message(chat_id, tr("Please choose with the buttons below."))
            return
        bot.add_data(user_id, chat_id, sex=value)
        ask(bot, user_id, chat_id, Reg.iin)

    @bot.message_handler(state=Reg.iin, content_types=["text"])
    def iin(message: types.Message) -> None:
        user_id, chat_id = _ids(message)
        with bot.retrieve_data(user_id, chat_id) as data:
            born, sex_value = date.fromisoformat(data["birth_date"]), data["sex"]
        result = validate_iin(message.text, birth_date=born, sex=sex_value)
        if not result.valid:
            bot.send_message(
                chat_id,
                tr("❌ Invalid IIN: %(reason)s.\nPlease check it and enter it again:", reason=tr(result.reason)),
            )
            return
        bot.add_data(user_id, chat_id, iin=result.iin)
        ask(bot, user_id, chat_id, Reg.consents)

    @bot.callback_query_handler(func=lambda c: (c.data or "").startswith("cl:reg:"), state=Reg.consents.name)
    def consents(call: types.CallbackQuery) -> None:
        user_id, chat_id = call.from_user.id, call.message.chat.id
        action = call.data[len("cl:reg:") :]
        with bot.retrieve_data(user_id, chat_id) as data:
            chosen = data.setdefault("consents", {})
            if action.startswith("c:") and action[2:] in CONSENT_KEYS:
                chosen[action[2:]] = not chosen.get(action[2:], False)
            answers = dict(data)
        if action.startswith("c:"):
            bot.answer_callback_query(call.id)
            bot.edit_message_reply_markup(
                chat_id, call.message.message_id, reply_markup=consent_keyboard(lang(), chosen)
            )
            return
        if action == "no":
            bot.answer_callback_query(call.id)
            bot.delete_state(user_id, chat_id)
            bot.send_message(
                chat_id,
                tr(
                    "Unfortunately, we cannot register you without consent to personal data processing.\n\n"
                    "You can start the registration again with /start"
                ),
                reply_markup=types.ReplyKeyboardRemove(),
            )
            return
        if not chosen.get("personal_data"):
            bot.answer_callback_query(call.id, tr("Consent to personal data processing is required."), show_alert=True)
            return
        finish(bot, call, answers)

    @bot.callback_query_handler(func=lambda c: (c.data or "").startswith("cl:reg:"))
    def stale(call: types.CallbackQuery) -> None:
        bot.answer_callback_query(call.id, tr("This button is no longer active."))


def finish(bot: TeleBot, call: types.CallbackQuery, answers: dict) -> None:
    user_id, chat_id = call.from_user.id, call.message.chat.id
    language = lang()
    data = PatientData(
        first_name=answers["first_name"],
        last_name=answers["last_name"],
        middle_name=answers.get("middle_name"),
        phone=answers["phone"],
        birth_date=date.fromisoformat(answers["birth_date"]),
        sex=answers["sex"],
        iin=answers["iin"],
        language=language,
        consents=answers["consents"],
    )
    try:
        patient, _ = upsert_patient(current_user(), data, source="bot", telegram_user_id=user_id)
    except ServiceError as exc:
        db.session.rollback()
        bot.answer_callback_query(call.id)
        if exc.code == "IIN_TAKEN" or exc.field == "iin":
            ask(bot, user_id, chat_id, Reg.iin, tr("This IIN is already registered.") + "\n")
        else:
            bot.send_message(chat_id, tr("Something went wrong. Please try again later."))
        return
    g.clinic_patient = patient
    bot.answer_callback_query(call.id)
    bot.delete_state(user_id, chat_id)
    bot.edit_message_reply_markup(chat_id, call.message.message_id, reply_markup=None)
    bot.send_message(
        chat_id,
        tr("✅ Registration complete! Welcome, %(name)s!", name=patient.first_name),
        reply_markup=main_menu(language),
    )
