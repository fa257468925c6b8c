"""The console's RQ view: superusers only, failed jobs with their error, requeue and delete behind CSRF."""

from __future__ import annotations

import pytest
from rq import SimpleWorker

from tests.conftest import csrf_from


def explode(order_id: int) -> None:
    raise RuntimeError(f"printer offline for order {order_id}")


@pytest.fixture
def failed_job(app):
    """A job that really ran in a worker and failed (SimpleWorker: in this process, no fork)."""
    from webapp.jobs.queues import get_queue

    with app.app_context():
        queue = get_queue("notifications")
        job = queue.enqueue(explode, 42)
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        assert job.id in queue.failed_job_registry.get_job_ids()
        return job.id


def _registries(app):
    from webapp.jobs.queues import get_queue

    with app.app_context():
        queue = get_queue("notifications")
        return queue.get_job_ids(), queue.failed_job_registry.get_job_ids()


def test_only_superusers_see_the_jobs(app, client, make_user, console_login):
    assert client.get("/admin/jobs/").status_code == 302  # to the login page
    console_login(client, make_user("admin"))
    assert client.get("/admin/jobs/").status_code == 403
    assert client.post("/admin/jobs/notifications/x/delete").status_code in (400, 403)


def test_superuser_sees_a_failed_job_with_its_error_and_requeues_it(app, client, make_user, console_login, failed_job):
    console_login(client, make_user("superuser", language="uz"))
    page = client.get("/admin/jobs/")
    assert page.status_code == 200
    html = page.text
    assert "Fon vazifalari" in html and "Navbatga qaytarish" in html
    assert "RuntimeError: printer offline for order 42" in html and failed_job in html

    # Without the form's token nothing happens.
    assert client.post(f"/admin/jobs/notifications/{failed_job}/requeue").status_code == 400
    assert _registries(app) == ([], [failed_job])

    done = client.post(f"/admin/jobs/notifications/{failed_job}/requeue", data={"csrf_token": csrf_from(html)})
    assert done.status_code == 302
    assert _registries(app) == ([failed_job], [])
    assert "Xato bilan tugagan vazifa yoʻq." in client.get("/admin/jobs/").text


def test_superuser_deletes_a_failed_job(app, client, make_user, console_login, failed_job):
    console_login(client, make_user("superuser", language="en"))
    token = csrf_from(client.get("/admin/jobs/").text)

    assert client.post(f"/admin/jobs/nosuchqueue/{failed_job}/delete", data={"csrf_token": token}).status_code == 404
    client.post(f"/admin/jobs/notifications/{failed_job}/delete", data={"csrf_token": token})
    assert _registries(app) == ([], [])
    with app.app_context():
        from rq.job import Job

        from webapp.extensions import redis_store

        assert Job.exists(failed_job, connection=redis_store.client) is False

    # A job id that is not in the failed registry is refused with a message, not a 500.
    again = client.post(f"/admin/jobs/notifications/{failed_job}/requeue", data={"csrf_token": token})
    assert again.status_code == 302
    assert "No such failed job" in client.get("/admin/jobs/").text
