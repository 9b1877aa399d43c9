"""Record lists page by the last row shown (keyset), not by OFFSET: every row once, in order, both ways;
a made-up cursor is the first page; the statements a page costs do not grow with its rows."""
from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from app.extensions import db as _db
from tests.conftest import make_case, make_matter, make_window

N_ROWS = 130


@pytest.fixture
def cases(county, db):
    """130 cases of centre A: three intake days (long runs of equal values across pages), names from a
    small stock (ties), a due date on most and none (NULL) on every seventh."""
    matter = make_matter(county["a"], name="临时救助申请")
    made = []
    for i in range(N_ROWS):
        made.append(make_case(county["a"], matter, intake=date(2026, 11, 20) + timedelta(days=i % 3),
                              applicant_name="王李张"[i % 3] + "秀英", receipt_no=f"2026-{i:06d}",
                              due_date=None if i % 7 == 0 else date(2026, 12, 1) + timedelta(days=i % 5)))
    make_case(county["b"], make_matter(county["b"]), receipt_no="2026-999999")  # another centre's: never listed
    db.session.commit()
    return made


def body_ids(page_html: str) -> list[int]:
    bodies = re.findall(r"<tbody>(.*?)</tbody>", page_html, flags=re.S)
    assert len(bodies) == 1, "not one record table on the page"
    return [int(i) for i in re.findall(r'href="/r/cases/(\d+)"', bodies[0])]


def link(page_html: str, rel: str) -> str | None:
    found = re.search(rf'<a class="button" rel="{rel}" href="([^"]+)"', page_html)
    return html.unescape(found.group(1)) if found else None


def expected_order(rows, name: str, descending: bool) -> list[int]:
    """`sort column asc|desc, id desc`, NULLs where the database puts them (SQLite: below every value)."""
    nulls_smallest = _db.engine.dialect.name in ("sqlite", "mysql", "mariadb")

    def rank(value):
        return (0 if nulls_smallest else 2) if value is None else 1

    if descending:  # column desc, id desc: the reverse of column asc, id asc
        ordered = sorted(rows, key=lambda r: (rank(getattr(r, name)), getattr(r, name) or 0, r.id), reverse=True)
    else:
        ordered = sorted(rows, key=lambda r: (rank(getattr(r, name)), getattr(r, name) or 0, -r.id))
    return [r.id for r in ordered]


def walk(client, url):
    """Follow Next from the first page to the last; the pages seen (lists of ids) and the last page's html."""
    pages, seen_urls = [], set()
    while url:
        assert url not in seen_urls, "the pager went round in a circle"
        seen_urls.add(url)
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        pages.append(body_ids(text))
        url = link(text, "next")
    return pages, text


@pytest.mark.parametrize("sort", ["intake_date", "-due_date", "applicant_name", "due_date", "-id"])
def test_next_visits_every_row_once_in_order_and_previous_goes_back(client, auth, cases, sort):
    auth.login("a_clerk")
    name, descending = sort.lstrip("-"), sort.startswith("-")
    pages, last = walk(client, f"/r/cases/?sort={sort}")
    assert [len(p) for p in pages] == [25, 25, 25, 25, 25, 5]
    walked = [i for p in pages for i in p]
    assert walked == expected_order(cases, name, descending)
    assert len(set(walked)) == N_ROWS
    assert "第 6 / 6 页" in last and "共 130 条" in last
    # Deep pages are an index range from the cursor, not OFFSET.
    assert "after=" in link(client.get(f"/r/cases/?sort={sort}").get_data(as_text=True), "next")
    # Previous, from the last page back to the first, shows the same pages.
    back, text = [], last
    while (url := link(text, "prev")) is not None:
        assert "before=" in url
        text = client.get(url).get_data(as_text=True)
        back.append(body_ids(text))
    assert back == pages[-2::-1]
    assert "第 1 / 6 页" in text and link(text, "prev") is None


def test_a_filter_and_a_search_page_by_cursor_too(client, auth, cases):
    auth.login("a_clerk")
    pages, _ = walk(client, "/r/cases/?q=王&sort=intake_date")
    wang = [c for c in cases if c.applicant_name.startswith("王")]
    assert [i for p in pages for i in p] == expected_order(wang, "intake_date", False)
    pages, _ = walk(client, "/r/cases/?intake_date_from=2026-11-21&intake_date_to=2026-11-21&sort=-receipt_no")
    day = [c for c in cases if c.intake_date == date(2026, 11, 21)]
    assert [i for p in pages for i in p] == expected_order(day, "receipt_no", True)


