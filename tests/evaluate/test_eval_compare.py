"""Result comparison rules (Spider test-suite semantics) and order detection."""

from __future__ import annotations

import unicodedata

import pytest

from kosql.db.execute import ExecResult
from kosql.sql.compare import explain_mismatch, order_matters, results_match, rows_match


def _res(rows: list[tuple], truncated: bool = False, ok: bool = True) -> ExecResult:
    return ExecResult(ok=ok, rows=rows, truncated=truncated)


def test_order_ignored_without_order_by() -> None:
    assert rows_match([(1,), (2,), (3,)], [(3,), (1,), (2,)], order_matters=False)


def test_order_compared_with_order_by() -> None:
    assert not rows_match([(1,), (2,), (3,)], [(3,), (1,), (2,)], order_matters=True)
    assert rows_match([(1,), (2,), (3,)], [(1,), (2,), (3,)], order_matters=True)


def test_duplicates_count() -> None:
    assert not rows_match([(1,), (1,), (2,)], [(1,), (2,), (2,)], order_matters=False)
    assert not rows_match([(1,), (1,)], [(1,)], order_matters=False)
    assert rows_match([(1,), (2,), (1,)], [(1,), (1,), (2,)], order_matters=False)


def test_column_permutation_allowed() -> None:
    gold = [("a", 1, 2.5), ("b", 2, 3.5)]
    pred = [(2.5, "a", 1), (3.5, "b", 2)]
    assert rows_match(gold, pred, order_matters=False)
    assert rows_match(gold, pred, order_matters=True)


def test_column_permutation_must_keep_rows_together() -> None:
    # same column value multisets, but the pairing of values across columns differs
    gold = [(1, "x"), (2, "y")]
    pred = [("y", 1), ("x", 2)]
    assert not rows_match(gold, pred, order_matters=False)


def test_same_values_in_two_columns_needs_a_consistent_permutation() -> None:
    gold = [(1, 2), (2, 1), (3, 3)]
    assert rows_match(gold, [(2, 1), (1, 2), (3, 3)], order_matters=False)
    assert not rows_match(gold, [(1, 2), (1, 2), (3, 3)], order_matters=False)


def test_column_count_must_match() -> None:
    assert not rows_match([(1, 2)], [(1,)], order_matters=False)
    assert not rows_match([(1,)], [(1, 1)], order_matters=False)


def test_float_tolerance_and_int_float_equality() -> None:
    assert rows_match([(3,)], [(3.0,)], order_matters=False)
    assert rows_match([(0.1 + 0.2,)], [(0.3,)], order_matters=False)
    assert rows_match([(1234567.891,)], [(1234567.8915,)], order_matters=False)  # rel 4e-10
    assert rows_match([(1e-12,)], [(0.0,)], order_matters=False)  # abs 1e-9
    assert not rows_match([(1.0,)], [(1.001,)], order_matters=False)
    assert not rows_match([(2,)], [(3,)], order_matters=False)
    assert rows_match([(1.0000001, "a"), (2.0, "b")], [("b", 2.0000001), ("a", 1.0)], order_matters=False)


def test_nulls() -> None:
    assert rows_match([(None,), (1,)], [(1,), (None,)], order_matters=False)
    assert not rows_match([(None,)], [(0,)], order_matters=False)
    assert not rows_match([(None,)], [("",)], order_matters=False)
    assert not rows_match([("NULL",)], [(None,)], order_matters=False)


def test_strings_are_nfc_normalized_and_exact_otherwise() -> None:
    composed = "한국어"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert rows_match([(composed,)], [(decomposed,)], order_matters=False)
    assert not rows_match([("서울",)], [("서울 ",)], order_matters=False)
    assert not rows_match([("Seoul",)], [("seoul",)], order_matters=False)
    assert not rows_match([("1",)], [(1,)], order_matters=False)


def test_empty_results_match() -> None:
    assert rows_match([], [], order_matters=True)
    assert not rows_match([], [(1,)], order_matters=False)


def test_failed_or_truncated_results() -> None:
    assert not results_match(_res([(1,)]), _res([], ok=False), order_matters=False)
    assert not results_match(_res([], ok=False), _res([], ok=False), order_matters=False)
    assert not results_match(_res([(1,)]), _res([(1,)], truncated=True), order_matters=False)
    assert results_match(_res([(1,)], True), _res([(1,)], True), order_matters=False)


@pytest.mark.parametrize(("sql", "expected"), [
    ("SELECT a FROM t ORDER BY a", True),
    ("select a from t order by a desc limit 3", True),
    ("SELECT a FROM t", False),
    ("SELECT a FROM (SELECT a FROM t ORDER BY a LIMIT 3)", False),
    ("SELECT a FROM t WHERE a IN (SELECT b FROM s ORDER BY b LIMIT 1)", False),
    ("SELECT a FROM t UNION SELECT b FROM s ORDER BY 1", True),
    ("WITH x AS (SELECT a FROM t ORDER BY a) SELECT a FROM x", False),
])
def test_order_matters(sql: str, expected: bool) -> None:
    assert order_matters(sql) is expected


def test_explain_mismatch_names_the_difference() -> None:
    assert "rows" in explain_mismatch(_res([(1,)]), _res([(1,), (2,)]), order_matters=False)
    assert "order" in explain_mismatch(_res([(1,), (2,)]), _res([(2,), (1,)]), order_matters=True)
    assert "columns" in explain_mismatch(_res([(1, 2)]), _res([(1,)]), order_matters=False)
    assert "values" in explain_mismatch(_res([(1,)]), _res([(2,)]), order_matters=False)
    assert explain_mismatch(_res([(1,)]), _res([(1.0,)]), order_matters=False) == ""
