"""Spider-style exact set match and normalized string match."""

from __future__ import annotations

import pytest

from kosql.sql.exact_match import exact_set_match, exact_string_match

GOLD = ("SELECT T1.name, count(*) FROM singer AS T1 JOIN concert AS T2 ON T1.id = T2.sid "
        "WHERE T1.age > 20 AND T2.year = '2014' GROUP BY T1.name HAVING count(*) > 1 "
        "ORDER BY count(*) DESC LIMIT 3")


@pytest.mark.parametrize("pred", [
    GOLD,
    # clause items reordered, other aliases (with AS), other values
    "select count(*), a.name from concert as b join singer as a on b.sid = a.id "
    "where b.year = '2015' and a.age > 30 group by a.name having count(*) > 2 order by count(*) desc limit 5",
    "SELECT s.NAME, COUNT(*) FROM Singer AS s JOIN Concert AS c ON c.sid = s.id WHERE s.age > 1 AND c.year = 'x' "
    "GROUP BY s.name HAVING COUNT(*) > 1 ORDER BY COUNT(*) DESC LIMIT 1",
    # the official evaluator ignores DISTINCT and the JOIN ON conditions
    GOLD.replace("T1.name, count(*)", "DISTINCT T1.name, count(*)"),
    GOLD.replace("T1.id = T2.sid", "T1.id = T2.id"),
])
def test_set_match_ignores_order_aliases_and_values(pred: str) -> None:
    assert exact_set_match(GOLD, pred)


@pytest.mark.parametrize("pred", [
    GOLD.replace("DESC", "ASC"),
    GOLD.replace(" LIMIT 3", ""),
    GOLD.replace("T1.age > 20", "T1.age < 20"),
    GOLD.replace("AND T2.year", "OR T2.year"),
    GOLD.replace("GROUP BY T1.name", "GROUP BY T1.id"),
    GOLD.replace("HAVING count(*) > 1 ", ""),
    GOLD.replace("JOIN concert", "JOIN festival"),
    # outside the official parser's grammar: a select alias, a table alias without AS
    GOLD.replace("T1.name, count(*)", "T1.name, count(*) AS n"),
    GOLD.replace("concert AS T2", "concert T2"),
    "SELECT name FROM singer",
    "",
    "이건 SQL이 아닙니다",
])
def test_set_match_catches_differences(pred: str) -> None:
    assert not exact_set_match(GOLD, pred)


def test_values_compared_when_asked() -> None:
    a = "SELECT name FROM t WHERE age > 3 LIMIT 2"
    assert exact_set_match(a, "SELECT name FROM t WHERE age > 4 LIMIT 5")
    assert not exact_set_match(a, "SELECT name FROM t WHERE age > 4 LIMIT 2", ignore_values=False)
    assert not exact_set_match(a, "SELECT name FROM t WHERE age > 3 LIMIT 5", ignore_values=False)
    assert exact_set_match(a, "select NAME from T where AGE > 3 limit 2", ignore_values=False)


def test_subqueries_and_set_operations() -> None:
    g = "SELECT a FROM t WHERE x IN (SELECT y FROM s WHERE z = 1)"
    assert exact_set_match(g, "SELECT a FROM t WHERE x IN (SELECT y FROM s WHERE z = 2)")
    assert not exact_set_match(g, "SELECT a FROM t WHERE x IN (SELECT w FROM s WHERE z = 1)")
    u = "SELECT a FROM t UNION SELECT b FROM s"
    assert exact_set_match(u, "select a from t union select b from s")
    assert not exact_set_match(u, "SELECT a FROM t UNION ALL SELECT b FROM s")
    assert not exact_set_match(u, "SELECT a FROM t INTERSECT SELECT b FROM s")


def test_single_table_qualifier_is_ignored() -> None:
    assert exact_set_match("SELECT name FROM singer WHERE age > 3", "SELECT s.name FROM singer AS s WHERE s.age > 9")


def test_string_match() -> None:
    assert exact_string_match("SELECT a FROM t WHERE b = 'X'", "select  A\nfrom T where B = 'X';")
    assert not exact_string_match("SELECT a FROM t WHERE b = 'X'", "SELECT a FROM t WHERE b = 'x'")
    assert not exact_string_match("SELECT a FROM t", "")
