"""E-mail: every message is a row of the outbox first, then delivered by a job over SMTP.

With ``MAIL_SERVER`` empty (the embedded default) the row stays in the outbox with status ``kept``
and the console shows it — that is how a person running the platform locally reads a link code.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app

from webapp.core.db import utcnow
from webapp.extensions import db
from webapp.jobs.queues import enqueue_after_commit
from webapp.realty.models import OutboxEmail


def send_email(to_address: str, subject: str, body: str) -> OutboxEmail:
    """Queue an e-mail; it is delivered after the caller's commit."""
    row = OutboxEmail(to_address=to_address, subject=subject, body=body, status="queued")
    db.session.add(row)
    db.session.flush()
    enqueue_after_commit("webapp.realty.jobs.deliver_email", row.id, queue="email", job_id=f"email-{row.id}")
    return row


def deliver(row: OutboxEmail) -> None:
    """Send one outbox row through the configured SMTP server and record the outcome on it."""
    if row.status in ("sent", "kept"):
        return
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        row.status = "kept"
        return
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = make_msgid(domain="botdesk.local")
    message.set_content(row.body)
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        row.status = "failed"
        row.error = f"{type(exc).__name__}: {exc}"
        return
    row.status = "sent"
    row.error = None
    row.sent_at = utcnow()
