"""The finance bot (seed 000): /start, /balance, /help, text and voice records with confirm/undo,
the 📊 monthly summary, goals and debts. Handlers read the update, call webapp.finance.services,
and reply; nothing is saved from a phrase until the user presses "Save".
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

from babel.dates import format_date
from flask import current_app
from telebot import TeleBot, types
from telebot.handler_backends import State, StatesGroup

from botworker import common
from botworker.callbacks import Callback
from botworker.context import current_bot, current_user, is_first_contact, user_language
from botworker.finance import pending
from botworker.finance import texts as tx
from botworker.finance.texts import t
from webapp.core.db import utcnow
from webapp.core.services import ServiceError
from webapp.extensions import db
from webapp.finance.models import DebtDirection, GoalStatus, TxSource, VoiceStatus
from webapp.finance.services import ledger, speech, voice
from webapp.finance.services import parser as p
from webapp.finance.services.texts import direction_text, intent_text, question_text

log = logging.getLogger("botworker.finance")

FIN = Callback("fin")  # fin:<action>:<argument>… (64 bytes max: ids are short or UUIDs)
KIND_CODES = {"transaction": "t", "goal": "g", "debt": "d"}
CODE_KINDS = {v: k for k, v in KIND_CODES.items()}
DUE_SOON_DAYS = 7
LIST_LIMIT = 10


class FinanceStates(StatesGroup):
    deposit_amount = State()  # the user pressed "➕" on a goal and is typing the amount


# --- keyboards and formatting ---------------------------------------------------------------------


def main_menu(language: str) -> types.ReplyKeyboardMarkup:
    markup = types.ReplyKeyboardMarkup(resize_keyboard=True)
    markup.row(tx.for_language(language, tx.BTN_BALANCE), tx.for_language(language, tx.BTN_REPORT))
    markup.row(tx.for_language(language, tx.BTN_GOALS), tx.for_language(language, tx.BTN_DEBTS))
    markup.row(common.help_button(language), common.language_button(language))
    return markup


def inline(*rows: list[tuple[str, str]]) -> types.InlineKeyboardMarkup:
    markup = types.InlineKeyboardMarkup()
    for row in rows:
        markup.row(*(types.InlineKeyboardButton(text, callback_data=data) for text, data in row))
    return markup


def money(amount: Decimal, currency: str) -> str:
    return ledger.format_money(amount, currency)


def summary(parsed: p.ParsedCommand) -> str:
    """What a parsed command will save, in the user's language."""
    language = user_language()
    amount = money(parsed.amount, parsed.currency) if parsed.amount is not None else "—"
    lines = [f"{intent_text(parsed.intent, language)}: {amount}"]
    if parsed.intent in (p.EXPENSE, p.INCOME):
        name = next((c.name(language) for c in ledger.category_rows(current_user()) if c.code == parsed.category), "")
        lines.append(t("Category: %(name)s", name=name))
    elif parsed.intent == p.DEBT:
        lines.append(f"{direction_text(parsed.direction, language)}: {parsed.counterparty}")
    if parsed.description:
        lines.append(t("Description: %(text)s", text=parsed.description))
    if parsed.days_ago:
        day = (utcnow().astimezone(ledger.local_zone()) - timedelta(days=parsed.days_ago)).date()
        lines.append(t("Date: %(date)s", date=day.strftime("%d.%m.%Y")))
    return "\n".join(lines)


def heard_prefix(text: str) -> str:
    return t("🎤 I heard: «%(text)s»", text=text) + "\n\n"


# --- start, help, balance ------------------------------------------------------------------------


def help_text(language: str) -> str:
    return tx.for_language(language, tx.HELP)


def on_start(bot: TeleBot, message: types.Message) -> None:
    name = message.from_user.first_name if message.from_user else ""
    language = user_language()
    bot.send_message(message.chat.id, tx.for_language(language, tx.START, name=name), reply_markup=main_menu(language))


def balance_text() -> str:
    rows = ledger.balances(current_user()) or {ledger.DEFAULT_CURRENCY: Decimal("0")}
    # The default currency first, as the seed shows it; others after it.
    ordered = sorted(rows.items(), key=lambda kv: (kv[0] != ledger.DEFAULT_CURRENCY, kv[0]))
    balance = ", ".join(money(amount, cur) for cur, amount in ordered)
    return t(tx.BALANCE, balance=balance)


