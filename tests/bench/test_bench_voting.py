"""bench/voting.py: selective accuracy over the vote's share, from a predictions file and eval rows."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_voting", ROOT / "bench/voting.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_selective_accuracy_keeps_the_rows_at_or_above_each_share(tmp_path: Path) -> None:
    shares = {"a": 1.0, "b": 0.8, "c": 0.4, "d": 0.4, "e": 0.2}
    right = {"a": True, "b": True, "c": True, "d": False, "e": False}
    preds = [{"id": i, "pred": "SELECT 1" if i != "c" else "SELECT 2",
              "vote": {"k": 4, "share": s, "greedy_agreed": i != "c", "winner": 0, "greedy": "SELECT 1",
                       "candidates": [{"sql": "SELECT 1", "repair": {"how": "transpiled"} if i == "a" else None}]}}
             for i, s in shares.items()]
    voted = [{"id": i, "ex": ok} for i, ok in right.items()]
    greedy = [{"id": i, "ex": ok if i != "c" else False} for i, ok in right.items()]
    bench = _load()
    out = tmp_path / "out"
    assert bench.main(["--pred", str(_write(tmp_path / "p.jsonl", preds)), "--eval", str(_write(tmp_path / "v.jsonl", voted)),
                       "--greedy-eval", str(_write(tmp_path / "g.jsonl", greedy)), "--out", str(out)]) == 0
    summary = json.loads((out / "selective_accuracy.json").read_text(encoding="utf-8"))
    assert [(p["threshold"], p["kept"], p["ex"]) for p in summary["points"]] == [
        (0.2, 5, 0.6), (0.4, 4, 0.75), (0.8, 2, 1.0), (1.0, 1, 1.0)]
    assert summary["ex_voted"] == 0.6 and summary["ex_greedy"] == 0.4 and summary["changed"] == 1
    assert summary["paired"] == {"rows": 5, "voted_only": 1, "greedy_only": 0}
    assert summary["repaired"] == {"transpiled": 1, "retried": 0} and summary["greedy_agreed"] == 4
    assert (out / "selective_accuracy.png").stat().st_size > 0 and "| 40% | 4 | 80.0% | 75.0% |" in (
        out / "selective_accuracy.md").read_text(encoding="utf-8")


def test_data_mode_scores_the_voted_and_the_greedy_sql_of_the_predicted_rows(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "t.sqlite"
    with sqlite3.connect(db) as con:
        con.executescript("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1), (2), (3);")
    rows = [{"id": f"r{i}", "db_id": "t", "context": "CREATE TABLE t (a INT);", "question": "q",
             "answer": "SELECT count(*) FROM t", "db_path": str(db)} for i in range(3)]
    data = _write(tmp_path / "test.jsonl", rows)  # r2 has no prediction: a --limit 2 run

    def pred(i: str, sql: str, greedy: str, share: float) -> dict[str, object]:
        return {"id": i, "pred": sql, "seconds": 3.0, "completion_tokens": 30,
                "vote": {"k": 2, "share": share, "greedy_agreed": sql == greedy, "winner": 0, "greedy": greedy,
                         "candidates": [{"sql": sql, "origin": "greedy", "error": None,
                                         "repair": {"how": "retried", "sql": greedy, "error": "x"}}]}}

    voted = _write(tmp_path / "v.jsonl", [pred("r0", "SELECT count(*) FROM t", "SELECT min(a) FROM t", 2 / 3),
                                          pred("r1", "SELECT count(*) FROM t", "SELECT count(*) FROM t", 1.0)])
    plain = _write(tmp_path / "g.jsonl", [{"id": i, "pred": "x", "seconds": 1.0, "completion_tokens": 10}
                                          for i in ("r0", "r1")])
    out = tmp_path / "out"
    assert _load().main(["--pred", str(voted), "--data", str(data), "--greedy-pred", str(plain), "--out", str(out)]) == 0
    summary = json.loads((out / "selective_accuracy.json").read_text(encoding="utf-8"))
    assert summary["rows"] == 2 and summary["ex_voted"] == 1.0 and summary["ex_greedy"] == 0.5
    assert summary["ex_greedy_repaired"] == 1.0  # r0's greedy candidate was repaired into the right SQL
    assert summary["cost"] == {"rows": 2, "greedy_seconds": 2.0, "voted_seconds": 6.0, "greedy_tokens": 20,
                               "voted_tokens": 60, "time_ratio": 3.0}
