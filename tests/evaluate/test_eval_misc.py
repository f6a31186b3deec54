"""Predictions reading, Wilson intervals, categories and metrics aggregation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kosql.data.rows import Example
from kosql.errors import UserError
from kosql.evaluate.categories import categorize, has_extra_text, is_forbidden
from kosql.evaluate.predictions import gold_predictions, read_predictions
from kosql.evaluate.stats import accuracy, compute_metrics, wilson_interval

EXAMPLES = [Example(f"e{i}", "d", "", "q", f"SELECT {i}") for i in range(3)]


def _write(path: Path, objs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")
    return path


def test_predictions_by_id_with_any_key(tmp_path: Path) -> None:
    p = _write(tmp_path / "p.jsonl", [{"id": "e2", "gen_sql": "B"}, {"id": "e0", "pred": "A"},
                                      {"id": "zz", "sql": "C"}])
    preds = read_predictions(p, EXAMPLES)
    assert preds.by_id == {"e2": "B", "e0": "A"} and preds.keyed_by == "id"
    assert preds.missing == ["e1"] and preds.unknown == ["zz"]


def test_predictions_by_line_order(tmp_path: Path) -> None:
    preds = read_predictions(_write(tmp_path / "p.jsonl", [{"pred": "A"}, {"pred": None}]), EXAMPLES)
    assert preds.by_id == {"e0": "A", "e1": ""} and preds.keyed_by == "order" and preds.missing == ["e2"]


@pytest.mark.parametrize("objs", [
    [{"id": "e0", "answer": "x"}],
    [{"id": "x1", "pred": "A"}],
    [{"id": "e0", "pred": "A"}, {"id": "e0", "pred": "B"}],
    [{"pred": "A"}] * 4,
])
def test_bad_prediction_files(tmp_path: Path, objs: list[dict]) -> None:
    with pytest.raises(UserError):
        read_predictions(_write(tmp_path / "p.jsonl", objs), EXAMPLES)


def test_gold_predictions() -> None:
    assert gold_predictions(EXAMPLES).by_id == {"e0": "SELECT 0", "e1": "SELECT 1", "e2": "SELECT 2"}


def test_wilson_interval_known_values() -> None:
    lo, hi = wilson_interval(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 0.0)
    lo, hi = wilson_interval(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.7225, abs=1e-4)
    assert accuracy(0, 0)["acc"] is None
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_forbidden_and_extra_text_detection() -> None:
    assert is_forbidden("SELECT 1; DROP TABLE t")
    assert is_forbidden("  -- x\n delete from t")
    assert not is_forbidden("SELECT 'drop table; delete' FROM t")
    assert not is_forbidden("Use this query: SELECT 1")
    assert has_extra_text("Here you go:\nSELECT a FROM t")
    assert has_extra_text("SELECT a FROM t\n\n설명: 모든 a를 고릅니다")
    assert not has_extra_text("SELECT a FROM t;")
    assert categorize("DROP TABLE t", gold_ok=True, pred_ok=True, pred_error_kind=None, match=True) == "forbidden"
    assert categorize("x", gold_ok=False, pred_ok=True, pred_error_kind=None, match=True) == "gold_error"


def test_metrics_breakdowns_and_unscored_rows() -> None:
    rows = [
        {"category": "correct", "ex": True, "em": True, "split": "dev", "hardness": "easy", "features": ["where"]},
        {"category": "wrong_result", "ex": False, "em": False, "split": "dev", "hardness": "hard",
         "features": ["where", "join"]},
        {"category": "gold_error", "ex": None, "em": False, "split": "test", "hardness": "easy", "features": []},
        {"category": "error", "ex": None, "em": None, "split": "test", "hardness": "easy", "features": []},
    ]
    m = compute_metrics(rows)
    assert m["overall"]["exec"]["n"] == 2 and m["overall"]["exec"]["acc"] == 0.5
    assert m["categories"] == {"correct": 1, "wrong_result": 1, "gold_error": 1, "error": 1}
    assert m["by_feature"]["where"]["exec"]["acc"] == 0.5 and m["by_feature"]["join"]["exec"]["acc"] == 0.0
    assert m["by_hardness"]["easy"]["exec"]["n"] == 1 and m["by_split"]["test"]["exec"]["n"] == 0
    assert list(m["by_hardness"]) == ["easy", "hard"]
