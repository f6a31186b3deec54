"""Deterministic cleaning of a Text2SQL dataset (pure: Examples in, kept rows + reasons out).

Each row is checked in order and dropped for the first reason that applies:

1. ``empty``: question, context or answer is empty (whitespace only);
2. ``sql_unparsable``: the answer is not one statement sqlglot parses;
3. ``ddl_unparsable``: the context does not parse into a schema (its references cannot be checked);
4. ``unknown_table`` / ``unknown_column``: the answer names something the DDL lacks;
5. ``duplicate``: same context, question and answer text as an earlier kept row;
6. ``normalized_duplicate``: same question (case/space/final punctuation folded) and same SQL
   after :func:`kosql.sql.normalize.normalize_sql` as an earlier kept row.

The first occurrence is always the one kept, so the output only depends on the input order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kosql.data.refs import check_references
from kosql.data.rows import Example
from kosql.data.validate import try_schema
from kosql.sql.normalize import normalize_question, normalize_sql, normalize_tree, parse_sql

DROP_REASONS: tuple[str, ...] = ("empty", "sql_unparsable", "ddl_unparsable", "unknown_table",
                                 "unknown_column", "duplicate", "normalized_duplicate")


@dataclass(frozen=True)
class DroppedRow:
    index: int
    id: str
    reason: str
    detail: str = ""


@dataclass
class CleanResult:
    kept: list[Example]
    dropped: list[DroppedRow] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Dropped rows per reason, in :data:`DROP_REASONS` order, zeros included."""
        c = Counter(d.reason for d in self.dropped)
        return {r: c.get(r, 0) for r in DROP_REASONS}

    @property
    def total(self) -> int:
        return len(self.kept) + len(self.dropped)


def _sql_reason(ex: Example, dialect: str | None) -> tuple[tuple[str, str] | None, str | None]:
    """(drop reason or None, normalized SQL when the check parsed it)."""
    schema, error = try_schema(ex.context)
    if schema is None:
        parsed = parse_sql(ex.answer, dialect)
        if not parsed.ok:
            return ("sql_unparsable", f"the answer SQL {parsed.error}"), None
        return ("ddl_unparsable", error or ""), None
    check = check_references(ex.answer, schema, dialect)
    if check.parse_error is not None:
        return ("sql_unparsable", f"the answer SQL {check.parse_error}"), None
    if check.unknown_tables:
        return ("unknown_table", ", ".join(check.unknown_tables)), None
    if check.unknown_columns:
        return ("unknown_column", ", ".join(check.unknown_columns)), None
    return None, (normalize_tree(check.tree, ex.answer) if check.tree is not None else None)


def clean_examples(
    examples: Iterable[Example],
    *,
    check_sql: bool = True,
    dedup: bool = True,
    dialect: str | None = None,
    on_row: Callable[[int], None] | None = None,
) -> CleanResult:
    """Drop empty, broken and duplicate rows; see the module docstring for the rules."""
    result = CleanResult(kept=[])
    exact: dict[tuple[str, str, str], str] = {}
    normalized: dict[tuple[str, str], str] = {}
    for index, ex in enumerate(examples):
        reason = _reason(ex, check_sql, dedup, dialect, exact, normalized)
        if reason is None:
            result.kept.append(ex)
        else:
            result.dropped.append(DroppedRow(index, ex.id, reason[0], reason[1]))
        if on_row is not None:
            on_row(index)
    return result


def _reason(
    ex: Example,
    check_sql: bool,
    dedup: bool,
    dialect: str | None,
    exact: dict[tuple[str, str, str], str],
    normalized: dict[tuple[str, str], str],
) -> tuple[str, str] | None:
    empty = [n for n in ("question", "context", "answer") if not getattr(ex, n).strip()]
    if empty:
        return "empty", "empty " + ", ".join(empty)
    norm_sql: str | None = None
    if check_sql:
        bad, norm_sql = _sql_reason(ex, dialect)
        if bad is not None:
            return bad
    if not dedup:
        return None
    key = (ex.context.strip(), ex.question.strip(), ex.answer.strip())
    if key in exact:
        return "duplicate", f"same as row id {exact[key]}"
    nkey = (normalize_question(ex.question), norm_sql or normalize_sql(ex.answer, dialect))
    if nkey in normalized:
        return "normalized_duplicate", f"same as row id {normalized[nkey]}"
    exact[key] = ex.id
    normalized[nkey] = ex.id
    return None
