"""kosql.train.data: row sampling, tokenized records (loss on SQL + EOS only), drops, gold SQL checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kosql.data.rows import Example
from kosql.errors import UserError
from kosql.prompts import make_prompt
from kosql.train.data import (
    build_records,
    check_dataset,
    check_gold_sql,
    data_hash,
    load_rows,
    resolve_dataset,
    select_rows,
)


class CharTokenizer:
    """One token per character; EOS id 0 (enough to test masking and lengths)."""

    eos_token = "<eos>"
    eos_token_id = 0

    def __call__(self, text: str, **kwargs: Any) -> dict[str, list[int]]:
        return {"input_ids": [ord(c) for c in text]}

    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> str:
        return "<user>" + conversation[0]["content"] + "<assistant>"


def _row(i: int, answer: str = "SELECT 1;", question: str = "질문") -> Example:
    return Example(id=f"r{i}", db_id="d", context="CREATE TABLE t (a INT);", question=question, answer=answer)


def test_select_rows_fraction_max_rows_seed() -> None:
    rows = [_row(i) for i in range(50)]
    half = select_rows(rows, fraction=0.5, seed=1)
    assert len(half) == 25
    assert [r.id for r in half] == sorted((r.id for r in half), key=lambda s: int(s[1:]))  # original order kept
    assert [r.id for r in select_rows(rows, fraction=0.5, seed=1)] == [r.id for r in half]
    assert [r.id for r in select_rows(rows, fraction=0.5, seed=2)] != [r.id for r in half]
    assert len(select_rows(rows, fraction=0.2, max_rows=4)) == 4
    assert select_rows(rows) == rows
    assert len(select_rows(rows, fraction=0.01)) == 1


def test_select_rows_pool_gives_nested_fractions() -> None:
    rows = [_row(i) for i in range(50)]
    picks = [{r.id for r in select_rows(rows, fraction=f, seed=3, pool_rows=10)} for f in (0.2, 0.6, 1.0)]
    assert [len(p) for p in picks] == [2, 6, 10]
    assert picks[0] <= picks[1] <= picks[2]
    assert len(select_rows(rows, fraction=1.0, pool_rows=100)) == 50


def test_records_mask_the_prompt_and_end_with_eos() -> None:
    tok = CharTokenizer()
    row = _row(0, answer="  SELECT a FROM t;  ")
    (rec,), dropped = build_records([row], tok, fmt="seed", max_length=10_000)
    prompt = make_prompt(row.context, row.question)
    assert not dropped
    assert rec.prompt == prompt and rec.completion == "SELECT a FROM t;<eos>"
    n_prompt = len(prompt)
    assert rec.input_ids[:n_prompt] == [ord(c) for c in prompt]
    assert rec.input_ids[-1] == 0  # EOS id appended
    assert rec.completion_mask == [0] * n_prompt + [1] * (len("SELECT a FROM t;") + 1)
    chat, _ = build_records([row], tok, fmt="chat", max_length=10_000)
    assert chat[0].prompt.startswith("<user>") and chat[0].prompt.endswith("<assistant>")


def test_long_and_empty_rows_are_dropped_and_reported() -> None:
    tok = CharTokenizer()
    short, long_row, empty = _row(0), _row(1, answer="SELECT " + "a, " * 300 + "a FROM t;"), _row(2, answer=" ")
    limit = len(make_prompt(short.context, short.question)) + 40
    records, dropped = build_records([short, long_row, empty], tok, max_length=limit, drop_ids={"r9"})
    assert [r.id for r in records] == ["r0"]
    reasons = {d.id: d.reason for d in dropped}
    assert "max_length" in reasons["r1"] and reasons["r2"] == "empty SQL"
    records2, dropped2 = build_records([short], tok, max_length=limit, drop_ids={"r0"})
    assert not records2 and dropped2[0].reason == "gold SQL fails to execute"


def test_data_hash_changes_with_content() -> None:
    tok = CharTokenizer()
    a, _ = build_records([_row(0)], tok)
    b, _ = build_records([_row(0, answer="SELECT 2;")], tok)
    assert data_hash(a) == data_hash(build_records([_row(0)], tok)[0])
    assert data_hash(a) != data_hash(b)


def test_gold_sql_failures_are_reported(tiny_data: Path) -> None:
    extra = {"id": "bad", "db_id": "shop", "context": "", "question": "q", "answer": "SELECT nope FROM employees;",
             "db_path": "shop.sqlite"}
    with (tiny_data / "train.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(extra, ensure_ascii=False) + "\n")
    rows = load_rows(str(tiny_data), "train", field_name="data.train")
    assert all(Path(str(r.db_path)).is_absolute() for r in rows)  # resolved against the file's folder
    check = check_gold_sql(rows)
    assert check.checked == len(rows)
    assert [i for i, _ in check.failures] == ["bad"] and "nope" in check.failures[0][1]
    no_db = check_gold_sql([_row(0)])
    assert no_db.checked == 0 and no_db.note


def test_resolve_dataset(tiny_data: Path) -> None:
    assert resolve_dataset(str(tiny_data), "dev") == tiny_data / "dev.jsonl"
    assert resolve_dataset(str(tiny_data / "train.jsonl"), "train") == tiny_data / "train.jsonl"
    with pytest.raises(UserError, match=r"^data\.dev: dataset file .* does not exist\.$"):
        resolve_dataset(str(tiny_data / "nope.jsonl"), "dev", field_name="data.dev")


def test_check_dataset_refuses_what_resolve_would_without_generating(tiny_data: Path) -> None:
    check_dataset(str(tiny_data), "dev")
    check_dataset("bundled:small+comments", "train")  # a valid spec: nothing generated, nothing raised
    for spec, message in ((str(tiny_data / "nope.jsonl"), "dataset file .* does not exist"),
                          ("bundled:huge", "bundled dataset size must be one of"), ("bundled:small+typo", "unknown bundled dataset variant '\\+typo'")):
        with pytest.raises(UserError, match=f"^data\\.dev: {message}"):
            check_dataset(spec, "dev", field_name="data.dev")
