"""A delivery worker in its own process, for the crash test (``python -m tests.broadcasts.worker_process ID``).

With a shared Redis (REDIS_URL set) it is a real RQ worker on the ``broadcasts`` queue in burst mode;
on the embedded backend (in-process fakeredis, not shareable) it runs the delivery job directly.
"""

from __future__ import annotations

import os
import sys


def main(broadcast_id: int) -> None:
    from webapp import create_app

    app = create_app()
    with app.app_context():
        if os.environ.get("REDIS_URL"):
            from rq import Worker

            from webapp.extensions import redis_store
            from webapp.jobs.queues import get_queue

            Worker([get_queue("broadcasts")], connection=redis_store.client).work(burst=True)
        else:
            from webapp.broadcasts.jobs import deliver_broadcast

            deliver_broadcast(broadcast_id)


if __name__ == "__main__":
    main(int(sys.argv[1]))
