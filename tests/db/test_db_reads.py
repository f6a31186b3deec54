"""Denied columns that SQLite's authorizer is not told about (JOIN ... USING, NATURAL JOIN) are
refused by execute_on_connection; what does not touch them still runs."""

from __future__ import annotations

import sqlite3

import pytest

from kosql.db.execute import execute_on_connection

DENIED = [("users", "phone"), ("*", "secret")]


@pytest.fixture
def conn() -> sqlite3.Connection:
    con = sqlite3.connect(":memory:")
    con.executescript("""
        CREATE TABLE users (user_id INTEGER PRIMARY KEY, username TEXT, phone TEXT, email TEXT);
        CREATE INDEX users_phone ON users (phone);
        CREATE TABLE keys (k TEXT, secret TEXT, note TEXT, PRIMARY KEY (secret, k)) WITHOUT ROWID;
        INSERT INTO users VALUES (1, 'a', '010-1', 'a@x'), (2, 'b', '010-2', 'b@x');
        INSERT INTO keys VALUES ('a', 's1', 'n1');
    """)
    return con


@pytest.mark.parametrize("sql", [
    "SELECT a.username FROM users a JOIN users b USING (phone)",
    "SELECT a.username FROM users a NATURAL JOIN (SELECT '010-1' AS phone) AS b",
    "SELECT a.username FROM users a JOIN (SELECT '010-1' AS phone, 'a' AS username) b USING (username, phone)",
    "SELECT k.note FROM keys k JOIN (SELECT 's1' AS secret) s USING (secret)",
    "SELECT k.note FROM keys k NATURAL JOIN (SELECT 's1' AS secret, 'a' AS k) s",
])
def test_a_join_that_compares_a_denied_column_is_forbidden(conn: sqlite3.Connection, sql: str) -> None:
    res = execute_on_connection(conn, sql, denied_columns=DENIED)
    assert not res.ok and res.error_kind == "forbidden", res
    assert execute_on_connection(conn, sql).ok  # without denied columns it runs


@pytest.mark.parametrize("sql", [
    "SELECT count(*) FROM users",
    "SELECT username FROM users WHERE user_id = 2",
    "SELECT a.username FROM users a JOIN users b USING (user_id)",
    "SELECT a.username FROM users a NATURAL JOIN (SELECT 'a' AS username) AS b",
    "SELECT note FROM keys WHERE k = 'a'",
])
def test_queries_that_do_not_touch_a_denied_column_run(conn: sqlite3.Connection, sql: str) -> None:
    res = execute_on_connection(conn, sql, denied_columns=DENIED)
    assert res.ok, res


def test_the_authorizer_is_not_left_installed(conn: sqlite3.Connection) -> None:
    execute_on_connection(conn, "SELECT a.username FROM users a JOIN users b USING (phone)",
                          denied_columns=DENIED)
    conn.execute("CREATE TABLE t (a INT)")  # the caller's own connection can still write
