"""Guarded read-only execution: results, error kinds, time limit, row cap, no writes possible."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

import pytest

from kosql.db.execute import close_cached_connections, execute_on_connection, execute_sql


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    path = tmp_path / "t.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (a INTEGER, b TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, ?)", [(i, f"이름{i}") for i in range(1500)])
    conn.commit()
    conn.close()
    yield path
    close_cached_connections()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_select_returns_columns_and_rows(db: Path) -> None:
    res = execute_sql(db, "SELECT a, b FROM t WHERE a < 3 ORDER BY a")
    assert res.ok and res.error_kind is None and not res.timeout
    assert res.columns == ["a", "b"]
    assert res.rows == [(0, "이름0"), (1, "이름1"), (2, "이름2")]
    assert not res.truncated


def test_row_cap_truncates(db: Path) -> None:
    res = execute_sql(db, "SELECT a FROM t", max_rows=100)
    assert res.ok and res.truncated and len(res.rows) == 100
    assert not execute_sql(db, "SELECT a FROM t", max_rows=1500).truncated


@pytest.mark.parametrize(("sql", "kind"), [
    ("SELEC a FROM t", "syntax"),
    ("SELECT a FROM", "syntax"),
    ("SELECT * FROM missing", "unknown_table"),
    ("SELECT zz FROM t", "unknown_column"),
    ("SELECT date_format(a, '%Y') FROM t", "runtime"),
    ("SELECT 1; SELECT 2", "multiple_statements"),
    ("", "syntax"),
])
def test_error_kinds(db: Path, sql: str, kind: str) -> None:
    res = execute_sql(db, sql)
    assert not res.ok and res.error_kind == kind and res.error


def test_trailing_semicolon_and_comment_are_one_statement(db: Path) -> None:
    assert execute_sql(db, "SELECT count(*) FROM t; -- done").rows == [(1500,)]


@pytest.mark.parametrize("sql", [
    "SELECT count(*) FROM t AS x, t AS y, t AS z",
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c",
])
def test_runaway_query_stopped_within_limit(db: Path, sql: str) -> None:
    start = time.monotonic()
    res = execute_sql(db, sql, timeout=1.0)
    elapsed = time.monotonic() - start
    assert res.timeout and res.error_kind == "timeout" and not res.ok
    # not before the limit; after it, a busy 2-core machine may add seconds (unstopped, the cross join
    # of 3.4e9 rows runs for minutes and the recursive CTE forever)
    assert 0.9 <= elapsed < 1.0 + 15


@pytest.mark.parametrize("sql", [
    "DROP TABLE t",
    "DELETE FROM t",
    "UPDATE t SET a = 0",
    "INSERT INTO t VALUES (1, 'x')",
    "CREATE TABLE u (x)",
    "CREATE TEMP TABLE u (x)",
    "ATTACH DATABASE 'other.db' AS o",
    "VACUUM INTO 'copy.db'",
    "PRAGMA journal_mode = WAL",
    "WITH x AS (SELECT 1) DELETE FROM t",
    "/* hi */ (DROP TABLE t)",
    "SELECT 1; DROP TABLE t",
    "SELECT load_extension('evil')",
])
def test_writes_cannot_change_the_database(db: Path, sql: str) -> None:
    before = _sha(db)
    files = sorted(p.name for p in db.parent.iterdir())
    res = execute_sql(db, sql)
    assert not res.ok
    assert res.error_kind in ("forbidden", "multiple_statements", "syntax")
    assert _sha(db) == before
    assert sorted(p.name for p in db.parent.iterdir()) == files
    assert execute_sql(db, "SELECT count(*) FROM t").rows == [(1500,)]


@pytest.mark.parametrize("sql", [
    "WITH x AS (SELECT 1) DELETE FROM t",
    "WITH x AS (SELECT 5) INSERT INTO t SELECT * FROM x",
    "WITH x AS (SELECT 1) UPDATE t SET x = 0",
])
def test_authorizer_blocks_writes_on_a_writable_connection(sql: str) -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (7)")
    res = execute_on_connection(conn, sql)
    assert res.error_kind == "forbidden" and "not authorized" in (res.error or "")
    assert conn.execute("SELECT x FROM t").fetchall() == [(7,)]


def test_execute_on_connection_removes_guards_afterwards() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (x)")
    conn.create_function("double_it", 1, lambda v: v * 2)
    conn.execute("INSERT INTO t VALUES (21)")
    assert execute_on_connection(conn, "INSERT INTO t VALUES (1)").error_kind == "forbidden"
    assert execute_on_connection(conn, "SELECT double_it(x) FROM t").error_kind == "forbidden"
    res = execute_on_connection(conn, "SELECT double_it(x) FROM t", extra_functions=["double_it"])
    assert res.ok and res.rows == [(42,)]
    conn.execute("INSERT INTO t VALUES (2)")  # the caller's own connection is writable again
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (2,)


def test_missing_database_file_is_an_error_result(tmp_path: Path) -> None:
    res = execute_sql(tmp_path / "nope.db", "SELECT 1")
    assert not res.ok and "not found" in (res.error or "")
    assert not (tmp_path / "nope.db").exists()


def test_rewritten_database_is_reopened(db: Path) -> None:
    assert execute_sql(db, "SELECT count(*) FROM t").rows == [(1500,)]
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM t WHERE a >= 10")
    conn.commit()
    conn.close()
    assert execute_sql(db, "SELECT count(*) FROM t").rows == [(10,)]
