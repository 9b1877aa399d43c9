"""The demo county the run command loads into an empty database."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.catalogue import validate_matter
from app.records import REGISTRY
from app.demo import DEMO_PASSWORD, build_demo, demo_logins
from models.catalogue import Post, Window
from models.core import User


def test_demo_builds_default_windows_staff_posts_and_matters(db):
    ctx = build_demo()
    db.session.commit()
    windows = db.session.scalars(select(Window).where(Window.center_id == ctx.township.id).order_by(Window.number)).all()
    assert [w.name for w in windows][:3] == ["信访维稳", "财政惠民", "人口计生"] and len(windows) == 9
    assert db.session.scalar(select(func.count(User.id)).where(User.center_id == ctx.township.id)) >= 20
    posts = db.session.scalars(select(Post).where(Post.center_id == ctx.township.id)).all()
    assert {p.window_id for p in posts} == {w.id for w in windows}
    assert all(p.a_holder_id and p.b_holder_id and p.a_holder_id != p.b_holder_id for p in posts)
    assert len(ctx.matters) >= 40 and all(m.materials for m in ctx.matters if m.kind == "promised")
    assert all(m.code.startswith("CG-") and m.promised_days <= m.statutory_days for m in ctx.matters)
    assert sum(m.promised_days <= 0.4 * m.statutory_days for m in ctx.matters) >= 0.9 * len(ctx.matters)
    assert {c.kind for c in (ctx.county, ctx.township, ctx.other, ctx.subcenter, *ctx.villages)} == {
        "county", "township", "subcenter", "village"}
    assert all(v.parent_id == ctx.township.id for v in (ctx.subcenter, *ctx.villages))
    assert ctx.users["sq_director"].center_id == ctx.other.id and ctx.users["county"].center_id == ctx.county.id
    assert all(len(u.phone) == 11 and u.phone[:2] in ("13", "15", "18") for u in ctx.users.values())
    assert len({u.phone for u in ctx.users.values()}) == len(ctx.users)


def test_every_demo_matter_passes_catalogue_validation(db):
    ctx = build_demo()
    assert [m.name for m in ctx.matters if validate_matter(REGISTRY['matters'].ctx(m, None))] == []


def test_demo_logins_can_log_in(client, db):
    build_demo()
    db.session.commit()
    for username, _title in demo_logins():
        response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 302, username
        client.post("/logout")


def printed_logins(output: str) -> list[str]:
    return [line.split()[0] for line in output.splitlines() if line.startswith("  ") and line.strip()]


def test_run_command_on_an_empty_database_points_to_the_set_up_page_and_loads_nothing(runner, db, monkeypatch):
    """A first install exposes no demo accounts: the run command says where to set the system up."""
    import flask_migrate
    import waitress
    monkeypatch.setattr(flask_migrate, "upgrade", lambda **kw: None)  # the test database is already built
    monkeypatch.setattr(waitress, "serve", lambda *a, **kw: None)
    result = runner.invoke(args=["serve", "--no-jobs"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5000/setup" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_demo_data_command_prints_every_demo_login_county_admin_first(app):
    result = app.test_cli_runner().invoke(args=["demo-data"])
    logins = printed_logins(result.output)
    assert logins[0] == "county_admin" and {"county", "admin", "sq_director", "clerk14"} <= set(logins)


def test_demo_data_command_refuses_a_database_with_users(runner):
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    assert runner.invoke(args=["demo-data"]).exit_code != 0


def test_demo_cases_cover_every_state_with_valid_id_numbers_and_some_overdue(db):
    from app.records.forms import valid_id_number
    from models.case import ServiceCase
    build_demo()
    cases = db.session.scalars(select(ServiceCase)).all()
    assert len(cases) >= 30 and all(valid_id_number(c.applicant_id_no) for c in cases)
    assert {"registered", "awaiting_supplement", "accepted", "completed", "delivered", "answered", "refused",
            "transferred", "reported"} <= {c.state for c in cases}
    assert any(c.overdue for c in cases)


@pytest.mark.parametrize("clock", ["00:20", "07:05", "09:10", "15:40"])
def test_the_demo_queue_never_takes_or_calls_a_number_after_now(db, monkeypatch, clock):
    """The demo's morning queue is an hour since opening; loaded before 9:30 that hour ends at the present (it
    had calls at 9:00 when loaded at 1 a.m., and the hall display's latest call was one nobody had made)."""
    from datetime import datetime

    from models.queue import QueueTicket
    moment = datetime(2026, 12, 8, *map(int, clock.split(":")))
    monkeypatch.setattr("app.timeutil.now", lambda: moment)
    monkeypatch.setattr("app.timeutil.today", lambda: moment.date())
    build_demo()
    tickets = db.session.scalars(select(QueueTicket)).all()
    assert len(tickets) == 14 and all(t.day == moment.date() for t in tickets)
    assert all(t.taken_at <= moment for t in tickets)
    called = [t.called_at for t in tickets if t.called_at]
    assert len(called) == 8 and max(called) <= moment
