"""The one renderer of a schema as ``CREATE TABLE`` text, in three flavours.

* ``prompt``: the MySQL flavour of the training data, one column a line (``COMMENT '...'`` after a
  column, ``COMMENT='...'`` after a table, types as declared, ``NOT NULL``, every foreign key as a
  ``FOREIGN KEY`` clause, identifiers quoted only where they must be). What ``kosql ask`` shows the
  model of a live database (:func:`kosql.ask.schema.render_ddl`).
* ``compact``: the ``compact`` prompt format's one line per table (:mod:`kosql.data.ddl_compact`):
  base types without lengths, enum values, one-column foreign keys as inline ``REFERENCES``, no
  ``NOT NULL``; comments kept.
* ``sqlite``: SQLite DDL to build a database (:func:`kosql.data.schema.to_sqlite_ddl`): types by
  kind, an INTEGER primary key inline (the rowid), ``NOT NULL``, ``UNIQUE``, foreign keys only to
  tables of the schema, every identifier quoted, no comments.

Pure: dataclasses in, text out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from kosql.data.schema_model import Column, ForeignKey, Schema, Table, quote_ident, quote_literal

SQLITE_TYPES = {"int": "INTEGER", "real": "REAL", "decimal": "NUMERIC", "text": "TEXT", "date": "TEXT",
                "datetime": "TEXT", "time": "TEXT", "bool": "INTEGER", "json": "TEXT", "blob": "BLOB"}
_SIMPLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TYPE_NAME = re.compile(r"^[A-Za-z_ ]+")


@dataclass(frozen=True)
class DdlFlavour:
    """How :func:`render_table` writes a table (see the module docstring for the three flavours)."""

    quote: str  # identifiers in double quotes: "always" | "needed" (not a plain ASCII word) | "never"
    types: str  # "declared" (as written) | "base" (without length or parameters) | "sqlite" (by kind)
    inline_key: str  # a one-column primary key after its column: "any" | "int" (only an INTEGER one)
    not_null: bool = True
    unique: bool = False
    comments: bool = True
    enum_values: bool = False  # ENUM('a', 'b') after a base type
    references: str = "clauses"  # "clauses" (every FK) | "inline" (one-column FKs after the column) |
    #                              "known" (FOREIGN KEY clauses to tables of the schema only)
    one_line: bool = False


FLAVOURS: dict[str, DdlFlavour] = {
    "prompt": DdlFlavour(quote="needed", types="declared", inline_key="any"),
    "compact": DdlFlavour(quote="never", types="base", inline_key="any", not_null=False, enum_values=True,
                          references="inline", one_line=True),
    "sqlite": DdlFlavour(quote="always", types="sqlite", inline_key="int", unique=True, comments=False,
                         references="known"),
}


def _quoter(flavour: DdlFlavour) -> Callable[[str], str]:
    if flavour.quote == "always":
        return quote_ident
    if flavour.quote == "needed":
        return lambda name: name if _SIMPLE.match(name) else quote_ident(name)
    return lambda name: name


def _type(col: Column, flavour: DdlFlavour) -> str:
    if flavour.types == "sqlite":
        return SQLITE_TYPES.get(col.kind, "TEXT")
    if flavour.types == "base":
        match = _TYPE_NAME.match(col.raw_type or "")
        text = (match.group(0).strip() if match else col.kind.upper()) or "TEXT"
    else:
        text = col.raw_type or col.kind.upper()
    if flavour.enum_values and col.enum_values:
        text += "(" + ", ".join(quote_literal(v) for v in col.enum_values) + ")"
    return text


def _inline_key(table: Table, flavour: DdlFlavour) -> str | None:
    """The column whose PRIMARY KEY is written after it, or None (a table-level PRIMARY KEY, or none)."""
    if len(table.primary_key) != 1:
        return None
    if flavour.inline_key == "int" and ((c := table.column(table.primary_key[0])) is None or c.kind != "int"):
        return None
    return table.primary_key[0]


def _column(col: Column, table: Table, key: str | None, flavour: DdlFlavour) -> str:
    q = _quoter(flavour)
    parts = [q(col.name), _type(col, flavour)]
    if col.name == key:
        parts.append("PRIMARY KEY")
    elif flavour.not_null and not col.nullable:
        parts.append("NOT NULL")
    if flavour.unique and col.unique and not col.primary_key:
        parts.append("UNIQUE")
    if flavour.comments and col.comment:
        parts.append("COMMENT " + quote_literal(col.comment))
    if flavour.references == "inline":
        fk = next((f for f in table.foreign_keys if len(f.columns) == 1 and f.columns[0] == col.name), None)
        if fk is not None:
            parts.append(f"REFERENCES {q(fk.ref_table)}({', '.join(map(q, fk.ref_columns)) or q(col.name)})")
    return " ".join(parts)


def _foreign_key(fk: ForeignKey, schema: Schema | None, flavour: DdlFlavour) -> str | None:
    q = _quoter(flavour)
    cols = ", ".join(map(q, fk.columns))
    if flavour.references == "inline" and len(fk.columns) == 1:
        return None  # written after its column
    if flavour.references == "known":  # to a table of the schema, by its own spelling
        ref = schema.table(fk.ref_table) if schema is not None else None
        if ref is None or not fk.ref_columns:
            return None
        return f"FOREIGN KEY ({cols}) REFERENCES {q(ref.name)} ({', '.join(map(q, fk.ref_columns))})"
    return f"FOREIGN KEY ({cols}) REFERENCES {q(fk.ref_table)}({', '.join(map(q, fk.ref_columns))})"


def render_table(table: Table, flavour: str = "prompt", schema: Schema | None = None) -> str:
    """One ``CREATE TABLE`` statement for ``table`` in ``flavour`` (``prompt``, ``compact`` or
    ``sqlite``); ``schema`` (the table's schema) decides which foreign keys the sqlite flavour keeps."""
    style = FLAVOURS[flavour]
    q = _quoter(style)
    key = _inline_key(table, style)
    items = [_column(c, table, key, style) for c in table.columns]
    if table.primary_key and key is None:
        items.append("PRIMARY KEY (" + ", ".join(map(q, table.primary_key)) + ")")
    items += [fk for f in table.foreign_keys if (fk := _foreign_key(f, schema, style)) is not None]
    tail = f" COMMENT={quote_literal(table.comment)}" if style.comments and table.comment else ""
    body = ", ".join(items) if style.one_line else "\n  " + ",\n  ".join(items) + "\n"
    return f"CREATE TABLE {q(table.name)} ({body}){tail};"


def render_schema(schema: Schema, flavour: str = "prompt", tables: list[str] | None = None) -> str:
    """``tables`` of ``schema`` (all, in order, when None; unknown names skipped), one statement each,
    newline separated."""
    names = list(schema.tables) if tables is None else tables
    return "\n".join(render_table(schema.tables[n], flavour, schema) for n in names if n in schema.tables)