def test_a_new_sort_or_filter_starts_at_the_first_page(client, auth, cases):
    auth.login("a_clerk")
    second = client.get(link(client.get("/r/cases/").get_data(as_text=True), "next")).get_data(as_text=True)
    head = second[second.index("<thead>"):second.index("</thead>")]
    assert "after=" not in head and "before=" not in head  # the sort links drop the cursor


def test_old_page_links_still_work(client, auth, cases):
    auth.login("a_clerk")
    order = expected_order(cases, "id", True)
    assert body_ids(client.get("/r/cases/?page=2").get_data(as_text=True)) == order[25:50]
    text = client.get("/r/cases/?page=99").get_data(as_text=True)  # past the end: the last page
    assert body_ids(text) == order[125:] and "第 6 / 6 页" in text
    assert body_ids(client.get(link(text, "prev")).get_data(as_text=True)) == order[100:125]


@pytest.mark.parametrize("cursor", ["after=abc", f"after={10**20}", "after=²", "after=٣", "after=-5", "after=",
                                    "before=²", f"before={10**20}:x", "after=1:notadate&sort=intake_date",
                                    "after=1:2026-13-45&sort=due_date", "after=1:10000000000000000000000&sort=matter_id",
                                    "after=abc&page=4", "after=1:2000-01-01&sort=-intake_date&page=3",
                                    "after=1:\x00&sort=applicant_name&page=2", "after=1:" + "x" * 400 + "&sort=applicant_name"])
def test_a_tampered_cursor_gives_the_first_page(client, auth, cases, cursor):
    auth.login("a_clerk")
    sort = re.search(r"sort=([^&]+)", cursor)
    first = client.get(f"/r/cases/?sort={sort.group(1)}" if sort else "/r/cases/").get_data(as_text=True)
    response = client.get(f"/r/cases/?{cursor}")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert body_ids(text) == body_ids(first) and "第 1 / 6 页" in text


def test_the_count_is_capped_and_said_so(client, auth, cases, monkeypatch):
    from app.records import query as rq
    monkeypatch.setattr(rq, "COUNT_CAP", 100)
    auth.login("a_clerk")
    text = client.get("/r/cases/").get_data(as_text=True)
    assert "共 100+ 条" in text and "第 1 / 4+ 页" in text
    pages, last = walk(client, "/r/cases/")
    assert len([i for p in pages for i in p]) == N_ROWS and "第 6 / 6 页" in last  # the last: no "+"
    assert "共 10 条" in client.get("/r/cases/?q=2026-00010").get_data(as_text=True)  # under the cap: exact
    # Over the cap is remembered for a minute: the next pages do not count again.
    first, _text = statements_for(client, "/r/cases/?kind=promised&sort=intake_date")  # not counted before
    second, text = statements_for(client, link(_text, "next"))
    assert second == first - 1 and "共 100+ 条" in text


def executed_by(client, url) -> tuple[list[tuple[str, object]], str]:
    """The statements (with their parameters) a page runs, and its html. The tests share one session with
    the pages they ask for; a server's request starts with a new one, holding nothing: so here too."""
    seen = []
    _db.session.expire_all()

    def grab(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))
    event.listen(_db.engine, "before_cursor_execute", grab)
    try:
        response = client.get(url)
    finally:
        event.remove(_db.engine, "before_cursor_execute", grab)
    assert response.status_code == 200, url
    return seen, response.get_data(as_text=True)


def statements_for(client, url) -> tuple[int, str]:
    seen, text = executed_by(client, url)
    return len(seen), text


def test_a_list_page_costs_the_same_statements_for_10_rows_as_for_100(app, client, auth, county, db):
    """Each case with its own matter and window: a lazy load per row would show as 90 more statements."""
    app.config["PAGE_SIZE"] = 100

    def add(n):
        for _ in range(n):
            window = make_window(county["a"], 1, "窗口")
            make_case(county["a"], make_matter(county["a"], window_id=window.id), state="accepted")
        db.session.commit()

    auth.login("a_clerk")
    add(10)
    client.get("/r/cases/")  # warm: the same caches as the second
    ten, text = statements_for(client, "/r/cases/")
    assert len(body_ids(text)) == 10
    add(90)
    hundred, text = statements_for(client, "/r/cases/")
    assert len(body_ids(text)) == 100
    assert hundred == ten
    add(5)
    first = client.get("/r/cases/").get_data(as_text=True)
    after, text = statements_for(client, link(first, "next"))  # a page after a cursor: no more either,
    assert len(body_ids(text)) == 5 and after == ten - 1        # one less: the count came with the link


