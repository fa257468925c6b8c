"""A test-only vertical bot package: an FSM flow, inline buttons and a handler that fails."""

from __future__ import annotations

import threading
import time

from telebot import types
from telebot.handler_backends import State, StatesGroup

from botworker import common
from botworker.context import current_account, user_language

HANDLED: list[int] = []  # update ids the "/count" handler saw, to prove none is handled twice
SLOW_STARTED = threading.Event()


class Order(StatesGroup):
    name = State()
    size = State()


def main_menu(language: str) -> types.ReplyKeyboardMarkup:
    markup = types.ReplyKeyboardMarkup(resize_keyboard=True)
    markup.row("/order", common.help_button(language))
    return markup


def help_text(language: str) -> str:
    return f"fake help ({language})"


def on_start(bot, message) -> None:
    bot.send_message(
        message.chat.id, f"fake start {user_language()} {message.from_user.first_name}", reply_markup=main_menu("en")
    )


def register_handlers(bot) -> None:
    from botworker.context import current_update_id

    @bot.message_handler(commands=["order"])
    def order(message) -> None:
        bot.set_state(message.from_user.id, Order.name, message.chat.id)
        bot.send_message(message.chat.id, "Your name?")

    @bot.message_handler(state=Order.name)
    def got_name(message) -> None:
        with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
            data["name"] = message.text
        bot.set_state(message.from_user.id, Order.size, message.chat.id)
        bot.send_message(message.chat.id, "Size?")

    @bot.message_handler(state=Order.size)
    def got_size(message) -> None:
        with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
            name = data["name"]
        bot.delete_state(message.from_user.id, message.chat.id)
        bot.send_message(message.chat.id, f"Order: {name}, {message.text}")

    @bot.message_handler(commands=["buttons"])
    def buttons(message) -> None:
        markup = types.InlineKeyboardMarkup()
        markup.row(
            types.InlineKeyboardButton("Ping", callback_data="ping"),
            types.InlineKeyboardButton("Old", callback_data="retired:1"),
        )
        bot.send_message(message.chat.id, "Press a button", reply_markup=markup)

    @bot.callback_query_handler(func=lambda call: call.data == "ping")
    def ping(call) -> None:
        bot.answer_callback_query(call.id, "pong")
        bot.send_message(call.message.chat.id, "pong")

    @bot.message_handler(commands=["boom"])
    def boom(message) -> None:
        current_account().first_name = "Changed by a failing handler"
        raise RuntimeError("handler failure on purpose")

    @bot.message_handler(commands=["slow"])
    def slow(message) -> None:
        SLOW_STARTED.set()
        time.sleep(1.5)
        current_account().first_name = "Finished"
        bot.send_message(message.chat.id, "slow done")

    @bot.message_handler(content_types=["document"])
    def document(message) -> None:
        content = bot.download_file(bot.get_file(message.document.file_id).file_path)
        bot.send_message(message.chat.id, f"got {message.document.file_name}: {content.decode()}")

    @bot.message_handler(commands=["count"])
    def count(message) -> None:
        HANDLED.append(current_update_id())
        bot.send_message(message.chat.id, f"counted {len(HANDLED)}")
