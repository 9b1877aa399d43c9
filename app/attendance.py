"""Attendance (考勤) [000 工作人员考勤制度, 窗口工作人员服务规范 第五条; 001 五; SPEC §4.8].

The rules, as plain functions (`classify`, `month_summary`), then the import of attendance-machine exports,
manual sign-in, the monthly summary with its publication, and the pages.

- Staff are at the window 10 minutes before the morning and afternoon opening [001 五]: arriving after
  (opening − arrive_before) is late, leaving before closing is early leave.
- Lateness or early leave beyond the centre's `late_limit` (30 minutes) is absence from the post, not
  lateness: the scheduled time not covered by a punch and not by approved leave is unapproved absence —
  离岗 when it is at most half the day's scheduled minutes, 旷工 when it is more [000 考勤 §2 (一):
  未经请假，擅自外出的作离岗处理，半天以上的作旷工处理]. A working day without any punch is 旷工 (the whole
  day is missing); a day covered by approved leave is on leave (公务外出: a business trip).
- One punch only (a missing punch-out or punch-in) counts as arriving and leaving at that minute.
- The month is summarised per person and per window, and published to the centre's staff [考勤 §5, 第五条].
"""
from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import delete, insert, select

from app import access, audit, timeutil
from app.extensions import db
from app.params import parse_date, parse_id, parse_month
from app.records.registry import Field, RecordType, register
from app.workdays import is_working_day
from models.attendance import (AttendanceDay, AttendanceImport, AttendancePublication, WorkSchedule)
from models.catalogue import Post, Window
from models.core import ADMIN, AGENT, CLERK, DEPUTY, DIRECTOR, INSPECTOR, LEADER, RoleGrant, User
from models.staff import APPROVED_STATES, LeaveSlip

# Who has attendance taken: the centre's working staff (not the town leader, not the administrator).
ATTENDANCE_ROLES = frozenset({CLERK, AGENT, INSPECTOR, DEPUTY, DIRECTOR})
# Who imports, corrects and reads the unpublished summary.
KEEPERS = frozenset({DEPUTY, DIRECTOR, ADMIN})
SUMMARY_READERS = KEEPERS | {LEADER}
PUBLISHERS = frozenset({DIRECTOR})
SCHEDULE_EDITORS = frozenset({DIRECTOR, ADMIN})

STATUS_TITLES = {
    "normal": "正常", "late": "迟到", "early": "早退", "late_early": "迟到、早退", "absent_post": "离岗",
    "absent": "旷工", "on_leave": "请假", "business_trip": "公务外出", "rest": "休息日",
}
SOURCE_TITLES = {"machine": "考勤机", "manual": "手工"}
SIGN_IN_CHOICES = (("manual", _l("Manual sign-in")), ("machine", _l("Attendance machine export")))
WORKED = ("normal", "late", "early", "late_early", "absent_post")
DAY_MINUTES = 24 * 60


# ------------------------------------------------------------------ the rule (pure)

@dataclass(frozen=True)
class Hours:
    """A day's schedule: two sessions, the minutes to be there before opening, the lateness limit."""
    morning: tuple[time, time] = (time(8, 30), time(12, 0))
    afternoon: tuple[time, time] = (time(14, 30), time(17, 30))
    arrive_before: int = 10
    late_limit: int = 30

    @classmethod
    def of(cls, schedule: WorkSchedule) -> "Hours":
        return cls((schedule.morning_start, schedule.morning_end), (schedule.afternoon_start, schedule.afternoon_end),
                   schedule.arrive_before or 0, schedule.late_limit or 0)

    def sessions(self) -> list[tuple[int, int]]:
        return [(_m(s), _m(e)) for s, e in (self.morning, self.afternoon) if _m(e) > _m(s)]

    @property
    def minutes(self) -> int:
        return _length(self.sessions())


@dataclass(frozen=True)
class Leave:
    """Approved leave on one day: its kind, and the part of the day (None: from the start / to the end)."""
    kind: str
    start: time | None = None
    end: time | None = None


@dataclass(frozen=True)
class Verdict:
    status: str
    late_minutes: int = 0
    early_minutes: int = 0
    missing_minutes: int = 0


def _m(t: time) -> int:
    return t.hour * 60 + t.minute


def _length(intervals) -> int:
    return sum(e - s for s, e in intervals)


def _subtract(intervals, a: int, b: int) -> list[tuple[int, int]]:
    out = []
    for s, e in intervals:
        if b <= s or a >= e:
            out.append((s, e))
            continue
        if s < a:
            out.append((s, a))
        if b < e:
            out.append((b, e))
    return out


def _within(intervals, a: int, b: int) -> int:
    return sum(max(0, min(e, b) - max(s, a)) for s, e in intervals)


def absence_status(missing: int, day_minutes: int) -> str:
    """离岗 up to half the day's scheduled minutes, 旷工 beyond."""
    return "absent_post" if missing * 2 <= day_minutes else "absent"


def classify(working_day: bool, first_in: time | None, last_out: time | None, hours: Hours,
             leaves=()) -> Verdict:
    """One person's day. `leaves`: the approved leave of that person that day."""
    if not working_day:
        return Verdict("rest")
    sessions = hours.sessions()
    day_minutes = _length(sessions)
    required, excused = sessions, defaultdict(int)
    for leave in leaves:
        a = _m(leave.start) if leave.start else 0
        b = _m(leave.end) if leave.end else DAY_MINUTES
        before = _length(required)
        required = _subtract(required, a, b)
        excused[leave.kind] += before - _length(required)
    if not required:
        kind = max(excused, key=lambda k: (excused[k], k == "business")) if excused else ""
        return Verdict("business_trip" if kind == "business" else "on_leave")
    if first_in is None and last_out is None:
        missing = _length(required)
        return Verdict(absence_status(missing, day_minutes), missing_minutes=missing)
    arrive, leave_at = _m(first_in or last_out), _m(last_out or first_in)
    arrive, leave_at = min(arrive, leave_at), max(arrive, leave_at)
    start, end = required[0][0], required[-1][1]
    due = start - hours.arrive_before if start in {s for s, _e in sessions} else start
    late, early, missing = max(0, arrive - due), max(0, end - leave_at), 0
    if late > hours.late_limit:
        missing += _within(required, 0, arrive)
        late = 0
    if early > hours.late_limit:
        missing += _within(required, leave_at, DAY_MINUTES)
        early = 0
    if missing:
        status = absence_status(missing, day_minutes)
    else:
        status = {(True, True): "late_early", (True, False): "late", (False, True): "early"}.get(
            (late > 0, early > 0), "normal")
    return Verdict(status, late, early, missing)


