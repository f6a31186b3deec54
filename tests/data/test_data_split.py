"""`kosql data split`: held-out db_ids, seeded random split, near-duplicate leakage."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kosql.data.load import load_examples
from kosql.data.rows import Example
from kosql.data.split import choose_test_dbs, find_leaks, question_similarity, split_examples
from kosql.errors import UserError


def _rows(n_per_db: int = 10, dbs: int = 4) -> list[Example]:
    return [Example(f"{d}-{i}", str(d), "CREATE TABLE t (a INT)", f"질문 {d} {i}", f"SELECT a FROM t WHERE a = {d * 100 + i}")
            for d in range(1, dbs + 1) for i in range(n_per_db)]


def test_db_split_holds_out_whole_db_ids(good_csv: Path) -> None:
    result = split_examples(load_examples(good_csv), by="db", test_db_ids=["1"])
    assert {e.db_id for e in result.test} == {"1"} and len(result.test) == 5
    assert "1" not in {e.db_id for e in result.train} and len(result.train) == 6
    assert {e.extra["split"] for e in result.test} == {"heldout_domain"}
    assert {e.extra["split"] for e in result.train} == {"train"}
    assert [e.id for e in result.train] == sorted((e.id for e in result.train), key=int)  # input order kept


def test_db_split_without_ids_is_seeded_and_reaches_the_fraction() -> None:
    rows = _rows()
    a = choose_test_dbs(rows, 0.25, seed=1)
    assert a == choose_test_dbs(rows, 0.25, seed=1)
    assert len(a) == 1
    assert len(choose_test_dbs(rows, 0.5, seed=1)) == 2
    assert len(choose_test_dbs(rows, 0.99, seed=1)) == 3  # never every db
    assert {tuple(choose_test_dbs(rows, 0.25, seed=s)) for s in range(10)} != {tuple(a)}


def test_random_split_is_seeded() -> None:
    rows = _rows()
    one = split_examples(rows, by="random", test_fraction=0.2, seed=7)
    two = split_examples(rows, by="random", test_fraction=0.2, seed=7)
    other = split_examples(rows, by="random", test_fraction=0.2, seed=8)
    assert len(one.test) == 8 and len(one.train) == 32
    assert [e.id for e in one.test] == [e.id for e in two.test]
    assert [e.id for e in one.test] != [e.id for e in other.test]
    assert {e.extra["split"] for e in one.test} == {"in_domain"}
    assert not {e.id for e in one.test} & {e.id for e in one.train}


def test_question_similarity_threshold_examples() -> None:
    assert question_similarity("모든 플레이어 정보를 보여줘", "모든 플레이어 정보를 보여 줘.") >= 0.9
    assert question_similarity("가입한 플레이어 수를 알려줘", "탈퇴한 게임 아이템 목록을 보여줘") < 0.9


def test_leakage_needs_same_sql_and_near_same_question(kit: SimpleNamespace) -> None:
    ddl = kit.PLAYERS_DDL
    train = [Example("t1", "1", ddl, "모든 플레이어 정보를 보여줘", "SELECT * FROM players"),
             Example("t2", "1", ddl, "플레이어 전체 목록", "SELECT * FROM players"),
             Example("t3", "1", ddl, "모든 플레이어 이메일을 보여줘", "SELECT email FROM players")]
    test = [Example("s1", "2", ddl, "모든 플레이어 정보를 보여 줘.", "select *  from PLAYERS;"),
            Example("s2", "2", ddl, "모든 플레이어 이메일을 보여줘", "SELECT username FROM players")]
    leaks, leaked = find_leaks(train, test)
    assert [(lk.test_id, lk.train_id, lk.train_matches) for lk in leaks] == [("s1", "t1", 1)]
    assert leaked == [0]


def test_drop_leaks_removes_train_rows_and_keeps_test(cli: Any, tmp_path: Path, kit: SimpleNamespace) -> None:
    ddl = kit.PLAYERS_DDL
    rows = [("1", ddl, "모든 플레이어 정보를 조회해 줘", "SELECT * FROM players;"),
            ("1", ddl, "플레이어 이메일 보여줘", "SELECT email FROM players;"),
            ("2", ddl, "모든 플레이어 정보를 조회해줘", "SELECT * FROM players"),
            ("2", ddl, "유저네임 보여줘", "SELECT username FROM players")]
    src = kit.write_csv(tmp_path / "leaky.csv", rows)
    code, text, err = cli("data", "split", src, "--out-dir", tmp_path / "out", "--test-db", "1", "--drop-leaks")
    assert code == 0, err
    assert "leakage: 1 test rows have 1 near-duplicate train rows" in text and "dropped 1 train rows" in text
    train = [json.loads(x) for x in (tmp_path / "out" / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    test = [json.loads(x) for x in (tmp_path / "out" / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["question"] for r in train] == ["유저네임 보여줘"]
    assert len(test) == 2
    (leak,) = [json.loads(x) for x in (tmp_path / "out" / "leaks.jsonl").read_text(encoding="utf-8").splitlines()]
    assert (leak["test_id"], leak["train_id"]) == ("0", "2")
    code, text, _ = cli("data", "split", src, "--out-dir", tmp_path / "keep", "--test-db", "1")
    assert code == 0 and "dropped" not in text
    assert len((tmp_path / "keep" / "train.jsonl").read_text().splitlines()) == 2


def test_cli_csv_output_and_overwrite_refusal(cli: Any, good_csv: Path, tmp_path: Path, kit: SimpleNamespace) -> None:
    code, _, _ = cli("data", "split", good_csv, "--out-dir", tmp_path / "o", "--by", "random", "--csv", "--seed", "3")
    assert code == 0
    assert len(load_examples(tmp_path / "o" / "train.csv")) + len(load_examples(tmp_path / "o" / "test.csv")) == 11
    src = tmp_path / "train.csv"
    src.write_bytes(good_csv.read_bytes())
    code, _, err = cli("data", "split", src, "--out-dir", tmp_path, "--csv")
    assert code == 2
    kit.assert_one_sentence(err, "never writes over its input")


def test_split_errors_are_user_errors(good_csv: Path) -> None:
    rows = load_examples(good_csv)
    with pytest.raises(UserError, match="test db_id '9' is not in the data"):
        split_examples(rows, test_db_ids=["9"])
    with pytest.raises(UserError, match="nothing is left to train on"):
        split_examples(rows, test_db_ids=["1", "2", "3"])
    with pytest.raises(UserError, match="between 0 and 1"):
        split_examples(rows, by="random", test_fraction=1.5)
    with pytest.raises(UserError, match="at least two db_ids"):
        split_examples(rows[:2], by="db")
