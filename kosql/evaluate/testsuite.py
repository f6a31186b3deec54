"""Test-suite execution accuracy from the DDL alone (rows with no database, like ko_text2sql).

For one row: parse the DDL (:func:`kosql.data.schema.parse_schema`), transpile gold and predicted
SQL to SQLite (:func:`kosql.data.schema.transpile_to_sqlite`; when sqlglot cannot, the text is run
as written), build ``k`` seeded databases filled with typed random rows plus the gold query's
literals (:mod:`kosql.db.build`), run both queries read-only with a time limit
(:func:`kosql.db.execute.execute_on_connection`) and compare with the Spider rules
(:func:`kosql.sql.compare.results_match`). The prediction is correct only if it matches gold on all
``k`` databases.

Every row ends with exactly one status: ``match``, ``mismatch``, ``schema_error`` (the DDL does not
parse), ``gold_untranspilable`` / ``gold_error`` (gold cannot be transpiled / fails on a database;
not a model error), ``pred_untranspilable`` / ``pred_error`` (the prediction cannot be transpiled
/ fails: syntax, unknown table or column, runtime error, timeout, forbidden).

Databases are cached per process by (context, literal set, seed), base rows per (context, seed),
and gold results per database, so many predictions on the same schema are fast.
"""

from __future__ import annotations

import os
import sqlite3
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kosql.data.rows import Example
from kosql.data.schema import Schema, SchemaError, parse_schema, transpile_to_sqlite
from kosql.data.transpile import TranspileError
from kosql.db.build import Rows, generate_rows, materialize, plant_literals, rows_for_seed
from kosql.db.execute import ExecResult, execute_on_connection
from kosql.db.functions import FUNCTION_NAMES
from kosql.db.literals import Literals, extract_literals, required_rows
from kosql.sql.compare import order_matters, results_match

STATUSES: tuple[str, ...] = ("match", "mismatch", "gold_untranspilable", "pred_untranspilable",
                             "gold_error", "pred_error", "schema_error")
MAX_ROWS = 10000
_DB_CACHE_SIZE = 512
_ROWS_CACHE_SIZE = 1024
_GOLD_CACHE_SIZE = 8192


@dataclass
class TestSuiteResult:
    """Outcome of one (gold, prediction) pair on ``n_db`` synthesized databases."""

    __test__ = False  # not a pytest class

    status: str
    n_db: int = 0
    n_gold_nonempty: int = 0
    detail: str = ""
    error_kind: str | None = None  # the prediction's ExecResult.error_kind (or 'syntax'/'untranspilable')

    @property
    def correct(self) -> bool:
        return self.status == "match"

    @property
    def gold_nonempty(self) -> int:
        return self.n_gold_nonempty

    @property
    def k(self) -> int:
        return self.n_db

    @property
    def error(self) -> str | None:
        return None if self.status in ("match", "mismatch") else self.detail

    @property
    def category(self) -> str:
        """The evaluation category (see :mod:`kosql.evaluate.categories`)."""
        if self.status == "match":
            return "correct"
        if self.status == "mismatch":
            return "wrong_result"
        if self.status in ("gold_untranspilable", "gold_error", "schema_error"):
            return "gold_error"
        if self.status == "pred_untranspilable":
            return "syntax_error" if self.error_kind == "syntax" else "untranspilable"
        from kosql.evaluate.categories import ERROR_KIND_TO_CATEGORY

        return ERROR_KIND_TO_CATEGORY.get(self.error_kind or "", "runtime_error")


class _LRU(OrderedDict[Any, Any]):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get_or(self, key: Any, make: Any) -> Any:
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = make()
        self[key] = value
        while len(self) > self.size:
            _, old = self.popitem(last=False)
            if isinstance(old, sqlite3.Connection):
                old.close()
        return value


_ROWS: _LRU = _LRU(_ROWS_CACHE_SIZE)
_DBS: _LRU = _LRU(_DB_CACHE_SIZE)
_GOLD: _LRU = _LRU(_GOLD_CACHE_SIZE)
_PID = [os.getpid()]


def clear_caches() -> None:
    """Drop the cached databases, rows and gold results of this process."""
    for conn in _DBS.values():
        conn.close()
    _DBS.clear()
    _ROWS.clear()
    _GOLD.clear()


def _read_dialect(schema: Schema) -> str | None:
    """Queries on a PostgreSQL-flavoured schema are read as PostgreSQL ("x" is an identifier)."""
    return "postgres" if schema.dialect == "postgres" else None


