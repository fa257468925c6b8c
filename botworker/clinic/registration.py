"""Registration: language → IIN (validated) → "is this your date of birth and sex?" → first name →
last name → patronymic (optional) → phone (contact button or typed) → consents (with a link to
their full texts) → the patient is created → main menu.

Seed 002 draws the date of birth and the sex as questions of their own before the IIN; both are
written in a Kazakhstan IIN (its first six digits and its 7th), so the bot asks for the IIN right
after the language, derives them from it and only asks the patient to confirm them ("No" asks for
the IIN again). Every step validates its answer and re-asks with the reason; "⬅️ Back" returns to
the previous step. The answers live in the FSM data (Redis), so a worker restart does not lose them.
"""

from __future__ import annotations

from datetime import date

from flask import g
from telebot import TeleBot, types
from telebot.handler_backends import State, StatesGroup

from botworker.callbacks import Callback
from botworker.clinic import texts
from botworker.clinic.base import (
    back_keyboard,
    current_patient,
    inline,
    is_button,
    lang,
    main_menu,
    organization_id,
    refused,
    tr,
)
from botworker.context import current_bot, current_user, set_language
from webapp.clinic.services import clock
from webapp.clinic.services.common import t
from webapp.clinic.services.consents import clinic_for_bot, consent_url
from webapp.clinic.services.iin import validate_iin
from webapp.clinic.services.patients import (
    PatientData,
    clean_birth_date,
    clean_name,
    clean_phone,
    upsert_patient,
)
from webapp.clinic.services.patients import set_language as set_patient_language
from webapp.clinic.services.render import date_text
from webapp.core.services import ServiceError
from webapp.extensions import db

CONSENT_KEYS = ("personal_data", "medical", "marketing")
CONSENT_LABELS = {
    "personal_data": "1. Personal data processing",
    "medical": "2. Medical intervention",
    "marketing": "3. Marketing messages",
}
SKIP_COMMAND = "/skip"
REGISTRATION = Callback("cl:reg")  # cl:reg:c:<consent>, cl:reg:ok, cl:reg:no
LANGUAGE = Callback("cl:reg:lang")  # cl:reg:lang:<code>
CONSENTS_TEXT = (
    "Please read the consents:\n\n1. Personal data processing\n2. Medical intervention\n3. Marketing messages"
)


class Reg(StatesGroup):
    language = State()
    iin = State()
    iin_confirm = State()
    first_name = State()
    last_name = State()
    middle_name = State()
    phone = State()
    consents = State()


QUESTIONS = {
    Reg.iin.name: "Enter your IIN (12 digits):",
    Reg.first_name.name: "Enter your first name:",
    Reg.last_name.name: "Enter your last name:",
    Reg.middle_name.name: "Enter your patronymic (or /skip to skip):",
    Reg.phone.name: "Send your phone number:",
}
# Why a checksum-valid IIN still cannot be a patient's (PatientData's date-of-birth rules).
BIRTH_DATE_REASONS = {
    "The date of birth cannot be in the future": "The date of birth in the IIN is in the future",
    "The date of birth is too far in the past": "The date of birth in the IIN is too far in the past",
}
IIN_CONFIRM_TEXT = "🆔 IIN: %(iin)s\n🎂 Date of birth: %(birth_date)s\n👤 Sex: %(sex)s\n\nIs this correct?"
ORDER = [Reg.iin, Reg.iin_confirm, Reg.first_name, Reg.last_name, Reg.middle_name, Reg.phone, Reg.consents]


def _ids(message: types.Message) -> tuple[int, int]:
    return message.from_user.id, message.chat.id


def language_keyboard() -> types.InlineKeyboardMarkup:
    return inline([[(name, LANGUAGE.new(code)) for code, name in texts.LANGUAGE_NAMES.items()]])


def consent_keyboard(language: str, chosen: dict[str, bool]) -> types.InlineKeyboardMarkup:
    """A link to the full texts (in the patient's language), a toggle per consent, accept / decline."""
    rows = [
        [(("☑️ " if chosen.get(key) else "⬜ ") + t(language, CONSENT_LABELS[key]), REGISTRATION.new("c", key))]
        for key in CONSENT_KEYS
    ]
    rows.append([(t(language, "✅ Accept and continue"), REGISTRATION.new("ok"))])
    rows.append([(t(language, "❌ Decline"), REGISTRATION.new("no"))])
    markup = inline(rows)
    link = types.InlineKeyboardButton(
        t(language, "📄 Full texts of the consents"), url=consent_url(clinic_for_bot(current_bot().id), language)
    )
    markup.keyboard.insert(0, [link])
    return markup


