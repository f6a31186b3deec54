"""Random schemas (naming styles, DDL flavours, spreadsheets, renamed copies), the engine's filters,
and the varied / mix datasets."""

from __future__ import annotations

import json
import random
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from kosql.data.resolve import bundled_spec, check_db_paths, load_dataset
from kosql.data.schema import parse_schema
from kosql.data.synth.anyschema import build_sqlite, fill_rows, random_schema, renamed_copy
from kosql.data.synth.ddl_flavours import render_ddl
from kosql.data.synth.engine import EngineStats, generate_queries
from kosql.data.synth.infer import build_view
from kosql.data.synth.templates import Template
from kosql.data.synth.varied import generate_varied
from kosql.errors import UserError
from kosql.sql.quote_repair import needs_quotes


def _schemas(n: int, seed: int = 0) -> list:  # type: ignore[type-arg]
    rng = random.Random(seed)
    return [random_schema(rng, f"s{i}") for i in range(n)]


def test_schemas_come_in_many_styles_and_flavours_and_their_ddl_parses() -> None:
    schemas = _schemas(80)
    styles = Counter(gs.style for gs in schemas)
    assert {"snake", "camel", "pascal", "upper", "abbrev", "korean"} <= set(styles)
    assert {gs.flavour for gs in schemas} == {"mysql", "postgres", "sqlite"}
    assert any(gs.comments for gs in schemas) and any(not gs.comments for gs in schemas)
    assert any(gs.spreadsheet for gs in schemas) and any(len(gs.tables) >= 3 for gs in schemas)
    for gs in schemas:
        ddl = render_ddl(gs)
        parsed = parse_schema(ddl)
        assert list(parsed.tables) == [t.name for t in gs.tables], ddl
        for t in gs.tables:
            assert parsed.tables[t.name].column_names() == [c.name for c in t.columns]
        if gs.spreadsheet:
            assert all(c.kind == "text" for t in parsed.tables.values() for c in t.columns)
        if gs.style == "korean" and gs.flavour != "mysql":
            assert all(f'"{c.name}"' in ddl for t in gs.tables for c in t.columns if needs_quotes(c.name))


def test_a_renamed_copy_has_the_same_tables_under_other_names() -> None:
    rng = random.Random(3)
    gs = next(g for g in _schemas(40) if len(g.tables) >= 2 and not g.spreadsheet)
    copy = renamed_copy(gs, rng, "copy")
    assert [t.arch for t in copy.tables] == [t.arch for t in gs.tables]
    assert copy.style != gs.style
    old = {c.name for t in gs.tables for c in t.columns} | {t.name for t in gs.tables}
    new = {c.name for t in copy.tables for c in t.columns} | {t.name for t in copy.tables}
    assert len(new - old) >= len(new) // 2


def test_generated_sql_runs_and_quotes_what_needs_quotes() -> None:
    rng = random.Random(1)
    kept = 0
    for gs in _schemas(25, seed=5):
        conn = sqlite3.connect(":memory:")
        build_sqlite(gs, fill_rows(gs, 0), conn)
        schema = parse_schema(render_ddl(gs))
        rows = {t: conn.execute(f'SELECT * FROM "{t}"').fetchall() for t in schema.tables}
        view = build_view(schema, rows, hints=gs.hints, dialect=gs.dialect)
        queries = generate_queries(view, lambda sql, c=conn: _run(c, sql), rng=rng, want=6)
        for q in queries:
            assert conn.execute(q.sql).fetchall(), q.sql
            for t in gs.tables:
                for c in t.columns:
                    if " " in c.name:
                        assert f" {c.name} " not in f" {q.sql} ", q.sql  # never bare
        kept += len(queries)
    assert kept >= 100


def _run(conn: sqlite3.Connection, sql: str) -> list[tuple[object, ...]] | None:
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.Error:
        return None


