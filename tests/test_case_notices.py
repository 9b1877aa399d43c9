"""Notices that go to the applicant: the one-time notice says how each missing material is to be
brought (original or copy, how many copies), and every notice carries the centre's seal box."""
from __future__ import annotations

import re

import pytest

from tests.conftest import make_case, make_matter
from tests.test_case_printouts import records  # noqa: F401  (fixture: a case in each printable state)
from tests.test_printouts import pdftotext


def test_one_time_notice_lists_form_and_copies_of_each_missing_material(client, auth, county, db, tmp_path):
    matter = make_matter(county["a"], name="临时救助申请", materials=(
        ("居民身份证", "both", 1), ("户口簿", "copy", 2), ("困难情况证明", "original", 1)))
    case = make_case(county["a"], matter, state="awaiting_supplement", responsible=county["users"]["a_clerk"],
                     missing_materials="户口簿\n困难情况证明")
    db.session.commit()
    auth.login("a_clerk")
    assert client.post(f"/r/cases/{case.id}/print/notice").status_code == 303
    html = client.get(f"/r/cases/{case.id}/print/notice").get_data(as_text=True)
    cells = [[c.strip() for c in re.split(r"<[^>]+>", row) if c.strip()] for row in re.findall(r"<tr>.*?</tr>", html, re.S)]
    rows = {r[1]: r for r in cells if len(r) > 1}
    assert rows["户口簿"][1:] == ["户口簿", "复印件", "2"]
    assert rows["困难情况证明"][1:] == ["困难情况证明", "原件", "1"]
    assert not any("居民身份证" in r for r in rows)
    text = pdftotext(client.get(f"/r/cases/{case.id}/print/notice.pdf").data, tmp_path, "-layout")
    line = next(line for line in text.splitlines() if "户口簿" in line)
    assert line.split()[1:] == ["户口簿", "复印件", "2"]


APPLICANT_NOTICES = [("accepted", "receipt"), ("awaiting_supplement", "notice"), ("accepted", "acceptance"),
                     ("refused", "refusal"), ("accepted", "joint"), ("transferred", "transfer")]


@pytest.mark.parametrize("state, form", APPLICANT_NOTICES)
def test_every_applicant_notice_carries_the_seal_box(client, auth, county, records, state, form, tmp_path):  # noqa: F811
    case = records["case"][state]
    auth.login("a_clerk")
    client.post(f"/r/cases/{case.id}/print/{form}")  # numbered forms are issued first
    html = client.get(f"/r/cases/{case.id}/print/{form}").get_data(as_text=True)
    assert html.count('class="seal"') == 1
    text = pdftotext(client.get(f"/r/cases/{case.id}/print/{form}.pdf").data, tmp_path).replace(" ", "")
    assert f"{county['a'].name}（盖章）" in text
