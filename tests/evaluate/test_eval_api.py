"""evaluate_predictions / score_row: gold vs gold, hand-built wrong predictions, isolation, crashes."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from kosql.data.rows import Example
from kosql.db.execute import close_cached_connections
from kosql.evaluate import api
from kosql.evaluate.api import evaluate_predictions, score_row

GOLDS = [
    "SELECT 이름 FROM 고객 WHERE 나이 > 40",
    "SELECT COUNT(*) FROM 주문",
    "SELECT 도시, COUNT(*) FROM 고객 GROUP BY 도시",
    "SELECT 이름, 나이 FROM 고객 ORDER BY 나이 DESC, id LIMIT 5",
    "SELECT AVG(금액) FROM 주문",
    "SELECT T1.이름, SUM(T2.금액) FROM 고객 AS T1 JOIN 주문 AS T2 ON T1.id = T2.고객_id "
    "GROUP BY T1.id HAVING SUM(T2.금액) > 500",
    "SELECT DISTINCT 도시 FROM 고객",
    "SELECT 이름 FROM 고객 WHERE id IN (SELECT 고객_id FROM 주문 WHERE 금액 > 500)",
]


def make_db(path: Path) -> Path:
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE 고객 (id INTEGER PRIMARY KEY, 이름 TEXT, 나이 INT, 도시 TEXT);"
                       "CREATE TABLE 주문 (id INTEGER PRIMARY KEY, 고객_id INT, 금액 REAL);")
    conn.executemany("INSERT INTO 고객 VALUES (?, ?, ?, ?)",
                     [(i, f"고객{i}", 20 + i % 30, ["서울", "부산", "대구"][i % 3]) for i in range(1, 301)])
    conn.executemany("INSERT INTO 주문 VALUES (?, ?, ?)", [(i, 1 + i % 300, round(i * 1.7, 2)) for i in range(1, 601)])
    conn.commit()
    conn.close()
    return path


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    path = make_db(tmp_path / "shop.db")
    yield path
    close_cached_connections()


def _examples(db: Path, golds: list[str]) -> list[Example]:
    return [Example(f"r{i}", "shop", "", f"질문 {i}", g, {"db_path": str(db), "split": "dev"})
            for i, g in enumerate(golds)]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_gold_vs_gold_is_100_percent_in_parallel(db: Path) -> None:
    examples = _examples(db, GOLDS * 3)
    report = evaluate_predictions(examples, {e.id: e.answer for e in examples}, workers=2, progress=False)
    assert [r["category"] for r in report.rows] == ["correct"] * len(examples)
    overall = report.metrics["overall"]
    assert overall["exec"]["acc"] == 1.0 and overall["ex"]["acc"] == 1.0 and overall["em"]["acc"] == 1.0
    assert overall["exec"]["n"] == len(examples)
    assert set(report.metrics["by_split"]) == {"dev"}
    assert sum(g["rows"] for g in report.metrics["by_hardness"].values()) == len(examples)


GOLD = "SELECT 이름, 나이 FROM 고객 WHERE 나이 > 40 ORDER BY 나이, id"
WRONG: list[tuple[str, str]] = [
    ("", "empty_prediction"),
    ("   ", "empty_prediction"),
    ("SELECT 이름, 나이 FROM 고객 WHERE 나이 > 41 ORDER BY 나이, id", "wrong_result"),
    ("SELECT 이름, 나이 FROM 고객 WHERE 나이 > 40 ORDER BY 나이 DESC, id", "wrong_result"),
    ("SELECT 이름 FROM 고객 WHERE 나이 > 40 ORDER BY 나이, id", "wrong_result"),
    ("SELECT 이름, 나이 FROM 고객 WHERE 나이 > 40 UNION ALL SELECT 이름, 나이 FROM 고객 WHERE 나이 = 49",
     "wrong_result"),
    ("SELEC 이름 FROM 고객", "syntax_error"),
    ("SELECT 이름 FROM 손님", "unknown_table"),
    ("SELECT 성명 FROM 고객", "unknown_column"),
    ("SELECT date_format(나이, '%Y') FROM 고객", "runtime_error"),
    ("SELECT count(*) FROM 주문 a, 주문 b, 주문 c", "timeout"),
    ("DROP TABLE 고객", "forbidden"),
    ("DELETE FROM 고객", "forbidden"),
    ("UPDATE 고객 SET 나이 = 0", "forbidden"),
    ("SELECT 1; DROP TABLE 고객", "forbidden"),
    ("ATTACH DATABASE 'evil.db' AS evil", "forbidden"),
    ("WITH x AS (SELECT 1) DELETE FROM 고객", "forbidden"),
    ("다음 쿼리를 사용하세요:\nSELECT 이름, 나이 FROM 고객 WHERE 나이 > 40 ORDER BY 나이, id", "extra_text"),
    ("```sql\nSELECT 이름, 나이 FROM 고객 WHERE 나이 > 40 ORDER BY 나이, id\n```", "extra_text"),
    ("SELECT 이름, 나이 FROM 고객 WHERE 나이 > 40 ORDER BY 나이, id; SELECT 1", "extra_text"),
]


@pytest.mark.parametrize(("pred", "category"), WRONG)
def test_hand_built_wrong_predictions_are_caught(db: Path, pred: str, category: str) -> None:
    before = _sha(db)
    ex = _examples(db, [GOLD])[0]
    row = score_row(ex, pred, timeout=0.5)
    assert row["category"] == category, row
    assert row["ex"] is False
    assert _sha(db) == before
    assert sorted(p.name for p in db.parent.iterdir()) == ["shop.db"]
    if category == "wrong_result":
        assert row["error"]  # the mismatch is explained


@pytest.mark.parametrize("pred", [
    GOLD,
    "select 나이, 이름 from 고객 where 나이 >= 41 order by 나이, id;",
    "SELECT g.이름, g.나이 FROM 고객 AS g WHERE g.나이 > 40.0 ORDER BY g.나이 ASC, g.id",
])
def test_equivalent_predictions_are_correct(db: Path, pred: str) -> None:
    row = score_row(_examples(db, [GOLD])[0], pred)
    assert row["category"] == "correct" and row["ex"] is True


def test_gold_error_is_not_a_model_error(db: Path) -> None:
    examples = _examples(db, ["SELECT nope FROM 고객", GOLDS[0]])
    report = evaluate_predictions(examples, {"r0": "SELECT 1", "r1": GOLDS[0]}, workers=1, progress=False)
    assert [r["category"] for r in report.rows] == ["gold_error", "correct"]
    assert report.rows[0]["gold_error"]
    assert report.metrics["overall"]["exec"] == {"n": 1, "correct": 1, "acc": 1.0, "ci95": pytest.approx([0.2065, 1.0], abs=1e-3)}
    assert report.metrics["categories"]["gold_error"] == 1


def test_missing_predictions_are_empty(db: Path) -> None:
    examples = _examples(db, GOLDS[:3])
    report = evaluate_predictions(examples, {"r1": GOLDS[1]}, workers=1, progress=False)
    assert [r["category"] for r in report.rows] == ["empty_prediction", "correct", "empty_prediction"]


def test_every_row_gets_one_status_when_a_worker_dies(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kosql.testing.eval_workers import crash_on_marker

    monkeypatch.setattr(api, "score_row", crash_on_marker)
    examples = _examples(db, GOLDS * 2)
    preds = {e.id: e.answer for e in examples}
    preds["r5"] = "CRASH"
    report = evaluate_predictions(examples, preds, workers=2, progress=False)
    cats = {r["id"]: r["category"] for r in report.rows}
    assert len(report.rows) == len(examples) and set(cats) == {e.id for e in examples}
    assert cats["r5"] == "error"
    assert sum(c == "correct" for c in cats.values()) == len(examples) - 1


def test_workers_are_not_forked_from_a_process_that_ran_torch(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    from kosql.testing.eval_workers import report_worker

    torch.ones(2).sum()  # torch has run in this process (its thread pools exist)
    monkeypatch.setattr(api, "score_row", report_worker)
    examples = _examples(db, GOLDS * 2)
    report = evaluate_predictions(examples, {e.id: e.answer for e in examples}, workers=2, progress=False)
    assert all(r["category"] == "correct" for r in report.rows)
    pids = {r["worker_pid"] for r in report.rows}
    assert os.getpid() not in pids  # scored in worker processes ...
    assert not any(r["worker_has_torch"] for r in report.rows)  # ... that do not inherit torch


def test_row_exception_becomes_error_category(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*a: Any, **k: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(api, "_score_ex", boom)
    row = score_row(_examples(db, [GOLD])[0], GOLD)
    assert row["category"] == "error" and "boom" in row["error"]


def test_rows_without_database_use_the_test_suite() -> None:
    ddl = "CREATE TABLE employees (id INT PRIMARY KEY, name VARCHAR(50), dept VARCHAR(20), salary INT);"
    gold = "SELECT name FROM employees WHERE dept = '영업' AND salary > 5000"
    ex = Example("t0", "hr", ddl, "영업부 고연봉자", gold, {})
    ok = score_row(ex, "SELECT name FROM employees WHERE salary > 5000 AND dept = '영업'", k=4)
    assert ok["method"] == "testsuite" and ok["category"] == "correct" and ok["ts_ex"] is True
    bad = score_row(ex, "SELECT name FROM employees WHERE dept = '영업'", k=4)
    assert bad["category"] == "wrong_result" and bad["ts_ex"] is False
    off = score_row(ex, gold, testsuite="never")
    assert off["category"] == "unscored" and off["em"] is True