def leave_on(slip, day: date) -> Leave | None:
    """The part of `day` a slip covers: a part-day slip's times apply on its first and last day."""
    if not (slip.start_on <= day <= slip.end_on):
        return None
    return Leave(slip.kind, slip.start_time if day == slip.start_on else None,
                 slip.end_time if day == slip.end_on else None)


# ------------------------------------------------------------------ schedules, people, leave

def schedule_for(center_id: int) -> WorkSchedule:
    """The centre's schedule; the defaults (not saved) when it has none."""
    saved = db.session.scalar(select(WorkSchedule).where(WorkSchedule.center_id == center_id,
                                                         WorkSchedule.voided.is_(False))
                              .order_by(WorkSchedule.id.desc()).limit(1))
    return saved or WorkSchedule(center_id=center_id, **DEFAULTS)


DEFAULTS = dict(morning_start=time(8, 30), morning_end=time(12, 0), afternoon_start=time(14, 30),
                afternoon_end=time(17, 30), arrive_before=10, late_limit=30, sign_in="manual", note="")


def centre_staff(center_id: int) -> list[User]:
    """The centre's active staff whose attendance is taken, by name."""
    ids = select(RoleGrant.user_id).where(RoleGrant.center_id == center_id, RoleGrant.role.in_(ATTENDANCE_ROLES))
    return list(db.session.scalars(select(User).where(User.id.in_(ids), User.active.is_(True))
                                   .order_by(User.name, User.id)))


def approved_leave(staff_ids, first: date, last: date) -> dict[int, list[LeaveSlip]]:
    slips = db.session.scalars(select(LeaveSlip).where(
        LeaveSlip.staff_id.in_(list(staff_ids)), LeaveSlip.voided.is_(False), LeaveSlip.state.in_(APPROVED_STATES),
        LeaveSlip.start_on <= last, LeaveSlip.end_on >= first)).all()
    out: dict[int, list[LeaveSlip]] = defaultdict(list)
    for slip in slips:
        out[slip.staff_id].append(slip)
    return out


def leaves_on(slips, day: date) -> list[Leave]:
    return [lv for lv in (leave_on(s, day) for s in slips) if lv is not None]


def windows_of(center_id: int) -> dict[int, Window]:
    """A person's window: the window of the post they hold as A, else as B."""
    posts = db.session.execute(select(Post.a_holder_id, Post.b_holder_id, Window).join(Window, Window.id == Post.window_id)
                               .where(Post.center_id == center_id, Post.voided.is_(False))
                               .order_by(Window.number, Post.id)).all()
    out: dict[int, Window] = {}
    for a, _b, window in posts:
        if a and a not in out:
            out[a] = window
    for _a, b, window in posts:
        if b and b not in out:
            out[b] = window
    return out


def classify_record(record: AttendanceDay, hours: Hours | None = None, slips=None) -> None:
    """Set a record's status and minutes from its punches, the schedule and the person's approved leave."""
    hours = hours or Hours.of(schedule_for(record.center_id))
    if slips is None:
        slips = approved_leave([record.staff_id], record.day, record.day).get(record.staff_id, [])
    verdict = classify(is_working_day(record.day), record.first_in, record.last_out, hours, leaves_on(slips, record.day))
    record.status, record.late_minutes = verdict.status, verdict.late_minutes
    record.early_minutes, record.missing_minutes = verdict.early_minutes, verdict.missing_minutes


# ------------------------------------------------------------------ the work schedule (a record type)

def _validate_schedule(ctx) -> dict:
    s, errors = ctx.record, {}
    if s.morning_start and s.morning_end and s.morning_end <= s.morning_start:
        errors["morning_end"] = "上午下班时间应晚于上班时间"
    if s.morning_end and s.afternoon_start and s.afternoon_start < s.morning_end:
        errors["afternoon_start"] = "下午上班时间不能早于上午下班时间"
    if s.afternoon_start and s.afternoon_end and s.afternoon_end <= s.afternoon_start:
        errors["afternoon_end"] = "下午下班时间应晚于上班时间"
    other = db.session.scalar(select(WorkSchedule.id).where(
        WorkSchedule.center_id == ctx.record.center_id, WorkSchedule.voided.is_(False),
        WorkSchedule.id != (s.id or 0)))
    if other is not None:
        errors["morning_start"] = "本中心已有作息时间，请修改原记录"
    return errors


def _sample_schedule(center):
    record = WorkSchedule(center_id=center.id, **DEFAULTS)
    db.session.add(record)
    db.session.flush()
    return record


WORK_SCHEDULES = register(RecordType(
    key="work-schedules", model=WorkSchedule, title=_l("Work schedule"), title_plural=_l("Work schedules"),
    nav_group="staff",
    permissions={"read": access.STAFF, "create": SCHEDULE_EDITORS, "edit": SCHEDULE_EDITORS,
                 "void": SCHEDULE_EDITORS, "print": access.STAFF, "export": SCHEDULE_EDITORS},
    fields=[Field("morning_start", _l("Morning opens"), kind="time", required=True, in_list=True),
            Field("morning_end", _l("Morning closes"), kind="time", required=True, in_list=True),
            Field("afternoon_start", _l("Afternoon opens"), kind="time", required=True, in_list=True),
            Field("afternoon_end", _l("Afternoon closes"), kind="time", required=True, in_list=True),
            Field("arrive_before", _l("At the window before opening (minutes)"), required=True, min=0, max=60,
                  in_list=True),
            Field("late_limit", _l("Lateness limit (minutes)"), required=True, min=1, max=240, in_list=True,
                  help=_l("Lateness or early leave beyond this is absence from the post.")),
            Field("sign_in", _l("How attendance is taken"), choices=SIGN_IN_CHOICES, required=True, in_list=True),
            Field("note", _l("Note"))],
    validate=_validate_schedule,
    prefill=lambda ctx: dict(DEFAULTS),
    sample=_sample_schedule,
))


