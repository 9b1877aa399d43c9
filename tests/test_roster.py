"""The staff roster [001 二; 003 5.2; 000 AB岗; SPEC §4.8]: one profile per person, the dispatch registration
form (ID number masked for readers who may not unmask it), training records, the rotation rule (January, at
most half of a window's staff a year, at least one year at a window), the window roster, centre isolation."""
from __future__ import annotations

from datetime import date

import pytest

from app import roster as rs
from app.records import operations
from models.catalogue import Post
from models.roster import Rotation, StaffProfile
from tests.conftest import make_user, make_window

FULL_ID = "110105199205170024"
MASKED_ID = "110105********0024"


def make_profile(center, director, staff, window=None, **values) -> StaffProfile:
    data = dict(staff_id=staff.id, dispatching_department="镇民政办", window_id=window.id if window else None,
                post_title="科员", ethnicity="汉族", political_status="cpc", education="bachelor",
                id_number=FULL_ID, phone="13912345678", dispatched_on=date(2025, 1, 6), term_until=date(2027, 1, 5),
                contact_name="王主任", contact_phone="0737-1234567")
    data.update(values)
    return operations.create(rs.PROFILES, director, data, center_id=center.id)


def make_post(center, window, name, a=None, b=None) -> Post:
    from app.extensions import db
    post = Post(center_id=center.id, window_id=window.id, name=name, a_holder_id=a.id if a else None,
                b_holder_id=b.id if b else None)
    db.session.add(post)
    db.session.flush()
    return post


def rotate(center, director, staff, from_window, to_window, on: date):
    record = operations.create(rs.ROTATIONS, director, dict(staff_id=staff.id, from_window_id=from_window.id,
                                                            to_window_id=to_window.id, rotated_on=on),
                               center_id=center.id)
    return record, [str(m) for m in rs.ROTATIONS.warnings(rs.ROTATIONS.ctx(record, director))]


# ------------------------------------------------------------------ one profile per person

def test_one_profile_per_person(county, db):
    a, users = county["a"], county["users"]
    first = make_profile(a, users["a_director"], users["a_clerk"])
    with pytest.raises(operations.Invalid) as caught:
        with db.session.begin_nested():
            make_profile(a, users["a_director"], users["a_clerk"])
    assert "每人一份" in caught.value.errors["staff_id"]
    operations.void(rs.PROFILES, first, users["a_director"], "重新登记")
    assert make_profile(a, users["a_director"], users["a_clerk"]).id != first.id   # a void one no longer counts


def test_second_profile_is_refused_beside_the_field_on_the_form(client, auth, county, db):
    a, users = county["a"], county["users"]
    make_profile(a, users["a_director"], users["a_clerk"])
    db.session.commit()
    auth.login(users["a_director"])
    page = client.post("/r/staff-profiles/new", data={"staff_id": users["a_clerk"].id, "window_id": 0, "form_token": "t1"})
    assert page.status_code == 200 and "每人一份" in page.get_data(as_text=True)
    assert db.session.query(StaffProfile).count() == 1


def test_birth_date_and_gender_come_from_the_id_number_and_must_agree_with_it(county, db):
    a, users = county["a"], county["users"]
    p = make_profile(a, users["a_director"], users["a_clerk"])
    assert p.birth_date == date(1992, 5, 17) and p.gender == "female"
    with pytest.raises(operations.Invalid) as caught:
        with db.session.begin_nested():
            make_profile(a, users["a_director"], users["a_agent"], birth_date=date(1990, 1, 1), gender="male")
    assert set(caught.value.errors) == {"birth_date", "gender"}


def test_profile_of_someone_from_another_centre_is_refused(county, db):
    with pytest.raises(operations.Invalid) as caught:
        with db.session.begin_nested():
            make_profile(county["a"], county["users"]["a_director"], county["users"]["b_clerk"])
    assert "staff_id" in caught.value.errors


def test_unit_and_phone_default_to_the_user_account(county, db):
    clerk = county["users"]["a_clerk"]
    clerk.dispatching_department, clerk.phone = "镇农业综合服务中心", "13800001111"
    p = make_profile(county["a"], county["users"]["a_director"], clerk, dispatching_department="", phone="")
    assert (p.dispatching_department, p.phone) == ("镇农业综合服务中心", "13800001111")


# ------------------------------------------------------------------ the registration form

