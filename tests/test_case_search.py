"""The case register's search box: receipt number and phone by their start, the applicant's ID number
exactly, and any part of the applicant's name — only ever within the centres the user may list."""
from __future__ import annotations

import pytest

from tests.conftest import make_case, make_matter

ID_NO = "43092319900101123X"   # an 18-character number ending in X


@pytest.fixture
def matter(county, db):
    m = make_matter(county["a"], name="临时救助申请")
    db.session.commit()
    return m


def found(client, q: str) -> set[str]:
    """Receipt numbers of the cases the list shows for a search (the markers of the test cases)."""
    response = client.get("/r/cases/", query_string={"q": q})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return {no for no in MARKERS if no in html}


MARKERS = ("2026-000701", "2026-000702", "2026-000703", "2026-000704", "2026-000705", "2026-000709")


def test_search_finds_a_case_by_any_part_of_the_applicants_name(client, auth, county, matter, db):
    li = make_case(county["a"], matter, applicant_name="李秀英", receipt_no="2026-000701")
    make_case(county["a"], matter, applicant_name="王秀兰", receipt_no="2026-000702")
    make_case(county["a"], matter, applicant_name="张三", receipt_no="2026-000703")
    make_case(county["a"], matter, applicant_name="Maria Lopez", receipt_no="2026-000704")
    db.session.commit()
    auth.login("a_clerk")
    assert found(client, "秀英") == {"2026-000701"}               # the end of the name
    assert found(client, "秀") == {"2026-000701", "2026-000702"}  # one character in the middle
    assert found(client, "李秀英") == {"2026-000701"}             # the whole name
    assert found(client, "李秀") == {"2026-000701"}               # its start, as before
    assert found(client, "王英") == set()                         # not two characters apart
    assert found(client, "lopez") == {"2026-000704"}              # Latin letters in any case
    assert found(client, "LO") == {"2026-000704"}
    assert found(client, "ria lo") == {"2026-000704"}
    # A corrected name is found by its new spelling, no longer by the old one.
    li.applicant_name = "赵秀梅"
    db.session.commit()
    assert found(client, "秀梅") == {"2026-000701"}
    assert found(client, "秀英") == set()


def test_search_finds_a_case_by_its_exact_id_number(client, auth, county, matter, db):
    make_case(county["a"], matter, applicant_name="李秀英", applicant_id_no=ID_NO, receipt_no="2026-000701")
    make_case(county["a"], matter, applicant_name="王秀兰", applicant_id_no="43092319851212002x",
              receipt_no="2026-000702")   # typed with a small x
    make_case(county["a"], matter, applicant_name="张三", applicant_id_no="430923199001011220",
              receipt_no="2026-000703")
    db.session.commit()
    auth.login("a_clerk")
    assert found(client, ID_NO) == {"2026-000701"}
    assert found(client, ID_NO.lower()) == {"2026-000701"}              # X either way
    assert found(client, "43092319851212002X") == {"2026-000702"}
    assert found(client, f"  {ID_NO}  ") == {"2026-000701"}


def test_search_by_id_number_does_not_match_a_partial_number(client, auth, county, matter, db):
    make_case(county["a"], matter, applicant_name="李秀英", applicant_id_no=ID_NO, receipt_no="2026-000701")
    db.session.commit()
    auth.login("a_clerk")
    assert found(client, ID_NO) == {"2026-000701"}
    for partial in (ID_NO[:17], ID_NO[:6], ID_NO[-4:], ID_NO[1:], "1990010112"):
        assert found(client, partial) == set(), partial


def test_search_still_finds_by_receipt_number_and_phone_prefix(client, auth, county, matter, db):
    make_case(county["a"], matter, applicant_name="欧阳修", applicant_phone="13700001111", receipt_no="2026-000701")
    make_case(county["a"], matter, applicant_name="王安石", applicant_phone="13800002222", receipt_no="2026-000702")
    make_case(county["a"], matter, applicant_name="苏轼", applicant_phone="13800003333", receipt_no="2026-000709")
    db.session.commit()
    auth.login("a_clerk")
    assert found(client, "2026-000701") == {"2026-000701"}
    assert found(client, "2026-00070") == {"2026-000701", "2026-000702", "2026-000709"}
    assert found(client, "1380000") == {"2026-000702", "2026-000709"}
    assert found(client, "13800003333") == {"2026-000709"}
    assert found(client, "00003333") == set()        # a phone is found by its start, not its middle
    assert found(client, "000709") == set()          # … and so is a receipt number


def test_search_never_shows_another_centres_cases(client, auth, county, matter, db):
    make_case(county["a"], matter, applicant_name="李秀英", applicant_id_no=ID_NO, receipt_no="2026-000701",
              applicant_phone="13700001111")
    other = make_matter(county["b"])
    make_case(county["b"], other, applicant_name="李秀英", applicant_id_no=ID_NO, receipt_no="2026-000705",
              applicant_phone="13700001111")
    db.session.commit()
    auth.login("a_clerk")
    for q in ("秀英", "李", ID_NO, "1370000", "2026-0007"):
        assert found(client, q) == {"2026-000701"}, q
    auth.logout()
    auth.login("b_clerk")
    for q in ("秀英", ID_NO.lower(), "2026-0007"):
        assert found(client, q) == {"2026-000705"}, q
