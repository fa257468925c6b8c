"""The pyTelegramBotAPI worker: ``python -m botworker [--bot NAME] [--poll-timeout S]``.

Serves every enabled polling bot of the ``bots`` table (plus the one TELEGRAM_BOT_TOKEN +
TELEGRAM_BOT_VERTICAL define), each long-polling in its own thread; webhook-mode bots are served
by the web process at ``/telegram/webhook/<name>`` with the same handlers (runner.py).

A vertical's conversation lives in ``botworker/<vertical>/__init__.py`` (found by registry.py):

- ``register_handlers(bot)``: its handlers, registered after the common commands (/start, /help,
  /menu, /language) and before the common fallbacks;
- ``on_start(bot, message)``: what /start does once the user's language is known (``message.from_user``
  is the user, also when /start came through the language keyboard);
- ``main_menu(language) -> ReplyKeyboardMarkup`` and ``help_text(language) -> str``.

Handlers are module-level functions registered with ``bot.register_*_handler(..., pass_bot=True)``;
buttons are built and dispatched by the one router in ``botworker/callbacks.py``, and a stale or
forged button gets a polite "no longer active". Inside a handler: ``botworker.context``
(current_bot / current_account / current_user / user_language). An update is one unit of work
(middleware.py): it commits once after the handler; if the handler raises it rolls back, and a
``ServiceError`` is told to the user in their language. The handler's replies are held and leave
only after that commit, through the one send policy (``webapp.telegram.policy``). Multi-step flows
use ``bot.set_state`` (Redis, survives restarts), never next-step handlers (memory only). Messages
sent outside an update (notifications) are outbox rows (``webapp.telegram.outbox``).
"""
