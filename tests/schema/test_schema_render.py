"""One CREATE TABLE renderer (kosql.data.ddl_render) with three flavours; the callers' outputs are the
ones they had before it (golden: render_golden.json, written by the three former renderers)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kosql.ask.schema import render_ddl
from kosql.data.ddl_compact import compact_ddl
from kosql.data.ddl_render import FLAVOURS, render_schema
from kosql.data.schema import parse_schema, to_sqlite_ddl

GOLDEN = json.loads(Path(__file__).with_name("render_golden.json").read_text(encoding="utf-8"))
KOSQL = Path(__file__).resolve().parents[2] / "kosql"


@pytest.mark.parametrize("case", GOLDEN, ids=[str(i) for i in range(len(GOLDEN))])
def test_each_caller_keeps_its_output(case: dict[str, str]) -> None:
    schema = parse_schema(case["ddl"])
    assert render_ddl(schema) == case["prompt"]
    assert to_sqlite_ddl(schema) == case["sqlite"]
    assert compact_ddl(case["ddl"]) == case["compact"]
    for flavour in FLAVOURS:
        assert render_schema(schema, flavour) == case[flavour]


def test_the_sqlite_flavour_builds_the_tables() -> None:
    import sqlite3

    for case in GOLDEN:
        schema = parse_schema(case["ddl"])
        conn = sqlite3.connect(":memory:")
        conn.executescript(case["sqlite"])
        built = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert built == schema.table_names()


def test_only_the_renderer_writes_create_table_text() -> None:
    writers = [p.relative_to(KOSQL).as_posix() for p in (KOSQL / "ask" / "schema.py", KOSQL / "data" / "schema.py",
                                                          KOSQL / "data" / "ddl_compact.py")
               if re.search(r"""f["']CREATE TABLE \{""", p.read_text(encoding="utf-8"))]
    assert writers == []
