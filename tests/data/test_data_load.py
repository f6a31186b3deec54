"""load_examples: every format, column mapping, extras, and one-sentence errors."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

import kosql.data.load as load_module
from kosql.data.load import context_db_id, load_examples, parse_hub_spec
from kosql.errors import UserError


def test_csv_keeps_korean_text_and_extra_columns(tmp_path: Path, kit: SimpleNamespace) -> None:
    rows = [(*r, "쉬움") for r in kit.GOOD_ROWS[:3]]
    path = kit.write_csv(tmp_path / "d.csv", rows, [*kit.COLUMNS, "level"])
    exs = load_examples(path)
    assert [e.question for e in exs] == [r[2] for r in kit.GOOD_ROWS[:3]]
    assert exs[0].context == kit.PLAYERS_DDL
    assert exs[0].db_id == "1" and exs[0].id == "0" and exs[2].id == "2"
    assert exs[1].extra == {"level": "쉬움"}


def test_jsonl_json_tsv_and_parquet_give_the_same_rows(tmp_path: Path, kit: SimpleNamespace) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    dicts = kit.dicts(kit.GOOD_ROWS)
    jsonl = kit.write_jsonl_rows(tmp_path / "d.jsonl", dicts)
    as_json = tmp_path / "d.json"
    as_json.write_text(json.dumps(dicts, ensure_ascii=False), encoding="utf-8")
    parquet = tmp_path / "d.parquet"
    pq.write_table(pa.Table.from_pylist(dicts), parquet)
    a, b, c = load_examples(jsonl), load_examples(as_json), load_examples(parquet)
    assert len(a) == len(kit.GOOD_ROWS)
    assert [e.to_dict() for e in a] == [e.to_dict() for e in b] == [e.to_dict() for e in c]
    tsv = tmp_path / "d.tsv"
    tsv.write_text("db_id\tcontext\tquestion\tanswer\n1\tCREATE TABLE t (a INT)\t질문\tSELECT a FROM t\n",
                   encoding="utf-8")
    assert load_examples(tsv)[0].question == "질문"


def test_integer_db_id_from_parquet_is_text(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = tmp_path / "d.parquet"
    pq.write_table(pa.Table.from_pylist([{"db_id": 7, "context": "c", "question": "q", "answer": "a"}]), parquet)
    assert load_examples(parquet)[0].db_id == "7"


def test_custom_column_names_and_colliding_extras(tmp_path: Path, kit: SimpleNamespace) -> None:
    rows = [{"uid": "r1", "schema": "CREATE TABLE t (a INT)", "utterance": "a를 보여줘", "query": "SELECT a FROM t",
             "question": "원래 질문", "db": "shop"}]
    path = kit.write_jsonl_rows(tmp_path / "d.jsonl", rows)
    ex = load_examples(path, question_col="utterance", context_col="schema", answer_col="query",
                       db_id_col="db", id_col="uid")[0]
    assert (ex.id, ex.db_id, ex.question, ex.answer) == ("r1", "shop", "a를 보여줘", "SELECT a FROM t")
    assert ex.extra == {"question_original": "원래 질문"}
    assert ex.to_dict()["question"] == "a를 보여줘"


def test_missing_db_id_column_gets_a_stable_hash_of_the_ddl(tmp_path: Path, kit: SimpleNamespace) -> None:
    rows = [{"context": kit.PLAYERS_DDL, "question": "q1", "answer": "SELECT 1"},
            {"context": "  " + kit.PLAYERS_DDL.upper(), "question": "q2", "answer": "SELECT 2"},
            {"context": "CREATE TABLE x (a INT)", "question": "q3", "answer": "SELECT 3"}]
    exs = load_examples(kit.write_jsonl_rows(tmp_path / "d.jsonl", rows))
    assert exs[0].db_id == exs[1].db_id == context_db_id(kit.PLAYERS_DDL)
    assert exs[0].db_id.startswith("ctx-") and exs[2].db_id != exs[0].db_id


def test_relative_db_path_is_resolved_against_the_file_folder(tmp_path: Path, kit: SimpleNamespace) -> None:
    rows = [{"db_id": "a", "context": "c", "question": "q", "answer": "s", "db_path": "dbs/a.sqlite"},
            {"db_id": "b", "context": "c", "question": "q", "answer": "s", "db_path": "/abs/b.sqlite"}]
    exs = load_examples(kit.write_jsonl_rows(tmp_path / "sub.jsonl", rows))
    assert exs[0].db_path == str((tmp_path / "dbs" / "a.sqlite").resolve())
    assert exs[1].db_path == "/abs/b.sqlite"


def test_bom_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffdb_id,context,question,answer\n1,c,질문,SELECT 1\n".encode())
    assert load_examples(path)[0].db_id == "1"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("nope.csv", None, "no such file"),
        ("empty.csv", "", "the file is empty"),
        ("header.csv", "db_id,context,question,answer\n", "the file has no rows"),
        ("blank.jsonl", "\n\n", "the file is empty"),
        ("data.xlsx", "x", "unknown file format '.xlsx'"),
        ("bad.jsonl", '{"a": 1}\n{oops\n', "line 2 is not valid JSON"),
        ("obj.json", '{"a": 1}', "must hold a list of objects"),
        ("bad.parquet", "not parquet", "not a readable Parquet file"),
    ],
)
def test_bad_inputs_raise_one_user_error(tmp_path: Path, kit: SimpleNamespace, name: str,
                                         content: str | None, expected: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError) as info:
        load_examples(path)
    kit.assert_one_sentence("Error: " + str(info.value), expected, name)


def test_cp949_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "korean.csv"
    path.write_bytes("db_id,context,question,answer\n1,c,모든 플레이어,SELECT 1\n".encode("cp949"))
    with pytest.raises(UserError, match=r"korean.csv: is not UTF-8 text \(byte 0x.. on line 2\).*iconv"):
        load_examples(path)


def test_missing_columns_are_named_with_the_columns_found(tmp_path: Path, kit: SimpleNamespace) -> None:
    path = kit.write_csv(tmp_path / "d.csv", [("1", "c", "q", "a")], ["db_id", "ddl", "question", "sql"])
    with pytest.raises(UserError) as info:
        load_examples(path)
    kit.assert_one_sentence("Error: " + str(info.value), "missing required columns 'context', 'answer'",
                            "columns found: db_id, ddl, question, sql", "--question-col")
    assert load_examples(path, context_col="ddl", answer_col="sql")[0].answer == "a"


def test_save_to_disk_folders(tmp_path: Path, kit: SimpleNamespace) -> None:
    datasets = pytest.importorskip("datasets")
    ds = datasets.Dataset.from_list(kit.dicts(kit.GOOD_ROWS))
    ds.save_to_disk(str(tmp_path / "single"))
    datasets.DatasetDict({"train": ds, "test": ds.select(range(2))}).save_to_disk(str(tmp_path / "dd"))
    assert [e.question for e in load_examples(tmp_path / "single")] == [r[2] for r in kit.GOOD_ROWS]
    assert len(load_examples(tmp_path / "dd" / "test")) == 2
    with pytest.raises(UserError, match="holds the splits train, test; pick one"):
        load_examples(tmp_path / "dd")
    (tmp_path / "plain").mkdir()
    with pytest.raises(UserError, match="not a datasets.save_to_disk folder"):
        load_examples(tmp_path / "plain")


def test_hf_spec_parsing() -> None:
    assert parse_hub_spec("shangrilar/ko_text2sql:clean:train") == ("shangrilar/ko_text2sql", "clean", "train")
    assert parse_hub_spec("shangrilar/ko_text2sql") == ("shangrilar/ko_text2sql", None, None)
    assert parse_hub_spec("x::test") == ("x", None, "test")
    with pytest.raises(UserError, match="expected hf:NAME"):
        parse_hub_spec("a:b:c:d")


def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    datasets = pytest.importorskip("datasets")
    import huggingface_hub.constants

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(load_module, "hub_reachable", lambda timeout=3.0: False)


def test_unreachable_hub_fails_fast_and_restores_the_offline_flags(kit: SimpleNamespace,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    datasets = pytest.importorskip("datasets")
    import huggingface_hub.constants

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(load_module, "hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(UserError) as info:
        load_examples("hf:nobody/no_such_dataset:x:train")
    kit.assert_one_sentence("Error: " + str(info.value), "'nobody/no_such_dataset'", "cannot be reached",
                            "no cached copy")
    assert datasets.config.HF_HUB_OFFLINE is False and huggingface_hub.constants.HF_HUB_OFFLINE is False


def test_hf_loader_reads_a_local_dataset_folder(tmp_path: Path, kit: SimpleNamespace,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _offline(monkeypatch)
    monkeypatch.setattr(pytest.importorskip("datasets").config, "HF_DATASETS_CACHE", tmp_path / "cache")
    data = tmp_path / "ko_text2sql"
    data.mkdir()
    kit.write_csv(data / "train.csv", kit.GOOD_ROWS)
    exs = load_examples(f"hf:{data}::train")
    assert [e.question for e in exs] == [r[2] for r in kit.GOOD_ROWS]
    assert exs[0].db_id == "1"


def test_hf_offline_failure_is_one_sentence(kit: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    _offline(monkeypatch)
    with pytest.raises(UserError) as info:
        load_examples("hf:shangrilar/ko_text2sql:clean:train")
    line = kit.assert_one_sentence("Error: " + str(info.value), "'shangrilar/ko_text2sql'", "cannot be reached")
    assert line.startswith("Error: hf:shangrilar/ko_text2sql:clean:train: ")


def test_missing_datasets_package_names_the_train_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kwargs: object) -> object:
        if name == "datasets":
            raise ImportError("no datasets")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "state.json").write_text("{}")
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(UserError, match=r"pip install 'kosql\[train\]'"):
        load_examples(tmp_path / "f")


def test_a_renamed_db_id_column_must_exist(tmp_path: Path, kit: SimpleNamespace) -> None:
    path = kit.write_csv(tmp_path / "d.csv", kit.GOOD_ROWS[:1])
    with pytest.raises(UserError, match="missing required column 'database'"):
        load_examples(path, db_id_col="database")
