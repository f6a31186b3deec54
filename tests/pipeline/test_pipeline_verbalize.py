"""The verbalizer: a model's rewrites of generated questions join the training rows only when the same
model's SQL for the rewrite returns the query's result; `kosql data synth --verbalizer-model` refuses a
model it does not have before writing anything."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from kosql.data.rows import read_jsonl
from kosql.models.fake import FakeBackend
from kosql.pipeline.synth_db import synth_from_database
from kosql.pipeline.verbalize import REWRITE_PROMPT, clean_rewrite, verbalize_folder
from kosql.testing.shop import make_shop

MARK = REWRITE_PROMPT.rsplit("\n", 1)[-1]  # the rewrite prompt's last line


def _scripted(answers: dict[str, str]) -> FakeBackend:
    """Rewrites question #i as '동료 말투 i: <question>' (every third one unchanged); answers a rewrite's
    SQL prompt with the query's gold SQL for even i and with a query of another result for odd i."""
    order: dict[str, int] = {}

    def reply(prompt: str) -> str:
        if prompt.rstrip().endswith(MARK):
            question = prompt.rstrip().removesuffix(MARK).rstrip().rsplit("질문: ", 1)[-1]
            i = order.setdefault(question, len(order))
            return question if i % 3 == 2 else f"동료 말투 {i}: {question}\n다른 줄"
        i, question = next((order[q], q) for q in order if f"동료 말투 {order[q]}: {q}" in prompt)
        return answers[question] if i % 2 == 0 else "SELECT -12345;"

    return FakeBackend(name="scripted", reply=reply)


def test_rewrites_are_kept_only_when_their_sql_returns_the_querys_result(tmp_path: Path) -> None:
    db = make_shop(tmp_path / "shop.sqlite")
    out = tmp_path / "data"
    synth_from_database(str(db), out, max_queries=30, progress=False)
    before = read_jsonl(out / "train.jsonl")
    backend = _scripted({r.question: r.answer for r in before})
    stats = verbalize_folder(str(db), out, backend, model="smollm2-135m", limit=12, seed=0)
    after = read_jsonl(out / "train.jsonl")
    added = after[len(before):]
    assert [r.id for r in after[:len(before)]] == [r.id for r in before]  # the generated rows stay
    assert stats.queries == 12 and stats.unchanged == 4 and stats.kept + stats.mismatched == 8
    assert len(added) == stats.kept > 0 and stats.mismatched > 0
    conn = sqlite3.connect(db)
    for row in added:
        i = int(row.question.split(":")[0].removeprefix("동료 말투 "))
        assert i % 2 == 0 and row.extra["verbalized"] and row.id.endswith("-v") and "다른 줄" not in row.question
        assert conn.execute(row.answer).fetchall()  # the query of the rewritten question, unchanged
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["verbalized"]["kept"] == stats.kept and summary["counts"]["train"] == len(after)


def test_clean_rewrite_takes_the_first_line_without_label_or_quotes() -> None:
    assert clean_rewrite('\n 바꾼 질문: "서울 고객은 몇 명이에요?"\n설명') == "서울 고객은 몇 명이에요?"
    assert clean_rewrite("   ") == ""


@pytest.mark.parametrize("extra", [["--verbalizer-model", "no-such-model"], ["--verbalizer-url", "http://x/v1"]])
def test_data_synth_refuses_a_bad_verbalizer_before_writing(tmp_path: Path, extra: list[str],
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from kosql.cli.main import main

    db = make_shop(tmp_path / "shop.sqlite")
    assert main(["data", "synth", "--db", str(db), "--out", str(tmp_path / "out"), *extra]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "no-such-model" in err or "--verbalizer-model" in err
    assert not (tmp_path / "out").exists()