def query_plans(client, url) -> list[str]:
    """SQLite's plan (EXPLAIN QUERY PLAN, one line per step) of each statement the page reads cases with."""
    seen = [(s, p) for s, p in executed_by(client, url)[0]
            if s.lstrip().upper().startswith("SELECT") and "service_case" in s]
    with _db.engine.connect() as conn:
        return [" | ".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + s, p))
                for s, p in seen]


@pytest.fixture
def years_of_cases(county, db):
    """A register as it looks after years: nearly every case delivered, a few open, shared among the
    county's staff, a_clerk among them; the planner's statistics refreshed as the nightly job does."""
    from sqlalchemy import select, text

    from models.core import User
    owners = db.session.scalars(select(User)).all()
    matter = make_matter(county["a"], name="临时救助申请")
    for i in range(800):
        make_case(county["a"], matter, state="delivered" if i < 780 else "accepted", receipt_no=f"2026-{i:06d}",
                  responsible=owners[i % len(owners)])
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def test_a_filtered_list_sorted_by_receipt_reads_the_filter_index_not_every_receipt(client, auth, years_of_cases):
    """state=accepted sorted by receipt: SQLite walked the receipt index from the oldest case through the
    delivered ones (40–60 ms at 250,000 cases); the few accepted ones are found by state and then sorted."""
    if _db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's planner")
    auth.login("a_clerk")
    plans = query_plans(client, "/r/cases/?state=accepted&sort=receipt_no")
    assert plans and all("state=?" in p for p in plans), plans
    assert not any("sqlite_autoindex_service_case" in p for p in plans), plans


def test_a_clerks_own_open_cases_are_read_without_their_finished_ones(client, auth, years_of_cases):
    """首问负责 worklist: the owner index leads with the responsible clerk and then the state, so the
    clerk's open cases are sought directly (an index on the owner alone read all their delivered ones)."""
    if _db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's planner")
    auth.login("a_clerk")
    plans = query_plans(client, "/worklist")
    assert plans and all("state=?" in p and "(responsible_id=?)" not in p for p in plans), plans


def _case_indexes() -> set[tuple[str, ...]]:
    """The columns of each index on service_case, in the built database."""
    from sqlalchemy import inspect
    return {tuple(ix["column_names"]) for ix in inspect(_db.engine).get_indexes("service_case")}


def test_the_registers_newest_first_order_ends_the_centre_and_window_indexes(db):
    """PostgreSQL appends no row id to an index (SQLite does by itself): without the id named in one, the
    newest cases of one centre were found by walking the county's primary key backwards past every other
    centre's cases (2 s at 5,000,000 cases, tests/bench/bench_county.py), and a window's by reading and
    sorting its 30,000. The centre's and the window's indexes end with the id, in the built database."""
    indexes = _case_indexes()
    assert ("center_id", "voided", "id") in indexes
    assert any(ix[0] == "window_id" and ix[-1] == "id" for ix in indexes), indexes


def test_a_windows_cases_are_counted_and_paged_from_one_index(client, auth, county, db):
    """A clerk's list of their own window: the count checks centre, voided and window for up to 10,001
    cases. With (window_id, id) alone PostgreSQL combined it with the centre's index and read every
    matching case from the table (23–70 ms at 5,000,000 cases, tests/bench/bench_county.py); the window's
    index carries the centre and voided flag before the id, so count and page read the index alone."""
    from sqlalchemy import text
    indexes = _case_indexes()
    assert ("window_id", "center_id", "voided", "id") in indexes
    assert ("window_id", "id") not in indexes, "the shorter index is replaced, not kept beside it"
    if _db.engine.dialect.name != "sqlite":
        return
    window = make_window(county["a"], 3, "社保窗口")
    matter = make_matter(county["a"], window_id=window.id)
    for _ in range(60):
        make_case(county["a"], matter, state="delivered")
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    auth.login("a_clerk")
    plans = query_plans(client, f"/r/cases/?window_id={window.id}")
    assert plans and all("ix_case_window_order" in p for p in plans), plans
    count = [p for p in plans if "CO-ROUTINE" in p]
    assert count and all("COVERING INDEX ix_case_window_order" in p for p in count), plans


