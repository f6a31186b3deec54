"""Schema model parsed from DDL text (ko_text2sql ``context``), and its SQLite form.

``parse_schema`` reads one or more ``CREATE TABLE`` statements in the MySQL or PostgreSQL flavour
(AUTO_INCREMENT, SERIAL/BIGSERIAL, ``TIMESTAMP WITH TIME ZONE``, ENUM, quoted identifiers, inline
and table-level keys, CHECK, COMMENT, ``CREATE INDEX`` lines, even ``CREATE TABLE t { ... };``
written with braces, SQLite's typeless columns) into typed dataclasses; SQLite's internal
``sqlite_*`` tables are skipped. Every column gets a normalized ``kind``:
``int, real, decimal, text, date, datetime, time, bool, json, blob``.

The dataclasses live in :mod:`kosql.data.schema_model` (re-exported here); ``to_sqlite_ddl`` writes
the schema back as SQLite DDL (:mod:`kosql.data.ddl_render`, the one CREATE TABLE renderer) and ``transpile_to_sqlite`` (implemented in
:mod:`kosql.data.transpile`) turns a MySQL/PostgreSQL query into SQLite.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp

from kosql.data.ddl_render import render_schema
from kosql.data.schema_model import Column, ForeignKey, Schema, Table, quote_ident, quote_literal
from kosql.errors import UserError

__all__ = ["KINDS", "READ_DIALECTS", "Column", "ForeignKey", "Schema", "SchemaError", "Table", "parse_schema",
           "quote_ident", "quote_literal", "to_sqlite_ddl", "transpile_to_sqlite"]

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its "falling back to Command" warnings are noise here

KINDS: tuple[str, ...] = ("int", "real", "decimal", "text", "date", "datetime", "time", "bool",
                          "json", "blob")
READ_DIALECTS: tuple[str | None, ...] = ("mysql", "postgres", None)

_T = exp.DataType.Type
_KIND_OF_TYPE: dict[str, str] = {}
for _names, _kind in (
    (("INT", "TINYINT", "SMALLINT", "MEDIUMINT", "BIGINT", "UINT", "UTINYINT", "USMALLINT",
      "UMEDIUMINT", "UBIGINT", "INT128", "INT256", "UINT128", "UINT256", "SERIAL", "BIGSERIAL",
      "SMALLSERIAL", "YEAR"), "int"),
    (("FLOAT", "DOUBLE", "UDOUBLE"), "real"),
    (("DECIMAL", "UDECIMAL", "BIGDECIMAL", "DECIMAL32", "DECIMAL64", "DECIMAL128", "DECIMAL256",
      "MONEY", "SMALLMONEY", "DECFLOAT"), "decimal"),
    (("DATE", "DATE32"), "date"),
    (("DATETIME", "DATETIME2", "DATETIME64", "SMALLDATETIME", "TIMESTAMP", "TIMESTAMPTZ",
      "TIMESTAMPLTZ", "TIMESTAMPNTZ", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"), "datetime"),
    (("TIME", "TIMETZ", "TIME_NS"), "time"),
    (("BOOLEAN", "BIT"), "bool"),
    (("JSON", "JSONB", "ARRAY", "MAP", "STRUCT", "OBJECT", "VARIANT", "HSTORE"), "json"),
    (("BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB", "BINARY", "VARBINARY", "IMAGE", "ROWVERSION"),
     "blob"),
):
    for _n in _names:
        _KIND_OF_TYPE[_n] = _kind
_SERIAL = {"SERIAL", "BIGSERIAL", "SMALLSERIAL"}


class SchemaError(UserError):
    """The DDL cannot be turned into a schema (one sentence naming the problem)."""


# ---------------------------------------------------------------------------------------------
# parsing


def _repair_braces(ddl: str) -> str:
    """``CREATE TABLE t { ... };`` (seen in the seed) -> ``CREATE TABLE t ( ... );``."""
    out = re.sub(r"(CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[^\s{(]+)\s*\{", r"\1 (", ddl,
                 flags=re.IGNORECASE)
    if out != ddl:
        out = re.sub(r"\}\s*(;|$)", r")\1", out, flags=re.MULTILINE)
    return out


def split_statements(text: str) -> list[str]:
    """Split SQL text on top-level ``;`` (quotes and comments respected); empty parts dropped."""
    parts: list[str] = []
    buf: list[str] = []
    i, n = 0, len(text)
    quote: str | None = None
    while i < n:
        ch = text[i]
        if quote:
            buf.append(ch)
            if ch == quote:
                if i + 1 < n and text[i + 1] == quote:
                    buf.append(text[i + 1])
                    i += 1
                else:
                    quote = None
            elif ch == "\\" and quote == "'" and i + 1 < n:
                buf.append(text[i + 1])
                i += 1
        elif ch in "'\"`":
            quote = ch
            buf.append(ch)
        elif ch == "-" and text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif ch == "#" and (i == 0 or text[i - 1] in "\n\r"):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif ch == "/" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        elif ch == ";":
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    parts.append("".join(buf))
    out: list[str] = []
    for part in parts:  # "CREATE TABLE a (...) CREATE TABLE b (...)" written without ';'
        out.extend(p for p in _CREATE_SPLIT.split(part) if p.strip())
    return [p.strip() for p in out if p.strip()]


_CREATE_SPLIT = re.compile(r"(?=\bCREATE\s+(?:TEMPORARY\s+|TEMP\s+)?(?:TABLE|TYPE|INDEX|UNIQUE\s+INDEX)\b)",
                           re.IGNORECASE)
_CREATE_TYPE_ENUM = re.compile(r"CREATE\s+TYPE\s+[\"`]?([\w.]+)[\"`]?\s+AS\s+ENUM\s*\(([^)]*)\)", re.IGNORECASE)


def _parse_statement(stmt: str, dialects: tuple[str | None, ...]) -> tuple[exp.Expr, str | None]:
    first_error: Exception | None = None
    for dialect in dialects:
        try:
            tree = sqlglot.parse_one(stmt, read=dialect)
        except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError) as err:
            first_error = first_error or err
            continue
        if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema):
            return tree, dialect
        if tree is not None and not isinstance(tree, exp.Command):
            return tree, dialect
    raise SchemaError(f"DDL does not parse near {_near(stmt, first_error)!r}.")


def _near(stmt: str, err: Exception | None) -> str:
    if isinstance(err, sqlglot.errors.ParseError) and err.errors:
        info = err.errors[0]
        highlight = str(info.get("highlight") or "").strip()
        if highlight:
            return highlight[:60]
    return " ".join(stmt.split())[:60]


def _ident(node: Any) -> str:
    if isinstance(node, (exp.Identifier, exp.Literal)):
        return str(node.this)
    if isinstance(node, exp.Column):
        return node.name
    if isinstance(node, exp.Expr):
        return node.name
    return str(node)


def _ref(reference: exp.Reference) -> tuple[str, list[str]]:
    target = reference.this
    if isinstance(target, exp.Schema):
        table = target.this
        cols = [_ident(c) for c in target.expressions]
    else:
        table, cols = target, []
    return (table.name if isinstance(table, exp.Table) else _ident(table)), cols


def _column(cdef: exp.ColumnDef, fks: list[ForeignKey]) -> Column:
    dtype = cdef.args.get("kind")
    type_name = dtype.this.name if isinstance(dtype, exp.DataType) else "TEXT"
    raw_type = dtype.sql() if isinstance(dtype, exp.DataType) else ""
    kind = _KIND_OF_TYPE.get(type_name, "text")
    enum_values: list[str] = []
    if isinstance(dtype, exp.DataType):
        params = [p.this if isinstance(p, exp.DataTypeParam) else p for p in dtype.expressions]
        if type_name in ("ENUM", "ENUM8", "ENUM16", "SET"):
            enum_values = [str(p.this) for p in params if isinstance(p, exp.Literal)]
        elif type_name == "TINYINT" and params and str(getattr(params[0], "this", "")) == "1":
            kind = "bool"
        elif type_name == "BIT" and params and str(getattr(params[0], "this", "1")) != "1":
            kind = "int"
    col = Column(name=_ident(cdef.this), raw_type=raw_type, kind=kind,
                 autoincrement=type_name in _SERIAL, enum_values=enum_values)
    for cons in cdef.args.get("constraints") or []:
        ck = cons.args.get("kind") if isinstance(cons, exp.ColumnConstraint) else cons
        if isinstance(ck, exp.PrimaryKeyColumnConstraint):
            col.primary_key = True
            col.nullable = False
        elif isinstance(ck, exp.NotNullColumnConstraint):
            col.nullable = bool(ck.args.get("allow_null"))
        elif isinstance(ck, exp.AutoIncrementColumnConstraint):
            col.autoincrement = True
        elif isinstance(ck, exp.GeneratedAsIdentityColumnConstraint):
            col.autoincrement = True
        elif isinstance(ck, exp.UniqueColumnConstraint):
            col.unique = True
        elif isinstance(ck, exp.DefaultColumnConstraint):
            col.default = ck.this.sql() if isinstance(ck.this, exp.Expr) else str(ck.this)
        elif isinstance(ck, exp.CommentColumnConstraint) and isinstance(ck.this, exp.Literal):
            col.comment = str(ck.this.this)
        elif isinstance(ck, exp.Reference):
            table, cols = _ref(ck)
            fks.append(ForeignKey([col.name], table, cols))
        elif isinstance(ck, exp.CheckColumnConstraint) and isinstance(ck.this, exp.In) and not col.enum_values:
            values = [e.this for e in ck.this.expressions if isinstance(e, exp.Literal) and e.is_string]
            if values and len(values) == len(ck.this.expressions):
                col.enum_values = [str(v) for v in values]
    return col


def _table_comment(create: exp.Create) -> str | None:
    props = create.args.get("properties")
    for prop in props.expressions if isinstance(props, exp.Properties) else []:
        if isinstance(prop, exp.SchemaCommentProperty) and isinstance(prop.this, exp.Literal):
            return str(prop.this.this)
    return None


def _table(create: exp.Create) -> Table:
    schema = create.this
    tnode = schema.this
    name = tnode.name if isinstance(tnode, exp.Table) else _ident(tnode)
    fks: list[ForeignKey] = []
    columns: list[Column] = []
    pk: list[str] = []
    uniques: list[list[str]] = []
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            columns.append(_column(item, fks))
        elif isinstance(item, exp.Identifier):  # a column declared without a type (SQLite allows it)
            columns.append(Column(name=_ident(item), raw_type="", kind="text"))
        elif isinstance(item, exp.PrimaryKey):
            pk = [_ident(e.this if isinstance(e, exp.Ordered) else e) for e in item.expressions]
        elif isinstance(item, exp.ForeignKey):
            ref = item.args.get("reference")
            if isinstance(ref, exp.Reference):
                rtable, rcols = _ref(ref)
                fks.append(ForeignKey([_ident(e) for e in item.expressions], rtable, rcols))
        elif isinstance(item, exp.UniqueColumnConstraint):
            target = item.this
            cols = [_ident(e) for e in target.expressions] if isinstance(target, exp.Schema) else []
            if cols:
                uniques.append(cols)
        elif isinstance(item, exp.Constraint):
            for sub in item.expressions:
                if isinstance(sub, exp.PrimaryKey):
                    pk = [_ident(e) for e in sub.expressions]
                elif isinstance(sub, exp.ForeignKey) and isinstance(sub.args.get("reference"), exp.Reference):
                    rtable, rcols = _ref(sub.args["reference"])
                    fks.append(ForeignKey([_ident(e) for e in sub.expressions], rtable, rcols))
    if not columns:
        raise SchemaError(f"table {name!r} has no columns.")
    table = Table(name=name, columns=columns, foreign_keys=fks, unique_sets=uniques,
                  comment=_table_comment(create))
    if not pk:
        pk = [c.name for c in columns if c.primary_key]
    pk = [c.name for p in pk if (c := table.column(p)) is not None]
    for p in pk:
        col = table.column(p)
        if col is not None:
            col.primary_key = True
            col.nullable = False
    table.primary_key = pk
    for cols in uniques:
        if len(cols) == 1 and (col := table.column(cols[0])) is not None:
            col.unique = True
    return table


def _dialect_order(text: str, dialect: str | None) -> tuple[str | None, ...]:
    if dialect:
        return (dialect,) + tuple(d for d in READ_DIALECTS if d != dialect)
    if '"' in text and "`" not in text:
        return ("postgres", "mysql", None)
    return READ_DIALECTS


def _is_internal(create: exp.Create) -> bool:
    """Whether ``create`` defines one of SQLite's internal tables (``sqlite_*``)."""
    tnode = create.this.this
    name = tnode.name if isinstance(tnode, exp.Table) else _ident(tnode)
    return name.lower().startswith("sqlite_")