def report_text() -> str:
    language = user_language()
    today = utcnow().astimezone(ledger.local_zone()).date()
    month = format_date(today, "LLLL yyyy", locale=language)
    user = current_user()
    expenses = ledger.category_totals(user, today.year, today.month, language=language)
    incomes = ledger.category_totals(user, today.year, today.month, type="income", language=language)
    if not expenses and not incomes:
        return t("📊 No records in %(month)s yet. Send e.g. «Потратил 50000 на продукты».", month=month)
    cur = ledger.DEFAULT_CURRENCY
    lines = [t("📊 Expenses in %(month)s", month=month), ""]
    lines += [f"• {row.name} — {money(row.total, cur)} ({row.share}%)" for row in expenses]
    spent = sum((row.total for row in expenses), Decimal(0))
    earned = sum((row.total for row in incomes), Decimal(0))
    lines += ["", t("Total expenses: %(amount)s", amount=money(spent, cur))]
    lines.append(t("Income: %(amount)s", amount=money(earned, cur)))
    return "\n".join(lines)


# --- goals and debts --------------------------------------------------------------------------------


def goals_message() -> tuple[str, types.InlineKeyboardMarkup | None]:
    goals = ledger.active_goals(current_user(), LIST_LIMIT)
    hint = t("To create a goal, send e.g. «Хочу накопить на телефон 5000000».")
    if not goals:
        return t("🎯 You have no savings goals yet.") + "\n\n" + hint, None
    lines = [t("🎯 Your goals:"), ""]
    for goal in goals:
        percent = ledger.goal_progress(goal)
        lines.append(f"{goal.title}\n{ledger.progress_bar(percent)} {percent}%")
        lines.append(f"{money(goal.saved_amount, goal.currency)} / {money(goal.target_amount, goal.currency)}\n")
    lines.append(hint)
    buttons = [[(f"➕ {goal.title[:40]}", FIN.new("gd", goal.id))] for goal in goals]
    return "\n".join(lines), inline(*buttons)


def settle_label(who: str, amount: str) -> str:
    return t("✅ Settle: %(who)s %(amount)s", who=who[:20], amount=amount)


def debts_message() -> tuple[str, types.InlineKeyboardMarkup | None]:
    user = current_user()
    debts = ledger.open_debts(user, LIST_LIMIT)
    hint = t("To add a debt, send e.g. «Ахмед должен мне 500000» or «Занял у брата 1 млн».")
    if not debts:
        return t("💳 You have no open debts.") + "\n\n" + hint, None
    totals = ledger.debt_totals(user)
    today = utcnow().astimezone(ledger.local_zone()).date()
    lines = [t("💳 Open debts"), ""]
    for key, label in ((DebtDirection.OWED_TO_ME, t("Owed to you")), (DebtDirection.I_OWE, t("You owe"))):
        if totals[key.value]:
            lines.append(f"{label}: " + ", ".join(money(v, c) for c, v in sorted(totals[key.value].items())))
    lines.append("")
    for debt in debts:
        mark = ""
        if debt.due_date is not None:
            if debt.due_date < today:
                mark = " ❗ " + t("overdue since %(date)s", date=debt.due_date.strftime("%d.%m.%Y"))
            elif debt.due_date <= today + timedelta(days=DUE_SOON_DAYS):
                mark = " ⏰ " + t("due %(date)s", date=debt.due_date.strftime("%d.%m.%Y"))
            else:
                mark = " · " + t("due %(date)s", date=debt.due_date.strftime("%d.%m.%Y"))
        arrow = "⬅️" if debt.direction == DebtDirection.OWED_TO_ME else "➡️"
        lines.append(f"{arrow} {debt.counterparty} — {money(debt.amount, debt.currency)}{mark}")
    lines += ["", hint]
    buttons = [[(settle_label(d.counterparty, money(d.amount, d.currency)), FIN.new("ds", d.id))] for d in debts]
    return "\n".join(lines), inline(*buttons)


# --- records from phrases ---------------------------------------------------------------------------


