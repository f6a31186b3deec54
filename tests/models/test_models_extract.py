"""Golden tests for SQL extraction (real smollm2-135m outputs + hand-written cases) and stop strings."""

from __future__ import annotations

from pathlib import Path

import pytest

from kosql.sql.extract import extract_sql, stop_index

GOLDEN = Path(__file__).with_name("extract_golden.txt")


def _cases() -> list[tuple[str, str, str]]:
    lines = GOLDEN.read_text(encoding="utf-8").split("\n")
    cases: list[tuple[str, str, str]] = []
    name, section, buf = "", "", []  # type: tuple[str, str, list[str]]
    text = ""
    for line in lines:
        if line.startswith("=== case: "):
            name, section, buf = line[len("=== case: "):], "input", []
        elif line == "=== expected":
            text, section, buf = "\n".join(buf), "expected", []
        elif line == "=== end":
            cases.append((name, text, "\n".join(buf)))
            section = ""
        elif section:
            buf.append(line)
    return cases


CASES = _cases()


def test_golden_file_has_real_and_handwritten_cases() -> None:
    names = [c[0] for c in CASES]
    assert len(CASES) >= 20
    assert sum(n.startswith("real smollm2-135m") for n in names) >= 4


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_extract_golden(name: str, text: str, expected: str) -> None:
    assert extract_sql(text) == expected


def test_korean_literals_kept_byte_for_byte() -> None:
    sql = "SELECT * FROM 주문 WHERE 상태 = '배송 준비 중;확인' AND 메모 LIKE '%빠른 배송%';"
    assert extract_sql(sql + "\n### SQL 봇: 더 있음") == sql


def test_stop_index_semicolon_outside_literals_only() -> None:
    assert stop_index("SELECT 1; SELECT 2;", (";",)) == len("SELECT 1;")
    assert stop_index("SELECT 'a;b", (";",)) is None
    assert stop_index("SELECT 'a;b' FROM t;", (";",)) == len("SELECT 'a;b' FROM t;")
    # an apostrophe in chatter before the SQL does not hide the statement end
    assert stop_index("Here's it: SELECT 1; more", (";",)) == len("Here's it: SELECT 1;")


def test_stop_index_other_stops_cut_before() -> None:
    assert stop_index("SELECT 1\n### SQL 봇:", (";", "###")) == len("SELECT 1\n")
    assert stop_index("SELECT 1\n\n\nmore", ("\n\n\n",)) == len("SELECT 1")
    assert stop_index("SELECT 1", (";", "###")) is None
    assert stop_index("a ### b; c", (";", "###")) == 2
