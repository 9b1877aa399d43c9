"""The staff roster (花名册) [001 二; 003 5.2; 000 AB岗; SPEC §4.1, §4.8].

- **Staff profiles** (`staff-profiles`): one per person, the dispatch registration (窗口工作人员登记表) the
  dispatching unit fills in and the centre reviews [001 二(2)]. The person's A/B posts are read from the
  catalogue's posts. Dual management [001 二(3)]: the dispatching unit and its contact are on file.
- **Trainings** (`trainings`): courses (pre-job, skills, external, certification) and certificates [003 5.2].
- **Rotations** (`rotations`): a window change (轮岗). Window staff stay put for at least one assessment
  year; a needed change is made in January, at most half of a window's staff a time [001 二(3)]. A
  rotation outside those lines is saved with a warning.
- The **window roster** page: every window, its posts with A and B holders, each person's dispatching
  unit and phone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.records.registry import SUBJECT, Field, PrintForm, RecordType, register
from models.catalogue import Post, Window
from models.core import ADMIN, CLERK, COUNTY, DEPUTY, DIRECTOR, LEADER, RoleGrant, User
from models.roster import Rotation, StaffProfile, Training

# ------------------------------------------------------------------ who may do what

KEEPERS = frozenset({DIRECTOR, ADMIN})                       # the centre keeps the roster
READERS = frozenset({DEPUTY, DIRECTOR, LEADER, COUNTY, ADMIN})
UNMASK = frozenset({DIRECTOR, ADMIN})                        # the ID number in full
ROSTER_PAGE = frozenset({DEPUTY, DIRECTOR, LEADER, COUNTY, ADMIN})

GENDER_CHOICES = (("male", "男"), ("female", "女"))
POLITICAL_CHOICES = (("cpc", "中共党员"), ("cpc_probationary", "中共预备党员"), ("league", "共青团员"),
                     ("democratic", "民主党派成员"), ("independent", "无党派人士"), ("masses", "群众"))
EDUCATION_CHOICES = (("postgraduate", "研究生"), ("bachelor", "大学本科"), ("college", "大学专科"),
                     ("secondary", "中专或高中"), ("junior", "初中及以下"))
# [003 5.2.2, 5.2.4]: pre-job training, skill training, external courses, the vocational certificate.
TRAINING_KINDS = (("pre_job", "岗前培训"), ("skill", "技能提升培训"), ("external", "外部培训"),
                  ("certification", "职业资格认证培训"), ("other", "其他"))


# ------------------------------------------------------------------ rules (pure)

def birth_from_id(id_number: str) -> date | None:
    """The date of birth in an 18-digit ID number (characters 7–14)."""
    try:
        return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except (ValueError, TypeError):
        return None


def gender_from_id(id_number: str) -> str:
    """The 17th character: odd for a man, even for a woman."""
    return ("male" if int(id_number[16]) % 2 else "female") if len(id_number) == 18 and id_number[16].isdigit() else ""


def outside_january(on: date) -> bool:
    """A needed change of window staff is made in January [001 二(3): 一般在每年一月集中进行]."""
    return on.month != 1


def over_half(adjusted: int, staff: int) -> bool:
    """More than half of the window's staff changed this year [001 二(3): 原则上不超过…总数的50%]."""
    return staff > 0 and adjusted * 2 > staff


def one_year_served(arrived: date | None, on: date) -> bool:
    """At the window at least one (assessment) year before moving on [001 二(3): 不少于1个考核年度]."""
    if arrived is None:
        return True
    try:
        anniversary = arrived.replace(year=arrived.year + 1)
    except ValueError:            # 29 February
        anniversary = date(arrived.year + 1, 3, 1)
    return on >= anniversary


@dataclass(frozen=True)
class WindowCount:
    """A window's changes in a calendar year: its staff at the start of the year (those there now who did
    not arrive this year, and those who left this year) and the people changed — those who left it (a
    newcomer fills a place, so a two-for-two swap counts two; a window that only gains staff changes none)."""
    window: str
    staff: int
    adjusted: int


