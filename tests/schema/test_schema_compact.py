"""The compact schema rendering used by the 'compact' prompt format (golden cases)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kosql.data.ddl_compact import compact_ddl
from kosql.data.schema import parse_schema

GOLDEN = Path(__file__).with_name("compact_golden.txt")


def _cases() -> list[tuple[str, str]]:
    out = []
    for line in GOLDEN.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            ddl, _, expected = line.partition(" ;; ")
            out.append((ddl, expected))
    return out


@pytest.mark.parametrize(("ddl", "expected"), _cases())
def test_compact_golden(ddl: str, expected: str) -> None:
    assert compact_ddl(ddl).replace("\n", " ") == expected


def test_compact_keeps_tables_columns_and_keys() -> None:
    ddl = ("CREATE TABLE agents (\n  agent_id INT PRIMARY KEY AUTO_INCREMENT,\n  name VARCHAR(50) NOT NULL\n);\n"
           "CREATE TABLE deals (\n  deal_id INT PRIMARY KEY,\n  agent_id INT NOT NULL,\n  amount DECIMAL(10,2),\n"
           "  FOREIGN KEY (agent_id) REFERENCES agents(agent_id)\n);")
    full, small = parse_schema(ddl), parse_schema(compact_ddl(ddl))
    assert small.table_names() == full.table_names()
    for name in full.table_names():
        assert small.columns_of(name) == full.columns_of(name)
        t_full, t_small = full.table(name), small.table(name)
        assert t_full is not None and t_small is not None
        assert t_small.primary_key == t_full.primary_key
        assert [(f.columns, f.ref_table, f.ref_columns) for f in t_small.foreign_keys] == \
            [(f.columns, f.ref_table, f.ref_columns) for f in t_full.foreign_keys]
    assert len(compact_ddl(ddl)) < len(ddl) * 0.8
    assert compact_ddl(ddl).count("\n") == 1  # one line per table


def test_comments_parsed_and_survive_compact() -> None:
    ddl = ("CREATE TABLE theaters (\n  theater_id INT PRIMARY KEY AUTO_INCREMENT COMMENT '상영관 ID',\n"
           "  seats INT NOT NULL COMMENT '좌석 수'\n) COMMENT='상영관';")
    for text in (ddl, compact_ddl(ddl)):
        table = parse_schema(text).table("theaters")
        assert table is not None and table.comment == "상영관"
        assert [c.comment for c in table.columns] == ["상영관 ID", "좌석 수"]
    assert parse_schema("CREATE TABLE t (a INT);").tables["t"].columns[0].comment is None
