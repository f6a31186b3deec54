"""Rename the tables a SQL query reads (pure, on the sqlglot AST).

Used to score SQL written against one schema on another database with other table names: a
schema merged from several databases (``bench/table_selection.py`` merges the bundled domains
and prefixes a name two domains share, ``delivery_orders``) and each row's own database.
"""

from __future__ import annotations

from collections.abc import Mapping

import sqlglot
from sqlglot import exp

NOT_IN_MERGED = "__not_in_merged_schema"  # suffix that makes a name unknown on every database


def rename_tables(sql: str, mapping: Mapping[str, str], *, dialect: str = "sqlite") -> str:
    """``sql`` with each table whose name is a key of ``mapping`` (case-insensitive) renamed, and
    column qualifiers that name such a table (not an alias) too; CTE names and aliases are kept.

    Returns ``sql`` unchanged when nothing is renamed or sqlglot cannot parse it (one statement)."""
    low = {k.lower(): v for k, v in mapping.items() if k != v}
    if not low or not sql.strip():
        return sql
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.SqlglotError:
        return sql
    if tree is None:
        return sql
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    aliases = {t.alias.lower() for t in tree.find_all(exp.Table) if t.alias}
    aliases |= {s.alias.lower() for s in tree.find_all(exp.Subquery) if s.alias}
    changed = False
    for table in tree.find_all(exp.Table):
        new = low.get(table.name.lower())
        if new is not None and table.name.lower() not in ctes:
            table.set("this", exp.to_identifier(new, quoted=table.this.quoted))
            changed = True
    for column in tree.find_all(exp.Column):
        qual = column.table.lower()
        new = low.get(qual) if qual and qual not in aliases | ctes else None
        if new is not None:
            column.set("table", exp.to_identifier(new, quoted=column.args["table"].quoted))
            changed = True
    return tree.sql(dialect=dialect) if changed else sql


def merged_to_own(rename: Mapping[tuple[str, str], str], db_id: str) -> dict[str, str]:
    """The mapping from a merged schema's names back to database ``db_id``'s own names.

    ``rename`` maps (db_id, own table name) to the merged name. A merged name of ``db_id`` maps to
    its own name; an own name that the merged schema does not have (it was prefixed there) maps to a
    name no database has, so SQL that uses a table the prompt never showed fails, as it would have
    on the merged database. Names of other databases' tables are left alone (unknown on ``db_id``)."""
    merged_names = {m.lower() for m in rename.values()}
    out: dict[str, str] = {}
    for (db, own), merged in rename.items():
        if db != db_id:
            continue
        out[merged] = own
        if own.lower() not in merged_names:
            out[own] = own + NOT_IN_MERGED
    return out
