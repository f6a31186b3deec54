"""The schema exact match resolves columns with: a row's DDL (``context``) as a
:class:`kosql.sql.spider_match.SpiderSchema` (lower-cased names, foreign keys)."""

from __future__ import annotations

from functools import lru_cache

from kosql.data.schema import SchemaError, parse_schema
from kosql.sql.spider_match import SpiderSchema


@lru_cache(maxsize=1024)
def spider_schema_from_ddl(ddl: str) -> SpiderSchema | None:
    """The :class:`SpiderSchema` of a row's DDL (``context``), or None when it does not parse."""
    try:
        schema = parse_schema(ddl)
    except SchemaError:
        return None
    tables = tuple((t.name.lower(), tuple(c.name.lower() for c in t.columns)) for t in schema.tables.values())
    fks: list[tuple[str, str]] = []
    for t in schema.tables.values():
        for fk in t.foreign_keys:
            for col, ref in zip(fk.columns, fk.ref_columns, strict=False):
                fks.append((f"{t.name.lower()}.{col.lower()}", f"{fk.ref_table.lower()}.{ref.lower()}"))
    return SpiderSchema(tables=tables, foreign_keys=tuple(fks))