def rotation_warnings(on: date, counts: list[WindowCount], arrived: date | None = None) -> list:
    """What a rotation on `on` breaks of 001 二(3), as messages: saved, but said."""
    out = []
    if outside_january(on):
        out.append(_l("Window staff are changed in January; this change is on %(day)s.", day=on.isoformat()))
    for c in counts:
        if over_half(c.adjusted, c.staff):
            out.append(_l("%(window)s: %(n)s of its %(staff)s staff changed in %(year)s — more than half.",
                          window=c.window, n=c.adjusted, staff=c.staff, year=on.year))
    if not one_year_served(arrived, on):
        out.append(_l("Less than one year at the window (since %(day)s): staff stay at least one assessment year.",
                      day=arrived.isoformat()))
    return out


# ------------------------------------------------------------------ queries

def _live(model):
    return model.voided.is_(False)


def posts_of(user_id: int, center_id: int) -> list[tuple[Post, str]]:
    """The posts a person holds, with "A" or "B"."""
    posts = db.session.scalars(select(Post).options(joinedload(Post.window)).where(
        Post.center_id == center_id, _live(Post), or_(Post.a_holder_id == user_id, Post.b_holder_id == user_id))
        .order_by(Post.window_id, Post.name)).all()
    return [(p, "A" if p.a_holder_id == user_id else "B") for p in posts]


def profile_of(user_id: int) -> StaffProfile | None:
    return db.session.scalar(select(StaffProfile).where(StaffProfile.staff_id == user_id, _live(StaffProfile))
                             .order_by(StaffProfile.id.desc()).limit(1))


def window_people(window_id: int, center_id: int) -> set[int]:
    """A window's staff now: A or B holders of its posts, and people whose profile names the window."""
    holders = db.session.execute(select(Post.a_holder_id, Post.b_holder_id).where(
        Post.window_id == window_id, Post.center_id == center_id, _live(Post))).all()
    people = {uid for row in holders for uid in row if uid}
    people |= set(db.session.scalars(select(StaffProfile.staff_id).where(
        StaffProfile.window_id == window_id, StaffProfile.center_id == center_id, _live(StaffProfile))))
    return people


def window_count(window: Window, year: int) -> WindowCount:
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    moves = db.session.execute(select(Rotation.staff_id, Rotation.from_window_id, Rotation.to_window_id).where(
        Rotation.center_id == window.center_id, _live(Rotation), Rotation.rotated_on >= start,
        Rotation.rotated_on < end, or_(Rotation.from_window_id == window.id, Rotation.to_window_id == window.id))).all()
    left = {s for s, f, _t in moves if f == window.id}
    arrived = {s for s, _f, t in moves if t == window.id}
    staff = (window_people(window.id, window.center_id) - arrived) | left
    return WindowCount(str(window), len(staff), len(left))


def arrival_at(rotation: Rotation) -> date | None:
    """When the person came to the window they leave: their last rotation into it, else their dispatch."""
    came = db.session.scalar(select(Rotation.rotated_on).where(
        Rotation.staff_id == rotation.staff_id, Rotation.to_window_id == rotation.from_window_id,
        Rotation.id != rotation.id, _live(Rotation), Rotation.rotated_on <= rotation.rotated_on)
        .order_by(Rotation.rotated_on.desc()).limit(1))
    if came is not None:
        return came
    profile = profile_of(rotation.staff_id)
    return profile.dispatched_on if profile is not None else None


def trainings_of(user_id: int, center_id: int) -> list[Training]:
    return db.session.scalars(select(Training).where(
        Training.staff_id == user_id, Training.center_id == center_id, _live(Training))
        .order_by(Training.trained_on.desc(), Training.id.desc())).all()


def rotations_of(user_id: int, center_id: int) -> list[Rotation]:
    return db.session.scalars(select(Rotation).where(
        Rotation.staff_id == user_id, Rotation.center_id == center_id, _live(Rotation))
        .order_by(Rotation.rotated_on.desc(), Rotation.id.desc())).all()


