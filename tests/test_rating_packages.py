"""Themed packages (主题式/套餐式服务 "一件事") [000 好差评制度 §16; SPEC §4.3]: the citizen rates the whole package
— one rating that applies to every case of it — or item by item. After the whole, no item can be rated again;
after one item, the whole is no longer offered but the other items still are."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app import ratings
from app.timeutil import today
from models.case import ServiceCase
from models.voice import Rating, RatingCase
from tests.conftest import make_case, make_center, make_matter, make_user, make_window

IDNO = "450702202601010011"
THEME = "新生儿出生一件事"


@pytest.fixture(autouse=True)
def fresh_limits():
    ratings.reset_limits()
    yield
    ratings.reset_limits()


@pytest.fixture
def town(db, calendar_2026):
    center = make_center("城关镇便民服务中心", code="chengguan")
    w_health, w_police, w_social = (make_window(center, 1, "卫健计生"), make_window(center, 2, "户籍"),
                                    make_window(center, 3, "社保医保"))
    matters = [make_matter(center, name="出生医学证明", window_id=w_health.id),
               make_matter(center, name="新生儿户口登记", window_id=w_police.id),
               make_matter(center, name="城乡居民医保参保登记", window_id=w_social.id)]
    clerks = [make_user(center, "clerk", username=f"clerk{i}", name=n) for i, n in enumerate(("王小红", "李明", "赵敏"))]
    db.session.commit()
    return {"center": center, "matters": matters, "clerks": clerks}


def package(town, day=None, theme=THEME, idno=IDNO, **kw):
    """The three matters of the package, registered together, each at its window, finished on `day`."""
    day = day or today()
    return [make_case(town["center"], matter, state="completed", intake=day, completed_on=day, responsible=clerk,
                      applicant_id_no=idno, package=theme, **kw)
            for matter, clerk in zip(town["matters"], town["clerks"])]


def rate_url(case):
    return f"/p/{case.center.code}/rate/{ratings.rate_token(case)}"


def text(response) -> str:
    return response.get_data(as_text=True)


def ratings_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Rating))


# ------------------------------------------------------------------ what a package is

def test_a_package_is_one_applicant_one_day_one_centre_one_theme(app, town, db):
    items = package(town)
    day = today()
    center, matter = town["center"], town["matters"][0]
    other_day = make_case(center, matter, intake=day - timedelta(days=1), applicant_id_no=IDNO, package=THEME)
    other_person = make_case(center, matter, intake=day, applicant_id_no="450702202601010022", package=THEME)
    other_theme = make_case(center, matter, intake=day, applicant_id_no=IDNO, package="企业开办一件事")
    outside = make_case(center, matter, intake=day, applicant_id_no=IDNO)
    elsewhere = make_center("石桥镇便民服务中心", code="shiqiao")
    far = make_case(elsewhere, make_matter(elsewhere, name="出生医学证明"), intake=day, applicant_id_no=IDNO,
                    package=THEME)
    voided = make_case(center, matter, intake=day, applicant_id_no=IDNO, package=THEME, voided=True)
    no_id = make_case(center, matter, intake=day, package=THEME)
    db.session.commit()
    assert ratings.package_of(items[1]) == items
    for alone in (other_day, other_person, other_theme, outside, far, no_id):
        assert ratings.package_of(alone) == [alone]
    assert voided not in ratings.package_of(items[0])
    # A case outside a package is rated as before: no choice offered.
    assert not ratings.Package(outside, day).is_package
    assert 'id="package-scope"' not in text(app.test_client().get(rate_url(outside)))


# ------------------------------------------------------------------ the whole package

def test_rating_the_whole_package_applies_to_every_item(app, town, db, client):
    items = package(town)
    db.session.commit()
    html = text(client.get(rate_url(items[0])))
    assert 'id="package-scope"' in html and THEME in html and "checked" not in html   # no preset choice
    assert all(f'data-case="{c.id}"' in html for c in items)
    response = client.post(rate_url(items[0]), data={"scope": "whole", "level": "very_satisfied"})
    assert response.status_code == 302
    rating = db.session.scalar(select(Rating))
    assert ratings_count(db) == 1 and rating.batch_size == 3 and rating.case_id == items[0].id
    assert set(db.session.scalars(select(RatingCase.case_id))) == {c.id for c in items}
    db.session.expire_all()
    assert [c.rating_status for c in items] == ["rated"] * 3


def test_after_rating_the_whole_package_no_item_can_be_rated_again(app, town, db, client):
    items = package(town)
    db.session.commit()
    assert client.post(rate_url(items[1]), data={"scope": "whole", "level": "satisfied"}).status_code == 302
    for item in items:
        html = text(client.get(rate_url(item)))
        assert 'data-refusal="rated"' in html and 'id="rating-form"' not in html
        assert 'class="rate-item"' not in html   # nothing left to rate in the package
        response = client.post(rate_url(item), data={"scope": "item", "level": "very_dissatisfied",
                                                     "reasons": "attitude"})
        assert response.status_code == 409
    with pytest.raises(ratings.RatingRefused):
        ratings.record_rating(db.session.get(ServiceCase, items[2].id), "fair", channel="kiosk")
    assert ratings_count(db) == 1


def test_the_whole_package_rating_covers_the_batch_of_each_item(app, town, db):
    """Two cases of the same matter within the package are a batch (§15): the whole covers both."""
    items = package(town)
    twin = make_case(town["center"], town["matters"][1], state="completed", intake=today(), completed_on=today(),
                     responsible=town["clerks"][1], applicant_id_no=IDNO, package=THEME)
    db.session.commit()
    rating = ratings.record_rating(items[0], "satisfied", channel="qr", whole_package=True)
    assert rating.batch_size == 4 and twin.rating_status == "rated"


def test_choosing_whole_or_item_is_required_while_the_whole_is_offered(app, town, db, client):
    items = package(town)
    db.session.commit()
    response = client.post(rate_url(items[0]), data={"level": "satisfied"})
    html = text(response)
    assert re.search(r'<fieldset class="scope has-error', html) and 'role="alert"' in html
    assert re.search(r'<input checked[^>]*name="level"[^>]*value="satisfied"', html)   # the level chosen is kept
    assert client.post(rate_url(items[0]), data={"level": "satisfied", "scope": "all"}).status_code == 200
    assert ratings_count(db) == 0


# ------------------------------------------------------------------ item by item

def test_after_rating_one_item_the_whole_is_no_longer_offered_but_the_other_items_are(app, town, db, client):
    items = package(town)
    db.session.commit()
    response = client.post(rate_url(items[0]), data={"scope": "item", "level": "very_satisfied"})
    assert response.status_code == 302
    thanks = text(client.get(response.headers["Location"]))   # the thanks page leads to the other items
    assert 'id="rating-thanks"' in thanks and thanks.count('class="rate-item"') == 2
    rating = db.session.scalar(select(Rating))
    assert rating.batch_size == 1 and rating.clerk_id == town["clerks"][0].id
    db.session.expire_all()
    assert [c.rating_status for c in items] == ["rated", "", ""]
    html = text(client.get(rate_url(items[1])))
    assert 'id="rating-form"' in html and 'id="package-scope"' not in html
    assert 'data-whole="no"' in html and f'data-case="{items[0].id}" data-status="rated"' in html
    assert f'href="{rate_url(items[2])}"' in html
    # "Whole" posted from a page loaded before the first item was rated: refused, never taken as an item.
    refused = client.post(rate_url(items[1]), data={"scope": "whole", "level": "fair"})
    assert refused.status_code == 409 and 'data-refusal="package"' in text(refused)
    assert ratings_count(db) == 1
    with pytest.raises(ratings.RatingRefused) as why:
        ratings.record_rating(items[2], "fair", channel="qr", whole_package=True)
    assert why.value.code == "package"
    # The other items are still rated one by one, each its own rating for its own clerk.
    assert client.post(rate_url(items[1]), data={"level": "fair"}).status_code == 302
    assert client.post(rate_url(items[2]), data={"level": "satisfied"}).status_code == 302
    assert [r.clerk_id for r in db.session.scalars(select(Rating).order_by(Rating.id))] \
        == [c.id for c in town["clerks"]]


def test_the_whole_is_not_offered_once_an_item_is_past_its_rating_window(app, town, db, client, monkeypatch):
    items = package(town, day=date(2026, 11, 2))
    items[2].state, items[2].completed_on = "accepted", None   # still open: may be rated at any time
    db.session.commit()
    monkeypatch.setattr(ratings, "today", lambda: date(2026, 11, 6))   # 5th working day: all open
    assert ratings.Package(items[0], date(2026, 11, 6)).whole_offered
    monkeypatch.setattr(ratings, "today", lambda: date(2026, 11, 9))
    assert not ratings.Package(items[2], date(2026, 11, 9)).whole_offered
    html = text(client.get(rate_url(items[2])))
    assert 'id="rating-form"' in html and 'id="package-scope"' not in html
    assert f'data-case="{items[0].id}" data-status="closed"' in html
