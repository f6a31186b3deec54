"""kosql.train.dpo: preference pairs from fake generations and a fake judge (pure), and their tokens."""

from __future__ import annotations

import re
from typing import Any

from kosql.data.rows import Example
from kosql.prompts import make_prompt
from kosql.train.dpo import PreferencePair, Verdict, build_pairs, tokenize_pairs

GOLD = "SELECT name FROM t WHERE a = 1;"


def _rows(n: int) -> list[Example]:
    return [Example(id=f"q{i}", db_id="d", context="CREATE TABLE t (a INT, name TEXT);", question=f"질문 {i}",
                    answer=GOLD) for i in range(n)]


def judge(row: Example, sql: str) -> Verdict:
    """Fake execution: 'name' + 'a = 1' is right, 'FROM t' runs, anything else fails."""
    if "GOLDERR" in sql:
        return Verdict(False, False, "gold broken", gold_error=True)
    if "FROM t" not in sql:
        return Verdict(False, False, "syntax error")
    return Verdict("a = 1" in sql and "name" in sql, True)


def test_rejected_prefers_executable_wrong_over_failing() -> None:
    rows = _rows(1)
    samples = {"q0": ["SELEC broken", "SELECT a FROM t;", GOLD]}
    pairs, stats = build_pairs(rows, samples, judge)
    (pair,) = pairs
    assert pair.chosen == GOLD and pair.chosen_source == "gold"
    assert pair.rejected == "SELECT a FROM t;" and pair.rejected_kind == "wrong_result"
    assert "### SQL:" in pair.prompt and "질문 0" in pair.prompt
    assert stats == {"samples": 3, "samples_correct": 1, "samples_wrong_result": 1, "samples_error": 1, "pairs": 1}


def test_failing_sample_is_used_when_nothing_runs() -> None:
    pairs, _ = build_pairs(_rows(1), {"q0": ["oops", "oops "]}, judge)
    assert [(p.rejected, p.rejected_kind) for p in pairs] == [("oops", "error")]


def test_all_correct_empty_and_gold_error_rows_give_no_pair() -> None:
    rows = _rows(4)
    samples = {"q0": [GOLD, GOLD.lower()], "q1": ["", "  "], "q3": ["GOLDERR FROM t"]}
    pairs, stats = build_pairs(rows, samples, judge)
    assert pairs == []
    assert stats["all_correct"] == 1 and stats["no_samples"] == 2 and stats["gold_error"] == 1


def test_chosen_sample_uses_a_correct_sample() -> None:
    variant = "SELECT name FROM t WHERE a = 1 ORDER BY name;"
    pairs, _ = build_pairs(_rows(1), {"q0": [variant, "SELECT a FROM t;"]}, judge, chosen="sample")
    assert pairs[0].chosen == variant and pairs[0].chosen_source == "sample"
    gold_pairs, _ = build_pairs(_rows(1), {"q0": [variant, "SELECT a FROM t;"]}, judge, chosen="gold")
    assert gold_pairs[0].chosen == GOLD


def test_custom_prompt_function() -> None:
    pairs, _ = build_pairs(_rows(1), {"q0": ["x"]}, judge, prompt_fn=lambda r: f"P:{r.question}")
    assert pairs[0].prompt == "P:질문 0"


class MergingTokenizer:
    """Whitespace runs join the next word, as in byte-level BPE: a text's tokens depend on what follows."""

    eos_token, eos_token_id = "<eos>", 0

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {"<eos>": 0}

    def __call__(self, text: str, **kwargs: Any) -> dict[str, list[int]]:
        return {"input_ids": [self.vocab.setdefault(t, len(self.vocab)) for t in re.findall(r"\s*\S+|\s+", text)]}


def test_pairs_are_tokenized_as_at_inference() -> None:
    tok = MergingTokenizer()
    prompt = make_prompt("CREATE TABLE t (a INT);", "질문")
    assert prompt.endswith("\n    ")
    pair = PreferencePair("q0", prompt, "SELECT a FROM t;", "SELECT b FROM t;", "gold", "error")
    (row,), dropped = tokenize_pairs([pair], tok, fmt="seed", max_length=10_000)
    assert dropped == 0
    assert row["prompt_ids"] == tok(prompt)["input_ids"]  # the prompt exactly as generation sees it
    assert row["chosen_ids"] == tok("SELECT a FROM t;")["input_ids"] + [0]
    assert row["rejected_ids"] == tok("SELECT b FROM t;")["input_ids"] + [0]
    joint = tok(prompt + pair.chosen)["input_ids"]  # what tokenizing prompt + completion together gives
    assert joint[:len(row["prompt_ids"])] != row["prompt_ids"]
    kept, dropped = tokenize_pairs([pair], tok, fmt="seed", max_length=len(row["prompt_ids"]))
    assert kept == [] and dropped == 1
