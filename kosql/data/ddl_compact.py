"""A compact rendering of a schema for prompts: one ``CREATE TABLE`` line per table.

Column lengths, ``NOT NULL``, ``AUTO_INCREMENT`` and defaults go; names, base types, primary keys,
foreign keys (inline ``REFERENCES``), enum values and MySQL ``COMMENT`` texts (a column's or table's
Korean name in many Korean schemas) stay. The result is still valid SQL DDL, and a
typical 3-4 table context shrinks from ~300 to ~130 tokens, which makes training and generation
on CPU about twice as fast per row. Pure: text in, text out.
"""

from __future__ import annotations

import functools
import re

from kosql.data.schema import Column, SchemaError, Table, parse_schema, quote_literal

_TYPE_NAME = re.compile(r"^[A-Za-z_ ]+")


def _base_type(col: Column) -> str:
    match = _TYPE_NAME.match(col.raw_type or "")
    return (match.group(0).strip() if match else col.kind.upper()) or "TEXT"


def _column(col: Column, table: Table, single_pk: bool) -> str:
    parts = [col.name, _base_type(col)]
    if col.enum_values:
        parts[-1] += "(" + ", ".join(quote_literal(v) for v in col.enum_values) + ")"
    if single_pk and col.primary_key:
        parts.append("PRIMARY KEY")
    if col.comment:
        parts.append("COMMENT " + quote_literal(col.comment))
    for fk in table.foreign_keys:
        if len(fk.columns) == 1 and fk.columns[0] == col.name:
            parts.append(f"REFERENCES {fk.ref_table}({', '.join(fk.ref_columns) or col.name})")
            break
    return " ".join(parts)


def compact_table(table: Table) -> str:
    """``CREATE TABLE name (col TYPE [PRIMARY KEY] [COMMENT 'x'] [REFERENCES t(c)], ...) [COMMENT='y'];``
    on one line."""
    single_pk = len(table.primary_key) == 1
    items = [_column(c, table, single_pk) for c in table.columns]
    if len(table.primary_key) > 1:
        items.append(f"PRIMARY KEY ({', '.join(table.primary_key)})")
    for fk in table.foreign_keys:
        if len(fk.columns) > 1:
            items.append(f"FOREIGN KEY ({', '.join(fk.columns)}) REFERENCES {fk.ref_table}({', '.join(fk.ref_columns)})")
    tail = f" COMMENT={quote_literal(table.comment)}" if table.comment else ""
    return f"CREATE TABLE {table.name} ({', '.join(items)}){tail};"



@functools.lru_cache(maxsize=4096)
def compact_ddl(ddl: str) -> str:
    """The compact rendering of ``ddl``; DDL that does not parse is returned unchanged."""
    try:
        schema = parse_schema(ddl)
    except SchemaError:
        return ddl
    return "\n".join(compact_table(t) for t in schema.tables.values())
