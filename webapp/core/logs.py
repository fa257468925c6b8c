"""One logging filter for every process (web, bot worker, RQ, werkzeug/gunicorn access logs):
no bot token, JWT, key or Bot API payload reaches a log line.

A filter attached to a logger does not see its children's records and a handler added later has
none, so the filter runs where every record is born: the log record factory. Whatever logger
(werkzeug, gunicorn.access, rq.worker, TeleBot, urllib3, ours) and whatever handler (gunicorn's,
pytest's) then formats the record gets the redacted text, tracebacks included.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[REDACTED]"
_RULES = (
    # Bot API paths carry the bot token: /bot<token>/method, /file/bot<token>/path
    (re.compile(r"bot\d+:[A-Za-z0-9_-]+"), "bot" + REDACTED),
    # ... and pyTelegramBotAPI sends a method's parameters (message texts) in the query string
    (re.compile(r"(bot\[REDACTED\]/[A-Za-z]+)\?[^\s\"']*"), r"\1?" + REDACTED),
    # The sandbox ops API addresses bots by token
    (re.compile(r"(/api/bots/)[^/\s?\"']+"), r"\1" + REDACTED),
    # A signed document link (seed 002) is a bearer credential for 48 hours
    (re.compile(r"(/documents/download/)[^/\s?\"']+"), r"\1" + REDACTED),
    # A token as Telegram issues it, wherever it appears
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}"), REDACTED),
    (re.compile(r"([?&;](?:token|key|initdata|hash|secret|password|refresh)=)[^&\s\"']*", re.I), r"\1" + REDACTED),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1" + REDACTED),
)


def redact(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (and traceback) with secrets replaced; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call is logging's problem to report, not ours
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = RedactingFilter()


def install() -> None:
    """Route every log record of this process through the filter (idempotent)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "botdesk_redacting", False):
        return

    def redacting_factory(*args, **kwargs) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        _FILTER.filter(record)
        return record

    redacting_factory.botdesk_redacting = True
    logging.setLogRecordFactory(redacting_factory)
