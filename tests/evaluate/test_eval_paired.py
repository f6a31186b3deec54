"""Exact McNemar test of two models on the same rows, and where the reports show it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kosql.evaluate.paired import mcnemar_exact, paired_test
from kosql.pipeline.compare import compare, paired_table, write_comparison


@pytest.mark.parametrize("b, c, p", [
    (0, 0, 1.0),
    (5, 0, 2 / 32),               # 2 * P[X <= 0], X ~ Bin(5, 1/2)
    (10, 2, 2 * 79 / 4096),       # C(12,0) + C(12,1) + C(12,2) = 79
    (2, 10, 2 * 79 / 4096),       # symmetric
    (6, 6, 1.0),                  # capped at 1
    (1, 0, 1.0),
])
def test_mcnemar_exact_known_values(b: int, c: int, p: float) -> None:
    assert mcnemar_exact(b, c) == pytest.approx(p, rel=1e-12)


def test_mcnemar_exact_agrees_with_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    for b, c in [(3, 17), (40, 61), (0, 9), (120, 118)]:
        assert mcnemar_exact(b, c) == pytest.approx(stats.binomtest(b, b + c, 0.5).pvalue, rel=1e-9)


def test_mcnemar_rejects_negative_counts() -> None:
    with pytest.raises(ValueError):
        mcnemar_exact(-1, 2)


def _rows(values: list[bool | None], prefix: str = "r") -> list[dict[str, Any]]:
    return [{"id": f"{prefix}{i}", "ex": v, "em": None, "ts_ex": None} for i, v in enumerate(values)]


def test_paired_test_counts_discordant_rows_on_common_ids() -> None:
    a = _rows([True] * 10 + [False] * 5 + [True, None])
    b = _rows([True] * 8 + [False] * 2 + [False] * 3 + [True] * 2 + [False, True])
    res = paired_test(a, b + [{"id": "only-b", "ex": True}], "ex")
    assert (res.n, res.both, res.a_only, res.b_only, res.neither) == (16, 8, 3, 2, 3)
    assert res.p_value == pytest.approx(mcnemar_exact(3, 2))
    assert res.difference == pytest.approx(1 / 16)
    assert res.verdict() == "no significant difference"


def test_same_intervals_overlap_but_the_paired_test_sees_a_difference(tmp_path: Path) -> None:
    # 120 rows: B is right on every row A is right on, plus 12 more: intervals overlap, p < 0.001
    a = _rows([True] * 40 + [False] * 80)
    b = _rows([True] * 52 + [False] * 68)
    comp = compare({"base": a, "tuned": b})
    lo_b, _ = comp.get("tuned", "all", "ex").ci
    _, hi_a = comp.get("base", "all", "ex").ci
    assert lo_b < hi_a  # overlapping 95 % intervals
    [(name_a, name_b, res)] = comp.paired  # em / ts_ex are unscored: only EX is tested
    assert (name_a, name_b, res.a_only, res.b_only) == ("base", "tuned", 0, 12)
    assert res.p_value == pytest.approx(2 / 4096) and res.verdict() == "B better"
    table = paired_table(comp)
    assert "| base | tuned | ex | 120 | 0 | 12 | -10.0 pt | < 0.001 | B better |" in table
    files = write_comparison(comp, tmp_path, title="t")
    assert "exact McNemar" in files["md"].read_text(encoding="utf-8")
    assert "McNemar p" in files["html"].read_text(encoding="utf-8")


def test_one_model_has_no_paired_table() -> None:
    assert paired_table(compare({"only": _rows([True, False])})) == ""


def test_sweep_summary_compares_each_point_with_the_first(tmp_path: Path) -> None:
    from kosql.pipeline.sweep_report import paired_markdown
    from kosql.pipeline.sweep_run import point_rows

    results = [{"point": "p1", "label": "lora.r=4", "stage": "sft"},
               {"point": "p2", "label": "lora.r=8", "stage": "sft"},
               {"point": "p3", "label": "lora.r=16", "stage": "sft+dpo"}]
    per = {"p1": [True] * 5 + [False] * 15, "p2": [True] * 15 + [False] * 5, "p3": [True] * 5 + [False] * 15}
    for point, values in per.items():
        folder = tmp_path / "points" / point / "gen" / "eval"
        folder.mkdir(parents=True)
        (folder / "per_row.jsonl").write_text("".join(json.dumps(r) + "\n" for r in _rows(values)),
                                              encoding="utf-8")
    md = paired_markdown(results, point_rows(tmp_path, results))
    assert "| lora.r=8 | lora.r=4 | ex | 20 | 10 | 0 | +50.0 pt | 0.00195 | A better |" in md
    assert "| lora.r=16 (sft+dpo) | lora.r=4 | ex | 20 | 0 | 0 | +0.0 pt | 1 | no significant difference |" in md
    assert paired_markdown(results[:1], point_rows(tmp_path, results)) == ""
