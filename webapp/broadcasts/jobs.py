"""RQ jobs of broadcasts: delivery workers, scheduled starts, and the periodic scan.

The database is the source of truth: a scheduled broadcast is started by ``queue.enqueue_at`` at its
time and, should that job be lost, by the scan that runs every few seconds; a broadcast whose
workers died is picked up by the scan as well. Every job is safe to run twice.
"""

from __future__ import annotations

import sqlalchemy as sa

from webapp.broadcasts import access
from webapp.broadcasts.models import Broadcast, BroadcastDelivery, BroadcastStatus, DeliveryStatus
from webapp.broadcasts.services import delivery, lifecycle
from webapp.core.actors import SYSTEM
from webapp.extensions import db
from webapp.jobs.context import with_app_context
from webapp.jobs.queues import get_queue
from webapp.jobs.schedule import periodic

QUEUE = lifecycle.QUEUE
SCAN_INTERVAL = 10  # seconds


@with_app_context
def deliver_broadcast(broadcast_id: int) -> dict:
    """One delivery worker for one broadcast; hands over to a fresh job when its time slice ends."""
    report = delivery.run_worker(broadcast_id)
    if report.out_of_time:
        get_queue(QUEUE).enqueue(deliver_broadcast, broadcast_id, job_timeout=lifecycle.job_timeout())
    return {"outcomes": dict(report.outcomes), "finished": report.finished, "stopped": report.stopped}


@with_app_context
def start_due_broadcasts() -> list[int]:
    return lifecycle.start_due_broadcasts()


@with_app_context
def scan_broadcasts() -> dict:
    """Start due broadcasts; for sending ones, recover dead workers' rows and relaunch workers."""
    started = lifecycle.start_due_broadcasts()
    relaunched = []
    # The scan acts for the platform: every organization's sending broadcasts (broadcasts.access).
    sending_now = sa.select(Broadcast.id).where(Broadcast.status == BroadcastStatus.SENDING.value)
    sending = db.session.scalars(access.scope(sending_now, SYSTEM, Broadcast))
    for broadcast_id in list(sending):
        delivery.recover_stale(broadcast_id)
        if lifecycle.complete_if_done(broadcast_id):
            lifecycle.refresh_counters(broadcast_id)
            # One commit per broadcast: a recovered or completed broadcast stands even if the next
            # one in the scan fails, and its relaunched workers go out at once (on commit).
            db.session.commit()
            continue
        pending = db.session.scalar(
            sa.select(BroadcastDelivery.id)
            .where(
                BroadcastDelivery.broadcast_id == broadcast_id,
                BroadcastDelivery.status == DeliveryStatus.PENDING.value,
            )
            .limit(1)
        )
        if pending is not None and not delivery.has_live_worker(broadcast_id) and not _queued(broadcast_id):
            lifecycle.launch_workers(broadcast_id)
            relaunched.append(broadcast_id)
        db.session.commit()
    return {"started": started, "relaunched": relaunched}


def _queued(broadcast_id: int) -> bool:
    """A delivery job for this broadcast is waiting in the queue or running."""
    queue = get_queue(QUEUE)
    from rq.registry import StartedJobRegistry

    job_ids = list(queue.get_job_ids()) + list(StartedJobRegistry(queue=queue).get_job_ids())
    for job in queue.job_class.fetch_many(job_ids, connection=queue.connection):
        if job is not None and job.func_name.endswith("deliver_broadcast") and list(job.args) == [broadcast_id]:
            return True
    return False


periodic("broadcasts-scan", scan_broadcasts, queue=QUEUE, interval=SCAN_INTERVAL, timeout=120)