def _of_centre(user_id: int | None, center_id: int) -> bool:
    return bool(user_id) and db.session.scalar(select(RoleGrant.id).where(
        RoleGrant.user_id == user_id, RoleGrant.center_id == center_id).limit(1)) is not None


# ------------------------------------------------------------------ staff profiles

def _validate_profile(ctx) -> dict:
    p, errors = ctx.record, {}
    if p.staff_id and not _of_centre(p.staff_id, p.center_id):
        errors["staff_id"] = _l("This person does not work in this centre.")
    elif p.staff_id:
        other = db.session.scalar(select(StaffProfile.id).where(
            StaffProfile.staff_id == p.staff_id, _live(StaffProfile),
            StaffProfile.id != (p.id or 0)).limit(1))
        if other is not None:
            errors["staff_id"] = "此人已有窗口工作人员登记表（每人一份），请修改原登记表。"
    if p.id_number and p.birth_date and birth_from_id(p.id_number) not in (None, p.birth_date):
        errors["birth_date"] = "出生日期与身份证号码不一致。"
    if p.id_number and p.gender and gender_from_id(p.id_number) not in ("", p.gender):
        errors["gender"] = "性别与身份证号码不一致。"
    if p.dispatched_on and p.term_until and p.term_until <= p.dispatched_on:
        errors["term_until"] = _l("The term ends after the dispatch date.")
    return errors


def _fill_profile(ctx) -> None:
    """Blanks filled from what is known: birth and gender from the ID number, unit and phone from the user."""
    p = ctx.record
    p.id_number = (p.id_number or "").strip().upper()
    if p.id_number:
        p.birth_date = p.birth_date or birth_from_id(p.id_number)
        p.gender = p.gender or gender_from_id(p.id_number)
    user = db.session.get(User, p.staff_id) if p.staff_id else None
    if user is not None:
        p.dispatching_department = p.dispatching_department or user.dispatching_department or ""
        p.phone = p.phone or user.phone or ""


def _profile_warnings(ctx) -> list:
    p, out = ctx.record, []
    if p.dispatched_on and p.term_until and not one_year_served(p.dispatched_on, p.term_until):
        out.append(_l("A dispatch term shorter than one year: window staff stay at least one assessment year."))
    if not any(t.kind == "pre_job" for t in trainings_of(p.staff_id, p.center_id)):
        out.append(_l("No pre-job training on record: staff start at the window after it."))
    return out


def _sample_window(center) -> Window:
    window = db.session.scalar(select(Window).where(Window.center_id == center.id, _live(Window)).limit(1))
    if window is None:
        window = Window(center_id=center.id, number=98, name="综合受理")
        db.session.add(window)
        db.session.flush()
    return window


def _sample_clerk(center) -> int | None:
    return db.session.scalar(select(RoleGrant.user_id).where(RoleGrant.center_id == center.id, RoleGrant.role == CLERK))


def _sample_profile(center):
    record = StaffProfile(center_id=center.id, staff_id=_sample_clerk(center), window_id=_sample_window(center).id,
                          dispatching_department="镇人力资源和社会保障服务站", post_title="科员", gender="female",
                          birth_date=date(1992, 5, 17), ethnicity="汉族", political_status="cpc",
                          education="bachelor", id_number="110105199205170024", phone="13912345678",
                          dispatched_on=date(2026, 1, 5), term_until=date(2028, 1, 4), contact_name="王主任",
                          contact_phone="0737-1234567")
    db.session.add(record)
    db.session.flush()
    return record


