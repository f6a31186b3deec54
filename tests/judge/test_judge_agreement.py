"""Agreement with EX: confusion matrix, Cohen's kappa, Wilson interval, per_row.jsonl reading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kosql.errors import UserError
from kosql.evaluate.agreement import cohens_kappa, compare_with_ex, read_ex_verdicts, wilson_interval


def test_judge_kappa_known_values() -> None:
    # Classic example: 20/5/10/15 -> p_o = 0.7, p_e = 0.5, kappa = 0.4
    assert cohens_kappa(20, 5, 10, 15) == pytest.approx(0.4)
    assert cohens_kappa(10, 0, 0, 10) == pytest.approx(1.0)
    assert cohens_kappa(0, 10, 10, 0) == pytest.approx(-1.0)
    assert cohens_kappa(7, 0, 0, 0) is None  # p_e == 1: undefined
    assert cohens_kappa(0, 0, 0, 0) is None


def test_judge_wilson_interval() -> None:
    lo, hi = wilson_interval(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)
    assert wilson_interval(0, 0) == (0.0, 0.0)
    lo, hi = wilson_interval(10, 10)
    assert hi == 1.0 and 0.6 < lo < 0.8


def test_judge_compare_with_ex_matrix_and_disagreements() -> None:
    judge = {"1": "yes", "2": "yes", "3": "no", "4": "no", "5": "unparsed", "6": "yes", "10": "no"}
    ex = {"1": True, "2": False, "3": True, "4": False, "5": True, "10": False}
    a = compare_with_ex(judge, ex, extra={"2": {"question": "q2"}})
    assert a.matrix() == [[1, 1], [1, 2]]
    assert a.n == 5 and a.no_ex == 1 and a.judge_undecided == 1
    assert a.accuracy == pytest.approx(3 / 5)
    assert [d["id"] for d in a.disagreements] == ["2", "3"]
    assert a.disagreements[0] == {"id": "2", "judge": "yes", "ex": False, "question": "q2"}


def test_judge_read_ex_verdicts(tmp_path: Path) -> None:
    p = tmp_path / "per_row.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in [{"id": "a", "ex": True}, {"id": 2, "ex": False},
                                                   {"id": "c", "ex": None}]) + "\n")
    assert read_ex_verdicts(p) == {"a": True, "2": False}
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "score": 1}\n')
    with pytest.raises(UserError, match="boolean 'ex'"):
        read_ex_verdicts(bad)
