"""Helpdesk vertical (seed 003): support tickets with categories, priorities, assignees, internal
notes, attachments, statistics and live events.

models.py (state machine table), services/ (the rules), api.py (``/api/v1``), live.py
(``/ws/tickets/{id}`` and the console inbox feed), events.py (Redis pub/sub after commit),
jobs.py (Telegram notifications), storage.py (files), admin.py (console), demo.py; the bot's
handlers live in ``botworker/helpdesk``.
"""
