"""The outbox's one delivery job, and the sweep that runs it for whatever its queued run missed."""

from __future__ import annotations

from datetime import datetime

from webapp.extensions import db
from webapp.jobs.context import with_app_context
from webapp.jobs.schedule import periodic
from webapp.telegram import outbox

SWEEP_BATCH = 500


def _deliver(message_id: int | None, now: datetime | None) -> str | None:
    claimed = outbox.claim(message_id, now)
    # Mid-way commit: the claim must be durable before the message leaves, or a second delivery
    # (another worker, the sweep) could claim and send it too.
    db.session.commit()
    if claimed is None:
        return None
    status = outbox.send_claimed(claimed, now)
    # Mid-way commit: the outcome is recorded before the next message is taken, so a later crash in
    # this job cannot leave an already sent message 'sending' (and then 'unknown').
    db.session.commit()
    return status


@with_app_context
def deliver_message(message_id: int, now: datetime | None = None) -> str | None:
    """Deliver one outbox row (queued when the transaction that wrote it committed); None when another
    delivery has it, or it is not due yet (a retry's back-off: the sweep will come back to it)."""
    return _deliver(message_id, now)


@with_app_context
def deliver_pending(now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """The sweep: give up on deliveries that died mid-send, then send every due pending row (up to
    ``limit``); returns how many were sent. Two sweeps may run at once: each row goes to one."""
    outbox.abandon_stuck(now)  # committed with the first claim below
    sent = 0
    for _ in range(limit):
        status = _deliver(None, now)
        if status is None:
            break
        sent += status == outbox.S.SENT.value
    return sent


periodic("telegram.outbox_sweep", deliver_pending, queue="notifications", interval=60)
