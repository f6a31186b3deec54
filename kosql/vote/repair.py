"""Repair before giving up: what a failed candidate gets before it is dropped.

1. **Another dialect** (``WHERE YEAR(ordered_at) = 2024`` on SQLite: "no such function: YEAR"):
   :func:`to_dialect` rewrites it for the database with sqlglot (to SQLite through
   :func:`kosql.data.transpile.transpile_to_sqlite`, which reads it as MySQL or PostgreSQL), and the
   rewrite runs instead. A candidate that runs as written is never rewritten.
2. **An unknown column or table** (:func:`names_missing`): the caller asks the model once more with
   the database's error and the real columns of the tables involved in the question
   (:func:`kosql.prompts.followup_question`, columns from :func:`real_columns`).

:func:`run_candidate` is step 1 around any way of running SQL (a SQLite file, the ask connector).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlglot
from sqlglot import exp

from kosql.data.transpile import TranspileError, transpile_to_sqlite
from kosql.vote.core import Candidate

TRANSPILED = "transpiled"
RETRIED = "retried"

# (result, error): error None when the SQL ran; the result is what the vote compares.
RunFn = Callable[[str], tuple[Any, str | None]]

_MISSING = re.compile(r"no such (column|table)|unknown (column|table)|does not exist|has no (table|column)"
                      r"|unknown_(column|table)", re.IGNORECASE)
_MAX_TABLES = 12  # an unknown table: the follow-up lists at most this many real tables


def _squash(sql: str) -> str:
    return " ".join(sql.strip().rstrip(";").lower().split())


def to_dialect(sql: str, dialect: str) -> str | None:
    """``sql`` rewritten for ``dialect`` by sqlglot, or None when it cannot be read or nothing but
    letter case and spacing would change."""
    text = sql.strip().rstrip(";").strip()
    if not text:
        return None
    try:
        if dialect == "sqlite":
            out = transpile_to_sqlite(text)
        else:
            out = sqlglot.transpile(text, read="mysql", write=dialect)[0]
    except (TranspileError, sqlglot.errors.SqlglotError, ValueError, IndexError):
        return None
    return out if _squash(out) != _squash(text) else None


def names_missing(error: str | None) -> bool:
    """Whether a failure names a column or table the database does not have."""
    return bool(error) and _MISSING.search(str(error)) is not None


def real_columns(sql: str, columns: dict[str, list[str]]) -> dict[str, list[str]]:
    """The real columns of the tables ``sql`` reads (those that exist); every table (at most 12)
    when it reads none that exists or cannot be parsed."""
    by_lower = {t.lower(): t for t in columns}
    try:
        tree = sqlglot.parse_one(sql)
        named = {t.name.lower() for t in tree.find_all(exp.Table) if t.name}
    except (sqlglot.errors.SqlglotError, ValueError):
        named = set()
    known = [by_lower[n] for n in sorted(named) if n in by_lower]
    if not known or len(known) < len(named):  # an unknown table: show what there is
        known = list(dict.fromkeys([*known, *list(columns)[:_MAX_TABLES]]))
    return {t: list(columns[t]) for t in known}


def run_candidate(cand: Candidate, run: RunFn, dialect: str) -> Candidate:
    """Run ``cand`` with ``run``; when it fails, run its sqlglot rewrite for ``dialect`` instead
    (:func:`to_dialect`) and keep that when it runs. Sets ``result``, ``error`` and ``repair``."""
    if not cand.sql.strip():
        cand.error = cand.error or "no SQL in the model's answer"
        return cand
    result, error = run(cand.sql)
    if error is not None:
        alt = to_dialect(cand.sql, dialect)
        if alt is not None:
            alt_result, alt_error = run(alt)
            if alt_error is None:
                cand.repair = {"how": TRANSPILED, "sql": cand.sql, "error": error}
                cand.sql, result, error = alt, alt_result, None
    cand.result, cand.error = result, error
    return cand


def retry(cand: Candidate, gen: Any, run: RunFn, dialect: str) -> Candidate:
    """Replace ``cand`` (failed on an unknown name) by the model's retry ``gen`` (a Generation), run
    as :func:`run_candidate` runs it; ``repair`` keeps the SQL and error of the first try."""
    from kosql.sql.extract import extract_sql

    first = {"how": RETRIED, "sql": cand.sql, "error": str(cand.error)}
    again = run_candidate(Candidate(extract_sql(gen.text), origin=cand.origin, raw=gen.text,
                                    error=getattr(gen, "error", None)), run, dialect)
    cand.sql, cand.raw, cand.result, cand.error, cand.repair = again.sql, again.raw, again.result, again.error, first
    return cand
