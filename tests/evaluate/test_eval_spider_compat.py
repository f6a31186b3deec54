"""`kosql eval --spider-compat` (DISTINCT removed before executing, the official default) and
`kosql eval --compare` (a paired test against another run on the same rows)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from kosql.cli.main import main
from kosql.db.execute import close_cached_connections
from kosql.sql.normalize import strip_distinct

CASES = [  # (gold, prediction): equal only once DISTINCT is gone
    ("SELECT DISTINCT city FROM people", "SELECT city FROM people"),
    ("SELECT count(DISTINCT city) FROM people", "SELECT count(city) FROM people"),
    ("SELECT city FROM people", "SELECT DISTINCT city FROM people"),
    ("SELECT name FROM people WHERE age > 30", "SELECT name FROM people WHERE age > 30"),
]


@pytest.fixture()
def data(tmp_path: Path) -> Iterator[Path]:
    conn = sqlite3.connect(tmp_path / "p.db")
    conn.executescript("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, city TEXT, age INT);")
    conn.executemany("INSERT INTO people VALUES (?, ?, ?, ?)",
                     [(i, f"n{i}", ["Seoul", "Busan", "Seoul"][i % 3], 20 + i) for i in range(12)])
    conn.commit()
    conn.close()
    with (tmp_path / "test.jsonl").open("w", encoding="utf-8") as fh:
        for i, (gold, _) in enumerate(CASES):
            fh.write(json.dumps({"id": f"q{i}", "db_id": "p", "question": "?", "answer": gold,
                                 "context": "CREATE TABLE people (id INT, name TEXT, city TEXT, age INT);",
                                 "db_path": "p.db"}) + "\n")
    with (tmp_path / "pred.jsonl").open("w", encoding="utf-8") as fh:
        for i, (_, pred) in enumerate(CASES):
            fh.write(json.dumps({"id": f"q{i}", "pred": pred}) + "\n")
    yield tmp_path
    close_cached_connections()


def _eval(data: Path, out: str, *extra: str) -> dict[str, object]:
    code = main(["eval", "--data", str(data / "test.jsonl"), "--pred", str(data / "pred.jsonl"),
                 "--out", str(data / out), "--quiet", "--workers", "1", *extra])
    assert code == 0
    return json.loads((data / out / "metrics.json").read_text(encoding="utf-8"))


def _ex(data: Path, out: str) -> list[bool]:
    rows = [json.loads(line) for line in (data / out / "per_row.jsonl").read_text(encoding="utf-8").splitlines()]
    return [r["ex"] for r in rows]


def test_strict_by_default_spider_compat_strips_every_distinct(data: Path) -> None:
    strict = _eval(data, "strict")
    assert _ex(data, "strict") == [False, False, False, True]
    assert strict["settings"]["spider_compat"] is False  # type: ignore[index]
    compat = _eval(data, "compat", "--spider-compat")
    assert _ex(data, "compat") == [True, True, True, True]
    assert compat["settings"]["spider_compat"] is True  # type: ignore[index]
    rows = [json.loads(line) for line in (data / "compat" / "per_row.jsonl").read_text(encoding="utf-8").splitlines()]
    assert rows[0]["gold"] == CASES[0][0] and rows[2]["pred"] == CASES[2][1]  # reported as written


def test_compare_reports_a_paired_test(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _eval(data, "strict")
    metrics = _eval(data, "compat", "--spider-compat", "--compare", str(data / "strict"))
    [ex] = [t for t in metrics["paired"]["tests"] if t["metric"] == "exec"]  # type: ignore[index]
    assert (ex["n"], ex["a_only"], ex["b_only"], ex["p_value"]) == (4, 3, 0, 0.25)
    assert "exact McNemar p = 0.25" in capsys.readouterr().out
    assert main(["eval", "--data", str(data / "test.jsonl"), "--pred", str(data / "pred.jsonl"),
                 "--out", str(data / "x"), "--quiet", "--compare", str(data / "nope")]) == 2


@pytest.mark.parametrize("sql, expected", [
    ("SELECT DISTINCT a FROM t", "SELECT  a FROM t"),
    ("select count(distinct a), b from t", "select count( a), b from t"),
    ("SELECT a FROM t WHERE b = 'DISTINCT  x'", "SELECT a FROM t WHERE b = 'DISTINCT  x'"),
    ('SELECT "distinct" FROM t', 'SELECT "distinct" FROM t'),
    ("SELECT a FROM t", "SELECT a FROM t"),
])
def test_strip_distinct(sql: str, expected: str) -> None:
    assert strip_distinct(sql) == expected
