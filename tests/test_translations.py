"""The interface is Chinese: every message in code and templates has a zh_CN translation."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "label_in": ((1, "c"), 2)}


def extracted_messages() -> set[str]:
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_interface_message_has_a_chinese_translation():
    with open(CATALOGUE, "rb") as po:
        catalogue = read_po(po, locale="zh_Hans_CN")
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue
                  if m.id and (m.string if isinstance(m.string, str) else m.string[0]) and not m.fuzzy}
    missing = sorted(extracted_messages() - translated)
    assert missing == [], f"{len(missing)} messages without a zh_CN translation: {missing[:20]}"


def test_pages_are_chinese_by_default_and_english_on_request(client, county, auth):
    auth.login("a_director")
    assert "事项目录" in client.get("/r/matters/").get_data(as_text=True)
    client.post("/locale/en")
    assert "Matters" in client.get("/r/matters/").get_data(as_text=True)


def test_a_label_translated_for_one_type_does_not_change_the_same_word_elsewhere(client, county, auth, db):
    """"Note" is 交接备注 on a handover (its own context) and stays 备注 on a matter."""
    from tests.conftest import make_case, make_department
    auth.login("a_director")
    case = make_case(county["a"], state="accepted")
    make_department(county["a"])
    db.session.commit()
    handover = client.get(f"/r/case-handovers/new?case_id={case.id}").get_data(as_text=True)
    matter = client.get("/r/matters/new").get_data(as_text=True)
    assert "交接备注" in handover and "交接备注" not in matter and ">备注<" in matter
