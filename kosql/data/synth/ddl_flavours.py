"""One generated table as MySQL, PostgreSQL or SQLite DDL, with or without Korean comments.

- MySQL: backticks where a name needs quotes, ``AUTO_INCREMENT``, ``COMMENT '…'`` / ``COMMENT='…'``;
- PostgreSQL: double quotes (also for names with capitals), ``SERIAL`` or ``GENERATED … AS IDENTITY``,
  ``REFERENCES`` inline, ``COMMENT ON TABLE/COLUMN`` statements;
- SQLite: double quotes, ``INTEGER PRIMARY KEY``, ``-- 한국어`` line comments.

A foreign key is written only when the schema declares its keys and the referenced table is in the
same DDL (a per-question context may hold only some tables). Spreadsheet tables come out the way
such exports look: every column TEXT, often on one line.
"""

from __future__ import annotations

import random

from kosql.data.schema import quote_literal
from kosql.data.synth.anyschema import GCol, GSchema, GTable
from kosql.sql.quote_repair import needs_quotes, quote_ident

_TYPES = {
    "mysql": {"INT": "INT", "DECIMAL": "DECIMAL(10,2)", "DATE": "DATE", "DATETIME": "DATETIME",
              "BOOLEAN": "BOOLEAN", "TEXT": "TEXT"},
    "postgres": {"INT": "INTEGER", "DECIMAL": "NUMERIC(10,2)", "DATE": "DATE", "DATETIME": "TIMESTAMP",
                 "BOOLEAN": "BOOLEAN", "TEXT": "TEXT"},
    "sqlite": {"INT": "INTEGER", "DECIMAL": "REAL", "DATE": "DATE", "DATETIME": "DATETIME",
               "BOOLEAN": "INTEGER", "TEXT": "TEXT"},
}


def ident(name: str, flavour: str) -> str:
    if flavour == "mysql":
        return f"`{name}`" if needs_quotes(name) else name
    return quote_ident(name, "postgres" if flavour == "postgres" else None)


def _type(col: GCol, flavour: str, rng: random.Random) -> str:
    base = col.type.split("(")[0].upper()
    if base == "VARCHAR":
        if flavour == "sqlite" or (flavour == "postgres" and rng.random() < 0.4):
            return "TEXT"
        return col.type
    if base == "INT" and flavour != "sqlite" and rng.random() < 0.15:
        return "BIGINT"
    return _TYPES[flavour].get(base, "TEXT")


def _pk(col: GCol, flavour: str, rng: random.Random) -> str:
    name = ident(col.name, flavour)
    if flavour == "mysql":
        return f"{name} INT PRIMARY KEY" + (" AUTO_INCREMENT" if rng.random() < 0.7 else "")
    if flavour == "postgres":
        return rng.choice((f"{name} SERIAL PRIMARY KEY", f"{name} INTEGER PRIMARY KEY",
                           f"{name} INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY"))
    return f"{name} INTEGER PRIMARY KEY"


def render_table(gs: GSchema, table: GTable, keys: set[str], comments: bool) -> str:
    """The CREATE TABLE text of ``table`` (the same text in every context that holds it)."""
    rng = random.Random(f"kosql-ddl:{gs.db_id}:{table.key}")
    fl = gs.flavour
    not_null = rng.random() < 0.5
    if gs.spreadsheet and rng.random() < 0.6:
        cols = ", ".join(f"{ident(c.name, fl)} TEXT" for c in table.columns)
        return f"CREATE TABLE {ident(table.name, fl)} ({cols});"
    lines: list[str] = []
    notes: list[str] = []
    tails: list[str] = []
    for col in table.columns:
        if col.pk and not gs.spreadsheet:
            text = _pk(col, fl, rng)
        else:
            text = f"{ident(col.name, fl)} {_type(col, fl, rng)}"
            if not_null and col.null == 0 and not col.fk and not gs.spreadsheet:
                text += " NOT NULL"
        parent = gs.table(col.fk) if col.fk and table.declared_fks and col.fk in keys else None
        if parent is not None:
            ref = f"{ident(parent.name, fl)}({ident(parent.columns[0].name, fl)})"
            if fl == "mysql":
                tails.append(f"FOREIGN KEY ({ident(col.name, fl)}) REFERENCES {ref}")
            else:
                text += f" REFERENCES {ref}"
        if comments and col.ko != col.name:
            if fl == "mysql":
                text += f" COMMENT {quote_literal(col.ko)}"
            elif fl == "postgres":
                notes.append(f"COMMENT ON COLUMN {ident(table.name, fl)}.{ident(col.name, fl)} IS {quote_literal(col.ko)};")
        lines.append(text)
    lines += tails
    body = []
    for i, text in enumerate(lines):
        sep = "," if i < len(lines) - 1 else ""
        owner = table.columns[i] if i < len(table.columns) else None
        if comments and fl == "sqlite" and owner is not None and owner.ko != owner.name:
            body.append(f"  {text}{sep} -- {owner.ko}")
        else:
            body.append(f"  {text}{sep}")
    tail = f" COMMENT={quote_literal(table.ko)}" if comments and fl == "mysql" else ""
    out = f"CREATE TABLE {ident(table.name, fl)} (\n" + "\n".join(body) + f"\n){tail};"
    if comments and fl == "postgres":
        notes.insert(0, f"COMMENT ON TABLE {ident(table.name, fl)} IS {quote_literal(table.ko)};")
        out += "\n" + "\n".join(notes)
    if comments and fl == "sqlite":
        out = f"-- {table.ko}\n" + out
    return out


def render_ddl(gs: GSchema, tables: list[GTable] | None = None, *, comments: bool | None = None) -> str:
    """CREATE TABLE statements of ``tables`` (default: all) in the schema's flavour."""
    comments = gs.comments if comments is None else comments
    chosen = gs.tables if tables is None else tables
    keys = {t.key for t in chosen}
    return "\n\n".join(render_table(gs, t, keys, comments) for t in chosen)
