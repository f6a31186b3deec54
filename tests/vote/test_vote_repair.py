"""Repair before giving up: a MySQL-dialect candidate is transpiled for SQLite and answers; an unknown
column is retried once with the database's error and the real columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kosql.ask import Asker
from kosql.vote.repair import names_missing, real_columns, to_dialect

YEAR_SQL = "SELECT count(*) FROM orders WHERE YEAR(ordered_at) = 2024"


def test_to_dialect_rewrites_mysql_functions_and_leaves_sqlite_alone() -> None:
    out = to_dialect(YEAR_SQL, "sqlite")
    assert out is not None and "STRFTIME" in out.upper() and "YEAR(" not in out.upper()
    assert to_dialect("select count(*) from orders;", "sqlite") is None  # only case and spacing would change
    assert to_dialect("", "sqlite") is None
    assert to_dialect("SELECT ((", "sqlite") is None
    pg = to_dialect("SELECT IFNULL(amount, 0) FROM orders", "postgres")
    assert pg is not None and "COALESCE" in pg.upper()


def test_names_missing_and_real_columns() -> None:
    for err in ("unknown_column: no such column: order_date", 'column "x" does not exist',
                "The guard refused the query: The database has no table 'sales'.", "no such table: sales"):
        assert names_missing(err), err
    assert not names_missing("syntax: near \"FORM\": syntax error") and not names_missing(None)
    cols = {"customers": ["customer_id", "name"], "orders": ["order_id", "ordered_at"]}
    assert real_columns("SELECT o.x FROM orders o", cols) == {"orders": ["order_id", "ordered_at"]}
    assert real_columns("SELECT * FROM sales", cols) == cols  # an unknown table: every table
    assert real_columns("SELECT ((", cols) == cols


def test_year_on_sqlite_is_answered_after_transpiling(orders_db: Path, scripted: Any) -> None:
    backend = scripted(greedy=YEAR_SQL)
    asker = Asker(str(orders_db), backend=backend)
    assert asker.run_sql("q", YEAR_SQL).error is not None  # as written, SQLite has no YEAR()
    result = asker.ask("2024년에 주문된 건수는?")
    assert result.error is None and result.rows == [[3]]
    assert result.repair is not None and result.repair["how"] == "transpiled" and result.repair["sql"] == YEAR_SQL
    assert "YEAR" in result.repair["error"]
    assert result.vote is None and backend.retries() == []


def test_an_unknown_column_is_retried_once_with_the_error_and_the_real_columns(orders_db: Path, scripted: Any) -> None:
    wrong = "SELECT count(*) FROM orders WHERE order_date LIKE '2024%'"
    right = "SELECT count(*) FROM orders WHERE ordered_at LIKE '2024%'"
    backend = scripted(greedy=wrong, followup=right)
    result = Asker(str(orders_db), backend=backend).ask("2024년에 주문된 건수는?")
    assert result.error is None and result.rows == [[3]] and result.sql == right
    repair = result.repair or {}
    assert (repair["how"], repair["sql"]) == ("retried", wrong) and "order_date" in repair["error"]
    [retry] = backend.retries()
    assert "no such column: order_date" in retry and "orders(order_id, customer_id, ordered_at, amount)" in retry
    # a retry that fails again is not retried a second time: the error is reported
    stubborn = scripted(greedy=wrong, followup=wrong)
    failed = Asker(str(orders_db), backend=stubborn).ask("2024년에 주문된 건수는?")
    assert failed.error is not None and "order_date" in failed.error and len(stubborn.retries()) == 1
