"""Comparison table and error analysis from per-row results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kosql.cli.main import main
from kosql.pipeline.analyze import analyze_rows
from kosql.pipeline.compare import compare, headline_table, wilson, write_comparison


def _rows(correct: list[bool], split: str, hardness: str, feats: list[str]) -> list[dict[str, object]]:
    return [{"id": f"{split}-{i}", "ex": c, "ts_ex": None, "em": c and i % 2 == 0, "split": split,
             "hardness": hardness, "features": feats, "category": "correct" if c else "wrong_result",
             "question": "질문", "gold": "SELECT 1", "pred": "SELECT 2"} for i, c in enumerate(correct)]


def test_wilson_known_values() -> None:
    lo, hi = wilson(8, 10)
    assert lo == pytest.approx(0.4902, abs=1e-3) and hi == pytest.approx(0.9433, abs=1e-3)
    assert wilson(0, 0) == (0.0, 0.0)


def test_compare_slices_and_report(tmp_path: Path) -> None:
    base = _rows([False] * 9 + [True], "heldout_domain", "easy", ["where"]) + \
        _rows([False] * 10, "in_domain", "hard", ["join"])
    tuned = _rows([True] * 8 + [False] * 2, "heldout_domain", "easy", ["where"]) + \
        _rows([True] * 10, "in_domain", "hard", ["join"])
    comp = compare({"base": base, "fine-tuned": tuned})
    assert comp.get("base", "all", "ex").k == 1 and comp.get("base", "all", "ex").n == 20
    assert comp.get("fine-tuned", "split:in_domain", "ex").acc == 1.0
    assert comp.get("fine-tuned", "hardness:easy", "ex").acc == 0.8
    assert comp.get("base", "all", "ts_ex").n == 0  # None values are not scored
    assert "fine-tuned" in headline_table(comp)
    files = write_comparison(comp, tmp_path, title="t")
    assert files["md"].read_text(encoding="utf-8").count("| base |") >= 3
    assert (tmp_path / "ex_by_split.png").stat().st_size > 1000


def test_analyze_ranks_weak_features(tmp_path: Path) -> None:
    rows = _rows([True] * 10, "in_domain", "easy", ["where"]) + \
        _rows([False] * 6 + [True] * 4, "in_domain", "hard", ["having"])
    a = analyze_rows(rows, tmp_path)
    assert a.features[0].name == "having"
    assert a.weakest_features() == ["having"]
    assert a.categories["wrong_result"] == 6
    f = tmp_path / "per_row.jsonl"
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    assert main(["analyze", "--run", str(tmp_path)]) == 0
    assert "--focus having" in (tmp_path / "analysis.md").read_text(encoding="utf-8")


def test_analyze_missing_run_is_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--run", str(tmp_path / "nope")]) == 2
    assert "no such run folder" in capsys.readouterr().err


@pytest.mark.parametrize(("question", "latin"), [
    ("지역구(district)에 따른 매물(properties) 수를 조회해 주세요", True),
    ("passengers 테이블 수가 가장 많은 nationality 3개", True),
    ("이름이 '안민서'인 배달원과 연결된 주문의 배달비", False),
    ("이메일이 'gmail.com'으로 끝나는 사용자 수", False),  # a quoted value is not a schema name
    ("여권 번호가 \"M39152575\"인 승객", False),
])
def test_question_wording(question: str, latin: bool) -> None:
    from kosql.pipeline.analyze import WORDING_KOREAN, WORDING_LATIN, question_wording

    assert question_wording(question) == (WORDING_LATIN if latin else WORDING_KOREAN)


def test_analyze_splits_accuracy_by_question_wording(tmp_path: Path) -> None:
    rows = _rows([True, True, False], "in_domain", "easy", ["where"])
    for r in rows:
        r["question"] = "매물(properties) 수"
    korean = _rows([False, False], "in_domain", "easy", ["where"])
    a = analyze_rows(rows + korean, tmp_path)
    by = {s.name: (s.cell.k, s.cell.n) for s in a.wording}
    assert by == {"names tables/columns in Latin letters": (2, 3), "Korean words only": (0, 2)}
