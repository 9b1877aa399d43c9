"""Fixtures and factories shared by every test."""
from __future__ import annotations

import itertools
import os

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient

import models.core as core_models
from app import create_app
from app.config import normalise_url
from app.extensions import db as _db
from models.catalogue import Department, Matter, MatterMaterial, Window
from models.core import ROLES, Center, RoleGrant, User
from tests import types as test_types

test_types.load()  # record types the tests declare (tests/types/): the generated tests cover them too

core_models.PASSWORD_METHOD = "pbkdf2:sha256:1000"  # fast hashing in tests only
PASSWORD = "secret-pass-1"
_seq = itertools.count(1)


class RequestClient(FlaskClient):
    """The app context stays pushed during a test, so `g` would outlive a request: start each
    request with a fresh `g`, as a real server does (logged-in user, role caches)."""

    def open(self, *args, **kwargs):
        if has_app_context():
            g.__dict__.clear()
        return super().open(*args, **kwargs)


@pytest.fixture
def app(tmp_path, monkeypatch):
    """A test app on a fresh SQLite file, or on TEST_DATABASE_URL (PostgreSQL) when set."""
    monkeypatch.setenv("HALL_INSTANCE", str(tmp_path / "instance"))
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.sqlite3'}"
    application = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": normalise_url(url),
        "WTF_CSRF_ENABLED": False,
        "SECRET_KEY": "test",
    })
    application.test_client_class = RequestClient
    with application.app_context():
        if url.startswith("sqlite"):
            _db.create_all()
        else:
            _fresh_postgres()
        yield application
        _db.session.remove()
        _db.engine.dispose()


def _fresh_postgres() -> None:
    """Empty tables of the models' schema on the shared PostgreSQL test database: the schema is built once and
    emptied before each test (one TRUNCATE instead of dropping and creating ~80 tables every time); built again
    when a test left it otherwise (the migration and backup tests drop tables) or a model gained an index."""
    from sqlalchemy import text
    names = sorted(_db.metadata.tables)
    indexes = {ix.name for table in _db.metadata.tables.values() for ix in table.indexes}
    with _db.engine.begin() as connection:
        present = connection.execute(text(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_name = ANY(:names)"), {"names": names}).scalar()
        present_indexes = set(connection.execute(text(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ANY(:names)"),
            {"names": names}).scalars())
    if present != len(names) or not indexes <= present_indexes:  # a model changed since it was built
        _db.drop_all()
        _db.create_all()
        return
    with _db.engine.begin() as connection:
        connection.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def calendar_2026(db):
    """The official 2026 schedule in the holiday table (as `serve` seeds it)."""
    from app import workdays
    workdays.seed_from_package([2026])
    db.session.commit()


@pytest.fixture
def on_day(monkeypatch):
    """Run as if today were `day` (hooks, rules and pages read the day from app.timeutil.today)."""
    def set_day(day):
        monkeypatch.setattr("app.timeutil.today", lambda: day)
    return set_day


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ------------------------------------------------------------------ factories

def make_center(name="城关镇便民服务中心", kind="township", parent=None, **kw) -> Center:
    center = Center(name=name, code=kw.pop("code", f"c{next(_seq)}"), kind=kind,
                    parent_id=parent.id if parent else None, **kw)
    _db.session.add(center)
    _db.session.flush()
    return center


def make_user(center: Center, *roles: str, username: str | None = None, name: str | None = None) -> User:
    username = username or f"u{next(_seq)}"
    user = User(username=username, name=name or username, center_id=center.id, password_hash="")
    user.set_password(PASSWORD)
    for role in roles:
        user.grants.append(RoleGrant(center_id=center.id, role=role))
    _db.session.add(user)
    _db.session.flush()
    return user


def make_window(center: Center, number=1, name="综合咨询") -> Window:
    window = Window(center_id=center.id, number=number, name=name)
    _db.session.add(window)
    _db.session.flush()
    return window


def make_matter(center: Center, name="城乡居民养老保险参保登记", statutory=20, promised=5,
                materials=(("居民身份证", "both", 1), ("户口簿", "copy", 1)), **kw) -> Matter:
    matter = Matter(center_id=center.id, name=name, statutory_days=statutory, promised_days=promised,
                    kind=kw.pop("kind", "promised"), handling_mode=kw.pop("handling_mode", "promised"), **kw)
    for seq, (mname, form, copies) in enumerate(materials, 1):
        matter.materials.append(MatterMaterial(seq=seq, name=mname, form=form, copies=copies))
    _db.session.add(matter)
    _db.session.flush()
    return matter


def make_department(center: Center, name="县人力资源和社会保障局") -> Department:
    dept = Department(center_id=center.id, name=name)
    _db.session.add(dept)
    _db.session.flush()
    return dept


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, user_or_name, password=PASSWORD):
        username = getattr(user_or_name, "username", user_or_name)
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def county(db):
    """A county with two township centres, A and B, and one user per role in each."""
    county_center = make_center("示范县政务服务中心", kind="county", code="county")
    a = make_center("城关镇便民服务中心", parent=county_center, code="A")
    b = make_center("石桥镇便民服务中心", parent=county_center, code="B")
    users = {}
    for label, center in (("a", a), ("b", b)):
        for role in ROLES:
            if role == "county":
                continue
            users[f"{label}_{role}"] = make_user(center, role, username=f"{label}_{role}")
    users["county"] = make_user(county_center, "county", username="county_sup")
    db.session.commit()
    return {"county": county_center, "a": a, "b": b, "users": users}


def make_case(center: Center, matter: Matter | None = None, *, intake=None, state="registered",
              responsible: User | None = None, **kw):
    """A registered case with every material received (accept it with the workflow)."""
    from datetime import date

    from models.case import CaseMaterial, ServiceCase
    matter = matter or make_matter(center)
    case = ServiceCase(center_id=center.id, matter_id=matter.id, window_id=matter.window_id, state=state,
                       applicant_name=kw.pop("applicant_name", "张三"), applicant_phone=kw.pop("applicant_phone", "13912345678"),
                       intake_date=intake or date(2026, 11, 23), receipt_no=kw.pop("receipt_no", f"2026-{next(_seq):06d}"),
                       responsible_id=responsible.id if responsible else None, kind=kw.pop("kind", "promised"), **kw)
    for seq, m in enumerate(matter.materials, 1):
        case.materials.append(CaseMaterial(seq=seq, name=m.name, form=m.form, copies=m.copies))
    _db.session.add(case)
    _db.session.flush()
    return case