# ------------------------------------------------------------------ reading machine exports

class ImportProblem(Exception):
    """The file as a whole cannot be read (its message is shown as it is)."""


MAX_ROWS = 200_000


def read_table(filename: str, data: bytes) -> list[list]:
    """The rows of a CSV (UTF-8 or GBK) or XLSX export; the first row is the header."""
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        from openpyxl import load_workbook
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            ws = wb.worksheets[0]
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            wb.close()
        except Exception as exc:  # a damaged workbook: say so, do not fail
            raise ImportProblem(f"无法读取 Excel 文件：{type(exc).__name__}") from None
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - gb18030 decodes almost anything
            raise ImportProblem("文件编码无法识别，请保存为 UTF-8 或 GBK 编码的 CSV")
        if "\x00" in text:
            raise ImportProblem("文件不是 CSV 文本，请导出为 CSV 或 XLSX")
        sample = text[:4096]
        delimiter = max((",", "\t", ";"), key=sample.count)
        rows = [list(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
    while rows and not any(_cell_text(v) for v in rows[-1]):
        rows.pop()
    if len(rows) < 2:
        raise ImportProblem("文件中没有数据行（第1行应为表头）")
    if len(rows) > MAX_ROWS:
        raise ImportProblem(f"文件行数超过 {MAX_ROWS} 行，请分批导入")
    return rows


def table_csv(rows) -> bytes:
    """Rows as UTF-8 CSV text (dates as 2026-03-02, times as 08:15:00)."""
    buf = io.StringIO()
    csv.writer(buf).writerows([[_cell_text(v) for v in row] for row in rows])
    return buf.getvalue().encode("utf-8")


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def headers_of(rows) -> list[str]:
    width = max(len(r) for r in rows[:50])
    head = rows[0] + [None] * (width - len(rows[0]))
    return [_cell_text(h) or f"第{i + 1}列" for i, h in enumerate(head)]


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_DATE8 = re.compile(r"(\d{4})(\d{2})(\d{2})")
_MIDNIGHT = re.compile(r"\s+0?0:00(:00)?$")
_TIME = re.compile(r"(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})(?:\.\d+)?)?\s*秒?")


def parse_day(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _MIDNIGHT.sub("", _cell_text(value))      # a date cell of a workbook, written out with its 00:00
    m = _DATE.fullmatch(text) or _DATE8.fullmatch(text)
    if not m:
        return None
    try:
        day = date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None
    return day if date(2000, 1, 1) <= day <= date(2099, 12, 31) else None


def parse_clock(value) -> time | None:
    if isinstance(value, datetime):
        return value.time().replace(microsecond=0)
    if isinstance(value, time):
        return value.replace(microsecond=0)
    m = _TIME.fullmatch(_cell_text(value).split(" ")[-1])   # a time cell may carry Excel's day 0 before it
    if not m:
        return None
    h, mi, s = int(m[1]), int(m[2]), int(m[3] or 0)
    return time(h, mi, s) if h < 24 and mi < 60 and s < 60 else None


def parse_moment(value) -> tuple[date, time] | None:
    if isinstance(value, datetime):
        return value.date(), value.time().replace(microsecond=0)
    text = _cell_text(value)
    parts = re.split(r"[\sT]+", text, maxsplit=1)
    if len(parts) != 2:
        return None
    day, clock = parse_day(parts[0]), parse_clock(parts[1])
    return (day, clock) if day and clock else None


@dataclass
class Mapping:
    person: int | None = None
    match: str = "username"          # username / name
    mode: str = "separate"           # separate (a date and a time column) / combined (one date-time column)
    date: int | None = None
    time: int | None = None
    moment: int | None = None

    def to_json(self, headers) -> str:
        cols = {k: getattr(self, k) for k in ("person", "date", "time", "moment")}
        return json.dumps({"match": self.match, "mode": self.mode, **cols,
                           "names": {k: headers[v] for k, v in cols.items() if v is not None and v < len(headers)}},
                          ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str, headers) -> "Mapping | None":
        """A saved mapping applied to these headers: columns found by their header text, else position."""
        try:
            saved = json.loads(text or "")
        except ValueError:
            return None
        if not isinstance(saved, dict):
            return None
        out = cls(match=saved.get("match") if saved.get("match") in ("username", "name") else "username",
                  mode=saved.get("mode") if saved.get("mode") in ("separate", "combined") else "separate")
        names = saved.get("names") or {}
        for key in ("person", "date", "time", "moment"):
            name, index = names.get(key), saved.get(key)
            if name in headers:
                setattr(out, key, headers.index(name))
            elif isinstance(index, int) and 0 <= index < len(headers):
                setattr(out, key, index)
        return out

    def problems(self, headers) -> dict[str, str]:
        errors = {}
        width = len(headers)
        ok = lambda v: v is not None and 0 <= v < width  # noqa: E731
        if not ok(self.person):
            errors["person"] = "请选择人员所在的列"
        if self.mode == "combined":
            if not ok(self.moment):
                errors["moment"] = "请选择打卡日期时间所在的列"
        else:
            if not ok(self.date):
                errors["date"] = "请选择日期所在的列"
            if not ok(self.time):
                errors["time"] = "请选择时间所在的列"
            if ok(self.date) and self.date == self.time:
                errors["time"] = "日期和时间应是两列；若在同一列，请选择“日期时间在同一列”"
        return errors


def guess_mapping(headers) -> Mapping:
    """A first guess from common header words (工号/姓名/日期/时间)."""
    out = Mapping()
    for i, h in enumerate(headers):
        if out.person is None and any(w in h for w in ("工号", "用户名", "账号", "帐号", "编号")):
            out.person, out.match = i, "username"
    if out.person is None:
        out.person = next((i for i, h in enumerate(headers) if "姓名" in h or "名字" in h), None)
        out.match = "name" if out.person is not None else "username"
    both = [i for i, h in enumerate(headers) if ("日期" in h and "时间" in h) or "打卡时间" in h]
    dates = [i for i, h in enumerate(headers) if "日期" in h and i not in both]
    times = [i for i, h in enumerate(headers) if "时间" in h and i not in both]
    if dates and times:
        out.mode, out.date, out.time = "separate", dates[0], times[0]
    elif both:
        out.mode, out.moment = "combined", both[0]
    return out


def last_mapping(center_id: int, headers) -> Mapping:
    """The mapping chosen last time for the centre, else a guess."""
    saved = db.session.scalar(select(AttendanceImport.mapping).where(
        AttendanceImport.center_id == center_id, AttendanceImport.mapping != "")
        .order_by(AttendanceImport.id.desc()).limit(1))
    return (Mapping.from_json(saved, headers) if saved else None) or guess_mapping(headers)


@dataclass
class People:
    by_username: dict[str, int]
    by_name: dict[str, list[int]]

    @classmethod
    def of(cls, center_id: int) -> "People":
        users = centre_staff(center_id)
        names: dict[str, list[int]] = defaultdict(list)
        for u in users:
            names[(u.name or "").strip()].append(u.id)
        return cls({u.username.strip().lower(): u.id for u in users}, names)


@dataclass
class Parsed:
    punches: dict[tuple[int, date], list[time]] = field(default_factory=dict)
    errors: list[tuple[int, str]] = field(default_factory=list)
    rows: int = 0

    @property
    def people(self) -> set[int]:
        return {uid for uid, _d in self.punches}

    @property
    def first_day(self) -> date | None:
        return min((d for _u, d in self.punches), default=None)

    @property
    def last_day(self) -> date | None:
        return max((d for _u, d in self.punches), default=None)


def _cached(parse):
    """`parse` remembering its answers for text cells (an export repeats the same days and minutes)."""
    known: dict = {}

    def cached(value):
        if not isinstance(value, str):
            return parse(value)
        if value not in known:
            known[value] = parse(value)
        return known[value]
    return cached


def parse_rows(rows, mapping: Mapping, people: People) -> Parsed:
    """Every data row (numbered as in the file: the header is row 1) to punches, or a reason it fails."""
    out = Parsed()
    seen: dict[tuple[int, date, time], int] = {}
    parse_day_, parse_clock_, parse_moment_ = _cached(parse_day), _cached(parse_clock), _cached(parse_moment)
    by_name = mapping.match == "name"
    for number, row in enumerate(rows[1:], start=2):
        cells = lambda i: row[i] if i is not None and i < len(row) else None  # noqa: E731
        if not any(_cell_text(v) for v in row):
            continue
        out.rows += 1
        who = _cell_text(cells(mapping.person))
        reasons = []
        uid = None
        if not who:
            reasons.append("未填写人员")
        elif by_name:
            ids = people.by_name.get(who, [])
            if len(ids) > 1:
                reasons.append(f"本中心有 {len(ids)} 人名为“{who}”，请改用用户名对应")
            elif not ids:
                reasons.append(f"本中心没有名为“{who}”的工作人员")
            else:
                uid = ids[0]
        else:
            uid = people.by_username.get(who.lower())
            if uid is None:
                reasons.append(f"本中心没有用户名为“{who}”的工作人员")
        if mapping.mode == "combined":
            raw = cells(mapping.moment)
            moment = parse_moment_(raw)
            if moment is None:
                reasons.append(f"打卡日期时间“{_cell_text(raw)}”格式不正确（应如 2026-03-02 08:15）")
        else:
            raw_day, raw_time = cells(mapping.date), cells(mapping.time)
            day, clock = parse_day_(raw_day), parse_clock_(raw_time)
            if day is None:
                reasons.append(f"日期“{_cell_text(raw_day)}”格式不正确（应如 2026-03-02）")
            if clock is None:
                reasons.append(f"时间“{_cell_text(raw_time)}”格式不正确（应如 08:15）")
            moment = (day, clock) if day and clock else None
        if uid is not None and moment is not None:
            key = (uid, moment[0], moment[1])
            if key in seen:
                reasons.append(f"重复的打卡记录（与第{seen[key]}行相同）")
            else:
                seen[key] = number
                out.punches.setdefault((uid, moment[0]), []).append(moment[1])
        if reasons:
            out.errors.append((number, "；".join(reasons)))
    return out


def day_rows(parsed: Parsed, center_id: int, hours: Hours, skip: set, import_id: int | None, user_id) -> list[dict]:
    """The person-days of the file's date range for every person in it (a working day without a punch is
    a day without a punch), classified; `skip`: (person, day) kept as manual records."""
    first, last = parsed.first_day, parsed.last_day
    days = [first + timedelta(n) for n in range((last - first).days + 1)]
    working = {d: is_working_day(d) for d in days}
    slips = approved_leave(parsed.people, first, last)
    stamp = timeutil.now()
    out = []
    for uid in sorted(parsed.people):
        mine = slips.get(uid, [])
        for d in days:
            times = parsed.punches.get((uid, d))
            if (uid, d) in skip or (not times and not working[d]):
                continue
            first_in, last_out = (min(times), max(times)) if times else (None, None)
            verdict = classify(working[d], first_in, last_out, hours, leaves_on(mine, d) if mine else ())
            out.append(dict(center_id=center_id, staff_id=uid, day=d, first_in=first_in, last_out=last_out,
                            punches=len(times) if times else 0, status=verdict.status,
                            late_minutes=verdict.late_minutes, early_minutes=verdict.early_minutes,
                            missing_minutes=verdict.missing_minutes, source="machine", import_id=import_id,
                            note="", state="", version=1, voided=False, void_reason="", created_at=stamp,
                            updated_at=stamp, created_by_id=user_id))
    return out


def import_punches(center_id: int, parsed: Parsed, user_id: int | None, import_id: int | None = None) -> dict:
    """Replace the machine records of the file's people over its days; manual records stay."""
    if parsed.errors:
        raise ImportProblem(f"有 {len(parsed.errors)} 行未通过检查，未导入任何记录")
    if not parsed.punches:
        raise ImportProblem("文件中没有打卡记录")
    first, last, people = parsed.first_day, parsed.last_day, sorted(parsed.people)
    in_range = (AttendanceDay.staff_id.in_(people), AttendanceDay.day >= first, AttendanceDay.day <= last)
    db.session.execute(delete(AttendanceDay).where(*in_range, AttendanceDay.source == "machine")
                       .execution_options(synchronize_session=False))
    manual = set(db.session.execute(select(AttendanceDay.staff_id, AttendanceDay.day)
                                    .where(*in_range, AttendanceDay.source == "manual")).all())
    rows = day_rows(parsed, center_id, Hours.of(schedule_for(center_id)), manual, import_id, user_id)
    if rows:
        db.session.execute(insert(AttendanceDay.__table__), rows)   # core executemany: no ORM bookkeeping
    db.session.expire_all()
    return {"rows": parsed.rows, "people": len(people), "days": len(rows), "kept_manual": len(manual),
            "first_day": first, "last_day": last}


# ------------------------------------------------------------------ the monthly summary

COUNTS = ("worked", "late", "early", "absent_post", "absent", "on_leave", "business_trip", "no_record")


@dataclass
class Line:
    label: str
    staff_id: int | None = None
    window: str = ""
    worked: int = 0
    late: int = 0
    early: int = 0
    absent_post: int = 0
    absent: int = 0
    on_leave: int = 0
    business_trip: int = 0
    no_record: int = 0
    late_minutes: int = 0
    early_minutes: int = 0
    missing_minutes: int = 0

    def add(self, other: "Line") -> None:
        for k in (*COUNTS, "late_minutes", "early_minutes", "missing_minutes"):
            setattr(self, k, getattr(self, k) + getattr(other, k))

    def counts(self) -> dict:
        return {k: getattr(self, k) for k in (*COUNTS, "late_minutes")}


@dataclass
class Summary:
    center_id: int
    month: str
    first: date
    last: date
    working_days: int
    counted_to: date | None          # days without a record are counted up to here (yesterday at most)
    people: list[Line]
    windows: list[Line]
    total: Line
    publication: AttendancePublication | None = None

    @property
    def title(self) -> str:
        return f"{self.first.year}年{self.first.month}月"

    def person(self, staff_id: int) -> Line | None:
        return next((p for p in self.people if p.staff_id == staff_id), None)


def month_bounds(first: date) -> tuple[date, date]:
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def month_summary(center_id: int, first: date) -> Summary:
    """Per person and per window for the month. Days are counted from the records: 离岗, 旷工, on leave and
    business trips by their status; late and early leave by the days with minutes of it; days worked are
    working days with a punch that are not 旷工. A working day before today without any record counts as on
    leave when approved leave covers it, else as "no record"."""
    first, last = month_bounds(first)
    on = timeutil.today()
    records = [r[:6] for r in db.session.execute(select(
        AttendanceDay.staff_id, AttendanceDay.day, AttendanceDay.status, AttendanceDay.late_minutes,
        AttendanceDay.early_minutes, AttendanceDay.missing_minutes, AttendanceDay.last_out, AttendanceDay.source).where(
        AttendanceDay.center_id == center_id, AttendanceDay.voided.is_(False),
        AttendanceDay.day >= first, AttendanceDay.day <= last)).all()
        if not (r[1] >= on and r[6] is None and r[7] == "manual")]   # signed in today, not yet out: open
    staff = {u.id: u for u in centre_staff(center_id)}
    extra = {r[0] for r in records} - set(staff)
    if extra:
        staff.update({u.id: u for u in db.session.scalars(select(User).where(User.id.in_(extra)))})
    windows = windows_of(center_id)
    lines = {uid: Line(u.name or u.username, uid, str(windows[uid]) if uid in windows else "")
             for uid, u in staff.items()}
    seen = set()
    for staff_id, day, status, late, early, missing in records:
        line = lines[staff_id]
        seen.add((staff_id, day))
        if status in WORKED:
            line.worked += 1
        if status in ("absent_post", "absent", "on_leave", "business_trip"):
            setattr(line, status, getattr(line, status) + 1)
        line.late += late > 0
        line.early += early > 0
        line.late_minutes += late
        line.early_minutes += early
        line.missing_minutes += missing
    days = [first + timedelta(n) for n in range((last - first).days + 1)]
    working = [d for d in days if is_working_day(d)]
    counted_to = min(last, timeutil.today() - timedelta(days=1))
    open_days = [d for d in working if d <= counted_to]
    if open_days:
        slips = approved_leave(lines, open_days[0], open_days[-1])
        hours = Hours.of(schedule_for(center_id))
        for uid, line in lines.items():
            for d in open_days:
                if (uid, d) in seen:
                    continue
                verdict = classify(True, None, None, hours, leaves_on(slips.get(uid, []), d))
                if verdict.status in ("on_leave", "business_trip"):
                    setattr(line, verdict.status, getattr(line, verdict.status) + 1)
                else:
                    line.no_record += 1
    people = sorted(lines.values(), key=lambda ln: (ln.window == "", ln.window, ln.label))
    by_window: dict[str, Line] = {}
    for line in people:
        key = line.window or "未定窗口"
        by_window.setdefault(key, Line(key)).add(line)
    total = Line("合计")
    for line in people:
        total.add(line)
    publication = db.session.scalar(select(AttendancePublication).where(
        AttendancePublication.center_id == center_id, AttendancePublication.month == first.strftime("%Y-%m")))
    return Summary(center_id, first.strftime("%Y-%m"), first, last, len(working),
                   counted_to if open_days else None, people, list(by_window.values()), total, publication)


def recount(center_id: int, first: date, last: date, comment: str = "按当前作息时间和已批准的请假重新核算") -> int:
    """Classify the centre's records of these days again (leave approved after the import, a new schedule);
    each changed record is written through the session, so its trail shows the change and why."""
    records = db.session.scalars(select(AttendanceDay).where(
        AttendanceDay.center_id == center_id, AttendanceDay.voided.is_(False),
        AttendanceDay.day >= first, AttendanceDay.day <= last)).all()
    if not records:
        return 0
    hours = Hours.of(schedule_for(center_id))
    slips = approved_leave({r.staff_id for r in records}, first, last)
    changed = 0
    for record in records:
        before = (record.status, record.late_minutes, record.early_minutes, record.missing_minutes)
        classify_record(record, hours, slips.get(record.staff_id, []))
        if (record.status, record.late_minutes, record.early_minutes, record.missing_minutes) != before:
            audit.note(record, "edit", comment)
            changed += 1
    db.session.flush()
    return changed


def publish(center_id: int, month: str, user) -> AttendancePublication:
    done = db.session.scalar(select(AttendancePublication).where(
        AttendancePublication.center_id == center_id, AttendancePublication.month == month))
    if done is not None:
        return done
    done = AttendancePublication(center_id=center_id, month=month, published_by_id=user.id, published_at=timeutil.now())
    db.session.add(done)
    db.session.flush()
    return done


def is_published(center_id: int, month: str) -> bool:
    return db.session.scalar(select(AttendancePublication.id).where(
        AttendancePublication.center_id == center_id, AttendancePublication.month == month)) is not None


# ------------------------------------------------------------------ manual sign-in and corrections

class EntryError(Exception):
    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors


def sign(user, center_id: int, which: str, at: datetime | None = None) -> AttendanceDay:
    """签到 (`which`="in") or 签退 ("out") now: today's first_in / last_out, a manual record."""
    at = at or timeutil.now()
    day, clock = at.date(), at.time().replace(second=0, microsecond=0)
    record = db.session.scalar(select(AttendanceDay).where(AttendanceDay.staff_id == user.id,
                                                           AttendanceDay.day == day))
    if record is not None and record.center_id != center_id:
        raise EntryError({"": "今天已在其他中心登记考勤"})
    if which == "in":
        if record is not None and record.first_in is not None:
            raise EntryError({"": f"今天已于 {record.first_in:%H:%M} 签到"})
    elif record is None or record.first_in is None:
        raise EntryError({"": "请先签到"})
    if record is None:
        record = AttendanceDay(center_id=center_id, staff_id=user.id, day=day, source="manual", punches=0,
                               late_minutes=0, early_minutes=0, missing_minutes=0, note="")
        db.session.add(record)
    if which == "in":
        record.first_in = clock
    else:
        if clock < record.first_in:
            raise EntryError({"": "签退时间不能早于签到时间"})
        record.last_out = clock
    record.punches = (record.punches or 0) + 1
    record.source = "manual"
    classify_record(record)
    db.session.flush()
    return record


def enter_day(manager, center_id: int, values: dict) -> AttendanceDay:
    """A manager enters or corrects a person's day, with a reason (kept on the record and in the trail)."""
    errors = {}
    staff_id = parse_id(values.get("staff_id") or "")
    staff_ids = {u.id for u in centre_staff(center_id)}
    if staff_id is None or staff_id not in staff_ids:
        errors["staff_id"] = "请选择本中心的工作人员"
    day = parse_date(values.get("day") or "")
    if day is None:
        errors["day"] = "请填写日期（如 2026-03-02）"
    elif day > timeutil.today():
        errors["day"] = "不能登记今后的考勤"
    clocks = {}
    for key in ("first_in", "last_out"):
        text = (values.get(key) or "").strip()
        clocks[key] = parse_clock(text) if text else None
        if text and clocks[key] is None:
            errors[key] = "时间格式不正确（应如 08:15）"
    if clocks["first_in"] and clocks["last_out"] and clocks["last_out"] < clocks["first_in"]:
        errors["last_out"] = "签退时间不能早于签到时间"
    reason = (values.get("reason") or "").strip()
    if not reason:
        errors["reason"] = "请说明登记或更正的原因"
    elif len(reason) > 500:
        errors["reason"] = "原因不超过500字"
    if errors:
        raise EntryError(errors)
    record = db.session.scalar(select(AttendanceDay).where(AttendanceDay.staff_id == staff_id,
                                                           AttendanceDay.day == day))
    if record is not None and record.center_id != center_id:
        raise EntryError({"staff_id": "此人当天的考勤属于其他中心"})
    if record is None:
        record = AttendanceDay(center_id=center_id, staff_id=staff_id, day=day, punches=0, late_minutes=0,
                               early_minutes=0, missing_minutes=0)
        db.session.add(record)
    else:
        audit.note(record, "edit", reason)
    record.first_in, record.last_out = clocks["first_in"], clocks["last_out"]
    record.punches = sum(1 for v in clocks.values() if v is not None)
    record.source, record.note = "manual", reason
    classify_record(record)
    db.session.flush()
    return record


# ------------------------------------------------------------------ pages

bp = Blueprint("attendance", __name__, url_prefix="/attendance")


def _login():
    if not current_user.is_authenticated:
        from app.extensions import login_manager
        return login_manager.unauthorized()
    return None


def _centre_with(roles) -> int:
    """The current centre, when the user holds one of `roles` there; 403 otherwise."""
    cid = access.current_center_id()
    if cid is None or not (access.roles_in(current_user, cid) & roles):
        abort(403)
    return cid


def _month_arg() -> date:
    return parse_month(request.values.get("month") or "") or timeutil.today().replace(day=1)


@bp.route("/")
def mine():
    """My attendance: 签到 / 签退 today and my records of the month."""
    if (login := _login()) is not None:
        return login
    cid = _centre_with(access.STAFF)
    first, last = month_bounds(_month_arg())
    records = db.session.scalars(select(AttendanceDay).where(
        AttendanceDay.staff_id == current_user.id, AttendanceDay.voided.is_(False),
        AttendanceDay.day >= first, AttendanceDay.day <= last).order_by(AttendanceDay.day)).all()
    todays = db.session.scalar(select(AttendanceDay).where(AttendanceDay.staff_id == current_user.id,
                                                           AttendanceDay.day == timeutil.today()))
    published = db.session.scalars(select(AttendancePublication.month).where(
        AttendancePublication.center_id == cid).order_by(AttendancePublication.month.desc()).limit(12)).all()
    roles = access.roles_in(current_user, cid)
    return render_template("attendance/mine.html", records=records, todays=todays, first=first,
                           schedule=schedule_for(cid), statuses=STATUS_TITLES, sources=SOURCE_TITLES,
                           published=published, keeper=bool(roles & KEEPERS), error=request.args.get("error"),
                           working_today=is_working_day(timeutil.today()), today=timeutil.today())


@bp.route("/sign/<which>", methods=["POST"])
def sign_view(which):
    if (login := _login()) is not None:
        return login
    if which not in ("in", "out"):
        abort(404)
    cid = _centre_with(access.STAFF)
    try:
        sign(current_user, cid, which)
    except EntryError as exc:
        db.session.rollback()
        return redirect(url_for("attendance.mine", error=next(iter(exc.errors.values()))))
    db.session.commit()
    return redirect(url_for("attendance.mine"))


@bp.route("/day")
def day_sheet():
    """A day of the centre: everyone's record, to check and correct."""
    if (login := _login()) is not None:
        return login
    cid = _centre_with(KEEPERS)
    day = parse_date(request.args.get("day") or "") or timeutil.today()
    staff = centre_staff(cid)
    records = {r.staff_id: r for r in db.session.scalars(select(AttendanceDay).where(
        AttendanceDay.center_id == cid, AttendanceDay.day == day, AttendanceDay.voided.is_(False)))}
    slips = approved_leave([u.id for u in staff], day, day)
    return render_template("attendance/day.html", day=day, staff=staff, records=records, slips=slips,
                           statuses=STATUS_TITLES, sources=SOURCE_TITLES, working=is_working_day(day),
                           center=access.current_center())


@bp.route("/entry", methods=["GET", "POST"])
def entry():
    """A manager enters or corrects one person's day, with the reason."""
    if (login := _login()) is not None:
        return login
    cid = _centre_with(KEEPERS)
    staff = centre_staff(cid)
    values, errors = dict(request.values.items()), {}
    if request.method == "POST":
        try:
            record = enter_day(current_user, cid, values)
        except EntryError as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            db.session.commit()
            return redirect(url_for("attendance.day_sheet", day=record.day.isoformat()))
    else:
        staff_id, day = parse_id(values.get("staff_id") or ""), parse_date(values.get("day") or "")
        existing = db.session.scalar(select(AttendanceDay).where(
            AttendanceDay.staff_id == staff_id, AttendanceDay.day == day, AttendanceDay.center_id == cid)) \
            if staff_id and day else None
        if existing is not None:
            values.setdefault("first_in", f"{existing.first_in:%H:%M}" if existing.first_in else "")
            values.setdefault("last_out", f"{existing.last_out:%H:%M}" if existing.last_out else "")
    return render_template("attendance/entry.html", staff=staff, values=values, errors=errors), (400 if errors else 200)


# -- import: upload → mapping → preview → confirm

def _import_or_404(import_id: int) -> AttendanceImport:
    imp = db.session.get(AttendanceImport, import_id)
    if imp is None or imp.center_id not in access.visible_center_ids(current_user):
        abort(404)
    if not access.roles_in(current_user, imp.center_id) & KEEPERS:
        abort(403)
    return imp


@bp.route("/import", methods=["GET", "POST"])
def import_upload():
    if (login := _login()) is not None:
        return login
    cid = _centre_with(KEEPERS)
    error = ""
    if request.method == "POST":
        upload = request.files.get("file")
        data = upload.read() if upload else b""
        name = (upload.filename or "") if upload else ""
        if not data:
            error = "请选择考勤机导出的文件（CSV 或 XLSX）"
        elif not name.lower().endswith((".csv", ".txt", ".xlsx", ".xlsm")):
            error = "只能导入 CSV 或 XLSX 文件"
        else:
            try:
                table = read_table(name, data)
            except ImportProblem as exc:
                error = str(exc)
        if not error:
            # Kept as UTF-8 CSV text whatever came in (GBK, XLSX): the later steps read it again quickly.
            imp = AttendanceImport(center_id=cid, created_by_id=current_user.id, filename=name[-200:],
                                   data=table_csv(table))
            db.session.add(imp)
            db.session.commit()
            return redirect(url_for("attendance.import_map", import_id=imp.id))
    recent = db.session.scalars(select(AttendanceImport).where(
        AttendanceImport.center_id == cid, AttendanceImport.state == "imported")
        .order_by(AttendanceImport.id.desc()).limit(10)).all()
    return render_template("attendance/import_upload.html", error=error, recent=recent), (400 if error else 200)


def _table(imp: AttendanceImport):
    if imp.state != "uploaded" or not imp.data:
        abort(409)
    try:
        return read_table("stored.csv", imp.data)
    except ImportProblem:
        abort(409)


@bp.route("/import/<int:import_id>/map", methods=["GET", "POST"])
def import_map(import_id):
    if (login := _login()) is not None:
        return login
    imp = _import_or_404(import_id)
    rows = _table(imp)
    headers = headers_of(rows)
    errors = {}
    if request.method == "POST":
        def col(name):
            value = parse_int_or_none(request.form.get(name))
            return value if value is not None and 0 <= value < len(headers) else None
        mapping = Mapping(person=col("person"), match=request.form.get("match") if request.form.get("match") in (
            "username", "name") else "username", mode=request.form.get("mode") if request.form.get("mode") in (
            "separate", "combined") else "separate", date=col("date"), time=col("time"), moment=col("moment"))
        errors = mapping.problems(headers)
        if not errors:
            imp.mapping = mapping.to_json(headers)
            db.session.commit()
            return redirect(url_for("attendance.import_preview", import_id=imp.id))
    else:
        mapping = (Mapping.from_json(imp.mapping, headers) if imp.mapping else None) or \
            last_mapping(imp.center_id, headers)
    return render_template("attendance/import_map.html", imp=imp, headers=headers, sample=rows[1:6],
                           mapping=mapping, errors=errors, text=_cell_text), (400 if errors else 200)


def parse_int_or_none(value):
    from app.params import parse_int
    return parse_int(value or "")


def _parsed(imp: AttendanceImport) -> tuple[Parsed, Mapping]:
    rows = _table(imp)
    headers = headers_of(rows)
    mapping = Mapping.from_json(imp.mapping, headers) if imp.mapping else None
    if mapping is None or mapping.problems(headers):
        return None, None
    return parse_rows(rows, mapping, People.of(imp.center_id)), mapping


@bp.route("/import/<int:import_id>")
def import_preview(import_id):
    if (login := _login()) is not None:
        return login
    imp = _import_or_404(import_id)
    if imp.state == "imported":
        return render_template("attendance/import_done.html", imp=imp)
    parsed, _mapping = _parsed(imp)
    if parsed is None:
        return redirect(url_for("attendance.import_map", import_id=imp.id))
    return render_template("attendance/import_preview.html", imp=imp, parsed=parsed)


@bp.route("/import/<int:import_id>/confirm", methods=["POST"])
def import_confirm(import_id):
    if (login := _login()) is not None:
        return login
    imp = _import_or_404(import_id)
    if imp.state == "imported":
        return redirect(url_for("attendance.import_preview", import_id=imp.id))
    parsed, _mapping = _parsed(imp)
    if parsed is None:
        return redirect(url_for("attendance.import_map", import_id=imp.id))
    try:
        done = import_punches(imp.center_id, parsed, current_user.id, imp.id)
    except ImportProblem as exc:
        db.session.rollback()
        return render_template("attendance/import_preview.html", imp=imp, parsed=parsed, error=str(exc)), 400
    imp = db.session.get(AttendanceImport, import_id)
    for key, value in done.items():
        setattr(imp, key, value)
    imp.state, imp.data, imp.imported_at = "imported", None, timeutil.now()
    db.session.commit()
    return redirect(url_for("attendance.import_preview", import_id=imp.id))


# -- the monthly summary

def _summary_access(cid_roles: frozenset, cid: int, month: str) -> None:
    if cid_roles & SUMMARY_READERS:
        return
    if cid_roles & access.STAFF and is_published(cid, month):
        return
    abort(403)


@bp.route("/summary")
def summary_page():
    if (login := _login()) is not None:
        return login
    cid = access.current_center_id()
    if cid is None:
        abort(403)
    first = _month_arg()
    roles = access.roles_in(current_user, cid)
    _summary_access(roles, cid, first.strftime("%Y-%m"))
    summary = month_summary(cid, first)
    center = access.current_center()
    fmt = request.args.get("format")
    ctx = dict(center=center, summary=summary, today=timeutil.today(), schedule=schedule_for(cid))
    if fmt == "xlsx":
        return _excel(center, summary)
    if fmt in ("print", "pdf"):
        import printouts
        if fmt == "pdf":
            return Response(printouts.render_pdf("print/attendance_month.html", **ctx), mimetype="application/pdf")
        return printouts.render_html("print/attendance_month.html",
                                     pdf_url=request.path + f"?month={summary.month}&format=pdf", **ctx)
    return render_template("attendance/summary.html", may_publish=bool(roles & PUBLISHERS),
                           keeper=bool(roles & KEEPERS), **ctx)


@bp.route("/summary/publish", methods=["POST"])
def publish_view():
    if (login := _login()) is not None:
        return login
    cid = _centre_with(PUBLISHERS)
    first = parse_month(request.form.get("month") or "")
    if first is None:
        abort(400)
    publish(cid, first.strftime("%Y-%m"), current_user)
    db.session.commit()
    return redirect(url_for("attendance.summary_page", month=first.strftime("%Y-%m")))


@bp.route("/summary/recount", methods=["POST"])
def recount_view():
    if (login := _login()) is not None:
        return login
    cid = _centre_with(KEEPERS)
    first = parse_month(request.form.get("month") or "")
    if first is None:
        abort(400)
    recount(cid, *month_bounds(first))
    db.session.commit()
    return redirect(url_for("attendance.summary_page", month=first.strftime("%Y-%m")))


SUMMARY_COLUMNS = (("worked", "出勤天数"), ("late", "迟到次数"), ("early", "早退次数"), ("absent_post", "离岗天数"),
                   ("absent", "旷工天数"), ("on_leave", "请假天数"), ("business_trip", "公务外出天数"),
                   ("late_minutes", "迟到分钟"), ("no_record", "无记录天数"))


def _excel(center, summary: Summary):
    from openpyxl import Workbook

    from app.xlsx import append_row
    wb = Workbook(write_only=True)
    for title, lines, first_col in (("人员", summary.people, "姓名"), ("窗口", summary.windows, "窗口")):
        ws = wb.create_sheet(title)
        append_row(ws, [center.name if center else "", f"{summary.title}考勤汇总",
                        f"应出勤 {summary.working_days} 个工作日"])
        head = [first_col] + (["窗口"] if title == "人员" else []) + [t for _k, t in SUMMARY_COLUMNS]
        append_row(ws, head)
        for line in [*lines, summary.total]:
            append_row(ws, [line.label] + ([line.window] if title == "人员" else [])
                       + [getattr(line, k) for k, _t in SUMMARY_COLUMNS])
    buf = io.BytesIO()
    wb.save(buf)
    return Response(buf.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=attendance-{summary.month}.xlsx"})


from app.features import Feature, Job, MenuLink  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "attendance", types=("app.attendance",), blueprints=[bp],
    menu=[MenuLink("attendance.mine", _l("My attendance"), access.STAFF, group="staff"),
          MenuLink("attendance.day_sheet", _l("Attendance of the day"), KEEPERS, group="staff"),
          MenuLink("attendance.summary_page", _l("Monthly attendance"), SUMMARY_READERS, group="staff"),
          MenuLink("attendance.import_upload", _l("Import attendance"), KEEPERS, group="staff")],
    jobs=[Job("no_attendance_by_ten", "jobs.attendance_jobs:no_attendance_by_ten",
              {"day_of_week": "*", "hour": 10, "minute": 0},
              "Tell the director who has no attendance record and no approved leave at 10:00", reminder=True)],
)
