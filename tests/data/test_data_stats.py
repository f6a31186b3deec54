"""`kosql data stats`: rows per db_id, SQL features, hardness, lengths, token counts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kosql.data.load import load_examples
from kosql.data.rows import Example
from kosql.data.stats import Summary, compute_stats, estimate_tokens
from kosql.prompts import make_prompt


def test_counts_and_features(good_csv: Path) -> None:
    stats = compute_stats(load_examples(good_csv), prompt=make_prompt)
    assert stats.rows == 11
    assert stats.db_counts == {"1": 5, "3": 4, "2": 2}
    f = stats.feature_counts
    assert (f["join"], f["group_by"], f["having"], f["order_by"], f["limit"], f["like"]) == (1, 3, 1, 1, 1, 1)
    assert f["aggregate"] == 5 and f["subquery"] == 0 and f["set_op"] == 0
    assert sum(stats.hardness_counts.values()) == 11
    assert stats.question_chars.max == max(len(ex.question) for ex in load_examples(good_csv))


def test_row_features_and_hardness_win_over_recomputing() -> None:
    ex = Example("1", "1", "CREATE TABLE t (a INT)", "q", "SELECT a FROM t",
                 {"features": ["join", "subquery"], "hardness": "extra"})
    stats = compute_stats([ex], prompt=make_prompt)
    assert stats.feature_counts["join"] == 1 and stats.feature_counts["subquery"] == 1
    assert stats.hardness_counts == {"easy": 0, "medium": 0, "hard": 0, "extra": 1}


def test_token_estimate_and_tokenizer() -> None:
    assert estimate_tokens("SELECT") == 2
    assert estimate_tokens("모든 플레이어") == 6
    assert estimate_tokens("") == 0

    class CharTokenizer:
        name_or_path = "chars"

        def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
            return [ord(c) for c in text]

    ex = Example("1", "1", "CREATE TABLE t (a INT)", "질문", "SELECT a FROM t")
    stats = compute_stats([ex], prompt=make_prompt, tokenizer=CharTokenizer())
    assert stats.prompt_tokens.max == len(make_prompt(ex.context, ex.question))
    assert stats.token_method == "tokenizer chars"


def test_summary() -> None:
    s = Summary.of([float(v) for v in range(1, 101)])
    assert (s.min, s.median, s.p95, s.max, s.mean) == (1, 50.5, 95, 100, 50.5)
    assert Summary.of([]).count == 0


def test_cli_prints_tables_and_writes_json(cli: Any, good_csv: Path, tmp_path: Path) -> None:
    code, out, err = cli("data", "stats", good_csv, "--json", tmp_path / "stats.json")
    assert code == 0, err
    for text in ("11 rows, 3 db_ids", "group_by", "hardness=easy", "prompt tokens", "question chars"):
        assert text in out
    data = json.loads((tmp_path / "stats.json").read_text(encoding="utf-8"))
    assert data["rows"] == 11 and data["feature_counts"]["having"] == 1


def test_cli_bad_tokenizer_path_is_exit_2(cli: Any, good_csv: Path, tmp_path: Path) -> None:
    code, _, err = cli("data", "stats", good_csv, "--tokenizer", tmp_path / "no_tokenizer")
    assert code == 2
    assert err.startswith("Error: --tokenizer") and len(err.strip().splitlines()) == 1
