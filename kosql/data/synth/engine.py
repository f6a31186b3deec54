"""Run the templates on a schema view and keep the queries that execute with a useful result.

:func:`generate_queries` instantiates the bundled templates (single-table, multi-table, nested) and
the any-schema ones (:mod:`kosql.data.synth.templates_any`) on a
:class:`~kosql.data.synth.infer.SchemaView`, executes every SQL through the caller's ``execute``
(an in-memory SQLite copy, or a live database read-only and time-limited) and keeps a query only
when it runs, its result is not empty or all NULL, a filtered row query does not return the whole
table, and it neither repeats an earlier SQL nor returns the same result as an earlier query of the
same template on the same tables (a sibling that says nothing new). Each kept query carries
``phrasings`` Korean questions (:func:`kosql.data.synth.phrasing.phrasings`).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kosql.data.synth.infer import SchemaView
from kosql.data.synth.phrasing import phrasings as make_phrasings
from kosql.data.synth.templates import SINGLE_TEMPLATES, Template
from kosql.data.synth.templates_any import ANY_TEMPLATES, AnyGen
from kosql.data.synth.templates_multi import MULTI_TEMPLATES
from kosql.sql.features import sql_features, sql_hardness

Executor = Callable[[str], "list[tuple[Any, ...]] | None"]
ALL_TEMPLATES: tuple[Template, ...] = ANY_TEMPLATES + SINGLE_TEMPLATES + MULTI_TEMPLATES


@dataclass
class Query:
    """One kept query: its SQL (view spellings), questions, template and the tables it reads."""

    sql: str
    questions: list[str]
    template: str
    tables: list[str]  # raw table names, in the order the SQL names them
    rows: int
    features: list[str] = field(default_factory=list)
    hardness: str = "easy"


@dataclass
class EngineStats:
    attempts: int = 0
    failed: int = 0
    degenerate: int = 0
    duplicate: int = 0


_TABLE_REF = re.compile(r'\b(?:FROM|JOIN)\s+("(?:[^"]|"")+"|`[^`]+`|[A-Za-z_][A-Za-z0-9_$]*|[^\s(),;]+)',
                        re.IGNORECASE)


def tables_of(sql: str) -> list[str]:
    """The tables a generated query reads (unquoted names, first mention first): the names after
    FROM and JOIN outside string literals (the templates never alias a subquery in FROM)."""
    code = re.sub(r"'(?:[^']|'')*'", "''", sql)
    names = []
    for m in _TABLE_REF.finditer(code):
        token = m.group(1)
        if token.startswith('"'):
            token = token[1:-1].replace('""', '"')
        elif token.startswith("`"):
            token = token[1:-1]
        names.append(token)
    return list(dict.fromkeys(names))


def _digest(result: list[tuple[Any, ...]]) -> str:
    text = repr(sorted(tuple(str(v) for v in r) for r in result))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _degenerate(sql: str, result: list[tuple[Any, ...]], table_rows: dict[str, int], tables: list[str]) -> bool:
    if not result or all(v is None for row in result for v in row):
        return True
    upper = sql.upper()
    if " WHERE " in upper and upper.count("SELECT") == 1 and "GROUP BY" not in upper \
            and len(tables) == 1 and not re.search(r"\b(COUNT|SUM|AVG|MIN|MAX)\(", upper):
        return len(result) >= table_rows.get(tables[0], 1 << 60)  # the filter keeps every row
    return False


def weights_of(templates: tuple[Template, ...], any_boost: float = 1.0) -> list[float]:
    names = {t.name for t in ANY_TEMPLATES}
    return [t.weight * (any_boost if t.name in names else 1.0) for t in templates]


def generate_queries(view: SchemaView, execute: Executor, *, rng: random.Random, want: int,
                     phrasings: int = 1, templates: tuple[Template, ...] = ALL_TEMPLATES,
                     weights: list[float] | None = None, table_rows: dict[str, int] | None = None,
                     max_attempts: int | None = None, stats: EngineStats | None = None,
                     annotate: bool = True) -> list[Query]:
    """Up to ``want`` kept queries over ``view`` (see the module docstring); ``annotate`` adds
    each query's SQL features and Spider hardness (a parse each)."""
    gen = AnyGen(domain=view.domain, rows=view.rows, rng=rng, raw=view.raw, hints=view.hints)
    weights = weights or weights_of(templates)
    stats = stats if stats is not None else EngineStats()
    counts = table_rows or {view.raw.get(t.name, t.name): len(view.rows.get(t.name, [])) for t in view.domain.tables}
    seen_sql: set[str] = set()
    seen_result: set[tuple[str, tuple[str, ...], str]] = set()
    seen_question: set[str] = set()
    out: list[Query] = []
    limit = max_attempts if max_attempts is not None else 12 * want + 40
    attempts = 0
    while len(out) < want and attempts < limit:
        attempts += 1
        stats.attempts += 1
        tpl = rng.choices(templates, weights=weights, k=1)[0]
        gen.new_mode()
        try:
            made = tpl.fn(gen)
        except (KeyError, IndexError, ValueError, StopIteration, TypeError, ZeroDivisionError):
            made = None  # a template that does not fit this schema's data
        if made is None:
            continue
        question, sql = made
        norm = re.sub(r"\s+", " ", sql).strip().lower()
        if norm in seen_sql or question in seen_question:
            stats.duplicate += 1
            continue
        result = execute(sql)
        if result is None:
            stats.failed += 1
            continue
        tables = tables_of(sql)
        if _degenerate(sql, result, counts, tables):
            stats.degenerate += 1
            continue
        key = (tpl.name, tuple(tables), _digest(result))
        if key in seen_result:
            stats.duplicate += 1
            continue
        seen_sql.add(norm)
        seen_result.add(key)
        questions = [q for q in make_phrasings(question, rng, phrasings) if q not in seen_question]
        seen_question.update(questions)
        query = Query(sql=sql, questions=questions or [question], template=tpl.name, tables=tables, rows=len(result))
        if annotate:
            query.features, query.hardness = sql_features(sql), sql_hardness(sql)
        out.append(query)
    return out