PROFILES = register(RecordType(
    key="staff-profiles", model=StaffProfile, title=_l("Staff profile"), title_plural=_l("Staff profiles"),
    nav_group="staff", subject="staff_id",
    permissions={"read": READERS | {SUBJECT}, "create": KEEPERS, "edit": KEEPERS, "void": KEEPERS,
                 "print": READERS | {SUBJECT}, "export": KEEPERS | {COUNTY}},
    unmask_roles=UNMASK,
    fields=[
        Field("staff_id", _l("Staff member"), kind="user", required=True, in_list=True, filter=True),
        Field("dispatching_department", _l("Dispatching unit"), in_list=True, search=True,
              help=_l("Blank: the unit on the user's account.")),
        Field("window_id", _l("Window"), ref=Window, in_list=True, filter=True),
        Field("post_title", _l("Post title"), help=_l("The position held in the dispatching unit.")),
        Field("gender", _l("Gender"), choices=GENDER_CHOICES, filter=True, help=_l("Blank: from the ID number.")),
        Field("birth_date", _l("Date of birth"), help=_l("Blank: from the ID number.")),
        Field("ethnicity", _l("Ethnicity")),
        Field("political_status", _l("Political status"), choices=POLITICAL_CHOICES, filter=True),
        Field("education", _l("Education"), choices=EDUCATION_CHOICES, filter=True),
        Field("id_number", _l("ID number"), kind="idno", mask=True, search="idno"),
        Field("phone", _l("Phone"), kind="phone", in_list=True, help=_l("Blank: the phone on the user's account.")),
        Field("dispatched_on", _l("Dispatched on"), in_list=True, filter=True),
        Field("term_until", _l("Dispatch term until")),
        Field("contact_name", _l("Contact at the dispatching unit")),
        Field("contact_phone", _l("Contact's phone"), kind="phone"),
        Field("note", _l("Note"), kind="text"),
    ],
    validate=_validate_profile, before_save=_fill_profile, warnings=_profile_warnings,
    list_options=(joinedload(StaffProfile.staff), joinedload(StaffProfile.window)),
    template_view="roster/profile.html",
    sample=_sample_profile,
    prints=[PrintForm("registration", "窗口工作人员登记表", "print/staff_registration.html")],
))


# ------------------------------------------------------------------ trainings

def _validate_training(ctx) -> dict:
    t, errors = ctx.record, {}
    if t.staff_id and not _of_centre(t.staff_id, t.center_id):
        errors["staff_id"] = _l("This person does not work in this centre.")
    if t.certificate_until and t.trained_on and t.certificate_until < t.trained_on:
        errors["certificate_until"] = _l("The certificate cannot expire before the training.")
    if (t.certificate_no or t.certificate_until) and not t.certificate_name:
        errors["certificate_name"] = _l("Name the certificate.")
    return errors


def _sample_training(center):
    record = Training(center_id=center.id, staff_id=_sample_clerk(center), kind="pre_job",
                      trained_on=date(2026, 1, 8), course="政务服务礼仪与业务规范", organiser="县政务服务中心",
                      hours=16, certificate_name="行政办事员（政务服务综合窗口办事员）四级", certificate_no="S2026001",
                      certificate_until=date(2029, 1, 7))
    db.session.add(record)
    db.session.flush()
    return record


TRAININGS = register(RecordType(
    key="trainings", model=Training, title=_l("Training record"), title_plural=_l("Training records"),
    nav_group="staff", subject="staff_id", default_sort="-trained_on",
    permissions={"read": READERS | {SUBJECT}, "create": KEEPERS | {DEPUTY}, "edit": KEEPERS | {DEPUTY},
                 "void": KEEPERS, "print": READERS, "export": KEEPERS | {DEPUTY, COUNTY}},
    fields=[
        Field("staff_id", _l("Staff member"), kind="user", required=True, in_list=True, filter=True),
        Field("kind", _l("Kind of training"), choices=TRAINING_KINDS, required=True, in_list=True, filter=True),
        Field("trained_on", _l("Date"), required=True, in_list=True, filter=True),
        Field("course", _l("Course"), required=True, in_list=True, search=True),
        Field("organiser", _l("Organiser"), in_list=True),
        Field("hours", _l("Class hours"), min=0, max=2000, in_list=True),
        Field("certificate_name", _l("Certificate"), in_list=True),
        Field("certificate_no", _l("Certificate number"), search=True),
        Field("certificate_until", _l("Certificate valid until"), in_list=True, filter=True),
    ],
    validate=_validate_training,
    prefill=lambda ctx: {"trained_on": ctx.today},
    list_options=(joinedload(Training.staff),),
    sample=_sample_training,
))


