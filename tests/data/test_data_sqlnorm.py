"""normalize_sql / parse_sql used for deduplication and leakage."""

from __future__ import annotations

import pytest

from kosql.sql.normalize import fallback_normalize, normalize_question, normalize_sql, parse_sql


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("SELECT * FROM players;", "select *\n  from PLAYERS"),
        ("SELECT player_id, email FROM players", "SELECT player_id,email FROM players ;"),
        ("SELECT COUNT(*) AS n FROM t", "select count(*) n from t"),
        ("SELECT `name` FROM t WHERE a = \"x\"", "SELECT name FROM t WHERE a = 'x'"),
    ],
)
def test_equivalent_spellings_normalize_equal(a: str, b: str) -> None:
    assert normalize_sql(a) == normalize_sql(b)


def test_normalized_form_is_lower_case_except_strings() -> None:
    assert normalize_sql("SELECT Name FROM T WHERE City = 'Seoul';") == "select name from t where city = 'Seoul'"
    assert normalize_sql("SELECT a FROM t WHERE b = 'X'") != normalize_sql("SELECT a FROM t WHERE b = 'x'")


def test_unparsable_sql_falls_back_to_whitespace_and_case() -> None:
    assert normalize_sql("SELEC  x FORM   T ;") == "selec x form t"
    assert fallback_normalize("A  'B  C'") == "a 'B  C'"


def test_parse_sql_reports_why() -> None:
    assert parse_sql("SELECT 1").ok
    assert parse_sql("SELECT a FROM t; SELECT b FROM u").error == "has 2 SQL statements instead of one"
    assert parse_sql("").error == "is empty"
    assert parse_sql("hello world").error == "does not parse as a SQL statement"
    assert parse_sql("SELECT `a` FROM t").dialect == "mysql"


def test_normalize_question() -> None:
    assert normalize_question("  모든 플레이어를   보여줘? ") == "모든 플레이어를 보여줘"
