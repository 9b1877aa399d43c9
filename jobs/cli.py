"""`flask --app wsgi jobs [start | run NAME [--at ...] | list]`."""
from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from app.extensions import db


@click.group("jobs", cls=AppGroup, invoke_without_command=True)
@click.pass_context
def group(ctx):
    """Scheduled jobs, in their own process; without a sub-command: start the scheduler."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(start)


@group.command("start")
def start():
    """Run the scheduler until stopped (`serve` starts it beside the web server)."""
    import os

    from jobs import scheduler as scheduler_module
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    app = current_app._get_current_object()
    try:
        lock = scheduler_module.acquire_lock(app)
    except scheduler_module.SchedulerLocked as exc:
        raise click.ClickException(str(exc)) from None
    try:
        if os.environ.get("HALL_PARENT_PID", "").isdigit():  # started by `serve`: die with it
            scheduler_module.exit_with_parent(int(os.environ["HALL_PARENT_PID"]))
        scheduler = scheduler_module.build_scheduler(app)
        click.echo("scheduler started: " + ", ".join(j.id for j in scheduler.get_jobs()))
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass
    finally:
        lock.release()


@group.command("run")
@click.argument("name")
@click.option("--at", "at", type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"]),
              help="Act as of this local time (default: now).")
def run(name: str, at):
    """Run one job now (for cron, tests, or catching up)."""
    from jobs import job
    from jobs.runner import run_job
    if job(name) is None:
        raise click.UsageError(f"no job named {name!r}; see `flask jobs list`")
    click.echo(f"{name}: {run_job(name, at=at)}")


@group.command("list")
def list_jobs():
    """The registered jobs, their schedules and last runs."""
    from jobs import JOBS
    from models.notification import JobRun
    for spec in JOBS:
        last = db.session.scalar(select(JobRun).where(JobRun.name == spec.name).order_by(JobRun.id.desc()).limit(1))
        when = f"{last.started_at:%Y-%m-%d %H:%M} {'ok' if last.ok else 'FAILED'}: {last.summary}" if last else "never"
        schedule = " ".join(f"{k}={v}" for k, v in spec.cron.items())
        flag = " (reminder: working hours only)" if spec.reminder else ""
        click.echo(f"{spec.name:22s} {schedule}{flag}\n{'':22s} last run: {when}")


def register(app) -> None:
    app.cli.add_command(group)