def test_registration_form_renders_with_the_id_masked_for_a_deputy_and_in_full_for_the_director(
        client, auth, county, db):
    a, users = county["a"], county["users"]
    window = make_window(a, 3, "民政救助")
    make_post(a, window, "社会救助受理", a=users["a_clerk"], b=users["a_agent"])
    p = make_profile(a, users["a_director"], users["a_clerk"], window)
    operations.create(rs.TRAININGS, users["a_director"], dict(
        staff_id=users["a_clerk"].id, kind="pre_job", trained_on=date(2025, 1, 8), course="政务服务礼仪",
        organiser="县政务服务中心", hours=16, certificate_name="行政办事员四级", certificate_no="S001"), center_id=a.id)
    db.session.commit()
    url = f"/r/staff-profiles/{p.id}/print/registration"

    auth.login(users["a_deputy"])
    html = client.get(url).get_data(as_text=True)
    assert "窗口工作人员登记表" in html and MASKED_ID in html and FULL_ID not in html
    assert "社会救助受理（A岗）" in html and "政务服务礼仪" in html and "镇民政办" in html
    assert client.get(url + ".pdf").mimetype == "application/pdf"
    auth.logout()

    auth.login(users["a_director"])
    html = client.get(url).get_data(as_text=True)
    assert FULL_ID in html
    pdf = client.get(url + ".pdf")
    assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"


def test_the_id_number_is_masked_on_the_page_and_list_for_a_deputy(client, auth, county, db):
    a, users = county["a"], county["users"]
    p = make_profile(a, users["a_director"], users["a_clerk"])
    db.session.commit()
    auth.login(users["a_deputy"])
    page = client.get(f"/r/staff-profiles/{p.id}").get_data(as_text=True)
    assert MASKED_ID in page and FULL_ID not in page


# ------------------------------------------------------------------ the rotation rule: pure functions

def test_rotation_rule_pure_functions():
    assert not rs.outside_january(date(2026, 1, 31)) and rs.outside_january(date(2026, 2, 1))
    assert not rs.over_half(2, 4) and rs.over_half(3, 4) and rs.over_half(2, 3) and not rs.over_half(1, 0)
    assert rs.one_year_served(date(2025, 1, 6), date(2026, 1, 6)) and not rs.one_year_served(date(2025, 1, 7), date(2026, 1, 6))
    assert rs.one_year_served(None, date(2026, 1, 6)) and rs.one_year_served(date(2024, 2, 29), date(2025, 3, 1))
    assert rs.rotation_warnings(date(2026, 1, 12), [rs.WindowCount("1号 民政", 4, 2)]) == []
    messages = [str(m) for m in rs.rotation_warnings(date(2026, 3, 2), [rs.WindowCount("1号 民政", 4, 3)],
                                                     arrived=date(2025, 6, 1))]
    assert len(messages) == 3 and "1号 民政" in messages[1]


# ------------------------------------------------------------------ the rotation rule: records

@pytest.fixture
def hall(county, db):
    """Window 1 with four staff (two posts, A and B each), window 2 with one post."""
    a, users = county["a"], county["users"]
    w1, w2 = make_window(a, 1, "民政救助"), make_window(a, 2, "劳动保障")
    people = [users["a_clerk"], users["a_agent"], users["a_inspector"],
              make_user(a, "clerk", username="a_clerk2", name="赵六")]
    make_post(a, w1, "低保受理", a=people[0], b=people[1])
    make_post(a, w1, "临时救助", a=people[2], b=people[3])
    make_post(a, w2, "社保登记", a=users["a_leader"])
    db.session.commit()
    return {"w1": w1, "w2": w2, "people": people, "director": users["a_director"], "center": a}


def test_rotation_outside_january_is_saved_and_warned(hall, db):
    record, warnings = rotate(hall["center"], hall["director"], hall["people"][0], hall["w1"], hall["w2"],
                              date(2026, 3, 2))
    assert record.id is not None and any("January" in w or "一月" in w for w in warnings)
    _r, january = rotate(hall["center"], hall["director"], hall["people"][1], hall["w1"], hall["w2"],
                         date(2026, 1, 12))
    assert not any("January" in w or "一月" in w for w in january)


def test_more_than_half_of_a_window_rotated_in_a_year_is_warned(hall, db):
    c, d, w1, w2, people = hall["center"], hall["director"], hall["w1"], hall["w2"], hall["people"]
    _r, first = rotate(c, d, people[0], w1, w2, date(2026, 1, 5))
    _r, second = rotate(c, d, people[1], w1, w2, date(2026, 1, 6))
    assert not any("民政救助" in w for w in first + second)          # two of four: half, allowed
    third, warnings = rotate(c, d, people[2], w1, w2, date(2026, 1, 7))
    assert third.id is not None and any("民政救助" in w and "3" in w for w in warnings)
    assert rs.window_count(w1, 2026) == rs.WindowCount(str(w1), 4, 3)
    # The year after starts again.
    assert rs.window_count(w1, 2027).adjusted == 0


def test_a_swap_counts_the_people_changed_not_both_directions(hall, db):
    c, d, w1, w2, people = hall["center"], hall["director"], hall["w1"], hall["w2"], hall["people"]
    newcomer = make_user(c, "clerk", username="a_new")
    rotate(c, d, people[0], w1, w2, date(2026, 1, 5))
    _r, warnings = rotate(c, d, newcomer, w2, w1, date(2026, 1, 5))
    count = rs.window_count(w1, 2026)
    assert (count.staff, count.adjusted) == (4, 1) and not any("民政救助" in w for w in warnings)


