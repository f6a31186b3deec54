"""Check that the tables and columns an answer SQL references exist in the row's schema.

Names are compared case-insensitively. CTE names, derived-table aliases and ``SELECT ... AS``
aliases are not schema objects and are ignored; an unqualified column must belong to one of the
real tables the query reads (or be an output name of a CTE/derived table); a qualified column
``a.c`` is checked against the table behind alias ``a``. The answer is tried in the schema's
dialect first, then sqlglot's default, MySQL and PostgreSQL; the row is flagged only when no
reading is consistent with the schema (so MySQL ``"strings"`` are not taken for columns).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from kosql.data.schema import Schema
from kosql.sql.normalize import DEFAULT_DIALECTS, parse_statement


@dataclass
class RefCheck:
    """Outcome of :func:`check_references`."""

    parse_error: str | None = None
    unknown_tables: list[str] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    dialect: str | None = None
    tree: exp.Expr | None = None

    @property
    def parsed(self) -> bool:
        return self.parse_error is None

    @property
    def ok(self) -> bool:
        return self.parsed and not self.unknown_tables and not self.unknown_columns


def _dialects(schema_dialect: str | None, dialect: str | None) -> list[str | None]:
    if dialect:
        return [dialect]
    order: list[str | None] = [schema_dialect] if schema_dialect else []
    order += [d for d in DEFAULT_DIALECTS if d not in order]
    return order


def check_references(sql: str, schema: Schema, dialect: str | None = None) -> RefCheck:
    """Parse ``sql`` and list the tables/columns it names that ``schema`` lacks."""
    first: RefCheck | None = None
    first_error: str | None = None
    for d in _dialects(schema.dialect, dialect):
        parsed = parse_statement(sql, d)
        if parsed.tree is None:
            first_error = first_error or parsed.error
            continue
        result = references_in_tree(parsed.tree, schema)
        result.dialect = d
        result.tree = parsed.tree
        if result.ok:
            return result
        first = first or result
    if first is not None:
        return first
    return RefCheck(parse_error=first_error or "does not parse")


def _lower_set(names: list[str]) -> set[str]:
    return {n.lower() for n in names}


def references_in_tree(tree: exp.Expr, schema: Schema) -> RefCheck:
    """Unknown tables/columns of an already parsed statement."""
    result = RefCheck()
    known_tables = {t.lower(): t for t in schema.table_names()}
    cte_names = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    derived: set[str] = set()
    for sub in tree.find_all(exp.Subquery):
        if sub.alias:
            derived.add(sub.alias.lower())
    # alias/table name -> real table (lower-case)
    alias_map: dict[str, str] = {}
    used_tables: set[str] = set()
    for table in tree.find_all(exp.Table):
        name = table.name
        if not name or not isinstance(table.this, exp.Identifier):
            continue  # table functions, e.g. FROM generate_series(...)
        low = name.lower()
        if low in cte_names:
            continue
        if low not in known_tables:
            if name not in result.unknown_tables:
                result.unknown_tables.append(name)
            continue
        used_tables.add(low)
        alias_map[low] = low
        if table.alias:
            alias_map[table.alias.lower()] = low
    # output names that unqualified columns may legitimately refer to
    outputs: set[str] = set()
    opaque = False
    for alias in tree.find_all(exp.Alias):
        outputs.add(alias.alias.lower())
    for ta in tree.find_all(exp.TableAlias):
        outputs |= {c.name.lower() for c in ta.columns}
    for node in [*tree.find_all(exp.CTE), *tree.find_all(exp.Subquery)]:
        inner = node.this
        if isinstance(inner, exp.Query):
            for proj in inner.selects:
                if isinstance(proj, exp.Star) or (isinstance(proj, exp.Column) and isinstance(proj.this, exp.Star)):
                    opaque = True
                outputs.add(proj.alias_or_name.lower())
    unknown_source = bool(result.unknown_tables)
    table_columns = {t: _lower_set(schema.columns_of(known_tables[t])) for t in used_tables}
    all_used_columns = set().union(*table_columns.values()) if table_columns else set()

    def unknown(text: str) -> None:
        if text not in result.unknown_columns:
            result.unknown_columns.append(text)

    for col in tree.find_all(exp.Column):
        if isinstance(col.this, exp.Star) or not col.name:
            continue
        name = col.name.lower()
        qualifier = col.table.lower() if col.table else ""
        if qualifier:
            if qualifier in alias_map:
                if name not in table_columns[alias_map[qualifier]]:
                    unknown(f"{col.table}.{col.name}")
            elif qualifier in cte_names or qualifier in derived:
                continue
            elif col.table not in result.unknown_tables:
                result.unknown_tables.append(col.table)
            continue
        if name in all_used_columns or name in outputs or opaque or unknown_source:
            continue  # an unqualified column may belong to an unknown table: report the table only
        unknown(col.name)
    # INSERT INTO t (a, b): the column list is a Schema of identifiers, not Columns
    for target_schema in tree.find_all(exp.Schema):
        target = target_schema.this
        if isinstance(target, exp.Table) and target.name.lower() in table_columns:
            cols = table_columns[target.name.lower()]
            for ident in target_schema.expressions:
                if isinstance(ident, exp.Identifier) and ident.name.lower() not in cols:
                    unknown(ident.name)
    return result
