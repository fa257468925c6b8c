"""Helpdesk jobs: clean-up of files no message kept. (Notifications are outbox rows written by
``webapp.helpdesk.services.notify`` and delivered by the outbox's one job.)"""

from __future__ import annotations

from webapp.helpdesk.services import files
from webapp.jobs.context import with_app_context
from webapp.jobs.schedule import periodic


@with_app_context
def purge_orphan_files() -> int:
    return files.purge_orphan_files()


periodic("helpdesk.purge_orphan_files", purge_orphan_files, queue="default", interval=3600)