def offer(bot: TeleBot, chat_id: int, item: pending.Pending, prefix: str = "", edit_message_id: int | None = None):
    """Ask "Save?" for a complete command, or "expense or income?" when that is what is unclear."""
    parsed = item.parsed
    bot_id = current_bot().id
    if parsed.complete:
        pid = pending.put(bot_id, chat_id, item)
        text = prefix + t("Please check:") + "\n" + summary(parsed) + "\n\n" + t("Save it?")
        markup = inline([(t(tx.BTN_SAVE), FIN.new("ok", pid)), (t(tx.BTN_CANCEL), FIN.new("no", pid))])
    elif parsed.question == p.Q_INTENT and parsed.amount is not None:
        pid = pending.put(bot_id, chat_id, item)
        text = prefix + question_text(parsed.question, user_language())
        markup = inline(
            [(t(tx.BTN_EXPENSE), FIN.new("as", "e", pid)), (t(tx.BTN_INCOME), FIN.new("as", "i", pid))],
            [(t(tx.BTN_CANCEL), FIN.new("no", pid))],
        )
    else:
        text, markup = prefix + question_text(parsed.question, user_language()), None
    if edit_message_id is not None:
        bot.edit_message_text(text, chat_id, edit_message_id, reply_markup=markup)
    else:
        bot.send_message(chat_id, text, reply_markup=markup)


def save(item: pending.Pending) -> tuple[str, object]:
    user = current_user()
    kind, row = ledger.record_command(user, item.parsed, item.source)
    if item.voice_log_id is not None:
        entry = voice.get_voice_log(user, item.voice_log_id)
        if entry is not None:
            voice.confirm_voice(entry, kind, str(row.id))
    return kind, row


def cancel_voice_of(item: pending.Pending) -> None:
    if item.voice_log_id is not None:
        entry = voice.get_voice_log(current_user(), item.voice_log_id)
        if entry is not None and entry.status == VoiceStatus.PARSED:
            voice.cancel_voice(entry)


# --- handlers: menu, commands, phrases, voice ---------------------------------------------------------

_labels: dict[str, frozenset[str]] = {}


def is_button(message: types.Message, label: str) -> bool:
    if label not in _labels:
        _labels[label] = tx.labels(label)
    return message.text in _labels[label]


def show_balance(message: types.Message, bot: TeleBot) -> None:
    bot.send_message(message.chat.id, balance_text(), reply_markup=main_menu(user_language()))


def show_report(message: types.Message, bot: TeleBot) -> None:
    bot.send_message(message.chat.id, report_text())


def show_goals(message: types.Message, bot: TeleBot) -> None:
    text, markup = goals_message()
    bot.send_message(message.chat.id, text, reply_markup=markup)


def show_debts(message: types.Message, bot: TeleBot) -> None:
    text, markup = debts_message()
    bot.send_message(message.chat.id, text, reply_markup=markup)


def menu_action(message: types.Message):
    """The handler for a main-menu button or command, if the text is one."""
    text = message.text or ""
    if text in ("/balance",) or is_button(message, tx.BTN_BALANCE):
        return show_balance
    if text in ("/report",) or text.startswith("📊"):
        return show_report
    if text in ("/goals",) or is_button(message, tx.BTN_GOALS):
        return show_goals
    if text in ("/debts",) or is_button(message, tx.BTN_DEBTS):
        return show_debts
    return None


def menu_button(message: types.Message, bot: TeleBot) -> None:
    """/balance, /report, /goals, /debts and their menu buttons."""
    menu_action(message)(message, bot)


def deposit_amount(message: types.Message, bot: TeleBot) -> None:
    """The amount typed after "➕" on a goal (or a menu button, which drops the deposit)."""
    action = menu_action(message)
    if action is not None:  # the user went elsewhere in the menu: drop the deposit
        bot.delete_state(message.from_user.id, message.chat.id)
        action(message, bot)
        return
    with bot.retrieve_data(message.from_user.id, message.chat.id) as data:
        goal_id = (data or {}).get("goal_id")
    amount = p.parse_command(message.text or "").amount
    if amount is None:
        bot.send_message(message.chat.id, t("Please send the amount as a number, e.g. 100000."))
        return
    bot.delete_state(message.from_user.id, message.chat.id)
    user = current_user()
    try:
        goal = ledger.get_goal(user, goal_id)
        ledger.deposit_to_goal(user, goal, amount)
    except ServiceError as exc:  # the boundary rolls the deposit back and says this, whatever the rule was
        raise ServiceError(tx._("This goal does not accept deposits any more."), exc.status, exc.code) from exc
    percent = ledger.goal_progress(goal)
    text = t(
        "✅ %(title)s: %(bar)s %(percent)s%%\n%(saved)s / %(target)s",
        title=goal.title,
        bar=ledger.progress_bar(percent),
        percent=percent,
        saved=money(goal.saved_amount, goal.currency),
        target=money(goal.target_amount, goal.currency),
    )
    if goal.status == GoalStatus.ACHIEVED:
        text += "\n\n" + t("🎉 Goal reached!")
    bot.send_message(message.chat.id, text, reply_markup=main_menu(user_language()))


