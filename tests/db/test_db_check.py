"""Schema check: does a query compile against the DDL's tables (empty database, nothing runs)?"""

from __future__ import annotations

import pytest

from kosql.db.check import schema_error

DDL = ("CREATE TABLE theaters (theater_id INT PRIMARY KEY AUTO_INCREMENT COMMENT '상영관 ID', "
       "name VARCHAR(50) NOT NULL, seats INT) COMMENT='상영관';\n"
       "CREATE TABLE tickets (ticket_id INT PRIMARY KEY, theater_id INT, price DECIMAL(10,2), "
       "FOREIGN KEY (theater_id) REFERENCES theaters(theater_id));")


@pytest.mark.parametrize("sql", [
    "SELECT name FROM theaters WHERE seats > 90;",
    "SELECT T1.name, SUM(T2.price) FROM theaters AS T1 JOIN tickets AS T2 ON T1.theater_id = T2.theater_id "
    "GROUP BY T1.name HAVING COUNT(*) > 2",
    "SELECT name FROM theaters WHERE seats > (SELECT AVG(seats) FROM theaters)",
])
def test_valid_queries_pass(sql: str) -> None:
    assert schema_error(sql, DDL) is None


@pytest.mark.parametrize(("sql", "kind"), [
    ("SELECT seat_no FROM theaters", "unknown_column"),
    ("SELECT T2.seats FROM theaters AS T1 JOIN tickets AS T2 ON T1.theater_id = T2.theater_id", "unknown_column"),
    ("SELECT * FROM movies", "unknown_table"),
    ("SELEC name FROM theaters", "syntax"),
    ("SELECT 1; SELECT 2", "multiple_statements"),
    ("DELETE FROM theaters", "DELETE"),
    ("", "empty"),
])
def test_invalid_queries_name_the_problem(sql: str, kind: str) -> None:
    err = schema_error(sql, DDL)
    assert err is not None and kind in err


def test_nothing_runs_and_unparsable_ddl_checks_nothing() -> None:
    # a query that would run forever on data compiles instantly on the empty tables
    slow = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
            "SELECT COUNT(*) FROM c, theaters")
    assert schema_error(slow, DDL) is None
    assert schema_error("SELECT anything FROM anywhere", "this is not DDL") is None