# ------------------------------------------------------------------ rotations

def _validate_rotation(ctx) -> dict:
    r, errors = ctx.record, {}
    if r.staff_id and not _of_centre(r.staff_id, r.center_id):
        errors["staff_id"] = _l("This person does not work in this centre.")
    if r.from_window_id and r.from_window_id == r.to_window_id:
        errors["to_window_id"] = _l("The new window must differ from the old one.")
    return errors


def _rotation_warnings(ctx) -> list:
    r = ctx.record
    if r.voided or r.rotated_on is None:
        return []
    windows = [db.session.get(Window, w) for w in dict.fromkeys((r.from_window_id, r.to_window_id)) if w]
    counts = [window_count(w, r.rotated_on.year) for w in windows if w is not None]
    return rotation_warnings(r.rotated_on, counts, arrival_at(r) if r.from_window_id else None)


def _move_profile(ctx) -> None:
    """The person's profile follows them to the new window (their A/B posts are changed in the catalogue)."""
    r = ctx.record
    profile = profile_of(r.staff_id)
    if profile is not None and profile.center_id == r.center_id and r.to_window_id \
            and profile.window_id in (None, r.from_window_id):
        profile.window_id = r.to_window_id


def _prefill_rotation(ctx) -> dict:
    from app.params import parse_id
    out = {"rotated_on": ctx.today}
    staff_id = parse_id(str(ctx.values.get("staff_id") or ""))
    profile = profile_of(staff_id) if staff_id else None
    if profile is not None and profile.window_id and profile.center_id == ctx.center_id:
        out["from_window_id"] = profile.window_id
    return out


def _sample_rotation(center):
    first = _sample_window(center)
    second = Window(center_id=center.id, number=99, name="社会保障")
    db.session.add(second)
    db.session.flush()
    record = Rotation(center_id=center.id, staff_id=_sample_clerk(center), from_window_id=first.id,
                      to_window_id=second.id, rotated_on=date(2026, 1, 12), reason="工作需要")
    db.session.add(record)
    db.session.flush()
    return record


ROTATIONS = register(RecordType(
    key="rotations", model=Rotation, title=_l("Window rotation"), title_plural=_l("Window rotations"),
    nav_group="staff", subject="staff_id", default_sort="-rotated_on",
    permissions={"read": READERS | {SUBJECT}, "create": KEEPERS, "edit": KEEPERS, "void": KEEPERS,
                 "print": READERS, "export": KEEPERS | {COUNTY}},
    fields=[
        Field("staff_id", _l("Staff member"), kind="user", required=True, in_list=True, filter=True),
        Field("from_window_id", _l("From window"), ref=Window, required=True, in_list=True, filter=True),
        Field("to_window_id", _l("To window"), ref=Window, required=True, in_list=True, filter=True),
        Field("rotated_on", _l("Date of the change"), required=True, in_list=True, filter=True,
              help=_l("Changes are made in January, at most half of a window's staff a year.")),
        Field("reason", _l("Reason"), kind="text"),
    ],
    validate=_validate_rotation, warnings=_rotation_warnings, after_create=_move_profile,
    prefill=_prefill_rotation,
    list_options=(joinedload(Rotation.staff), joinedload(Rotation.from_window), joinedload(Rotation.to_window)),
    sample=_sample_rotation,
))


# ------------------------------------------------------------------ the window roster page

bp = Blueprint("roster", __name__, url_prefix="/roster")


