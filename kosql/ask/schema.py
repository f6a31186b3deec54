"""Read a live database's schema (SQLAlchemy inspection) and render it as the DDL kosql trains on.

:func:`inspect_schema` returns a :class:`kosql.data.schema.Schema` (tables, columns, types,
primary and foreign keys, table and column comments). :func:`render_ddl` writes it in the
MySQL flavour of the training data (``COMMENT '...'`` after a column, ``COMMENT='...'`` after a
table), so a model fine-tuned on the bundled dataset sees what it was trained on.
SQLite stores no comments; :func:`merge_comments` copies them from a DDL file of the same tables.
"""

from __future__ import annotations

from typing import Any

from kosql.data import ddl_render
from kosql.data.schema import Column, ForeignKey, Schema, Table, parse_schema
from kosql.errors import UserError

_TYPE_NAMES = {"INTEGER": "INT", "DOUBLE PRECISION": "DOUBLE", "CHARACTER VARYING": "VARCHAR",
               "TIMESTAMP WITHOUT TIME ZONE": "DATETIME", "TIMESTAMP": "DATETIME"}


def _kind(type_name: str) -> str:
    try:
        from kosql.data.schema import _KIND_OF_TYPE
    except ImportError:  # pragma: no cover
        return "text"
    base = type_name.split("(")[0].strip().upper()
    return _KIND_OF_TYPE.get(base, "text")


def _type_text(sa_type: Any) -> str:
    try:
        text = str(sa_type.compile())
    except Exception:  # a type SQLAlchemy cannot compile without a dialect
        text = type(sa_type).__name__.upper()
    base, paren, rest = text.partition("(")
    return _TYPE_NAMES.get(base.strip().upper(), base.strip().upper()) + (paren + rest if paren else "")


def inspect_schema(engine: Any, *, schema_name: str | None = None) -> Schema:
    """The tables of ``engine``'s database (views excluded), in the database's order."""
    from sqlalchemy import inspect

    insp = inspect(engine)
    tables: dict[str, Table] = {}
    for name in insp.get_table_names(schema=schema_name):
        tables[name] = _table(insp, name, schema_name)
    return Schema(tables=tables, dialect=engine.dialect.name)


def _table(insp: Any, name: str, schema_name: str | None) -> Table:
    pk = list(insp.get_pk_constraint(name, schema=schema_name).get("constrained_columns") or [])
    columns = []
    for col in insp.get_columns(name, schema=schema_name):
        type_text = _type_text(col["type"])
        columns.append(Column(name=col["name"], raw_type=type_text, kind=_kind(type_text),
                              nullable=bool(col.get("nullable", True)), primary_key=col["name"] in pk,
                              comment=col.get("comment") or None))
    fks = [ForeignKey(columns=list(fk["constrained_columns"]), ref_table=fk["referred_table"],
                      ref_columns=list(fk["referred_columns"]))
           for fk in insp.get_foreign_keys(name, schema=schema_name) if fk.get("referred_table")]
    try:
        comment = insp.get_table_comment(name, schema=schema_name).get("text") or None
    except NotImplementedError:  # SQLite
        comment = None
    return Table(name=name, columns=columns, primary_key=pk, foreign_keys=fks, comment=comment)


def render_table(table: Table) -> str:
    """One ``CREATE TABLE`` statement for ``table`` in the training data's flavour
    (:func:`kosql.data.ddl_render.render_table`, flavour ``prompt``)."""
    return ddl_render.render_table(table, "prompt")


def render_ddl(schema: Schema, tables: list[str] | None = None) -> str:
    """DDL of ``tables`` (all tables when None), one statement per table, newline separated."""
    return ddl_render.render_schema(schema, "prompt", tables)


def merge_comments(schema: Schema, ddl: str) -> int:
    """Copy table and column comments from ``ddl`` (CREATE TABLE text with COMMENTs) into
    ``schema`` where it has none; returns how many comments were copied."""
    try:
        source = parse_schema(ddl)
    except UserError as exc:
        raise UserError(f"the comments file is not valid DDL: {exc}") from None
    copied = 0
    for table in schema.tables.values():
        src = source.table(table.name)
        if src is None:
            continue
        if src.comment and not table.comment:
            table.comment = src.comment
            copied += 1
        for col in table.columns:
            scol = src.column(col.name)
            if scol is not None and scol.comment and not col.comment:
                col.comment = scol.comment
                copied += 1
    return copied


def schema_columns(schema: Schema) -> dict[str, list[str]]:
    """table -> column names (what :func:`kosql.sql.guard.check_sql` takes as ``schema``)."""
    return {name: t.column_names() for name, t in schema.tables.items()}
