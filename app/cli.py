"""Command line: create-admin, demo-data, serve (the single-PC run command)."""
from __future__ import annotations

import gc
import socket
import subprocess
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from app.extensions import db
from models.core import ADMIN, Center, RoleGrant, User


def init_app(app) -> None:
    app.cli.add_command(create_admin)
    app.cli.add_command(demo_data)
    app.cli.add_command(serve)
    from app import backup, workdays_cli
    from jobs import cli as jobs_cli
    workdays_cli.register(app)
    jobs_cli.register(app)
    backup.register(app)


@click.command("create-admin")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--center", "center_code", default=None, help="Code of the centre (default: the county, created if none).")
@with_appcontext
def create_admin(username: str, password: str, center_code: str | None) -> None:
    """Create an administrator for a first install."""
    from forms.auth import password_problem
    problem = password_problem(password)
    if problem:
        raise click.UsageError(f"password / 密码: {problem}")
    if db.session.scalar(select(User).where(User.username == username)):
        raise click.UsageError(f"user {username} exists")
    if center_code:
        center = db.session.scalar(select(Center).where(Center.code == center_code))
        if center is None:
            raise click.UsageError(f"no centre with code {center_code}")
    else:
        center = db.session.scalar(select(Center).where(Center.kind == "county").order_by(Center.id))
        if center is None:
            center = Center(name="县政务服务中心", code="county", kind="county")
            db.session.add(center)
            db.session.flush()
    user = User(username=username, name=username, center_id=center.id, password_hash="")
    user.set_password(password)
    user.grants.append(RoleGrant(center_id=center.id, role=ADMIN))
    db.session.add(user)
    db.session.commit()
    click.echo(f"administrator {username} created for {center.name}")


@click.command("demo-data")
@with_appcontext
def demo_data() -> None:
    """Build a realistic demo county with one township centre (only into an empty database)."""
    from app.demo import DEMO_PASSWORD, build_demo, demo_logins
    if db.session.scalar(select(func.count(User.id))):
        raise click.UsageError("the database already has users; demo data goes only into an empty one")
    build_demo()
    db.session.commit()
    click.echo("demo data loaded; logins (password %s):" % DEMO_PASSWORD)
    for username, title in demo_logins():
        click.echo(f"  {username:12s} {title}")


def lan_address() -> str:
    """The address other devices on the office network reach this PC at (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"


@click.command("serve")
@click.option("--host", default="0.0.0.0", help="0.0.0.0 lets tablets on the office network connect.")
@click.option("--port", default=5000, type=int)
@click.option("--no-jobs", is_flag=True, help="Do not start the scheduled-jobs process.")
@click.option("--threads", default=8, type=int)
@with_appcontext
def serve(host: str, port: int, no_jobs: bool, threads: int) -> None:
    """Upgrade the database, start jobs and serve with waitress (an empty database: set up at /setup)."""
    current_app.config["SERVE_PORT"] = port
    from flask_migrate import upgrade
    from sqlalchemy.exc import DBAPIError
    from waitress import serve as waitress_serve

    from app import health
    app = current_app._get_current_object()
    # Something wrong starts the server anyway: problems are collected, printed in one block, and shown
    # to administrators; a database that cannot be written means read-only mode (no step below writes).
    cannot_write = health.write_problem()
    if cannot_write:
        health.enter_read_only(app, *cannot_write)
    else:
        try:
            _prepare_database(upgrade)
        except DBAPIError as exc:  # e.g. the disk filled up during the upgrade
            kind = health.storage_problem(exc)
            if kind is None:
                raise
            db.session.rollback()
            health.enter_read_only(app, kind, str(getattr(exc, "orig", exc)))
    db.session.remove()
    from printouts.fonts import FontMissing, ensure_registered
    try:
        ensure_registered()  # parse the CJK fonts now, so the first printout of the day is not the slow one
    except FontMissing as exc:
        health.add_problem(app, f"PDF 不可用：{exc}")
    jobs = None
    if not no_jobs and not app.config.get("READ_ONLY"):
        jobs = start_jobs_process([sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "start"])
    if health.problems_block(app):
        click.echo(health.problems_block(app), err=True)
    address = lan_address()
    click.echo(f"Serving on http://127.0.0.1:{port}  (office network: http://{address}:{port})")
    _set_public_base_url(address, port)
    from app import freeze_start_up
    freeze_start_up()
    try:
        with stop_on_signals():  # SIGTERM (kill, a service manager) ends waitress normally, so finally runs
            waitress_serve(current_app._get_current_object(), host=host, port=port, threads=threads)
    finally:
        gc.unfreeze()
        stop_jobs_process(jobs)


def _prepare_database(upgrade) -> None:
    """The steps of `serve` that write: migrations, the holiday calendar, statistics."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    from app.workdays import seed_from_package
    from jobs.housekeeping import refresh_statistics
    from app.timeutil import now
    seed_from_package()
    db.session.commit()
    refresh_statistics(now())
    if not db.session.scalar(select(func.count(User.id))):
        port = current_app.config.get("SERVE_PORT", 5000)
        click.echo(f"首次使用：请在本机浏览器打开 http://127.0.0.1:{port}/setup ，建立真实的中心，或载入演示数据试用。\n"
                   f"First run: open http://127.0.0.1:{port}/setup on this PC to start a real centre or load the demo.")


def _set_public_base_url(address: str, port: int) -> None:
    """Printed links and QR codes must open on a citizen's phone: the office-network address by default."""
    from printouts.links import reachable_base_url
    configured = current_app.config.get("PUBLIC_BASE_URL")
    if configured:
        click.echo(f"Printed links and QR codes: {configured}")
        return
    base = reachable_base_url(address, port)
    if base:
        current_app.config["PUBLIC_BASE_URL"] = base
        click.echo(f"Printed links and QR codes: {base}")
        return
    click.echo(f"警告：找不到本机的办公网络地址（只有 {address}），回执二维码和打印的链接将使用浏览器访问的地址，"
               f"在本机打印时手机无法打开。请设置环境变量 PUBLIC_BASE_URL，例如 http://192.168.1.20:{port}\n"
               f"WARNING: no office-network address found (only {address}); printed links and QR codes fall back "
               f"to the address each request came to. Set PUBLIC_BASE_URL, e.g. http://192.168.1.20:{port}", err=True)


def start_jobs_process(argv: list[str]) -> subprocess.Popen:
    """The scheduled-jobs child of `serve`: told our pid, it exits by itself if we die (even by SIGKILL)."""
    import os

    from app.config import ROOT
    return subprocess.Popen(argv, cwd=ROOT, env=dict(os.environ, HALL_PARENT_PID=str(os.getpid())))


def stop_jobs_process(child: subprocess.Popen | None) -> None:
    if child is None or child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


class stop_on_signals:
    """While inside: SIGTERM, SIGHUP (terminal closed) and SIGBREAK (Windows console) raise SystemExit
    in the main thread, which waitress treats as a normal stop."""

    NAMES = ("SIGTERM", "SIGHUP", "SIGBREAK")

    def __enter__(self):
        import signal

        def stop(signum, _frame):
            raise SystemExit(128 + signum)
        self.previous = {}
        for name in self.NAMES:
            if hasattr(signal, name):
                number = getattr(signal, name)
                self.previous[number] = signal.signal(number, stop)
        return self

    def __exit__(self, *_exc):
        import signal
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        return False
