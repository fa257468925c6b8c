"""Superusers' view of RQ: each queue's length and registries, failed jobs with their error, and
requeue or delete for a failed job. Built on rq's own API (rq-dashboard brings its own pages,
scripts and English-only labels; this stays inside the console's login, CSP and catalogs)."""

from __future__ import annotations

from flask import abort, flash, redirect
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from rq.exceptions import NoSuchJobError
from rq.job import Job

from webapp.admin.base import SecureView
from webapp.core.roles import Role
from webapp.extensions import redis_store
from webapp.jobs.queues import QUEUE_NAMES, get_queue

FAILED_SHOWN = 50  # per queue, newest first; enough to see a pattern without paging


def _last_line(text: str | None) -> str:
    """The exception line of a traceback: what a person reads first."""
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


class JobsView(SecureView):
    required_roles = (Role.SUPERUSER,)

    @expose("/")
    def index(self):
        queues, failed = [], []
        for name in QUEUE_NAMES:
            queue = get_queue(name)
            registry = queue.failed_job_registry
            queues.append(
                {
                    "name": name,
                    "queued": queue.count,
                    "started": queue.started_job_registry.count,
                    "scheduled": queue.scheduled_job_registry.count,
                    "failed": registry.count,
                }
            )
            ids = registry.get_job_ids(0, FAILED_SHOWN - 1, desc=True)
            for job in Job.fetch_many(ids, connection=redis_store.client):
                if job is not None:
                    failed.append({"queue": name, "job": job, "error": _last_line(job.exc_info), "trace": job.exc_info})
        return self.render("admin/jobs/index.html", queues=queues, failed=failed)

    def _failed_job(self, queue_name: str, job_id: str):
        if queue_name not in QUEUE_NAMES:
            abort(404)
        registry = get_queue(queue_name).failed_job_registry
        return registry, (job_id if job_id in registry.get_job_ids(cleanup=False) else None)

    @expose("/<queue_name>/<job_id>/requeue", methods=["POST"])
    def requeue(self, queue_name: str, job_id: str):
        registry, found = self._failed_job(queue_name, job_id)
        try:
            if found is not None:
                registry.requeue(found)
        except NoSuchJobError:  # its data expired while it was listed
            found = None
        if found is None:
            flash(gettext("No such failed job: %(id)s.", id=job_id), "error")
        else:
            flash(gettext("Job %(id)s is back in the queue %(queue)s.", id=job_id, queue=queue_name), "success")
        return redirect(self.get_url(".index"))

    @expose("/<queue_name>/<job_id>/delete", methods=["POST"])
    def delete(self, queue_name: str, job_id: str):
        registry, found = self._failed_job(queue_name, job_id)
        if found is None:
            flash(gettext("No such failed job: %(id)s.", id=job_id), "error")
        else:
            registry.remove(found, delete_job=True)
            flash(gettext("Job %(id)s deleted.", id=job_id), "success")
        return redirect(self.get_url(".index"))


def register_admin(admin) -> None:
    admin.add_view(JobsView(name=_l("Background jobs"), category=_l("Accounts"), endpoint="jobs"))