def test_degenerate_and_sibling_results_are_dropped() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, city TEXT, n INTEGER)")
    data = [(i, ["서울", "부산"][i % 2], i) for i in range(1, 11)]
    conn.executemany("INSERT INTO t VALUES (?, ?, ?)", data)
    view = build_view(parse_schema("CREATE TABLE t (id INTEGER PRIMARY KEY, city TEXT, n INTEGER)"), {"t": data})
    offers = iter([("모든 행", "SELECT * FROM t WHERE n IS NOT NULL"),  # keeps every row: dropped
                   ("서울", "SELECT * FROM t WHERE city = '서울'"),
                   ("서울 둘", "SELECT * FROM t WHERE city IN ('서울')"),  # the same result: dropped
                   ("없음", "SELECT * FROM t WHERE n > 99"),  # empty: dropped
                   ("오류", "SELECT * FROM nope"),  # fails: dropped
                   ("부산", "SELECT * FROM t WHERE city = '부산'")])
    tpl = Template("fixed", lambda g: next(offers, None), frozenset())
    stats = EngineStats()
    kept = generate_queries(view, lambda sql: _run(conn, sql), rng=random.Random(0), want=10, templates=(tpl,),
                            max_attempts=6, stats=stats)
    assert [q.questions[0] for q in kept] == ["서울", "부산"]
    assert (stats.degenerate, stats.duplicate, stats.failed) == (2, 1, 1)


def test_varied_dataset_rows(tmp_path: Path) -> None:
    out = tmp_path / "varied"
    summary = generate_varied(out, seed=0, schemas=12, dev_schemas=3, queries=6)
    train, dev = (load_dataset(str(out), s) for s in ("train", "dev"))
    assert summary.counts["train"] == len(train) > 50 and len(dev) > 5
    assert not {r.db_id for r in train} & {r.db_id for r in dev}
    for row in train + dev:
        assert row.db_path is not None
        conn = sqlite3.connect(f"file:{row.db_path}?mode=ro", uri=True)
        assert conn.execute(row.answer).fetchall(), row.answer
        conn.close()
    per_context = Counter(r.context for r in train)
    assert max(per_context.values()) >= 4  # several questions share one schema prefix
    again = tmp_path / "again"
    generate_varied(again, seed=0, schemas=12, dev_schemas=3, queries=6)
    assert (again / "train.jsonl").read_bytes() == (out / "train.jsonl").read_bytes()
    from kosql.data.synth import bundled_dataset

    small_test = Path(bundled_dataset("small")) / "test.jsonl"
    assert [json.loads(x)["id"] for x in (out / "test.jsonl").read_text(encoding="utf-8").splitlines()] == \
        [json.loads(x)["id"] for x in small_test.read_text(encoding="utf-8").splitlines()]
    check_db_paths(load_dataset(str(out), "test"), "test")


def test_varied_and_mix_specs() -> None:
    assert bundled_spec("bundled:varied", "--data") == ("varied", False)
    assert bundled_spec("bundled:mix", "--data") == ("mix", False)
    with pytest.raises(UserError, match="no '\\+comments'"):
        bundled_spec("bundled:mix+comments", "--data")
    with pytest.raises(UserError, match="varied"):
        bundled_spec("bundled:tiny", "--data")


@pytest.mark.slow
def test_bundled_varied_and_mix_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kosql.data.split import find_leaks

    monkeypatch.setenv("KOSQL_CACHE_DIR", str(tmp_path))
    small = {s: load_dataset("bundled:small", s) for s in ("train", "dev", "test")}
    varied = {s: load_dataset("bundled:varied", s) for s in ("train", "dev", "test")}
    mix = {s: load_dataset("bundled:mix", s) for s in ("train", "dev", "test")}
    assert len(varied["train"]) >= 3000 and len({r.db_id for r in varied["train"]}) >= 250
    assert [r.id for r in varied["test"]] == [r.id for r in mix["test"]] == [r.id for r in small["test"]]
    ids = {r.id for r in mix["train"]}
    assert {r.id for r in small["train"]} <= ids and len(ids) > len(small["train"]) + 3000
    assert not find_leaks(mix["train"], mix["test"])[0]
    for rows in (*varied.values(), *mix.values()):
        check_db_paths(rows, "bundled")
