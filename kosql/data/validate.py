"""Row-by-row checks of a Text2SQL dataset (pure: Examples in, a report out).

Checks, each a problem ``kind``:

- ``empty_field``: db_id, context, question or answer is empty;
- ``duplicate_id``: the id was already used by an earlier row;
- ``ddl_unparsable``: the context (DDL) does not parse into a schema;
- ``sql_unparsable``: the answer is not exactly one SQL statement that sqlglot parses;
- ``unknown_table`` / ``unknown_column``: the answer names a table/column missing from the DDL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from kosql.data.refs import RefCheck, check_references
from kosql.data.rows import Example
from kosql.data.schema import Schema, parse_schema
from kosql.errors import UserError

PROBLEM_KINDS: tuple[str, ...] = ("empty_field", "duplicate_id", "ddl_unparsable", "sql_unparsable",
                                  "unknown_table", "unknown_column")
REQUIRED_FIELDS: tuple[str, ...] = ("db_id", "context", "question", "answer")


@dataclass(frozen=True)
class Problem:
    """One problem found in one row (``index`` is 0-based, ``row`` 1-based for people)."""

    index: int
    id: str
    column: str
    kind: str
    message: str

    @property
    def row(self) -> int:
        return self.index + 1

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["row"] = self.row
        return out


@dataclass
class ValidationReport:
    rows: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Problems per kind, in :data:`PROBLEM_KINDS` order, zero counts included."""
        c = Counter(p.kind for p in self.problems)
        return {k: c.get(k, 0) for k in PROBLEM_KINDS}

    @property
    def bad_rows(self) -> int:
        return len({p.index for p in self.problems})

    @property
    def ok(self) -> bool:
        return not self.problems


def try_schema(ddl: str) -> tuple[Schema | None, str | None]:
    """``parse_schema`` that returns ``(schema, None)`` or ``(None, error sentence)``."""
    try:
        return parse_schema(ddl), None
    except UserError as exc:
        return None, str(exc).rstrip(".")


def sql_problems(ex: Example, index: int, dialect: str | None = None) -> list[Problem]:
    """DDL, SQL-parse and reference problems of one row with non-empty context and answer."""
    schema, error = try_schema(ex.context)
    if schema is None:
        from kosql.sql.normalize import parse_sql

        out = [Problem(index, ex.id, "context", "ddl_unparsable", f"the DDL does not parse: {error}.")]
        parsed = parse_sql(ex.answer, dialect)
        if not parsed.ok:
            out.append(Problem(index, ex.id, "answer", "sql_unparsable", f"the answer SQL {parsed.error}."))
        return out
    return ref_problems(check_references(ex.answer, schema, dialect), ex, index)


def ref_problems(check: RefCheck, ex: Example, index: int) -> list[Problem]:
    if check.parse_error is not None:
        return [Problem(index, ex.id, "answer", "sql_unparsable", f"the answer SQL {check.parse_error}.")]
    out = []
    for name in check.unknown_tables:
        out.append(Problem(index, ex.id, "answer", "unknown_table",
                           f"the answer uses table {name!r}, which the DDL does not define."))
    for name in check.unknown_columns:
        out.append(Problem(index, ex.id, "answer", "unknown_column",
                           f"the answer uses column {name!r}, which the DDL does not define."))
    return out


def validate_examples(
    examples: Iterable[Example],
    *,
    dialect: str | None = None,
    on_row: Callable[[int], None] | None = None,
) -> ValidationReport:
    """Check every row; ``on_row(i)`` is called after each row (for progress bars)."""
    problems: list[Problem] = []
    seen_ids: dict[str, int] = {}
    n = 0
    for index, ex in enumerate(examples):
        n += 1
        for name in REQUIRED_FIELDS:
            if not str(getattr(ex, name)).strip():
                problems.append(Problem(index, ex.id, name, "empty_field", f"the {name} is empty."))
        if ex.id in seen_ids:
            problems.append(Problem(index, ex.id, "id", "duplicate_id",
                                    f"the id {ex.id!r} is already used by row {seen_ids[ex.id] + 1}."))
        else:
            seen_ids[ex.id] = index
        if ex.context.strip() and ex.answer.strip():
            problems.extend(sql_problems(ex, index, dialect))
        if on_row is not None:
            on_row(index)
    return ValidationReport(rows=n, problems=problems)
