"""Flask CLI: accounts, demo data, the one-command platform, RQ worker and cron."""

from __future__ import annotations

import click
from flask import Flask

from webapp.core.roles import Role
from webapp.core.services import ServiceError, create_staff_user
from webapp.extensions import db


def register_cli(app: Flask) -> None:
    from webapp.telegram.cli import register as register_bot_cli

    register_bot_cli(app)

    @app.cli.command("create-superuser")
    @click.option("--username", prompt=True)
    @click.option("--email", prompt=True)
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    def create_superuser(username: str, email: str, password: str) -> None:
        """Create a platform superuser (prompts for what the flags do not give)."""
        if len(password) < 8:
            raise click.BadParameter("at least 8 characters", param_hint="--password")
        try:
            user = create_staff_user(username, email, password, Role.SUPERUSER, source="cli")
        except ServiceError as exc:
            raise click.ClickException(exc.message) from exc
        db.session.commit()  # a command is a boundary, like a request: it commits once, here
        click.echo(f"superuser {user.username} created ({user.id})")

    @app.cli.command("seed-demo")
    def seed_demo_command() -> None:
        """Create (or complete) the demo data; running it again changes nothing."""
        from webapp.demo import seed_demo

        for line in seed_demo():
            click.echo(line)

    @app.cli.command("run-all")
    @click.option("--port", default=5000, show_default=True)
    @click.option("--host", default="127.0.0.1", show_default=True)
    def run_all_command(port: int, host: str) -> None:
        """Migrate, seed demo data and run web, bot worker, RQ worker and cron in this terminal."""
        from webapp.runall import run_all

        raise SystemExit(run_all(host, port))

    # The worker and the scheduler run outside an app context: each job opens a fresh one of its own
    # (``webapp.jobs.context.with_app_context``), so no session or ``g`` is shared between jobs, even
    # where RQ does not fork a work horse per job.
    @app.cli.command("rq-worker", with_appcontext=False)
    @click.argument("queues", nargs=-1)
    @click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
    def rq_worker(queues: tuple[str, ...], burst: bool) -> None:
        """Run an RQ worker on the given queues (default: all)."""
        from rq import Worker

        from webapp.extensions import redis_store
        from webapp.jobs.context import serve_jobs_of
        from webapp.jobs.queues import QUEUE_NAMES, get_queue

        serve_jobs_of(app)
        with app.app_context():
            connection = redis_store.client
            worker = Worker([get_queue(n) for n in queues or QUEUE_NAMES], connection=connection)
        worker.work(burst=burst, with_scheduler=True)

    @app.cli.command("rq-cron", with_appcontext=False)
    def rq_cron() -> None:
        """Run RQ's cron scheduler with the platform's periodic jobs."""
        import webapp.jobs.registry  # noqa: F401 - verticals register their periodic jobs
        from webapp.jobs.schedule import build_scheduler

        with app.app_context():
            scheduler = build_scheduler()
        scheduler.start()
