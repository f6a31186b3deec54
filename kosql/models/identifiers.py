"""Identifier repair of generated SQL: names that need quotes (Korean with spaces, punctuation, capitals)
written bare by the model are quoted and respelled as the row's schema has them
(:func:`kosql.sql.quote_repair.repair_identifiers`), but only when the SQL as written does not compile
against the schema and the repaired SQL does (:func:`kosql.db.check.schema_error`), so a working query
is never touched. The model's own SQL stays in the row as ``unrepaired``."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from kosql.data.rows import Example


@lru_cache(maxsize=256)
def _names(ddl: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    from kosql.data.schema import parse_schema
    from kosql.errors import UserError

    try:
        schema = parse_schema(ddl)
    except (UserError, ValueError):
        return ()
    return tuple((name, tuple(c.name for c in t.columns)) for name, t in schema.tables.items())


def repair_sql(sql: str, ddl: str) -> str | None:
    """The repaired SQL when it fixes a query that does not compile against ``ddl``, else None."""
    from kosql.db.check import schema_error
    from kosql.sql.quote_repair import repair_identifiers

    names = _names(ddl)
    if not sql.strip() or not names or schema_error(sql, ddl) is None:
        return None
    fixed = repair_identifiers(sql, {t: list(cols) for t, cols in names})
    return fixed if fixed != sql and schema_error(fixed, ddl) is None else None


def repair_rows_identifiers(rows: list[dict[str, Any]], examples: Sequence[Example]) -> int:
    """Repair each row's ``pred`` in place (see the module docstring); returns how many changed."""
    changed = 0
    for row, ex in zip(rows, examples, strict=True):
        if row.get("status") == "failed" or not ex.context:
            continue
        fixed = repair_sql(str(row.get("pred") or ""), ex.context)
        if fixed is not None:
            row["unrepaired"], row["pred"] = row["pred"], fixed
            changed += 1
    return changed