def iin_confirm_text(answers: dict) -> str:
    """The IIN with the date of birth and the sex read from it, for the patient to confirm."""
    iin, born, sex = answers.get("iin"), date.fromisoformat(answers.get("birth_date")), answers.get("sex")
    sex_label = texts.MALE if sex == "M" else texts.FEMALE
    return tr(IIN_CONFIRM_TEXT, iin=iin, birth_date=date_text(born), sex=tr(sex_label))


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
    }
    if state == Reg.iin_confirm:
        with bot.retrieve_data(user_id, chat_id) as data:
            answers = dict(data)
        markup = back_keyboard([tr(texts.IIN_CORRECT)], [tr(texts.IIN_WRONG)])
        bot.send_message(chat_id, prefix + iin_confirm_text(answers), reply_markup=markup)
        return
    if state == Reg.consents:
        with bot.retrieve_data(user_id, chat_id) as data:
            chosen = data.setdefault("consents", {"personal_data": False, "medical": False, "marketing": False})
        # The reply keyboard of the phone step stays on screen, so "⬅️ Back" still works here.
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
    """The first step: the language when the user has none the clinic speaks yet, else the IIN."""
    user_id, chat_id = _ids(message)
    bot.delete_state(user_id, chat_id)
    if current_user().language in texts.LANGUAGE_NAMES:
        ask_first_question(bot, user_id, chat_id)
    else:
        ask(bot, user_id, chat_id, Reg.language)


def ask_first_question(bot: TeleBot, user_id: int, chat_id: int) -> None:
    """The welcome and the first question after the language: the IIN."""
    bot.set_state(user_id, Reg.iin, chat_id)
    bot.send_message(chat_id, tr(texts.WELCOME) + "\n\n" + tr(QUESTIONS[Reg.iin.name]), reply_markup=back_keyboard())


def _previous(state: str | None) -> State:
    names = [s.name for s in ORDER]
    index = names.index(state) if state in names else 0
    return Reg.language if index == 0 else ORDER[index - 1]


def back(message: types.Message, bot: TeleBot) -> None:
    """⬅️ Back: the previous step's question."""
    user_id, chat_id = _ids(message)
    ask(bot, user_id, chat_id, _previous(bot.get_state(user_id, chat_id)))


def language_chosen(call: types.CallbackQuery, bot: TeleBot) -> None:
    code = (LANGUAGE.parts(call) or [""])[0]
    if code not in texts.LANGUAGE_NAMES:
        bot.answer_callback_query(call.id)
        return
    set_language(code)
    bot.answer_callback_query(call.id)
    if current_patient() is not None:  # a registered patient changing the language from the profile
        set_patient_language(current_patient(), code)
        bot.send_message(call.message.chat.id, tr("Language changed"), reply_markup=main_menu(code))
        return
    ask_first_question(bot, call.from_user.id, call.message.chat.id)


# state → (data key, PatientData field, next state, required)
NAME_STEPS = {
    Reg.first_name.name: ("first_name", "first_name", Reg.last_name, True),
    Reg.last_name.name: ("last_name", "last_name", Reg.middle_name, True),
    Reg.middle_name.name: ("middle_name", "middle_name", Reg.phone, False),
}


def name_given(message: types.Message, bot: TeleBot) -> None:
    """First name, last name or patronymic (``NAME_STEPS``), by the step the user is at."""
    user_id, chat_id = _ids(message)
    key, field, following, required = NAME_STEPS[bot.get_state(user_id, chat_id)]
    text = message.text or ""
    if not required and (is_button(message, texts.SKIP) or text.strip() == SKIP_COMMAND):
        text = ""
    try:
        value = clean_name(text, field, required=required)
    except ServiceError:
        bot.send_message(chat_id, tr("Please use letters only (a hyphen or apostrophe is fine), up to 100 characters."))
        return
    bot.add_data(user_id, chat_id, **{key: value})
    ask(bot, user_id, chat_id, following)


def phone(message: types.Message, bot: TeleBot) -> None:
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
    ask(bot, user_id, chat_id, Reg.consents)


