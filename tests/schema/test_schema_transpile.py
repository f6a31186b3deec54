"""transpile_to_sqlite: golden pairs, errors, and that every transpiled query runs on a built DB."""

from __future__ import annotations

from pathlib import Path

import pytest

from kosql.data.schema import parse_schema, transpile_to_sqlite
from kosql.data.transpile import TranspileError
from kosql.db.build import build_database
from kosql.db.execute import execute_on_connection
from kosql.db.functions import FUNCTION_NAMES
from kosql.errors import UserError

HERE = Path(__file__).parent
DDL = """CREATE TABLE players (
  player_id INT PRIMARY KEY AUTO_INCREMENT,
  username VARCHAR(255) UNIQUE NOT NULL,
  email VARCHAR(255) UNIQUE NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  date_joined DATETIME NOT NULL,
  last_login DATETIME,
  birth_date DATE,
  score DECIMAL(8, 2),
  level INT,
  is_active BOOLEAN
);"""


def _golden() -> list[tuple[str, str]]:
    pairs = []
    for line in (HERE / "transpile_golden.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        source, _, expected = line.partition("; ")
        pairs.append((source, expected))
    return pairs


GOLDEN = _golden()


def test_golden_file_covers_the_issue_functions() -> None:
    text = " ".join(src.upper() for src, _ in GOLDEN)
    for needle in ("SUBSTRING_INDEX", "DATE_FORMAT", "NOW()", "ILIKE", "::", "LIMIT", "OFFSET", "`",
                   "CURDATE", "YEAR(", "MONTH(", "CONCAT", "IFNULL", "EXTRACT", "INTERVAL"):
        assert needle in text, needle
    assert len(GOLDEN) >= 30


@pytest.mark.parametrize("source, expected", GOLDEN, ids=[s[:50] for s, _ in GOLDEN])
def test_golden(source: str, expected: str) -> None:
    assert transpile_to_sqlite(source) == expected


def test_transpiled_queries_run_on_a_built_database() -> None:
    schema = parse_schema(DDL)
    failures = []
    for seed in (0, 1):
        conn = build_database(schema, seed=seed)
        for source, _ in GOLDEN:
            res = execute_on_connection(conn, transpile_to_sqlite(source), timeout=5.0,
                                        extra_functions=FUNCTION_NAMES)
            if not res.ok:
                failures.append((source, res.error))
    assert failures == []


def test_function_results_match_mysql() -> None:
    schema = parse_schema(DDL)
    conn = build_database(schema, seed=0)

    def one(sql: str) -> object:
        res = execute_on_connection(conn, transpile_to_sqlite(sql), extra_functions=FUNCTION_NAMES)
        assert res.ok, res.error
        return res.rows[0][0]

    assert one("SELECT SUBSTRING_INDEX('kim@gmail.com', '@', 1)") == "kim"
    assert one("SELECT SUBSTRING_INDEX('a.b.c', '.', -2)") == "b.c"
    assert one("SELECT DATE_FORMAT('2023-05-07 10:11:12', '%Y-%m')") == "2023-05"
    assert one("SELECT YEAR('2023-05-07'), MONTH('2023-05-07')") == 2023
    assert one("SELECT MONTH('2023-05-07')") == 5
    assert one("SELECT DATE_ADD('2024-01-31', INTERVAL 1 DAY)") == "2024-02-01"
    assert one("SELECT '2024-03-01 10:00:00' - INTERVAL 2 HOUR") == "2024-03-01 08:00:00"
    assert one("SELECT DATEDIFF('2024-03-10', '2024-03-01')") == 9
    assert one("SELECT TIMESTAMPDIFF(MINUTE, '2024-03-01 10:00:00', '2024-03-01 12:30:00')") == 150
    assert one("SELECT QUARTER('2024-08-01')") == 3
    assert one("SELECT DAYOFWEEK('2024-03-03')") == 1  # a Sunday
    assert one("SELECT CONCAT('a', 'b', 'c')") == "abc"
    assert one("SELECT 'Archer' ILIKE 'arch%'") == 1
    assert one("SELECT '7'::int + 1") == 8
    assert one("SELECT LPAD('7', 3, '0')") == "007"
    assert one("SELECT 'abc' REGEXP '^a'") == 1
    assert one("SELECT 7 / 2") == 3.5
    assert one("SELECT EXTRACT(MONTH FROM '2023-11-02')") == 11


def test_postgres_double_quotes_are_identifiers() -> None:
    sql = 'SELECT "read" FROM messages WHERE "read" = FALSE'
    assert transpile_to_sqlite(sql, read="postgres") == sql
    assert transpile_to_sqlite(sql, read="mysql") == "SELECT 'read' FROM messages WHERE 'read' = FALSE"


@pytest.mark.parametrize("sql, message", [
    ("", "the query is empty"),
    ("SELECT 1; SELECT 2", "the query has 2 statements"),
    ("SELEC x FRM t WHERE", "the query cannot be transpiled"),
])
def test_errors(sql: str, message: str) -> None:
    with pytest.raises(TranspileError) as info:
        transpile_to_sqlite(sql)
    assert isinstance(info.value, UserError) and str(info.value).startswith(message)


def test_trailing_semicolon_and_korean_literal() -> None:
    assert transpile_to_sqlite("SELECT * FROM t WHERE name = '김민수';") == "SELECT * FROM t WHERE name = '김민수'"