@dataclass
class Person:
    user: User | None              # None: nobody holds this side of the post
    role: str                      # "A", "B" or "" (a profile at the window, no post)
    profile: StaffProfile | None

    @property
    def department(self) -> str:
        if self.user is None:
            return ""
        return (self.profile.dispatching_department if self.profile else "") or self.user.dispatching_department

    @property
    def phone(self) -> str:
        if self.user is None:
            return ""
        return (self.profile.phone if self.profile else "") or self.user.phone


def roster(center_id: int) -> list[tuple[Window | None, list[tuple[Post | None, list[Person]]]]]:
    """Every window: its posts with their A and B holders, then the people at it with no post there.
    Posts and profiles without a window come last."""
    windows = db.session.scalars(select(Window).where(Window.center_id == center_id, _live(Window))
                                 .order_by(Window.number)).all()
    posts = db.session.scalars(select(Post).options(joinedload(Post.a_holder), joinedload(Post.b_holder)).where(
        Post.center_id == center_id, _live(Post)).order_by(Post.name)).all()
    profiles = db.session.scalars(select(StaffProfile).options(joinedload(StaffProfile.staff)).where(
        StaffProfile.center_id == center_id, _live(StaffProfile))).all()
    by_person = {p.staff_id: p for p in profiles}
    out = []
    for window in [*windows, None]:
        wid = window.id if window else None
        rows, placed = [], set()
        for post in (p for p in posts if p.window_id == wid):
            people = [Person(u, r, by_person.get(u.id) if u else None)
                      for u, r in ((post.a_holder, "A"), (post.b_holder, "B"))]
            placed |= {p.user.id for p in people if p.user}
            rows.append((post, people))
        loose = [Person(p.staff, "", p) for p in profiles if p.window_id == wid and p.staff_id not in placed]
        if loose:
            rows.append((None, sorted(loose, key=lambda p: p.user.name)))
        if window is not None or rows:
            out.append((window, rows))
    return out


@bp.route("/")
@login_required
def windows_page():
    """The window roster of a centre, for its managers and the county."""
    from app import access
    from app.params import parse_id
    center_id = parse_id(request.args.get("center") or "") or access.current_center_id()
    if center_id is None or not access.roles_in(current_user, center_id) & ROSTER_PAGE:
        abort(403)
    from models.core import Center
    center = db.session.get(Center, center_id)
    below = []
    if center.kind == "county":
        below = [c for c in db.session.scalars(select(Center).where(Center.id.in_(center.descendant_ids()),
                                                                    Center.id != center.id).order_by(Center.name))
                 if access.roles_in(current_user, c.id) & ROSTER_PAGE]
    return render_template("roster/windows.html", center=center, rows=roster(center.id), below=below,
                           can_read_profiles=PROFILES.allows("read", access.roles_in(current_user, center.id)))


# ------------------------------------------------------------------ for the templates

def _visible(rtype, records):
    return [r for r in records if rtype.may("read", current_user, r)]


def init_app(app) -> None:
    from app.records.forms import may_unmask
    app.jinja_env.globals.update(
        roster_posts=posts_of,
        roster_trainings=lambda user_id, center_id: _visible(TRAININGS, trainings_of(user_id, center_id)),
        roster_rotations=lambda user_id, center_id: _visible(ROTATIONS, rotations_of(user_id, center_id)),
        roster_unmask=lambda record: may_unmask(PROFILES, current_user, record.center_id),
        roster_may=_may, roster_training_kinds=dict(TRAINING_KINDS),
    )


def _may(key: str, action: str, center_id: int) -> bool:
    """May the reader create (etc.) trainings or rotations in the centre: the profile page's buttons."""
    from app.access import roles_in
    return {"trainings": TRAININGS, "rotations": ROTATIONS}[key].allows(action, roles_in(current_user, center_id))


from app.features import Feature, MenuLink  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "roster", types=("app.roster",), blueprints=[bp], init_app=init_app,
    menu=[MenuLink("roster.windows_page", _l("Window roster"), ROSTER_PAGE, group="staff")],
)
