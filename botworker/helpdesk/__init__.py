"""The helpdesk bot (seed 003): customers open tickets and talk to support; staff get alerts.

A customer opens a ticket (category buttons → title → description → optional photo or document),
sees "my tickets" with their statuses, and writes into a ticket: after opening it, after pressing
"✍️ Write" on it, or by replying to any support message about it. Every message becomes a
TicketMessage (and a live event). Staff switch new-ticket alerts on and answer them — or a
customer's message forwarded to them — with Telegram's reply.
"""

from __future__ import annotations

from botworker.helpdesk.handlers import help_text, main_menu, on_start, register_handlers

__all__ = ["help_text", "main_menu", "on_start", "register_handlers"]