def test_a_list_filtered_to_one_state_in_id_order_reads_its_index_in_that_order(client, auth, years_of_cases):
    """state=accepted, newest first: the index on (centre, void, state) holds those cases in id order, so
    the page is its last 26 entries; the rule that makes SQLite sort a short filtered list (`+column`)
    sorted all 7,018 accepted cases of the 250,000 for each page (2.7 ms, now 0.01 ms)."""
    if _db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's planner")
    auth.login("a_clerk")
    def sorts(url) -> int:
        """The sorts the statement reading the page's rows (with their matter) makes."""
        page = [p for p in query_plans(client, url) if "matter_1" in p]
        assert len(page) == 1, page
        return page[0].count("TEMP B-TREE FOR ORDER BY")

    for url in ("/r/cases/?state=accepted", "/r/cases/?state=accepted&sort=-id", "/r/cases/?state=accepted&sort=id"):
        assert sorts(url) == 0, (url, query_plans(client, url))
    # A condition no index holds in id order (a date range) is still found by its index and sorted.
    assert sorts("/r/cases/?intake_date_from=2026-01-01&intake_date_to=2026-12-31") >= 1


def test_next_and_previous_carry_the_lists_count_instead_of_counting_it_again(app, client, auth, county, db):
    """The first page counts the list (up to the cap); Next and Previous carry that number (`n`) and show it
    again without a COUNT (a sixth of a page's cost on the table htmx swaps in). A first page (a sort or filter
    change starts one) or an `n` that is no count counts afresh; the rows are always read afresh."""
    app.config["PAGE_SIZE"] = 3
    for _ in range(7):
        make_case(county["a"], state="accepted")
    db.session.commit()
    auth.login("a_clerk")

    def counts(url) -> tuple[int, str]:
        seen, text = executed_by(client, url)
        return sum(1 for s, _p in seen if "count(*)" in s.lower()), text

    counted, first = counts("/r/cases/?state=accepted")
    assert counted == 1 and "共 7 条" in first
    nxt = link(first, "next")
    assert "n=7" in nxt
    counted, second = counts(nxt)
    assert counted == 0 and "共 7 条" in second and "第 2 / 3 页" in second
    counted, third = counts(link(second, "next"))
    assert counted == 0 and len(body_ids(third)) == 1 and link(third, "next") is None
    counted, back = counts(link(third, "prev"))
    assert counted == 0 and body_ids(back) == body_ids(second)
    for made_up in ("abc", "-1", "99999999999999999999", "²"):
        counted, page = counts(nxt.replace("n=7", f"n={made_up}"))
        assert counted == 1 and "共 7 条" in page, made_up
    sort_link = re.search(r'<a href="([^"]+sort=[^"]+)"', second).group(1)
    assert "n=" not in html.unescape(sort_link)


def test_a_search_is_counted_to_a_thousand_not_ten(client, auth, cases, monkeypatch):
    """A search (`q`) counts its matches up to SEARCH_COUNT_CAP and says "1,000+" beyond: a name part such as
    王 matches 19,000 cases of a busy centre, and counting 10,001 of them cost PostgreSQL 33 ms of a
    search (SQLite: 陈, 9,946 matches, 8 ms to count, 10 ms to sort); nobody pages through a thousand hits,
    they type more. Every match is still reached by Next; lists without a search keep COUNT_CAP."""
    from app.records import query as rq
    monkeypatch.setattr(rq, "SEARCH_COUNT_CAP", 40)
    auth.login("a_clerk")
    text = client.get("/r/cases/?q=2026-").get_data(as_text=True)
    assert "共 40+ 条" in text and "第 1 / 2+ 页" in text
    pages, last = walk(client, "/r/cases/?q=2026-")
    assert len([i for p in pages for i in p]) == N_ROWS and "第 6 / 6 页" in last
    assert "共 130 条" in client.get("/r/cases/").get_data(as_text=True)  # no search: counted to COUNT_CAP
