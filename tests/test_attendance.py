"""Attendance (考勤) [000 工作人员考勤制度; 窗口工作人员服务规范 第五条; 001 五; SPEC §4.8]: at the window 10
minutes before opening; lateness and early leave up to the limit; beyond it unapproved absence — 离岗 up to
half a day, 旷工 over half a day; approved leave excuses its part of the day; machine exports imported after
a column mapping and a preview; the monthly summary per person and per window, published to the staff;
manual sign-in; the 10:00 reminder to the director."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app import attendance
from app.attendance import Hours, Leave, classify
from app.extensions import db as _db
from models.attendance import AttendanceDay, AttendanceImport, AttendancePublication, WorkSchedule
from models.catalogue import Post
from models.core import AuditEntry
from models.notification import Notification
from models.staff import LeaveSlip
from tests.conftest import make_center, make_user, make_window

H = Hours()   # 08:30–12:00, 14:30–17:30: 390 scheduled minutes, half a day = 195
T = time


def login_as(auth, user):
    auth.logout()
    return auth.login(user)


def at(h, m=0):
    return time(h, m)


# ------------------------------------------------------------------ the rule

def test_arriving_after_ten_minutes_before_opening_is_late():
    assert classify(True, at(8, 20), at(17, 30), H).status == "normal"
    late = classify(True, at(8, 21), at(17, 30), H)
    assert (late.status, late.late_minutes) == ("late", 1)


def test_lateness_up_to_the_limit_is_lateness_beyond_it_is_absence_from_the_post():
    within = classify(True, at(8, 50), at(17, 30), H)            # 30 minutes after 08:20
    assert (within.status, within.late_minutes, within.missing_minutes) == ("late", 30, 0)
    beyond = classify(True, at(8, 51), at(17, 30), H)
    assert (beyond.status, beyond.late_minutes, beyond.missing_minutes) == ("absent_post", 0, 21)


def test_early_leave_up_to_the_limit_is_early_leave_beyond_it_is_absence_from_the_post():
    within = classify(True, at(8, 10), at(17, 0), H)
    assert (within.status, within.early_minutes) == ("early", 30)
    beyond = classify(True, at(8, 10), at(16, 59), H)
    assert (beyond.status, beyond.early_minutes, beyond.missing_minutes) == ("absent_post", 0, 31)
    both = classify(True, at(8, 25), at(17, 20), H)
    assert (both.status, both.late_minutes, both.early_minutes) == ("late_early", 5, 10)


def test_exactly_half_a_day_missing_is_absence_from_the_post_one_minute_more_is_absenteeism():
    half = classify(True, at(8, 15), at(11, 45), H)              # 15 + 180 = 195 of 390 minutes
    assert (half.status, half.missing_minutes) == ("absent_post", 195)
    more = classify(True, at(8, 15), at(11, 44), H)
    assert (more.status, more.missing_minutes) == ("absent", 196)


def test_a_working_day_without_any_punch_is_absenteeism_and_a_rest_day_is_rest():
    assert classify(True, None, None, H) == attendance.Verdict("absent", missing_minutes=390)
    assert classify(False, None, None, H).status == "rest"
    assert classify(False, at(9), at(11), H).status == "rest"


def test_a_single_punch_counts_as_arriving_and_leaving_at_that_minute():
    only_in = classify(True, at(8, 15), None, H)
    assert (only_in.status, only_in.missing_minutes) == ("absent", 390)
    only_out = classify(True, None, at(17, 40), H)
    assert only_out.status == "absent"


def test_part_day_approved_leave_excuses_the_morning():
    morning = [Leave("short", at(8, 30), at(12, 0))]
    ok = classify(True, at(14, 15), at(17, 35), H, morning)
    assert (ok.status, ok.missing_minutes) == ("normal", 0)
    late = classify(True, at(14, 25), at(17, 35), H, morning)   # due at 14:20 for the afternoon
    assert (late.status, late.late_minutes) == ("late", 5)
    nobody = classify(True, None, None, H, morning)             # the afternoon missing: 180 ≤ 195
    assert (nobody.status, nobody.missing_minutes) == ("absent_post", 180)


def test_leave_covering_the_day_is_leave_and_a_business_slip_a_business_trip():
    assert classify(True, None, None, H, [Leave("personal")]).status == "on_leave"
    assert classify(True, None, None, H, [Leave("business")]).status == "business_trip"
    assert classify(True, None, None, H, [Leave("sick", None, at(12)), Leave("business", at(14), None)]).status \
        in ("on_leave", "business_trip")


def test_a_make_up_working_day_counts_and_the_national_day_holidays_are_rest(calendar_2026):
    from app.workdays import is_working_day
    assert date(2026, 9, 20).weekday() == 6 and is_working_day(date(2026, 9, 20))
    assert classify(is_working_day(date(2026, 9, 20)), None, None, H).status == "absent"
    for d in range(1, 8):
        assert classify(is_working_day(date(2026, 10, d)), None, None, H).status == "rest"


# ------------------------------------------------------------------ a centre

@pytest.fixture
def town(db, calendar_2026):
    center = make_center("城关镇便民服务中心", code="chengguan")
    other = make_center("石桥镇便民服务中心", code="shiqiao")
    people = {"director": make_user(center, "director", username="director", name="周主任"),
              "deputy": make_user(center, "deputy", username="deputy", name="吴副主任"),
              "clerk": make_user(center, "clerk", username="clerk", name="王小红"),
              "clerk2": make_user(center, "clerk", username="clerk2", name="李明"),
              "admin": make_user(center, "admin", username="admin"),
              "b_director": make_user(other, "director", username="b_director"),
              "b_clerk": make_user(other, "clerk", username="b_clerk", name="赵刚")}
    db.session.commit()
    return {"center": center, "other": other, **people}


def approved_slip(person, first, last, kind="personal", start=None, end=None):
    slip = LeaveSlip(center_id=person.center_id, staff_id=person.id, kind=kind, start_on=first, end_on=last,
                     start_time=start, end_time=end, state="approved", days=1, reason="事由")
    _db.session.add(slip)
    _db.session.flush()
    return slip


def csv_bytes(rows, encoding="utf-8", header=("工号", "姓名", "日期", "时间")):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def upload(client, data, name="export.csv"):
    return client.post("/attendance/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def run_import(client, data, name="export.csv", mapping=None):
    """Upload → mapping → preview; returns (import id, preview response)."""
    response = upload(client, data, name)
    assert response.status_code == 302, response.get_data(as_text=True)
    import_id = int(response.headers["Location"].rstrip("/").split("/")[-2])
    mapping = mapping or {"person": "0", "match": "username", "mode": "separate", "date": "2", "time": "3"}
    response = client.post(f"/attendance/import/{import_id}/map", data=mapping)
    assert response.status_code == 302, response.get_data(as_text=True)
    return import_id, client.get(f"/attendance/import/{import_id}")


def day_of(person, d):
    return _db.session.scalar(select(AttendanceDay).where(AttendanceDay.staff_id == person.id,
                                                          AttendanceDay.day == d))


def test_approved_part_day_leave_on_the_record_excuses_the_morning(town):
    clerk = town["clerk"]
    approved_slip(clerk, date(2026, 11, 24), date(2026, 11, 24), kind="short", start=at(8, 30), end=at(12))
    record = AttendanceDay(center_id=town["center"].id, staff_id=clerk.id, day=date(2026, 11, 24),
                           first_in=at(14, 10), last_out=at(17, 40), source="manual")
    attendance.classify_record(record)
    assert record.status == "normal"
    pending = LeaveSlip(center_id=clerk.center_id, staff_id=clerk.id, kind="personal", start_on=date(2026, 11, 25),
                        end_on=date(2026, 11, 25), state="awaiting_deputy", days=1)
    _db.session.add(pending)
    record2 = AttendanceDay(center_id=town["center"].id, staff_id=clerk.id, day=date(2026, 11, 25), source="manual")
    attendance.classify_record(record2)
    assert record2.status == "absent"          # leave not yet approved does not excuse


def test_a_centre_without_a_schedule_uses_the_defaults_and_one_schedule_per_centre(town, client, auth):
    default = attendance.schedule_for(town["center"].id)
    assert (default.id, default.morning_start, default.afternoon_end, default.arrive_before, default.late_limit) == \
        (None, T(8, 30), T(17, 30), 10, 30)
    login_as(auth, town["director"])
    page = client.get("/r/work-schedules/new")
    assert page.status_code == 200 and "08:30" in page.get_data(as_text=True)
    from app.records import operations
    operations.create(attendance.WORK_SCHEDULES, town["director"], dict(attendance.DEFAULTS, late_limit=20),
                      center_id=town["center"].id)
    _db.session.commit()
    assert attendance.schedule_for(town["center"].id).late_limit == 20
    with pytest.raises(operations.Invalid) as second:
        operations.create(attendance.WORK_SCHEDULES, town["director"], dict(attendance.DEFAULTS),
                          center_id=town["center"].id)
    assert "已有作息时间" in str(second.value.errors)
    _db.session.rollback()
    bad = dict(attendance.DEFAULTS, morning_end=T(8, 0))
    with pytest.raises(operations.Invalid) as wrong:
        operations.create(attendance.WORK_SCHEDULES, town["director"], bad, center_id=town["other"].id)
    assert "morning_end" in wrong.value.errors
    login_as(auth, town["clerk"])
    assert client.get("/r/work-schedules/new").status_code == 403


# ------------------------------------------------------------------ import

def test_import_pages_are_for_the_centres_director_deputy_and_admin(town, client, auth):
    for who in ("clerk",):
        login_as(auth, town[who])
        assert client.get("/attendance/import").status_code == 403
        assert client.get("/attendance/summary?month=2026-11").status_code == 403
        assert client.get("/attendance/entry").status_code == 403
    for who in ("director", "deputy", "admin"):
        login_as(auth, town[who])
        assert client.get("/attendance/import").status_code == 200, who
    login_as(auth, town["director"])
    import_id, _ = run_import(client, csv_bytes([["clerk", "王小红", "2026-11-23", "08:15"]]))
    login_as(auth, town["b_director"])
    assert client.get(f"/attendance/import/{import_id}").status_code == 404
    assert client.post(f"/attendance/import/{import_id}/confirm").status_code == 404
    login_as(auth, town["clerk"])
    assert client.get(f"/attendance/import/{import_id}").status_code == 403
    assert client.post(f"/attendance/import/{import_id}/confirm").status_code == 403


def test_a_gbk_csv_imports_first_and_last_punch_per_person_and_day(town, client, auth):
    login_as(auth, town["director"])
    rows = [["clerk", "王小红", "2026/11/23", "08:15"], ["clerk", "王小红", "2026/11/23", "12:01"],
            ["clerk", "王小红", "2026/11/23", "14:20"], ["clerk", "王小红", "2026/11/23", "17:40:05"],
            ["clerk2", "李明", "2026-11-23", "08:40"], ["clerk2", "李明", "2026-11-23", "17:31"]]
    import_id, preview = run_import(client, csv_bytes(rows, "gbk"))
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'action="/attendance/import/%d/confirm"' % import_id in text
    assert client.post(f"/attendance/import/{import_id}/confirm").status_code == 302
    first = day_of(town["clerk"], date(2026, 11, 23))
    assert (first.first_in, first.last_out, first.punches, first.status, first.source) == \
        (T(8, 15), T(17, 40, 5), 4, "normal", "machine")
    second = day_of(town["clerk2"], date(2026, 11, 23))
    assert (second.status, second.late_minutes) == ("late", 20)
    imp = _db.session.get(AttendanceImport, import_id)
    assert (imp.state, imp.rows, imp.people, imp.days, imp.data) == ("imported", 6, 2, 2, None)


def test_an_xlsx_export_with_one_date_time_column_and_names(town, client, auth):
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.append(["姓名", "打卡时间", "设备"])
    ws.append(["王小红", datetime(2026, 11, 24, 8, 5), "大厅1"])
    ws.append(["王小红", "2026-11-24 17:45", "大厅1"])
    buf = io.BytesIO()
    wb.save(buf)
    login_as(auth, town["deputy"])
    response = upload(client, buf.getvalue(), "考勤.xlsx")
    import_id = int(response.headers["Location"].split("/")[-2])
    page = client.get(f"/attendance/import/{import_id}/map").get_data(as_text=True)
    assert "打卡时间" in page and "王小红" in page
    client.post(f"/attendance/import/{import_id}/map",
                data={"person": "0", "match": "name", "mode": "combined", "moment": "1"})
    assert client.post(f"/attendance/import/{import_id}/confirm").status_code == 302
    record = day_of(town["clerk"], date(2026, 11, 24))
    assert (record.first_in, record.last_out, record.status) == (T(8, 5), T(17, 45), "normal")


def test_an_xlsx_export_with_date_cells_and_time_cells(town, client, auth):
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.append(["工号", "日期", "时间"])
    ws.append(["clerk", datetime(2026, 11, 25), time(8, 29)])
    ws.append(["clerk", date(2026, 11, 25), "17:31"])
    ws.append([1001, "2026年11月25日", time(8, 0)])
    buf = io.BytesIO()
    wb.save(buf)
    make_user(town["center"], "clerk", username="1001", name="工号人")
    _db.session.commit()
    login_as(auth, town["director"])
    _, preview = run_import(client, buf.getvalue(), "考勤.xlsx",
                            mapping={"person": "0", "match": "username", "mode": "separate", "date": "1", "time": "2"})
    text = preview.get_data(as_text=True)
    assert "/confirm" in text, text
    import_id = int(text.split("/attendance/import/")[1].split("/")[0])
    client.post(f"/attendance/import/{import_id}/confirm")
    record = day_of(town["clerk"], date(2026, 11, 25))
    assert (record.first_in, record.last_out, record.status, record.late_minutes) == (T(8, 29), T(17, 31), "late", 9)


def test_the_preview_lists_every_failing_row_and_nothing_is_imported(town, client, auth):
    login_as(auth, town["director"])
    rows = [["clerk", "王小红", "2026-11-23", "08:15"],
            ["nobody", "无名", "2026-11-23", "08:15"],          # row 3: unknown person
            ["clerk", "王小红", "2026-11-23", "08:15"],         # row 4: duplicate of row 2
            ["clerk2", "李明", "2026-13-40", "08:15"],          # row 5: bad date
            ["clerk2", "李明", "2026-11-23", "25:99"],          # row 6: bad time
            ["b_clerk", "赵刚", "2026-11-23", "08:00"]]         # row 7: another centre's person
    import_id, preview = run_import(client, csv_bytes(rows))
    text = preview.get_data(as_text=True)
    assert "不会导入任何记录" in text and "/confirm" not in text
    for number, reason in ((3, "没有用户名为“nobody”"), (4, "重复的打卡记录（与第2行相同）"),
                           (5, "日期“2026-13-40”格式不正确"), (6, "时间“25:99”格式不正确"),
                           (7, "没有用户名为“b_clerk”")):
        assert f"<td>{number}</td><td>" in text and reason in text, number
    assert "<td>2</td><td>" not in text
    refused = client.post(f"/attendance/import/{import_id}/confirm")
    assert refused.status_code == 400 and "未导入任何记录" in refused.get_data(as_text=True)
    assert _db.session.scalar(select(func.count(AttendanceDay.id))) == 0


def test_a_name_shared_by_two_people_must_be_matched_by_user_name(town, client, auth):
    make_user(town["center"], "clerk", username="clerk3", name="王小红")
    _db.session.commit()
    login_as(auth, town["director"])
    _, preview = run_import(client, csv_bytes([["clerk", "王小红", "2026-11-23", "08:15"]]),
                            mapping={"person": "1", "match": "name", "mode": "separate", "date": "2", "time": "3"})
    assert "本中心有 2 人名为“王小红”，请改用用户名对应" in preview.get_data(as_text=True)


def test_the_mapping_chosen_is_remembered_for_the_centres_next_file(town, client, auth):
    login_as(auth, town["director"])
    header = ("日期", "时间", "编号", "姓名")
    data = csv_bytes([["2026-11-23", "08:15", "x", "王小红"]], header=header)
    run_import(client, data, mapping={"person": "3", "match": "name", "mode": "separate", "date": "0", "time": "1"})
    response = upload(client, data)
    import_id = int(response.headers["Location"].split("/")[-2])
    page = client.get(f"/attendance/import/{import_id}/map").get_data(as_text=True)
    assert 'value="3" selected' in page.split('name="person"')[1].split("</select>")[0]
    assert 'value="name" checked' in page


def test_a_mapping_without_the_date_column_is_refused_beside_the_field(town, client, auth):
    login_as(auth, town["director"])
    response = upload(client, csv_bytes([["clerk", "王小红", "2026-11-23", "08:15"]]))
    import_id = int(response.headers["Location"].split("/")[-2])
    page = client.post(f"/attendance/import/{import_id}/map", data={"person": "0", "mode": "separate", "time": "3"})
    assert page.status_code == 400 and "请选择日期所在的列" in page.get_data(as_text=True)


def test_an_unreadable_upload_is_refused_with_the_reason(town, client, auth):
    login_as(auth, town["director"])
    assert "只能导入 CSV 或 XLSX" in upload(client, b"abc", "x.pdf").get_data(as_text=True)
    assert "没有数据行" in upload(client, "工号,日期\n".encode(), "x.csv").get_data(as_text=True)
    assert "无法读取 Excel" in upload(client, b"PK\x03\x04garbage", "x.xlsx").get_data(as_text=True)


def test_reimporting_the_same_days_replaces_machine_records_and_keeps_manual_ones(town, client, auth, monkeypatch):
    monkeypatch.setattr("app.timeutil.today", lambda: date(2026, 12, 1))
    login_as(auth, town["director"])
    rows = [["clerk", "", "2026-11-23", "08:15"], ["clerk", "", "2026-11-23", "17:40"],
            ["clerk2", "", "2026-11-23", "08:15"], ["clerk2", "", "2026-11-23", "17:40"],
            ["clerk", "", "2026-11-24", "08:15"], ["clerk", "", "2026-11-24", "17:40"]]
    import_id, _ = run_import(client, csv_bytes(rows))
    client.post(f"/attendance/import/{import_id}/confirm")
    # The manager corrects clerk2's 23rd by hand; then the machine file comes again, later punches.
    assert client.post("/attendance/entry", data={"staff_id": town["clerk2"].id, "day": "2026-11-23",
                                                  "first_in": "08:00", "last_out": "17:30",
                                                  "reason": "考勤机故障，补登"}).status_code == 302
    rows2 = [["clerk", "", "2026-11-23", "08:45"], ["clerk", "", "2026-11-23", "17:40"],
             ["clerk2", "", "2026-11-23", "09:30"], ["clerk2", "", "2026-11-23", "17:40"]]
    import_id2, _ = run_import(client, csv_bytes(rows2))
    client.post(f"/attendance/import/{import_id2}/confirm")
    assert day_of(town["clerk"], date(2026, 11, 23)).first_in == T(8, 45)
    kept = day_of(town["clerk2"], date(2026, 11, 23))
    assert (kept.source, kept.first_in, kept.note) == ("manual", T(8, 0), "考勤机故障，补登")
    assert day_of(town["clerk"], date(2026, 11, 24)).first_in == T(8, 15)   # not a day of the second file
    assert _db.session.get(AttendanceImport, import_id2).kept_manual == 1
    assert _db.session.scalar(select(func.count(AttendanceDay.id))) == 4   # clerk2 had no punch on the 24th


# ------------------------------------------------------------------ the month: 20 staff, 30 days

NOV = [date(2026, 11, 1) + timedelta(n) for n in range(30)]
NORMAL = ("08:15", "12:02", "14:18", "17:35")
# What happened, by staff number and day (every other working day is normal):
EVENTS = {
    0: {3: ("08:25", "17:35"), 4: ("08:40", "17:35")},                 # late 5 and 20 minutes
    1: {5: ("08:15", "17:10")},                                         # early by 20 minutes
    2: {10: ()},                                                        # no punch: 旷工
    3: {11: ("09:30", "17:35")},                                        # 60 minutes missing: 离岗
    4: {12: (), 13: ()},                                                # approved leave, 2 days
    5: {16: ()},                                                        # business trip
    6: {17: ("14:00", "17:35")},                                        # the morning missing (210 > 195): 旷工
    7: {18: ("08:15", "11:45"), 19: ("08:50", "17:35")},                # exactly half a day: 离岗; late 30
    8: {7: ("09:00", "11:00")},                                         # Saturday: rest, not counted
    9: {19: ("08:15",)},                                                # a single punch: 旷工
}
# The hand count: (worked, late, early, 离岗, 旷工, on leave, business trips, minutes late); others 21 worked.
HAND_COUNT = {
    0: (21, 2, 0, 0, 0, 0, 0, 25),
    1: (21, 0, 1, 0, 0, 0, 0, 0),
    2: (20, 0, 0, 0, 1, 0, 0, 0),
    3: (21, 0, 0, 1, 0, 0, 0, 0),
    4: (19, 0, 0, 0, 0, 2, 0, 0),
    5: (20, 0, 0, 0, 0, 0, 1, 0),
    6: (20, 0, 0, 0, 1, 0, 0, 0),
    7: (21, 1, 0, 1, 0, 0, 0, 30),
    8: (21, 0, 0, 0, 0, 0, 0, 0),
    9: (20, 0, 0, 0, 1, 0, 0, 0),
}
KEYS = ("worked", "late", "early", "absent_post", "absent", "on_leave", "business_trip", "late_minutes")


@pytest.fixture
def month(town, monkeypatch):
    """20 staff: s00–s09 at window 1 (A holders), s10–s18 at window 2, s19 only B of a window-3 post."""
    monkeypatch.setattr("app.timeutil.today", lambda: date(2026, 12, 10))
    center = town["center"]
    w1, w2, w3 = make_window(center, 1, "综合咨询"), make_window(center, 2, "劳动保障"), make_window(center, 3, "民政救助")
    staff = [make_user(center, "clerk", username=f"s{i:02d}", name=f"员工{i:02d}") for i in range(20)]
    for i, person in enumerate(staff[:19]):
        _db.session.add(Post(center_id=center.id, name=f"岗位{i}", window_id=(w1 if i < 10 else w2).id,
                             a_holder_id=person.id, b_holder_id=staff[(i + 1) % 19].id))
    _db.session.add(Post(center_id=center.id, name="民政岗", window_id=w3.id, b_holder_id=staff[19].id))
    approved_slip(staff[4], date(2026, 11, 12), date(2026, 11, 13))
    approved_slip(staff[5], date(2026, 11, 16), date(2026, 11, 16), kind="business")
    _db.session.commit()
    rows = []
    for i, person in enumerate(staff):
        for d in NOV:
            punches = EVENTS.get(i, {}).get(d.day, NORMAL if d.weekday() < 5 else ())
            rows += [[person.username, person.name, d.isoformat(), t] for t in punches]
    return {"staff": staff, "rows": rows, "windows": (w1, w2, w3)}


def test_a_thirty_day_export_of_twenty_staff_gives_the_hand_counted_summary(town, month, client, auth):
    login_as(auth, town["director"])
    import_id, preview = run_import(client, csv_bytes(month["rows"]))
    assert "/confirm" in preview.get_data(as_text=True)
    assert client.post(f"/attendance/import/{import_id}/confirm").status_code == 302
    summary = attendance.month_summary(town["center"].id, date(2026, 11, 1))
    assert summary.working_days == 21
    for i, person in enumerate(month["staff"]):
        line = summary.person(person.id)
        expected = HAND_COUNT.get(i, (21, 0, 0, 0, 0, 0, 0, 0))
        assert tuple(getattr(line, k) for k in KEYS) == expected, (i, line)
        assert line.no_record == 0
    windows = {w.label: w for w in summary.windows}
    w1 = windows["1号 综合咨询"]
    assert tuple(getattr(w1, k) for k in KEYS) == (204, 3, 1, 2, 3, 2, 1, 55)
    assert tuple(getattr(windows["2号 劳动保障"], k) for k in KEYS) == (189, 0, 0, 0, 0, 0, 0, 0)
    assert tuple(getattr(windows["3号 民政救助"], k) for k in KEYS) == (21, 0, 0, 0, 0, 0, 0, 0)
    # The managers (no window) are listed too: they took no attendance this month.
    assert summary.person(town["director"].id).no_record == 21

    page = client.get("/attendance/summary?month=2026-11").get_data(as_text=True)
    assert "员工07" in page and "1号 综合咨询" in page and "离岗天数" in page

    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(client.get("/attendance/summary?month=2026-11&format=xlsx").data), read_only=True)
    people = list(book["人员"].iter_rows(values_only=True))
    assert people[1][:4] == ("姓名", "窗口", "出勤天数", "迟到次数")
    row7 = next(r for r in people if r[0] == "员工07")
    assert row7[1:11] == ("1号 综合咨询", 21, 1, 0, 1, 0, 0, 0, 30, 0)
    windows_sheet = list(book["窗口"].iter_rows(values_only=True))
    assert any(r[0] == "1号 综合咨询" and r[1] == 204 for r in windows_sheet)


def test_the_monthly_printout_renders(town, month, client, auth, tmp_path):
    login_as(auth, town["director"])
    import_id, _ = run_import(client, csv_bytes(month["rows"]))
    client.post(f"/attendance/import/{import_id}/confirm")
    html = client.get("/attendance/summary?month=2026-11&format=print")
    assert html.status_code == 200 and "工作人员考勤月度汇总表" in html.get_data(as_text=True)
    from printouts import font_status
    if font_status() is None:
        pdf = client.get("/attendance/summary?month=2026-11&format=pdf")
        assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"
        (tmp_path / "attendance_month.pdf").write_bytes(pdf.data)


def test_a_day_without_a_record_is_leave_when_approved_else_no_record(town, monkeypatch):
    monkeypatch.setattr("app.timeutil.today", lambda: date(2026, 11, 5))
    clerk = town["clerk"]
    approved_slip(clerk, date(2026, 11, 3), date(2026, 11, 3), kind="business")
    _db.session.commit()
    summary = attendance.month_summary(town["center"].id, date(2026, 11, 1))
    line = summary.person(clerk.id)
    # Working days 2, 3, 4 have passed (the 5th is today): one business trip, two days without a record.
    assert (line.business_trip, line.no_record, line.worked) == (1, 2, 0)


def test_leave_approved_after_the_import_counts_once_the_month_is_counted_again(town, client, auth, monkeypatch):
    monkeypatch.setattr("app.timeutil.today", lambda: date(2026, 12, 1))
    login_as(auth, town["director"])
    rows = [["clerk", "", "2026-11-23", "08:15"], ["clerk", "", "2026-11-23", "17:40"],
            ["clerk", "", "2026-11-25", "08:15"], ["clerk", "", "2026-11-25", "17:40"]]
    import_id, _ = run_import(client, csv_bytes(rows))
    client.post(f"/attendance/import/{import_id}/confirm")
    assert day_of(town["clerk"], date(2026, 11, 24)).status == "absent"
    slip = approved_slip(town["clerk"], date(2026, 11, 24), date(2026, 11, 24), kind="business")
    _db.session.commit()
    assert client.post("/attendance/summary/recount", data={"month": "2026-11"}).status_code == 302
    record = day_of(town["clerk"], date(2026, 11, 24))
    assert record.status == "business_trip" and slip.id
    assert any(e.field == "status" and "重新核算" in e.comment for e in _db.session.scalars(
        select(AuditEntry).where(AuditEntry.record_table == "attendance_day", AuditEntry.record_id == record.id)))
    login_as(auth, town["clerk"])
    assert client.post("/attendance/summary/recount", data={"month": "2026-11"}).status_code == 403


def test_signed_in_today_and_not_yet_out_is_not_counted_as_absence(town, monkeypatch):
    monkeypatch.setattr("app.timeutil.now", lambda: datetime(2026, 11, 23, 8, 5))
    monkeypatch.setattr("app.timeutil.today", lambda: date(2026, 11, 23))
    attendance.sign(town["clerk"], town["center"].id, "in")
    line = attendance.month_summary(town["center"].id, date(2026, 11, 1)).person(town["clerk"].id)
    assert (line.absent, line.absent_post, line.worked) == (0, 0, 0)


# ------------------------------------------------------------------ publication

def test_the_summary_is_read_by_managers_and_after_publication_by_every_staff_member(town, client, auth):
    login_as(auth, town["clerk"])
    assert client.get("/attendance/summary?month=2026-11").status_code == 403
    login_as(auth, town["deputy"])
    assert client.get("/attendance/summary?month=2026-11").status_code == 200
    assert client.post("/attendance/summary/publish", data={"month": "2026-11"}).status_code == 403
    login_as(auth, town["director"])
    page = client.get("/attendance/summary?month=2026-11").get_data(as_text=True)
    assert "/attendance/summary/publish" in page
    assert client.post("/attendance/summary/publish", data={"month": "2026-11"}).status_code == 302
    done = _db.session.scalar(select(AttendancePublication))
    assert (done.month, done.published_by_id, done.center_id) == ("2026-11", town["director"].id, town["center"].id)
    login_as(auth, town["clerk"])
    assert client.get("/attendance/summary?month=2026-11").status_code == 200
    assert client.get("/attendance/summary?month=2026-10").status_code == 403
    assert "2026-11" in client.get("/attendance/").get_data(as_text=True)
    login_as(auth, town["b_clerk"])       # the other centre's month is not published
    assert client.get("/attendance/summary?month=2026-11").status_code == 403


# ------------------------------------------------------------------ manual sign-in and corrections

def test_manual_sign_in_and_sign_out_record_the_time_of_the_click(town, client, auth, monkeypatch):
    clock = {"at": datetime(2026, 11, 23, 8, 12)}
    monkeypatch.setattr("app.timeutil.now", lambda: clock["at"])
    monkeypatch.setattr("app.timeutil.today", lambda: clock["at"].date())
    login_as(auth, town["clerk"])
    assert client.post("/attendance/sign/out").status_code == 302
    assert day_of(town["clerk"], date(2026, 11, 23)) is None           # 请先签到
    assert client.post("/attendance/sign/in").status_code == 302
    again = client.post("/attendance/sign/in", follow_redirects=True)
    assert "今天已于 08:12 签到" in again.get_data(as_text=True)
    clock["at"] = datetime(2026, 11, 23, 17, 36)
    client.post("/attendance/sign/out")
    record = day_of(town["clerk"], date(2026, 11, 23))
    assert (record.first_in, record.last_out, record.source, record.status) == (T(8, 12), T(17, 36), "manual", "normal")
    page = client.get("/attendance/").get_data(as_text=True)
    assert "08:12" in page and "17:36" in page


def test_a_manager_corrects_a_day_with_a_reason_kept_in_the_trail(town, client, auth, monkeypatch):
    monkeypatch.setattr("app.timeutil.today", lambda: date(2026, 11, 30))
    login_as(auth, town["deputy"])
    missing = client.post("/attendance/entry", data={"staff_id": town["clerk"].id, "day": "2026-11-23",
                                                     "first_in": "9:40", "last_out": "17:30"})
    assert missing.status_code == 400 and "请说明登记或更正的原因" in missing.get_data(as_text=True)
    assert client.post("/attendance/entry", data={"staff_id": town["b_clerk"].id, "day": "2026-11-23",
                                                  "reason": "x"}).status_code == 400
    client.post("/attendance/entry", data={"staff_id": town["clerk"].id, "day": "2026-11-23",
                                           "first_in": "09:40", "last_out": "17:30", "reason": "补登"})
    record = day_of(town["clerk"], date(2026, 11, 23))
    assert (record.status, record.missing_minutes) == ("absent_post", 70)
    client.post("/attendance/entry", data={"staff_id": town["clerk"].id, "day": "2026-11-23",
                                           "first_in": "08:10", "last_out": "17:30", "reason": "经核实系外出办理公务，已补请假"})
    _db.session.expire_all()
    record = day_of(town["clerk"], date(2026, 11, 23))
    assert record.status == "normal"
    trail = _db.session.scalars(select(AuditEntry).where(AuditEntry.record_table == "attendance_day",
                                                         AuditEntry.record_id == record.id)).all()
    assert any(e.field == "first_in" and e.comment == "经核实系外出办理公务，已补请假" and e.user_id == town["deputy"].id
               for e in trail)
    day = client.get("/attendance/day?day=2026-11-23").get_data(as_text=True)
    assert "王小红" in day and "08:10" in day
    future = client.post("/attendance/entry", data={"staff_id": town["clerk"].id, "day": "2026-12-05", "reason": "x"})
    assert "不能登记今后的考勤" in future.get_data(as_text=True)


# ------------------------------------------------------------------ the 10:00 reminder

def test_at_ten_the_director_hears_who_has_no_record_and_no_approved_leave(town, monkeypatch):
    from jobs.attendance_jobs import no_attendance_by_ten
    day = date(2026, 11, 23)
    monkeypatch.setattr("app.timeutil.now", lambda: datetime(2026, 11, 23, 8, 5))
    attendance.sign(town["clerk"], town["center"].id, "in")
    approved_slip(town["clerk2"], day, day)
    _db.session.commit()
    summary = no_attendance_by_ten(datetime(2026, 11, 23, 10, 0))
    notes = _db.session.scalars(select(Notification).where(Notification.user_id == town["director"].id)).all()
    assert len(notes) == 1 and "王小红" not in notes[0].body and "李明" not in notes[0].body
    assert "周主任" in notes[0].body and "吴副主任" in notes[0].body and notes[0].link == "/attendance/day?day=2026-11-23"
    assert "notifications" in summary
    no_attendance_by_ten(datetime(2026, 11, 23, 10, 0))           # once a day
    assert _db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == town["director"].id)) == 1
    assert not _db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == town["clerk"].id))
    assert no_attendance_by_ten(datetime(2026, 10, 1, 10, 0)) == "not a working day"
    # A centre whose attendance comes from the machine export is not reminded.
    _db.session.add(WorkSchedule(center_id=town["center"].id, **dict(attendance.DEFAULTS, sign_in="machine")))
    _db.session.commit()
    no_attendance_by_ten(datetime(2026, 11, 24, 10, 0))
    assert _db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == town["director"].id)) == 1


def test_the_reminder_is_declared_as_a_working_hours_job():
    from app.features import jobs
    job = next(j for j in jobs() if j.name == "no_attendance_by_ten")
    assert job.reminder and job.cron["hour"] == 10 and job.func == "jobs.attendance_jobs:no_attendance_by_ten"
