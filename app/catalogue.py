"""Catalogue record types (SPEC §4.1): departments, windows, matters with materials, A/B posts."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.access import STAFF
from app.records.registry import Child, Field, PrintForm, RecordType, register
from models.catalogue import Department, Matter, MatterMaterial, Post, Window
from models.core import ADMIN, COUNTY, DIRECTOR

READERS = STAFF | {COUNTY}
KEEPERS = frozenset({ADMIN, DIRECTOR})
CATALOGUE_PERMISSIONS = {"read": READERS, "create": KEEPERS, "edit": KEEPERS, "void": KEEPERS,
                         "print": READERS, "export": READERS}

MATTER_KIND_CHOICES = (("immediate", _l("Immediate (即办件)")), ("promised", _l("Promised (承诺件)")))
HANDLING_MODE_CHOICES = (("direct", _l("Direct (直接办理)")), ("promised", _l("Promised (承诺办理)")),
                         ("joint", _l("Joint (联合办理)")), ("linked", _l("Linked (衔接办理)")))
MATERIAL_FORM_CHOICES = (("original", _l("Original")), ("copy", _l("Copy")),
                         ("both", _l("Original and copy")))
PROMISE_SHARE_WARNING = 0.4   # promised limit ≤ 40 % of the statutory limit by default [001 四(七)]

register(RecordType(
    key="departments", model=Department, title=_l("Functional department"),
    title_plural=_l("Functional departments"), nav_group="catalogue", default_sort="name",
    permissions=CATALOGUE_PERMISSIONS,
    fields=[
        Field("name", _l("Name"), required=True, in_list=True, search=True),
        Field("contact", _l("Contact person"), in_list=True),
        Field("phone", _l("Phone"), kind="phone", in_list=True),
        Field("address", _l("Address")),
    ],
))

register(RecordType(
    key="windows", model=Window, title=_l("Window"), title_plural=_l("Windows"), nav_group="catalogue",
    default_sort="number", permissions=CATALOGUE_PERMISSIONS,
    fields=[
        Field("number", _l("Window number"), required=True, in_list=True, min=1, max=99),
        Field("name", _l("Name"), required=True, in_list=True, search=True),
        Field("department_id", _l("Department"), ref=Department, in_list=True, filter=True),
        Field("note", _l("Note")),
    ],
))


def validate_matter(ctx) -> dict:
    """Promised limit < statutory limit [000 限时办结 §4: 必须少于]; a promised matter has a promise."""
    matter, errors = ctx.record, {}
    if matter.kind == "promised" and (matter.promised_days or 0) < 1:
        errors["promised_days"] = _l("A promised matter needs a promised limit of at least 1 working day.")
    if (matter.statutory_days or 0) and (matter.promised_days or 0) >= matter.statutory_days:
        errors["promised_days"] = _l("The promised limit must be less than the statutory limit "
                                     "(%(n)s working days).", n=matter.statutory_days)
    return errors


def matter_warnings(ctx) -> list:
    matter = ctx.record
    if matter.statutory_days and matter.promised_days > matter.statutory_days * PROMISE_SHARE_WARNING:
        return [_l("The promised limit is above 40%% of the statutory limit (%(n)s of %(m)s working days): "
                   "the rule is to promise at most 40%%.", n=matter.promised_days, m=matter.statutory_days)]
    return []


register(RecordType(
    key="matters", model=Matter, title=_l("Matter"), title_plural=_l("Matters"), nav_group="catalogue",
    default_sort="name", permissions=CATALOGUE_PERMISSIONS,
    validate=validate_matter, warnings=matter_warnings,
    fields=[
        Field("code", _l("Matter code"), in_list=True, search=True),
        Field("name", _l("Matter name"), required=True, in_list=True, search=True),
        Field("window_id", _l("Window"), ref=Window, in_list=True, filter=True),
        Field("department_id", _l("Department"), ref=Department, filter=True),
        Field("business_line", _l("Business line"), in_list=True, filter=True, search=True),
        Field("kind", _l("Kind"), choices=MATTER_KIND_CHOICES, required=True, in_list=True, filter=True),
        Field("handling_mode", _l("Handling mode"), choices=HANDLING_MODE_CHOICES, required=True, filter=True),
        Field("statutory_days", _l("Statutory limit (working days)"), required=True, min=0, max=365, in_list=True),
        Field("promised_days", _l("Promised limit (working days)"), required=True, min=0, max=365, in_list=True,
              help=_l("Less than the statutory limit; by default at most 40% of it.")),
        Field("basis", _l("Legal basis")),
        Field("conditions", _l("Conditions")),
        Field("procedure", _l("Procedure")),
        Field("fee", _l("Fee"), help=_l("Write 不收费 when free.")),
        Field("fee_basis", _l("Fee basis")),
        Field("contact_phone", _l("Enquiry phone"), kind="phone"),
        Field("complaint_phone", _l("Complaint phone"), kind="phone"),
        Field("faq", _l("Frequently asked questions")),
    ],
    children=[Child("materials", _l("Required materials"), MatterMaterial, fields=[
        Field("name", _l("Material"), required=True),
        Field("form", _l("Original or copy"), choices=MATERIAL_FORM_CHOICES),
        Field("copies", _l("Copies"), min=0, max=99),
        Field("note", _l("Note")),
    ])],
    prints=[PrintForm("guide", _l("Service guide"), "print/matter_guide.html"),
            PrintForm("notice", _l("One-time notification slip"), "print/matter_notice.html")],
))

register(RecordType(
    key="posts", model=Post, title=_l("Post"), title_plural=_l("Posts (A/B)"), nav_group="catalogue",
    default_sort="name", permissions=CATALOGUE_PERMISSIONS,
    fields=[
        Field("name", _l("Post"), required=True, in_list=True, search=True),
        Field("window_id", _l("Window"), ref=Window, in_list=True, filter=True),
        Field("a_holder_id", _l("A holder"), kind="user", in_list=True, filter=True),
        Field("b_holder_id", _l("B holder"), kind="user", in_list=True, filter=True),
        Field("duties", _l("Duties")),
    ],
    validate=lambda ctx: (
        {"b_holder_id": _l("A and B must be two different people.")}
        if ctx.record.a_holder_id and ctx.record.a_holder_id == ctx.record.b_holder_id else {}),
    warnings=lambda ctx: post_warnings(ctx.record),
))


def post_warnings(post: Post) -> list:
    """000 AB岗 §1: every post has an A holder and a B holder who stands in; saved, but said."""
    out = []
    if not post.a_holder_id:
        out.append(_l("This post has no A holder: every post has an A and a B holder (AB岗)."))
    if not post.b_holder_id:
        out.append(_l("This post has no B holder to stand in: every post has an A and a B holder (AB岗)."))
    return out


from app.features import Feature, Job  # noqa: E402  (the feature declaration closes the module)

FEATURE = Feature(
    "catalogue", types=("app.catalogue",),
    jobs=[Job("empty_posts", "jobs.catalogue_jobs:empty_posts", {"day_of_week": "*", "hour": 8, "minute": 40},
              "Tell directors about A/B posts with nobody to staff them (空岗)", reminder=True)])
