"""One error category per scored row: why a prediction is wrong (or that it is correct).

Categories, checked in this order:

- ``gold_error``: the gold query itself failed (or could not be transpiled / run for the test suite);
  recorded separately and left out of accuracy denominators: it is not a model error.
- ``empty_prediction``: the prediction is empty or only whitespace.
- ``forbidden``: the prediction writes or changes something (``DROP``, ``DELETE``, ``INSERT``,
  ``ATTACH``, ``PRAGMA``, ...) in any of its statements. Never correct.
- ``timeout``: stopped at the time limit.
- ``extra_text``: the text does not run as one statement but contains a SQL statement surrounded
  by other text (prose, code fences, a second statement).
- ``syntax_error``, ``unknown_table``, ``unknown_column``, ``runtime_error``: SQLite's verdict.
- ``untranspilable``: (test suite only) the prediction could not be transpiled to SQLite.
- ``wrong_result``: it ran and returned a different result.
- ``correct``.
- ``unscored``: no database and no test suite to run it on (only exact match is computed).
- ``error``: the evaluator itself failed on this row (a crash, a dead worker process).
- ``generation_failed``: no answer was generated (``kosql generate`` stored the row as failed, e.g.
  the API ran out of retries); not a model's empty answer, left out of accuracy denominators.
"""

from __future__ import annotations

import re

from kosql.db.execute import FORBIDDEN_KEYWORDS, leading_keyword

CATEGORIES: tuple[str, ...] = (
    "correct", "wrong_result", "empty_prediction", "extra_text", "syntax_error", "unknown_table",
    "unknown_column", "runtime_error", "timeout", "forbidden", "untranspilable", "gold_error",
    "unscored", "error", "generation_failed",
)
#: categories left out of accuracy denominators (counted separately)
UNSCORED: frozenset[str] = frozenset({"gold_error", "unscored", "error", "generation_failed"})

_STRING_OR_IDENT_RE = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]")
ERROR_KIND_TO_CATEGORY = {
    "syntax": "syntax_error",
    "unknown_table": "unknown_table",
    "unknown_column": "unknown_column",
    "runtime": "runtime_error",
    "timeout": "timeout",
    "forbidden": "forbidden",
    "multiple_statements": "extra_text",
}


def statements(sql: str) -> list[str]:
    """``sql`` split on ``;`` outside string literals and quoted identifiers (empty parts dropped)."""
    parts: list[str] = []
    last = 0
    masked = _STRING_OR_IDENT_RE.sub(lambda m: " " * len(m.group(0)), sql)
    for m in re.finditer(";", masked):
        parts.append(sql[last:m.start()])
        last = m.end()
    parts.append(sql[last:])
    return [s for s in (p.strip() for p in parts) if s]


def is_forbidden(sql: str) -> bool:
    """True when any statement of ``sql`` starts with a write / DDL / control keyword."""
    return any(leading_keyword(s) in FORBIDDEN_KEYWORDS for s in statements(sql))


def has_extra_text(sql: str) -> bool:
    """True when ``sql`` holds a SQL statement plus other text (prose, fences, more statements)."""
    from kosql.sql.extract import extract_sql

    found = extract_sql(sql)
    if not found:
        return False
    return _squash(found) != _squash(sql)


def _squash(sql: str) -> str:
    return " ".join(sql.split()).rstrip(";").strip()


def category_for_error(error_kind: str | None, pred_sql: str) -> str:
    """Category of a prediction that did not run, from its ``ExecResult.error_kind``."""
    if error_kind in ("syntax", "multiple_statements") and has_extra_text(pred_sql):
        return "extra_text"
    if error_kind == "multiple_statements":
        return "syntax_error"
    return ERROR_KIND_TO_CATEGORY.get(error_kind or "", "runtime_error")


def categorize(pred_sql: str, *, gold_ok: bool, pred_ok: bool, pred_error_kind: str | None,
               match: bool) -> str:
    """The category of one row given the two executions (see the module docstring)."""
    if not gold_ok:
        return "gold_error"
    if not pred_sql or not pred_sql.strip():
        return "empty_prediction"
    if pred_error_kind == "forbidden" or is_forbidden(pred_sql):
        return "forbidden"
    if not pred_ok:
        return category_for_error(pred_error_kind, pred_sql)
    return "correct" if match else "wrong_result"
