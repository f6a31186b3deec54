"""The hand-written Korean dev set (kosql/evalsets/handwritten): size, schemas, and gold SQL that runs."""

from __future__ import annotations

import functools
import importlib.util
import json
import sqlite3
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlglot

ROOT = Path(__file__).resolve().parents[2]


def _load_builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("handwritten_build", ROOT / "kosql/evalsets/handwritten/build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


BUILD = _load_builder()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(BUILD.build(tmp_path_factory.mktemp("handwritten")))


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_set_size_fields_and_schemas() -> None:
    rows = BUILD.read_questions()
    assert len(rows) >= 120
    assert len({r["db_id"] for r in rows}) >= 5
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({r["question"] for r in rows}) == len(rows)
    for row in rows:
        assert set(row) == {"id", "db_id", "context", "question", "answer", "db_path"}, row["id"]
        assert row["context"] == BUILD.SCHEMAS[row["db_id"]][0], row["id"]  # the full DDL of its database
        assert row["db_path"] == f"{row['db_id']}.sqlite"


def test_loads_with_kosql_and_every_gold_runs_non_empty(built: Path) -> None:
    from kosql.data.load import load_examples
    from kosql.db.execute import execute_sql

    examples = load_examples(built)
    assert len(examples) == len(BUILD.read_questions())
    for ex in examples:
        assert ex.db_path is not None and Path(ex.db_path).is_file()
        res = execute_sql(ex.db_path, ex.answer)
        assert res.ok, (ex.id, res.error)
        assert res.rows, f"{ex.id}: empty result"
        assert any(v is not None for row in res.rows for v in row), f"{ex.id}: only NULLs"
        if len(res.rows) == 1 and len(res.rows[0]) == 1:
            assert res.rows[0][0] not in (0, None), f"{ex.id}: a lone 0 says nothing"


def _cmp(desc: list[bool], n: int, a: tuple[Any, ...], b: tuple[Any, ...]) -> int:
    for x, y, d in zip(a[n:], b[n:], desc, strict=True):
        if x == y:
            continue
        r = -1 if x is None else 1 if y is None else (-1 if x < y else 1)
        return -r if d else r
    return 0


def order_ties(con: sqlite3.Connection, sql: str) -> bool:
    """True when the rows an ORDER BY (and LIMIT) answer shows depend on how ties are broken."""
    tree = sqlglot.parse_one(sql, read="sqlite")
    order = tree.args.get("order")
    if order is None:
        return False
    limit = tree.args.get("limit")
    k = int(limit.expression.name) if limit is not None else None
    keys = [o.this for o in order.expressions]
    desc = [bool(o.args.get("desc")) for o in order.expressions]
    n = len(tree.expressions)
    probe = tree.copy()
    probe.set("order", None)
    probe.set("limit", None)
    probe = probe.select(*[key.copy().as_(f"_k{i}") for i, key in enumerate(keys)], append=True)
    rows = con.execute(probe.sql(dialect="sqlite")).fetchall()
    shown_by_key: dict[tuple[Any, ...], set[tuple[Any, ...]]] = {}
    for row in rows:
        shown_by_key.setdefault(row[n:], set()).add(row[:n])
    rows.sort(key=functools.cmp_to_key(functools.partial(_cmp, desc, n)))
    shown = rows if k is None else rows[:k]
    if any(len(shown_by_key[row[n:]]) > 1 for row in shown):
        return True
    return k is not None and len(rows) > k and rows[k - 1][n:] == rows[k][n:]


def test_order_ties_sees_a_tie(tmp_path: Path) -> None:
    con = sqlite3.connect(tmp_path / "t.sqlite")
    con.executescript("CREATE TABLE t (a TEXT, b INT); INSERT INTO t VALUES ('x', 2), ('y', 2), ('z', 1);")
    assert order_ties(con, "SELECT a FROM t ORDER BY b DESC")
    assert order_ties(con, "SELECT a FROM t ORDER BY b DESC LIMIT 1")
    assert not order_ties(con, "SELECT a FROM t ORDER BY b LIMIT 1")
    assert not order_ties(con, "SELECT b, COUNT(*) FROM t GROUP BY b ORDER BY b")


def test_ordered_answers_have_no_ties(built: Path) -> None:
    rows = _rows(built)
    assert sum("ORDER BY" in r["answer"] for r in rows) >= 10
    for row in rows:
        con = sqlite3.connect(built.parent / row["db_path"])
        try:
            assert not order_ties(con, row["answer"]), f"{row['id']}: the order of its answer has ties"
        finally:
            con.close()


def test_korean_quoted_identifiers_and_sql_shapes_are_covered() -> None:
    answers = [r["answer"] for r in BUILD.read_questions()]
    assert sum('"동호회 회원 명부"' in a or '"행사 참석 기록"' in a for a in answers) >= 15
    for word in ("JOIN", " LIKE ", " IN (", " BETWEEN ", " IS NULL", "GROUP BY", "HAVING", "LIMIT", "(SELECT",
                 "COUNT(", "SUM(", "AVG(", "MIN(", "MAX(", "SELECT *", ".*"):
        assert any(word in a for a in answers), word


def test_no_bundled_domain_or_table_names() -> None:
    from kosql.data.synth.catalog2 import DOMAINS

    bundled_dbs = {d.db_id.casefold() for d in DOMAINS}
    bundled_tables = {t.name.casefold() for d in DOMAINS for t in d.tables}
    for db_id, (ddl, _) in BUILD.SCHEMAS.items():
        assert db_id.casefold() not in bundled_dbs
        tables = sqlglot.parse(ddl, read="sqlite")
        names = {stmt.this.this.name.casefold() for stmt in tables if stmt is not None}
        assert names and not names & bundled_tables, (db_id, names & bundled_tables)


def test_build_is_deterministic(built: Path, tmp_path: Path) -> None:
    again = Path(BUILD.build(tmp_path / "again"))
    for db_id in BUILD.SCHEMAS:
        dumps = []
        for folder in (built.parent, again.parent):
            con = sqlite3.connect(folder / f"{db_id}.sqlite")
            dumps.append(list(con.iterdump()))
            con.close()
        assert dumps[0] == dumps[1], db_id
    assert again.read_bytes() == built.read_bytes()
