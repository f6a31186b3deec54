"""Spider import: DDL with primary/foreign keys, db_id kept, db_path when the file exists."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kosql.data.schema import parse_schema
from kosql.data.spider import import_spider, quote_ident
from kosql.errors import UserError


def test_import_builds_ddl_with_keys_and_db_path(spider_dir: Path) -> None:
    rows = import_spider(spider_dir / "tables.json", spider_dir / "dev.json", spider_dir / "database")
    assert [r.id for r in rows] == [f"dev-{i}" for i in range(6)]
    assert [r.db_id for r in rows] == ["concert_singer"] * 4 + ["pets_1"] * 2
    concert = rows[0]
    assert concert.answer == "SELECT count(*) FROM singer"
    assert concert.question == "How many singers do we have?"
    assert "query_toks" not in concert.extra and "sql" not in concert.extra
    assert concert.db_path == str((spider_dir / "database" / "concert_singer" / "concert_singer.sqlite").resolve())
    assert rows[4].db_path is None  # pets_1 has no .sqlite file
    # declared SQLite types replace Spider's coarse "number" where the database exists
    assert "  Singer_ID INT PRIMARY KEY,\n  Name TEXT," in concert.context
    assert "StuID NUMERIC PRIMARY KEY" in rows[4].context
    schema = parse_schema(concert.context)
    assert sorted(t.lower() for t in schema.table_names()) == ["concert", "singer", "singer_in_concert"]
    link = schema.table("singer_in_concert")
    assert link is not None
    assert [c.lower() for c in link.primary_key] == ["concert_id", "singer_id"]
    refs = sorted((fk.ref_table.lower(), [c.lower() for c in fk.ref_columns]) for fk in link.foreign_keys)
    assert refs == [("concert", ["concert_id"]), ("singer", ["singer_id"])]
    pets = parse_schema(rows[4].context)
    has_pet = pets.table("Has_Pet")
    assert has_pet is not None and has_pet.foreign_keys[0].ref_table == "Student"


def test_quote_ident() -> None:
    assert quote_ident("singer") == "singer"
    assert quote_ident("order") == '"order"'
    assert quote_ident("Song Name") == '"Song Name"'


def test_cli_import_then_validate_clean_split_stats(cli: Any, spider_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "rows.jsonl"
    code, text, err = cli("data", "import-spider", "--tables", spider_dir / "tables.json",
                          "--questions", spider_dir / "dev.json", "--db-dir", spider_dir / "database", "--out", out)
    assert code == 0, err
    assert "imported 6 questions over 2 databases" in text
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    # db_path is written relative to the output file's folder, and loads back to the real file
    assert not Path(first["db_path"]).is_absolute()
    assert (out.parent / first["db_path"]).resolve().is_file()
    code, text, _ = cli("data", "validate", out, "--problems", tmp_path / "p.jsonl")
    assert code == 0, text
    code, text, _ = cli("data", "clean", out, "--out", tmp_path / "clean.jsonl")
    assert code == 0 and "kept 6 of 6 rows" in text
    code, text, _ = cli("data", "split", out, "--out-dir", tmp_path / "split", "--test-db", "pets_1")
    assert code == 0
    assert len((tmp_path / "split" / "test.jsonl").read_text().splitlines()) == 2
    code, text, _ = cli("data", "stats", out)
    assert code == 0 and "concert_singer" in text


def test_unknown_db_id_and_missing_files_are_one_sentence(cli: Any, spider_dir: Path, tmp_path: Path,
                                                          kit: SimpleNamespace) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"db_id": "nowhere", "question": "q", "query": "SELECT 1"}]))
    code, _, err = cli("data", "import-spider", "--tables", spider_dir / "tables.json", "--questions", bad,
                       "--out", tmp_path / "o.jsonl")
    assert code == 2
    kit.assert_one_sentence(err, "bad.json", "question 0", "'nowhere'")
    code, _, err = cli("data", "import-spider", "--tables", tmp_path / "none.json", "--questions", bad,
                       "--out", tmp_path / "o.jsonl")
    assert code == 2
    kit.assert_one_sentence(err, "none.json", "no such file")
    code, _, err = cli("data", "import-spider", "--tables", spider_dir / "tables.json",
                       "--questions", spider_dir / "dev.json", "--out", spider_dir / "dev.json")
    assert code == 2
    kit.assert_one_sentence(err, "never writes over its input")


def test_bird_style_sql_field_and_evidence(tmp_path: Path, spider_dir: Path) -> None:
    q = tmp_path / "bird.json"
    q.write_text(json.dumps([{"db_id": "pets_1", "question": "학생 수는?", "SQL": "SELECT count(*) FROM Student",
                              "evidence": "학생 = Student"}], ensure_ascii=False), encoding="utf-8")
    (row,) = import_spider(spider_dir / "tables.json", q)
    assert row.answer == "SELECT count(*) FROM Student" and row.extra == {"evidence": "학생 = Student"}


def test_tables_json_must_be_a_list(tmp_path: Path) -> None:
    t = tmp_path / "tables.json"
    t.write_text("{}")
    with pytest.raises(UserError, match="must be a list of objects with a db_id"):
        import_spider(t, t)


def test_data_commands_read_a_spider_folder_or_questions_file(cli: Any, spider_dir: Path, tmp_path: Path) -> None:
    from kosql.data.load import load_examples

    rows = load_examples(spider_dir)
    assert len(rows) == 6 and rows[0].db_path is not None and rows[0].extra == {"db_path": rows[0].db_path}
    assert [r.to_dict() for r in load_examples(spider_dir / "dev.json")] == [r.to_dict() for r in rows]
    code, out, _ = cli("data", "validate", spider_dir, "--problems", tmp_path / "p.jsonl")
    assert code == 0 and "6 rows, 0 with problems" in out
    code, out, _ = cli("data", "stats", spider_dir / "dev.json")
    assert code == 0 and "6 rows, 2 db_ids" in out
    code, out, _ = cli("data", "split", spider_dir, "--out-dir", tmp_path / "s", "--test-db", "concert_singer")
    assert code == 0
    code, out, _ = cli("data", "clean", spider_dir, "--out", tmp_path / "c.jsonl")
    assert code == 0 and "kept 6 of 6 rows" in out