def phrase(message: types.Message, bot: TeleBot) -> None:
    """Any other text: parsed into a record to confirm (nothing is saved before "Save")."""
    if is_first_contact():
        bot.send_message(
            message.chat.id, common.CHOOSE_LANGUAGE_ALL, reply_markup=common.language_keyboard(common.LANG_START)
        )
        return
    parsed = p.parse_command(message.text or "", categories=ledger.parser_categories(current_user()))
    offer(bot, message.chat.id, pending.Pending(parsed, TxSource.TEXT.value))


def voice_note(message: types.Message, bot: TeleBot) -> None:
    """A voice note: recognised, parsed, offered like a phrase."""
    user, chat_id = current_user(), message.chat.id
    engine = speech.engine_for(current_app)
    note = message.voice
    if engine is None:
        voice.process_voice(
            user, b"", None, language=user_language(), duration=note.duration, bot_id=current_bot().id,
            file_id=note.file_id,
        )  # fmt: skip
        bot.send_message(
            chat_id,
            t(
                "🎤 Voice recognition is not available right now. Please type your command, "
                "e.g. «Потратил 50000 на продукты»."
            ),
        )
        return
    data = b""
    if (note.duration or 0) <= speech.MAX_SECONDS:
        try:
            data = bot.download_file(bot.get_file(note.file_id).file_path)
        except Exception:  # Telegram or the network failed us: the user can retry or type
            log.exception("voice note %s could not be downloaded", note.file_id)
    outcome = voice.process_voice(
        user, data, engine, language=user_language(), duration=note.duration, bot_id=current_bot().id,
        file_id=note.file_id,
    )  # fmt: skip
    if outcome.status in (VoiceStatus.FAILED, VoiceStatus.EMPTY):
        bot.send_message(chat_id, t("🎤 Sorry, I could not make out the voice message. Please try again or type it."))
        return
    item = pending.Pending(outcome.parsed, TxSource.VOICE.value, outcome.log.id)
    offer(bot, chat_id, item, prefix=heard_prefix(outcome.log.text))


# --- handlers: buttons (fin:<action>:<argument>) ----------------------------------------------------


def stale(bot: TeleBot, call: types.CallbackQuery) -> None:
    bot.answer_callback_query(call.id, t("This button is no longer active."))


def refuse(bot: TeleBot, call: types.CallbackQuery) -> None:
    """A button whose action the rules refused (another user's debt, a record already gone) answers
    as any stale button does, quietly rather than as the boundary's "⚠️" alert, so a forged button
    learns nothing. Rolled back here because the boundary will commit: nothing the handler began is kept."""
    db.session.rollback()
    stale(bot, call)


def confirm(bot: TeleBot, call: types.CallbackQuery, pid: str) -> None:
    chat_id = call.message.chat.id
    item = pending.take(current_bot().id, chat_id, pid)
    if item is None:
        stale(bot, call)
        return
    try:
        kind, row = save(item)
    except ServiceError as exc:  # the boundary rolls back what was saved and says this as an alert
        raise ServiceError(tx._("This record cannot be saved. Please send it again."), exc.status, exc.code) from exc
    bot.answer_callback_query(call.id, t("Saved"))
    text = t("✅ Saved.") + "\n" + summary(item.parsed)
    markup = inline([(t(tx.BTN_UNDO), FIN.new("undo", KIND_CODES[kind], row.id))])
    bot.edit_message_text(text, chat_id, call.message.message_id, reply_markup=markup)


