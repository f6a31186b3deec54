"""`kosql data validate`: exit codes 0/1/2, per-row problems file, one-sentence errors."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from kosql.data.rows import Example
from kosql.data.validate import validate_examples


def _problems(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_clean_csv_exits_0(cli: Any, good_csv: Path) -> None:
    code, out, err = cli("data", "validate", good_csv)
    assert code == 0, out + err
    assert "11 rows, 0 with problems" in out
    assert _problems(good_csv.with_name(good_csv.name + ".problems.jsonl")) == []


def test_dirty_csv_exits_1_and_writes_each_problem(cli: Any, bad_csv: Path, tmp_path: Path) -> None:
    report = tmp_path / "problems.jsonl"
    code, out, _ = cli("data", "validate", bad_csv, "--problems", report)
    assert code == 1
    rows = _problems(report)
    kinds = {(p["row"], p["column"], p["kind"]) for p in rows}
    n = 11  # good rows first; bad rows follow in BAD_ROWS order
    assert kinds == {
        (n + 1, "question", "empty_field"),
        (n + 4, "answer", "unknown_column"),
        (n + 5, "answer", "unknown_table"),
        (n + 6, "answer", "sql_unparsable"),
        (n + 7, "context", "ddl_unparsable"),
    }
    messages = {p["kind"]: p["message"] for p in rows}
    assert messages["unknown_column"] == "the answer uses column 'nickname', which the DDL does not define."
    assert messages["unknown_table"] == "the answer uses table 'friends', which the DDL does not define."
    assert messages["ddl_unparsable"].startswith("the DDL does not parse")
    assert "unknown_column" in out and "nickname" in out


def test_unknown_column_alone_exits_1_naming_row_and_column(cli: Any, tmp_path: Path, kit: SimpleNamespace) -> None:
    path = kit.write_csv(tmp_path / "one.csv", [("1", kit.PLAYERS_DDL, "닉네임을 보여줘", "SELECT nickname FROM players")])
    code, out, _ = cli("data", "validate", path, "--problems", tmp_path / "p.jsonl")
    assert code == 1
    assert "'nickname'" in out
    (problem,) = _problems(tmp_path / "p.jsonl")
    assert problem == {"index": 0, "id": "0", "column": "answer", "kind": "unknown_column", "row": 1,
                       "message": "the answer uses column 'nickname', which the DDL does not define."}


def test_unparsable_ddl_alone_exits_1(cli: Any, tmp_path: Path, kit: SimpleNamespace) -> None:
    path = kit.write_csv(tmp_path / "ddl.csv", [("1", "CREATE TABLE players (id INT,, PRIMARY", "q", "SELECT id FROM players")])
    code, _, _ = cli("data", "validate", path, "--problems", tmp_path / "p.jsonl")
    assert code == 1
    (problem,) = _problems(tmp_path / "p.jsonl")
    assert (problem["row"], problem["column"], problem["kind"]) == (1, "context", "ddl_unparsable")


def test_missing_file_exits_2_with_one_sentence(cli: Any, tmp_path: Path, kit: SimpleNamespace) -> None:
    code, _, err = cli("data", "validate", tmp_path / "nope.csv")
    assert code == 2
    kit.assert_one_sentence(err, "nope.csv", "no such file")


def test_wrong_columns_exit_2_naming_them(cli: Any, tmp_path: Path, kit: SimpleNamespace) -> None:
    path = kit.write_csv(tmp_path / "cols.csv", [("1", "c", "q", "a")], ["db_id", "ddl", "question", "sql"])
    code, _, err = cli("data", "validate", path)
    assert code == 2
    kit.assert_one_sentence(err, "cols.csv", "'context', 'answer'", "columns found: db_id, ddl, question, sql",
                            "--context-col")
    code, _, _ = cli("data", "validate", path, "--context-col", "ddl", "--answer-col", "sql",
                     "--problems", tmp_path / "p.jsonl")
    assert code == 1  # readable now; "c" is not DDL


def test_empty_file_exits_2(cli: Any, tmp_path: Path, kit: SimpleNamespace) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    code, _, err = cli("data", "validate", path)
    assert code == 2
    kit.assert_one_sentence(err, "empty.csv", "empty")


def test_non_utf8_file_exits_2(cli: Any, tmp_path: Path, kit: SimpleNamespace) -> None:
    path = tmp_path / "euckr.csv"
    path.write_bytes(("db_id,context,question,answer\n1,CREATE TABLE t (a INT),모든 데이터 보여줘,SELECT a FROM t\n")
                     .encode("euc-kr"))
    code, _, err = cli("data", "validate", path)
    assert code == 2
    kit.assert_one_sentence(err, "euckr.csv", "not UTF-8")


def test_problems_file_may_not_be_the_input(cli: Any, good_csv: Path, kit: SimpleNamespace) -> None:
    before = good_csv.read_bytes()
    code, _, err = cli("data", "validate", good_csv, "--problems", good_csv)
    assert code == 2
    kit.assert_one_sentence(err, "never writes over its input")
    assert good_csv.read_bytes() == before


def test_duplicate_ids_and_empty_db_id_are_reported() -> None:
    ddl = "CREATE TABLE t (a INT)"
    rows = [Example("x", "1", ddl, "q", "SELECT a FROM t"), Example("x", "", ddl, "q2", "SELECT a FROM t")]
    report = validate_examples(rows)
    assert [(p.index, p.kind, p.column) for p in report.problems] == [(1, "empty_field", "db_id"),
                                                                      (1, "duplicate_id", "id")]
    assert report.counts["duplicate_id"] == 1 and report.bad_rows == 1


def test_mysql_double_quoted_strings_and_postgres_quoted_columns_are_fine(kit: SimpleNamespace) -> None:
    rows = [Example("1", "1", kit.PLAYERS_DDL, "q", 'SELECT email FROM players WHERE username = "archer"'),
            Example("2", "2", kit.MESSAGES_DDL, "q", 'SELECT "content" FROM messages WHERE "read" = FALSE'),
            Example("3", "3", kit.SHOP_DDL, "q",
                    "WITH c AS (SELECT product_id, COUNT(*) AS n FROM orders GROUP BY product_id) "
                    "SELECT p.name, c.n FROM products AS p JOIN c ON p.product_id = c.product_id ORDER BY n DESC"),
            Example("4", "3", kit.SHOP_DDL, "q",
                    "SELECT name FROM products WHERE price > (SELECT AVG(price) FROM products)")]
    assert validate_examples(rows).problems == []


def test_qualified_unknown_column_and_alias_are_caught(kit: SimpleNamespace) -> None:
    rows = [Example("1", "3", kit.SHOP_DDL, "q", "SELECT p.title FROM products AS p"),
            Example("2", "3", kit.SHOP_DDL, "q", "SELECT x.name FROM products AS p")]
    report = validate_examples(rows)
    assert [(p.index, p.kind, p.message) for p in report.problems] == [
        (0, "unknown_column", "the answer uses column 'p.title', which the DDL does not define."),
        (1, "unknown_table", "the answer uses table 'x', which the DDL does not define."),
    ]


def test_unknown_table_is_reported_once_not_with_its_columns(kit: SimpleNamespace) -> None:
    ex = Example("1", "2", kit.MESSAGES_DDL, "q",
                 "SELECT m.content FROM messages m WHERE m.sender_id = (SELECT user_id FROM users WHERE username = 'a')")
    assert [(p.kind, p.message) for p in validate_examples([ex]).problems] == [
        ("unknown_table", "the answer uses table 'users', which the DDL does not define.")]
