"""The Telegram sandbox: a local Bot API server that bot code cannot tell from Telegram.

``api.py`` serves the Bot API at ``/sandbox/bot<token>/<method>`` (files at
``/sandbox/file/bot<token>/<file_path>``) and the test/ops JSON API at ``/sandbox/api/...``;
``views.py`` the ``/sandbox`` chat page; ``store.py`` keeps every piece of state in Redis under
``sandbox:`` so several web and bot processes see one sandbox; ``client.py`` is the Python client
tests and scripts use. All of it answers 404 unless SANDBOX_ENABLED.

Behaviour worth knowing when writing bot code or tests against it (all as Telegram does it):

- ``getUpdates``: an update is returned until a call with ``offset`` > its id confirms it; a new
  getUpdates of the same token ends a waiting one with 409 ("terminated by other getUpdates
  request"), so a restarted worker takes over at once; while a webhook is set getUpdates is 409.
- ``parse_mode`` is applied: the stored text is the plain text plus ``entities``; bad HTML or an
  unescaped MarkdownV2 character is a 400 "can't parse entities".
- ``editMessageText`` without ``reply_markup`` removes the inline keyboard; an edit that changes
  nothing is a 400 "message is not modified".
- A "photo" must be a real PNG/JPEG/GIF/WebP image (else 400 IMAGE_PROCESS_FAILED); a file_id is
  re-sendable only as the same kind of file.
- Limits: token buckets, per bot ``per_second`` tokens refilled at ``per_second``/s, per chat
  ``per_chat_burst`` (default 10) refilled at ``per_chat_per_second``; 429 with ``retry_after``.
- Blocking and unblocking send the bot a ``my_chat_member`` update; a blocked user's chat answers
  403 "Forbidden: bot was blocked by the user".

Test/ops API (JSON; errors in the platform's ``{"error": {...}}`` format, 400/401/404/409). It
needs the ``X-Sandbox-Key: <SANDBOX_KEY>`` header or a superuser's console session (see access.py):

- ``POST /sandbox/api/bots`` ``{"username", "first_name"?, "token"?}`` → ``{"token", "id", "username", "first_name"}``;
  ``GET /sandbox/api/bots`` (list), ``GET /sandbox/api/bots/<token>`` (limits, webhook, pending count)
- ``POST|GET /sandbox/api/bots/<token>/users`` ``{"first_name", "username"?, "language_code"?,
  "phone_number"?, "user_id"? (an existing user opens this bot too)}`` → ``{"user_id", "chat_id", ...}``
- ``POST /sandbox/api/bots/<token>/messages`` ``{"user_id", "text"}`` or ``"contact": {"phone_number",
  "first_name"?}``, ``"document": {"content" (base64), "file_name", "mime_type"?}``, ``"photo": {"content"}``,
  ``"voice": {"content", "duration", "mime_type"?}`` (+ ``"caption"``, ``"reply_to_message_id"``)
  → ``{"update_id", "message_id"}``
- ``POST /sandbox/api/bots/<token>/callbacks`` ``{"user_id", "message_id", "data"}`` (the message must
  carry an inline button with that callback_data) → ``{"update_id", "callback_query_id"}``;
  ``GET .../callbacks/<id>`` → the bot's answerCallbackQuery (``answered``, ``text``, ``show_alert``)
- ``GET .../chats/<chat_id>/messages`` → transcript, oldest first: Bot API Messages + ``from_bot`` (and
  ``reply_markup`` of any kind); ``GET .../chats/<chat_id>/state?rev=&wait=`` long-polls for a change
- ``POST .../users/<user_id>/block`` and ``/unblock``; ``GET|PUT .../limits`` ``{"per_second",
  "per_chat_per_second", "per_chat_burst"?}``; ``GET .../files/<file_id>`` (a file as the user downloads it)
"""