def cancel(bot: TeleBot, call: types.CallbackQuery, pid: str) -> None:
    item = pending.take(current_bot().id, call.message.chat.id, pid)
    if item is None:
        stale(bot, call)
        return
    cancel_voice_of(item)
    bot.answer_callback_query(call.id)
    bot.edit_message_text(t("✖️ Cancelled. Nothing was saved."), call.message.chat.id, call.message.message_id)


def choose_intent(bot: TeleBot, call: types.CallbackQuery, arg: str) -> None:
    code, _, pid = arg.partition(":")
    chat_id = call.message.chat.id
    item = pending.take(current_bot().id, chat_id, pid)
    if item is None or code not in ("e", "i"):
        stale(bot, call)
        return
    intent = p.EXPENSE if code == "e" else p.INCOME
    item.parsed = p.with_intent(item.parsed, intent, ledger.parser_categories(current_user()))
    bot.answer_callback_query(call.id)
    offer(bot, chat_id, item, edit_message_id=call.message.message_id)


def undo(bot: TeleBot, call: types.CallbackQuery, arg: str) -> None:
    code, _, record_id = arg.partition(":")
    kind = CODE_KINDS.get(code)
    user = current_user()
    try:
        if kind is None:
            raise ServiceError("unknown record kind", 404)
        ledger.undo_record(user, kind, record_id)
    except ServiceError:
        refuse(bot, call)
        return
    voice.undo_voice_result(user, kind, record_id)
    bot.answer_callback_query(call.id, t("Undone"))
    text = (call.message.text or "") + "\n\n" + t("↩️ Undone: the record was deleted.")
    bot.edit_message_text(text, call.message.chat.id, call.message.message_id)


def start_deposit(bot: TeleBot, call: types.CallbackQuery, goal_id: str) -> None:
    try:
        goal = ledger.get_goal(current_user(), goal_id)
    except ServiceError:
        stale(bot, call)
        return
    if goal.status != GoalStatus.ACTIVE:
        stale(bot, call)
        return
    bot.set_state(call.from_user.id, FinanceStates.deposit_amount, call.message.chat.id)
    bot.add_data(call.from_user.id, call.message.chat.id, goal_id=str(goal.id))
    bot.answer_callback_query(call.id)
    bot.send_message(call.message.chat.id, t("How much are you putting towards «%(title)s»?", title=goal.title))


def settle(bot: TeleBot, call: types.CallbackQuery, debt_id: str) -> None:
    user = current_user()
    try:
        debt = ledger.settle_debt(user, ledger.get_debt(user, debt_id))
    except ServiceError:
        refuse(bot, call)
        return
    bot.answer_callback_query(call.id, t("Settled"))
    bot.send_message(
        call.message.chat.id,
        t("✅ Debt settled: %(who)s — %(amount)s", who=debt.counterparty, amount=money(debt.amount, debt.currency)),
    )


BUTTONS = {"ok": confirm, "no": cancel, "as": choose_intent, "undo": undo, "gd": start_deposit, "ds": settle}


def button(call: types.CallbackQuery, bot: TeleBot) -> None:
    """Any ``fin:`` button: the action it names (see ``BUTTONS``), with the rest as its argument."""
    action, _, arg = (call.data or "")[len(FIN.prefix) :].partition(":")
    handler = BUTTONS.get(action)
    if handler is None or call.message is None:
        stale(bot, call)
        return
    handler(bot, call, arg)


# --- registration (first match wins) ------------------------------------------------------------------


def register_handlers(bot: TeleBot) -> None:
    bot.register_message_handler(menu_button, commands=["balance", "report", "goals", "debts"], pass_bot=True)
    bot.register_message_handler(
        deposit_amount, state=FinanceStates.deposit_amount, content_types=["text"], pass_bot=True
    )
    bot.register_message_handler(
        menu_button, func=lambda m: menu_action(m) is not None, content_types=["text"], pass_bot=True
    )
    bot.register_message_handler(
        phrase, func=lambda m: not (m.text or "").startswith("/"), content_types=["text"], pass_bot=True
    )
    bot.register_message_handler(voice_note, content_types=["voice"], pass_bot=True)
    bot.register_callback_query_handler(button, func=FIN.matches, pass_bot=True)
