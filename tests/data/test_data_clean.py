"""`kosql data clean`: per-reason drops, determinism, CSV output, never over the input."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from kosql.data.clean import clean_examples
from kosql.data.load import load_examples
from kosql.data.rows import Example


def test_each_bad_row_is_dropped_for_its_reason(bad_csv: Path, kit: SimpleNamespace) -> None:
    examples = load_examples(bad_csv)
    result = clean_examples(examples)
    assert [ex.id for ex in result.kept] == [str(i) for i in range(len(kit.GOOD_ROWS))]
    assert [d.reason for d in result.dropped] == [reason for _, reason in kit.BAD_ROWS]
    assert result.counts["duplicate"] == 1 and result.counts["normalized_duplicate"] == 1
    assert sum(result.counts.values()) == len(kit.BAD_ROWS)
    assert result.dropped[1].detail == "same as row id 0"


def test_first_occurrence_is_kept_and_output_is_deterministic(kit: SimpleNamespace) -> None:
    ddl = kit.PLAYERS_DDL
    rows = [Example("b", "1", ddl, "이메일 보여줘", "SELECT email FROM players"),
            Example("a", "1", ddl, "이메일 보여줘!", "select EMAIL from players;"),
            Example("c", "1", ddl, "이메일 보여줘", "SELECT email FROM players WHERE player_id = 1")]
    first = clean_examples(rows)
    assert [e.id for e in first.kept] == ["b", "c"]
    assert [(d.id, d.reason) for d in first.dropped] == [("a", "normalized_duplicate")]
    assert [e.to_dict() for e in clean_examples(rows).kept] == [e.to_dict() for e in first.kept]


def test_string_literal_case_is_not_a_duplicate(kit: SimpleNamespace) -> None:
    ddl = kit.PLAYERS_DDL
    rows = [Example("1", "1", ddl, "q", "SELECT email FROM players WHERE username = 'Archer'"),
            Example("2", "1", ddl, "q", "SELECT email FROM players WHERE username = 'archer'")]
    assert len(clean_examples(rows).kept) == 2


def test_flags_turn_checks_off(bad_csv: Path) -> None:
    examples = load_examples(bad_csv)
    no_sql = clean_examples(examples, check_sql=False)
    assert set(no_sql.counts) >= {"empty"} and no_sql.counts["unknown_column"] == 0
    no_dedup = clean_examples(examples, dedup=False)
    assert no_dedup.counts["duplicate"] == 0 and no_dedup.counts["normalized_duplicate"] == 0


def test_cli_writes_kept_rows_and_reasons(cli: Any, bad_csv: Path, tmp_path: Path, kit: SimpleNamespace) -> None:
    out = tmp_path / "clean.jsonl"
    code, text, err = cli("data", "clean", bad_csv, "--out", out)
    assert code == 0, err
    assert f"kept {len(kit.GOOD_ROWS)} of {len(kit.GOOD_ROWS) + len(kit.BAD_ROWS)} rows" in text
    kept = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [k["question"] for k in kept] == [r[2] for r in kit.GOOD_ROWS]
    dropped = [json.loads(line) for line in (tmp_path / "clean.dropped.jsonl").read_text().splitlines()]
    assert [d["reason"] for d in dropped] == [reason for _, reason in kit.BAD_ROWS]
    assert dropped[0]["row"] == len(kit.GOOD_ROWS) + 1
    # the output validates clean
    code, _, _ = cli("data", "validate", out, "--problems", tmp_path / "p.jsonl")
    assert code == 0


def test_cli_csv_output_round_trips(cli: Any, bad_csv: Path, tmp_path: Path, kit: SimpleNamespace) -> None:
    out = tmp_path / "clean.csv"
    code, _, _ = cli("data", "clean", bad_csv, "--out", out)
    assert code == 0
    again = load_examples(out)
    assert [(e.db_id, e.context, e.question, e.answer) for e in again] == list(kit.GOOD_ROWS)


def test_cli_refuses_to_write_over_its_input(cli: Any, bad_csv: Path, kit: SimpleNamespace) -> None:
    before = bad_csv.read_bytes()
    code, _, err = cli("data", "clean", bad_csv, "--out", bad_csv)
    assert code == 2
    kit.assert_one_sentence(err, "--out", "dirty.csv", "never writes over its input")
    assert bad_csv.read_bytes() == before
    code, _, err = cli("data", "clean", bad_csv, "--out", bad_csv.with_name("x.jsonl"), "--dropped", bad_csv)
    assert code == 2 and bad_csv.read_bytes() == before


def test_cli_bad_input_is_exit_2(cli: Any, tmp_path: Path, kit: SimpleNamespace) -> None:
    code, _, err = cli("data", "clean", tmp_path / "missing.jsonl", "--out", tmp_path / "o.jsonl")
    assert code == 2
    kit.assert_one_sentence(err, "missing.jsonl")
    assert not (tmp_path / "o.jsonl").exists()


def test_csv_output_keeps_list_extras(tmp_path: Path) -> None:
    from kosql.data.save import save_examples

    rows = [Example("a", "1", "CREATE TABLE t (a INT)", "질문", "SELECT a FROM t",
                    {"features": ["where", "join"], "hardness": "medium"})]
    save_examples(tmp_path / "o.csv", rows)
    (back,) = load_examples(tmp_path / "o.csv")
    assert back.features == ["where", "join"] and back.hardness == "medium" and back.id == "a"