def test_rotation_within_a_year_of_dispatch_is_warned(hall, db):
    c, d, people = hall["center"], hall["director"], hall["people"]
    make_profile(c, d, people[0], hall["w1"], dispatched_on=date(2025, 6, 1))
    _r, warnings = rotate(c, d, people[0], hall["w1"], hall["w2"], date(2026, 1, 12))
    assert any("2025-06-01" in w for w in warnings)


def test_rotation_moves_the_profile_to_the_new_window_and_is_refused_to_the_same_window(hall, db):
    c, d, people = hall["center"], hall["director"], hall["people"]
    p = make_profile(c, d, people[0], hall["w1"])
    rotate(c, d, people[0], hall["w1"], hall["w2"], date(2026, 1, 12))
    assert p.window_id == hall["w2"].id
    with pytest.raises(operations.Invalid) as caught:
        with db.session.begin_nested():
            rotate(c, d, people[1], hall["w1"], hall["w1"], date(2026, 1, 12))
    assert "to_window_id" in caught.value.errors


def test_rotation_warning_is_flashed_after_saving_on_the_page(client, auth, hall, db):
    auth.login(hall["director"])
    response = client.post("/r/rotations/new", data={
        "staff_id": hall["people"][0].id, "from_window_id": hall["w1"].id, "to_window_id": hall["w2"].id,
        "rotated_on": "2026-03-02", "form_token": "rot1"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="flash warning"' in page   # saved, but said
    assert Rotation.query.count() == 1


# ------------------------------------------------------------------ access

def test_centre_isolation(client, auth, county, db):
    a, users = county["a"], county["users"]
    p = make_profile(a, users["a_director"], users["a_clerk"])
    db.session.commit()
    auth.login(users["b_director"])
    for url in (f"/r/staff-profiles/{p.id}", f"/r/staff-profiles/{p.id}/print/registration",
                f"/r/staff-profiles/{p.id}/edit"):
        assert client.get(url).status_code == 404, url
    assert "镇民政办" not in client.get("/r/staff-profiles/").get_data(as_text=True)
    assert client.get(f"/roster/?center={a.id}").status_code == 403
    auth.logout()
    auth.login("county_sup")                                   # the county reads every township
    assert client.get(f"/r/staff-profiles/{p.id}").status_code == 200
    assert client.get(f"/roster/?center={a.id}").status_code == 200


def test_a_clerk_reads_only_their_own_profile(client, auth, county, db):
    a, users = county["a"], county["users"]
    mine = make_profile(a, users["a_director"], users["a_clerk"])
    theirs = make_profile(a, users["a_director"], users["a_agent"], id_number="430921198803011238",
                          dispatching_department="镇财政所")
    db.session.commit()
    auth.login(users["a_clerk"])
    assert client.get(f"/r/staff-profiles/{mine.id}").status_code == 200
    assert client.get(f"/r/staff-profiles/{theirs.id}").status_code == 404
    listing = client.get("/r/staff-profiles/").get_data(as_text=True)
    assert "镇民政办" in listing and "镇财政所" not in listing
    assert client.get(f"/r/staff-profiles/{mine.id}/edit").status_code == 403
    assert client.get("/r/staff-profiles/new").status_code == 403
    assert client.get("/roster/").status_code == 403


# ------------------------------------------------------------------ the pages

def test_profile_page_shows_the_ab_posts_from_the_catalogue_and_the_trainings(client, auth, county, db):
    a, users = county["a"], county["users"]
    window = make_window(a, 3, "民政救助")
    make_post(a, window, "社会救助受理", a=users["a_agent"], b=users["a_clerk"])
    p = make_profile(a, users["a_director"], users["a_clerk"], window)
    operations.create(rs.TRAININGS, users["a_director"], dict(
        staff_id=users["a_clerk"].id, kind="skill", trained_on=date(2026, 3, 1), course="社会救助政策解读"),
        center_id=a.id)
    db.session.commit()
    auth.login(users["a_director"])
    page = client.get(f"/r/staff-profiles/{p.id}").get_data(as_text=True)
    assert "社会救助受理" in page and "社会救助政策解读" in page
    assert f"/r/trainings/new?staff_id={users['a_clerk'].id}" in page
    new = client.get(f"/r/trainings/new?staff_id={users['a_clerk'].id}")
    assert new.status_code == 200


def test_window_roster_lists_posts_with_a_and_b_holders_unit_and_phone(client, auth, hall, county, db):
    users = county["users"]
    users["a_clerk"].phone = "13911112222"
    make_profile(hall["center"], hall["director"], users["a_clerk"], hall["w1"], dispatching_department="镇民政办")
    db.session.commit()
    auth.login(users["a_director"])
    page = client.get("/roster/").get_data(as_text=True)
    for text in ("民政救助", "低保受理", "临时救助", "劳动保障", "社保登记", "赵六", "镇民政办", "13912345678"):
        assert text in page, text
    auth.logout()
    auth.login(users["a_deputy"])
    assert client.get("/roster/").status_code == 200
