"""A compact rendering of a schema for prompts: one ``CREATE TABLE`` line per table.

Column lengths, ``NOT NULL``, ``AUTO_INCREMENT`` and defaults go; names, base types, primary keys,
foreign keys (inline ``REFERENCES``), enum values and MySQL ``COMMENT`` texts (a column's or table's
Korean name in many Korean schemas) stay. The result is still valid SQL DDL, and a
typical 3-4 table context shrinks from ~300 to ~130 tokens, which makes training and generation
on CPU about twice as fast per row. Pure: text in, text out. The rendering is
:mod:`kosql.data.ddl_render`'s ``compact`` flavour.
"""

from __future__ import annotations

import functools

from kosql.data.ddl_render import render_table
from kosql.data.schema import SchemaError, Table, parse_schema


def compact_table(table: Table) -> str:
    """``CREATE TABLE name (col TYPE [PRIMARY KEY] [COMMENT 'x'] [REFERENCES t(c)], ...) [COMMENT='y'];``
    on one line (:func:`kosql.data.ddl_render.render_table`, flavour ``compact``)."""
    return render_table(table, "compact")


@functools.lru_cache(maxsize=4096)
def compact_ddl(ddl: str) -> str:
    """The compact rendering of ``ddl``; DDL that does not parse is returned unchanged."""
    try:
        schema = parse_schema(ddl)
    except SchemaError:
        return ddl
    return "\n".join(compact_table(t) for t in schema.tables.values())