@lru_cache(maxsize=4096)
def _literals(answer: str, context: str, read: str | None) -> tuple[tuple[tuple[str, str], tuple[Any, ...]], ...]:
    found = extract_literals(answer, parse_schema(context), read=read)
    return tuple(sorted((key, tuple(values)) for key, values in found.items()))


def _database(context: str, schema: Schema, lit_key: tuple[Any, ...], seed: int) -> sqlite3.Connection:
    if _PID[0] != os.getpid():  # forked child: build its own databases
        _DBS.clear()
        _GOLD.clear()
        _PID[0] = os.getpid()
    def make() -> sqlite3.Connection:
        literals: Literals = {key: list(values) for key, values in lit_key}
        n_rows = max(rows_for_seed(seed), required_rows(literals) + 2)
        base: Rows = _ROWS.get_or((context, seed, n_rows),
                                  lambda: generate_rows(schema, seed=seed, n_rows=n_rows))
        return materialize(schema, plant_literals(schema, base, literals, seed=seed))

    conn: sqlite3.Connection = _DBS.get_or((context, lit_key, seed), make)
    return conn


def _run(conn: sqlite3.Connection, sql: str, timeout: float) -> ExecResult:
    return execute_on_connection(conn, sql, timeout=timeout, max_rows=MAX_ROWS,
                                 extra_functions=FUNCTION_NAMES)


def _to_sqlite(sql: str, read: str | None) -> tuple[str, str | None]:
    """(SQLite text, None) or (the text as written, the transpile error) when sqlglot fails."""
    try:
        return transpile_to_sqlite(sql, read=read), None
    except TranspileError as err:
        return sql.strip().rstrip(";"), str(err)


def testsuite_check(example: Example, pred_sql: str, *, k: int = 8, seed: int = 0,
                    timeout: float = 5.0) -> TestSuiteResult:
    """Compare ``pred_sql`` with ``example.answer`` on ``k`` databases built from ``example.context``."""
    try:
        schema = parse_schema(example.context)
    except SchemaError as err:
        return TestSuiteResult("schema_error", detail=str(err))
    read = _read_dialect(schema)
    gold_sql, gold_err = _to_sqlite(example.answer, read)
    if not (pred_sql or "").strip():
        return TestSuiteResult("pred_untranspilable", detail="the prediction is empty.", error_kind="syntax")
    pred_text, pred_err = _to_sqlite(pred_sql, read)
    lit_key = _literals(example.answer, example.context, read) if gold_err is None else ()
    ordered = order_matters(example.answer)
    n_db = max(1, k)
    golds: list[ExecResult] = []
    for i in range(n_db):
        db_seed = seed + i
        conn = _database(example.context, schema, lit_key, db_seed)
        gold = _GOLD.get_or((example.context, lit_key, db_seed, gold_sql),
                            lambda conn=conn: _run(conn, gold_sql, timeout))
        if not gold.ok:
            if gold_err is not None:
                return TestSuiteResult("gold_untranspilable", n_db=i, detail=f"gold: {gold_err}")
            return TestSuiteResult("gold_error", n_db=i,
                                   detail=f"gold fails on database {i}: {gold.error_kind}: {gold.error}")
        golds.append(gold)
    n_nonempty = sum(1 for g in golds if g.rows)
    for i, gold in enumerate(golds):
        conn = _database(example.context, schema, lit_key, seed + i)
        pred = _run(conn, pred_text, timeout)
        if not pred.ok:
            if pred_err is not None:
                kind = "syntax" if "parse error" in pred_err or pred.error_kind == "syntax" else "untranspilable"
                return TestSuiteResult("pred_untranspilable", n_db=n_db, n_gold_nonempty=n_nonempty,
                                       detail=f"prediction: {pred_err}", error_kind=kind)
            return TestSuiteResult("pred_error", n_db=n_db, n_gold_nonempty=n_nonempty,
                                   detail=f"prediction fails on database {i}: {pred.error_kind}: {pred.error}",
                                   error_kind=pred.error_kind)
        if not results_match(gold, pred, order_matters=ordered):
            return TestSuiteResult("mismatch", n_db=n_db, n_gold_nonempty=n_nonempty,
                                   detail=f"results differ on database {i} (gold {len(gold.rows)} rows, "
                                          f"prediction {len(pred.rows)} rows).")
    note = "" if n_nonempty else " (gold is empty on every database: weak evidence)"
    return TestSuiteResult("match", n_db=n_db, n_gold_nonempty=n_nonempty,
                           detail=f"same result on all {n_db} databases{note}.")


testsuite_check.__test__ = False  # type: ignore[attr-defined]  # not a pytest test function
