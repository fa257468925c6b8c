"""Answers to the scans' messages: "Вы пришли?" (yes → arrived, no → no-show) and the NPS score
buttons, followed by an optional comment."""

from __future__ import annotations

from telebot import TeleBot, types
from telebot.handler_backends import State, StatesGroup

from botworker.callbacks import Callback
from botworker.clinic.base import _, answer_stale, current_patient, lang, main_menu, refused, tr
from webapp.clinic.services import booking, support
from webapp.clinic.services.reminders import ARRIVED_CALLBACK, NPS_CALLBACK
from webapp.core.services import ServiceError
from webapp.extensions import db

ARRIVED = Callback(ARRIVED_CALLBACK)  # <appointment>:<y|n>, sent by the arrival check
NPS = Callback(NPS_CALLBACK)  # <appointment>:<score>, sent after the visit


class FeedbackStates(StatesGroup):
    comment = State()


def arrived(call: types.CallbackQuery, bot: TeleBot) -> None:
    """The "Вы пришли?" buttons: yes → arrived, no → no-show."""
    patient = current_patient()
    try:
        appointment_id, answer = ARRIVED.parts(call)
        appointment = booking.get_patient_appointment(patient, int(appointment_id))
    except (ValueError, ServiceError, AttributeError):
        answer_stale(bot, call)
        return
    try:
        if answer == "y":
            booking.mark_arrived(appointment, source="bot")
            text = tr("Great, thank you! The doctor will see you soon.")
        else:
            booking.mark_no_show(appointment, source="bot")
            text = tr("Sorry you could not come. You can book again with «📅 Book an appointment».")
    except ServiceError as exc:
        raise refused(_("This button is no longer active."), exc) from exc
    bot.answer_callback_query(call.id)
    bot.edit_message_text(text, call.message.chat.id, call.message.message_id)


def score(call: types.CallbackQuery, bot: TeleBot) -> None:
    """An NPS score button; then an optional comment."""
    patient = current_patient()
    try:
        appointment_id, value = NPS.parts(call)
        feedback = support.record_feedback(
            patient, int(appointment_id), int(value), source="bot", telegram_user_id=call.from_user.id
        )
    except (ValueError, AttributeError):
        answer_stale(bot, call)
        return
    except ServiceError as exc:
        raise refused(_("Thank you, your rating is already recorded."), exc) from exc
    db.session.flush()
    bot.answer_callback_query(call.id)
    bot.edit_message_text(
        tr("Your rating: %(score)s/10", score=feedback.score), call.message.chat.id, call.message.message_id
    )
    bot.set_state(call.from_user.id, FeedbackStates.comment, call.message.chat.id)
    bot.add_data(call.from_user.id, call.message.chat.id, feedback_id=feedback.id)
    bot.send_message(call.message.chat.id, tr("Leave a comment (or /skip):"))


def comment(message: types.Message, bot: TeleBot) -> None:
    user_id, chat_id = message.from_user.id, message.chat.id
    with bot.retrieve_data(user_id, chat_id) as data:
        feedback = support.patient_feedback(current_patient(), data.get("feedback_id"))
    bot.delete_state(user_id, chat_id)
    if feedback is None:
        return
    if message.text.strip() != "/skip":
        support.add_feedback_comment(feedback, message.text)
    text = tr("Thank you for your feedback!")
    if feedback.is_low_score:
        text += "\n\n" + tr("We are sorry you were not satisfied. We will pass your feedback on to the management.")
    bot.send_message(chat_id, text, reply_markup=main_menu(lang()))


def register(bot: TeleBot) -> None:
    bot.register_callback_query_handler(arrived, func=ARRIVED.matches, pass_bot=True)
    bot.register_callback_query_handler(score, func=NPS.matches, pass_bot=True)
    bot.register_message_handler(comment, state=FeedbackStates.comment, content_types=["text"], pass_bot=True)