@lru_cache(maxsize=1024)
def _parse_cached(ddl: str, dialect: str | None) -> Schema:
    text = _repair_braces(ddl)
    order = _dialect_order(text, dialect)
    tables: dict[str, Table] = {}
    used: list[str | None] = []
    enum_types = {m.group(1).split(".")[-1].lower(): re.findall(r"'((?:[^']|'')*)'", m.group(2))
                  for m in _CREATE_TYPE_ENUM.finditer(text)}
    for stmt in split_statements(text):
        head = " ".join(stmt.split()[:3]).upper()
        if not head.startswith("CREATE") or "TABLE" not in " ".join(stmt.split()[:6]).upper():
            continue  # CREATE INDEX, INSERT, comments, ... are ignored
        tree, used_dialect = _parse_statement(stmt, order)
        if not (isinstance(tree, exp.Create) and isinstance(tree.this, exp.Schema)):
            continue  # CREATE TABLE ... AS SELECT / LIKE: nothing to model
        if _is_internal(tree):
            continue  # SQLite's own sqlite_sequence / sqlite_stat1 ...: no user data
        table = _table(tree)
        for col in table.columns:
            if not col.enum_values and col.raw_type.lower() in enum_types:
                col.enum_values = list(enum_types[col.raw_type.lower()])
        used.append(used_dialect)
        if table.name.lower() not in {t.lower() for t in tables}:
            tables[table.name] = table
    if not tables:
        raise SchemaError("context has no CREATE TABLE statement.")
    main = max(set(used), key=used.count) if used else None
    return Schema(tables=tables, dialect=main)


def parse_schema(ddl: str, dialect: str | None = None) -> Schema:
    """Parse the CREATE TABLE statements in ``ddl``; raises :class:`SchemaError` on bad DDL."""
    if not ddl or not ddl.strip():
        raise SchemaError("context has no CREATE TABLE statement.")
    return _parse_cached(ddl, dialect)


# ---------------------------------------------------------------------------------------------
# SQLite DDL


def to_sqlite_ddl(schema: Schema) -> str:
    """SQLite DDL for ``schema`` (types by kind, keys kept, one statement per table;
    :func:`kosql.data.ddl_render.render_schema`, flavour ``sqlite``)."""
    return render_schema(schema, "sqlite")


def transpile_to_sqlite(sql: str, read: str | None = None) -> str:
    """MySQL/PostgreSQL ``sql`` -> SQLite (see :mod:`kosql.data.transpile`)."""
    from kosql.data.transpile import transpile_to_sqlite as _impl

    return _impl(sql, read=read)
