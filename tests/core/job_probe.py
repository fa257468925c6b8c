"""A job the worker tests enqueue: it notes, in Redis, what context it ran in."""

from __future__ import annotations

import json

from flask import current_app, g

from webapp.extensions import redis_store
from webapp.jobs.context import with_app_context

PROBE_KEY = "test:job-probe"


@with_app_context
def note_context(label: str) -> None:
    inherited = getattr(g, "probe_label", None)  # set by an earlier job if contexts were shared
    g.probe_label = label
    redis_store.client.rpush(
        PROBE_KEY, json.dumps({"label": label, "inherited": inherited, "app": current_app.import_name})
    )
