"""Golden tests for the schema-aware identifier repair (kosql.sql.quote_repair)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kosql.sql.quote_repair import needs_quotes, quote_ident, repair_identifiers

GOLDEN = Path(__file__).with_name("quote_repair_golden.txt")


def _parse_schema(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in text.split(" ; "):
        table, _, cols = part.partition(":")
        out[table.strip()] = [c.strip() for c in cols.split("|") if c.strip()]
    return out


def _cases() -> list[tuple[dict[str, list[str]], str | None, str, str]]:
    cases = []
    for block in GOLDEN.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith("#") or ":" not in line:
                continue
            key, _, value = line.partition(": ")
            fields[key.strip()] = value
        if "in" in fields:
            cases.append((_parse_schema(fields["schema"]), fields.get("dialect"), fields["in"], fields["out"]))
    return cases


CASES = _cases()


def test_the_golden_file_has_cases() -> None:
    assert len(CASES) >= 14


@pytest.mark.parametrize(("schema", "dialect", "sql", "expected"), CASES)
def test_golden(schema: dict[str, list[str]], dialect: str | None, sql: str, expected: str) -> None:
    assert repair_identifiers(sql, schema, dialect=dialect) == expected
    assert repair_identifiers(expected, schema, dialect=dialect) == expected  # idempotent


def test_repaired_sql_runs_on_sqlite() -> None:
    schema = {"roster": ["선수", "No.", "출신 학교/팀", "위치"]}
    conn = sqlite3.connect(":memory:")
    conn.execute('CREATE TABLE roster ("선수" TEXT, "No." TEXT, "출신 학교/팀" TEXT, "위치" TEXT)')
    conn.execute("INSERT INTO roster VALUES ('김민준', '7', '한빛 FC(서울)', '가드')")
    broken = "SELECT 위치 FROM roster WHERE 출신 학교/팀 = '한빛 FC(서울)' AND No. = '7'"
    with pytest.raises(sqlite3.Error):
        conn.execute(broken)
    assert conn.execute(repair_identifiers(broken, schema)).fetchall() == [("가드",)]


def test_needs_quotes() -> None:
    assert not needs_quotes("player_id") and not needs_quotes("userId")
    assert needs_quotes("userId", "postgres") and not needs_quotes("user_id", "postgres")
    assert needs_quotes("선수") and needs_quotes("No.") and needs_quotes("order") and needs_quotes("2024년")
    assert quote_ident('a"b') == '"a""b"' and quote_ident("name") == "name"