def iin(message: types.Message, bot: TeleBot) -> None:
    """A valid IIN carries the date of birth and the sex: keep all three and ask to confirm them."""
    user_id, chat_id = _ids(message)
    today = clock.now().date()
    result = validate_iin(message.text, today=today)
    reason = result.reason
    if result.valid:
        try:
            clean_birth_date(result.birth_date, today)
        except ServiceError as exc:
            reason = BIRTH_DATE_REASONS.get(exc.message, exc.message)
    if reason:
        bot.send_message(
            chat_id, tr("❌ Invalid IIN: %(reason)s.\nPlease check it and enter it again:", reason=tr(reason))
        )
        return
    bot.add_data(user_id, chat_id, iin=result.iin, birth_date=result.birth_date.isoformat(), sex=result.sex)
    ask(bot, user_id, chat_id, Reg.iin_confirm)


def iin_confirm(message: types.Message, bot: TeleBot) -> None:
    user_id, chat_id = _ids(message)
    if is_button(message, texts.IIN_CORRECT):
        ask(bot, user_id, chat_id, Reg.first_name)
    elif is_button(message, texts.IIN_WRONG):
        ask(bot, user_id, chat_id, Reg.iin)
    else:
        bot.send_message(chat_id, tr("Please choose with the buttons below."))


def consents_typed(message: types.Message, bot: TeleBot) -> None:
    """The consents are ticked with their buttons; anything typed shows them again."""
    user_id, chat_id = _ids(message)
    ask(bot, user_id, chat_id, Reg.consents, tr("Please choose with the buttons below.") + "\n\n")


def consents(call: types.CallbackQuery, bot: TeleBot) -> None:
    """A consent ticked or unticked, "Accept and continue" (then the patient is created) or "Decline"."""
    user_id, chat_id = call.from_user.id, call.message.chat.id
    action = call.data[len(REGISTRATION.prefix) :]
    with bot.retrieve_data(user_id, chat_id) as data:
        chosen = data.setdefault("consents", {})
        if action.startswith("c:") and action[2:] in CONSENT_KEYS:
            chosen[action[2:]] = not chosen.get(action[2:], False)
        answers = dict(data)
    if action.startswith("c:"):
        bot.answer_callback_query(call.id)
        bot.edit_message_reply_markup(chat_id, call.message.message_id, reply_markup=consent_keyboard(lang(), chosen))
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


def stale(call: types.CallbackQuery, bot: TeleBot) -> None:
    """A registration button outside the registration (an old message)."""
    bot.answer_callback_query(call.id, tr("This button is no longer active."))


def register(bot: TeleBot) -> None:
    states = [s.name for s in (Reg.language, *ORDER)]
    bot.register_message_handler(
        back, state=states, func=lambda m: is_button(m, texts.BACK), content_types=["text"], pass_bot=True
    )
    bot.register_callback_query_handler(language_chosen, func=LANGUAGE.matches, pass_bot=True)
    bot.register_message_handler(name_given, state=list(NAME_STEPS), content_types=["text"], pass_bot=True)
    bot.register_message_handler(phone, state=Reg.phone, content_types=["contact", "text"], pass_bot=True)
    bot.register_message_handler(iin, state=Reg.iin, content_types=["text"], pass_bot=True)
    bot.register_message_handler(iin_confirm, state=Reg.iin_confirm, content_types=["text"], pass_bot=True)
    bot.register_message_handler(consents_typed, state=Reg.consents, content_types=["text", "contact"], pass_bot=True)
    bot.register_callback_query_handler(consents, func=REGISTRATION.matches, state=Reg.consents.name, pass_bot=True)
    bot.register_callback_query_handler(stale, func=REGISTRATION.matches, pass_bot=True)


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
        patient, _ = upsert_patient(
            current_user(), data, organization_id=organization_id(), source="bot", telegram_user_id=user_id
        )
    except ServiceError as exc:
        if exc.code != "IIN_TAKEN" and exc.field != "iin":
            raise refused(_("Something went wrong. Please try again later."), exc) from exc
        # The IIN is someone else's: the conversation goes back a step to ask for it again, which
        # the boundary cannot do. Rolled back here because the boundary will commit this update,
        # and nothing of the refused registration may be kept.
        db.session.rollback()
        bot.answer_callback_query(call.id)
        ask(bot, user_id, chat_id, Reg.iin, tr("This IIN is already registered.") + "\n")
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
