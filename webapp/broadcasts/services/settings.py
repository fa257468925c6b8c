"""Broadcast delivery's tunables: the app's config where set, else these defaults.

Their own module because both the lifecycle (which starts delivery jobs) and delivery (which runs
them) read them, and delivery already builds on the lifecycle.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

DEFAULTS = {
    "BROADCAST_BATCH_SIZE": 50,
    "BROADCAST_MAX_ATTEMPTS": 3,
    "BROADCAST_RETRY_BACKOFF": 2.0,  # seconds, doubled per attempt
    "BROADCAST_STALE_SECONDS": 10,  # rows whose heartbeat is older than this have no live worker
    "BROADCAST_JOB_SLICE_SECONDS": 600,  # a job hands over to a fresh one after this long
    "BROADCAST_PARALLEL_JOBS": 2,
    "BROADCAST_THREADS": 4,  # concurrent senders per delivery job at most (it starts one, see delivery.Demand)
    # Rows a sender marks "sending" at once: at most this many per sender become "unknown" when its
    # worker dies. Each window costs a mark, a commit and a slot reservation, so 16 costs a quarter of
    # what 4 did per message (bench/broadcast.py against the baseline: 0.52 with 4, 0.48-0.52 with 8,
    # 0.45 with 16).
    # A job usually runs one sender (delivery.Demand), so a crash leaves at most the 16 unknown rows
    # that the four senders of 4 each, which every job used to start, could leave.
    "BROADCAST_IN_FLIGHT": 16,
}


def setting(name: str) -> Any:
    return current_app.config.get(name, DEFAULTS[name])
