"""`flask --app wsgi jobs [start|run NAME|list]`."""
from __future__ import annotations

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
    """Run the scheduler until stopped (the run command starts it beside the web server)."""
    from jobs.scheduler import build_scheduler
    scheduler = build_scheduler(current_app._get_current_object())
    click.echo("scheduler started: " + ", ".join(j.id for j in scheduler.get_jobs()))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass


@group.command("run")
@click.argument("name")
def run(name: str):
    """Run one job now."""
    from jobs.runner import run_job
    try:
        click.echo(f"{name}: {run_job(name)}")
    except KeyError:
        raise click.UsageError(f"no job named {name}")


@group.command("list")
def list_jobs():
    """The registered jobs, their schedules and last runs."""
    from jobs import JOBS
    from models.notification import JobRun
    for spec in JOBS:
        last = db.session.scalar(select(JobRun).where(JobRun.name == spec.name).order_by(JobRun.id.desc()).limit(1))
        when = f"{last.started_at:%Y-%m-%d %H:%M} {last.summary}" if last else "never"
        click.echo(f"{spec.name:24s} {spec.cron}  last: {when}")


def register(app) -> None:
    app.cli.add_command(group)
