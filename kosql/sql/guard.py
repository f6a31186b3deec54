"""The SQL guard: decide on the sqlglot AST whether a statement may run, and what exactly runs.

:func:`check_sql` parses one statement and refuses it unless all of these hold:

- exactly one statement, whose root is a ``SELECT`` or a set operation (``UNION`` ...);
- no write or control node anywhere (``INSERT/UPDATE/DELETE/MERGE`` inside a CTE too, DDL,
  ``SELECT ... INTO``, ``FOR UPDATE`` locks), and no ``Command`` node: what sqlglot cannot parse
  fully (``EXPLAIN ANALYZE``, ``VACUUM``, ``SHOW`` ...) is refused, as are PRAGMA, ATTACH, COPY, SET;
- every function is on the allow-list (:mod:`kosql.sql.guard_functions`);
- every table is allowed by the policy (and known, when a schema is given; system catalogs never);
- no denied column is read anywhere (select list, WHERE, ORDER BY, subqueries, through an alias, a
  whole-row reference or ``*``): ``*`` over a table with a denied column is refused or expanded
  without it (``Policy.star``).

The SQL that runs (:attr:`Verdict.sql`) is re-emitted from the checked AST, with ``LIMIT`` added or
lowered to ``Policy.max_rows``. Pure: no I/O except :func:`load_policy`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.scope import Scope, traverse_scope

from kosql.errors import UserError
from kosql.sql.guard_functions import ALLOWED_FUNCTION_CLASSES, ALLOWED_FUNCTION_NAMES, NEVER_ALLOWED

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" is a refusal here

# Write, DDL and control nodes: refused wherever they appear in the tree.
_FORBIDDEN_NODES: tuple[type[exp.Expr], ...] = tuple(
    getattr(exp, name) for name in (
        "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "TruncateTable", "Command",
        "Pragma", "Attach", "Detach", "Copy", "Set", "SetItem", "Into", "Lock", "Grant", "Revoke",
        "Transaction", "Commit", "Rollback", "Use", "LoadData", "Analyze", "Describe", "Refresh",
        "Cache", "Uncache", "Kill", "Summarize", "Execute", "Declare",
    ) if hasattr(exp, name)
)
_SYSTEM_PREFIXES = ("pg_", "sqlite_")
_SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "sqlite_master", "sqlite_temp_master",
                             "mysql", "performance_schema", "sys"})

SchemaColumns = dict[str, list[str]]  # table name -> column names


@dataclass
class Policy:
    """What a question may read, and how much. Loaded from YAML by :func:`load_policy`."""

    allowed_tables: list[str] = field(default_factory=list, metadata={
        "help": "Tables a query may read; empty = every table not denied."})
    denied_tables: list[str] = field(default_factory=list, metadata={
        "help": "Tables a query may never read."})
    denied_columns: list[str] = field(default_factory=list, metadata={
        "help": "Columns never read: 'table.column', or 'column' for that name in every table."})
    star: Literal["refuse", "expand"] = field(default="refuse", metadata={
        "help": "'*' over a table with a denied column: refuse the query, or expand '*' without it."})
    max_rows: int = field(default=100, metadata={"help": "Most rows returned (LIMIT added or lowered).",
                                                 "min": 1, "max": 1_000_000})
    time_limit: float = field(default=5.0, metadata={"help": "Seconds a query may run.", "min": 0.01,
                                                     "max": 3600})
    max_cost: float = field(default=1_000_000.0, metadata={
        "help": "PostgreSQL: largest EXPLAIN total cost run without --allow-expensive.", "min": 0})
    max_plan_rows: float = field(default=10_000_000.0, metadata={
        "help": "Largest estimated row count (PostgreSQL plan rows; SQLite product of full scans).",
        "min": 0})
    large_table_rows: int = field(default=100_000, metadata={
        "help": "A full/sequential scan of a table with more rows than this is flagged.", "min": 0})
    refuse_large_scans: bool = field(default=False, metadata={
        "help": "Treat a flagged full scan of a large table as over budget (not just a note)."})
    extra_functions: list[str] = field(default_factory=list, metadata={
        "help": "Function names to allow besides the built-in allow-list (never set_config, pg_sleep...)."})

    def is_denied_column(self, table: str | None, column: str) -> bool:
        col = column.lower()
        for entry in self.denied_columns:
            t, _, c = entry.lower().rpartition(".")
            if c == col and (not t or t == "*" or (table is not None and t == table.lower())):
                return True
        return False

    def denied_in(self, table: str, columns: list[str] | None) -> list[str]:
        """Denied columns of ``table`` (from its ``columns`` when known, else the policy's entries)."""
        if columns is not None:
            return [c for c in columns if self.is_denied_column(table, c)]
        out = []
        for entry in self.denied_columns:
            t, _, c = entry.rpartition(".")
            if not t or t == "*" or t.lower() == table.lower():
                out.append(c)
        return out


@dataclass
class Verdict:
    """The guard's decision on one statement."""

    allowed: bool
    reason: str  # one sentence; "" when allowed
    sql: str  # the SQL that would run (re-emitted, LIMIT applied); "" when refused
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"allowed": self.allowed, "reason": self.reason, "sql": self.sql, "notes": list(self.notes)}


class Refused(Exception):
    """Raised inside the checks; becomes a refusing :class:`Verdict`."""


def load_policy(path: str | Path | None, overrides: list[str] | None = None) -> Policy:
    """The policy in YAML file ``path`` (None = the built-in default policy), validated."""
    from kosql.config import load_config

    return load_config(Policy, path if path is not None else default_policy_path(), overrides)


def default_policy_path() -> Path:
    """The default policy shipped with kosql (kosql/configs/policies/default.yaml)."""
    return Path(__file__).resolve().parent.parent / "configs" / "policies" / "default.yaml"


def check_policy_tables(policy: Policy, schema: SchemaColumns) -> None:
    """Raise UserError when the policy names a table (or table.column) the database lacks."""
    known = {t.lower(): cols for t, cols in schema.items()}
    for field_name in ("allowed_tables", "denied_tables"):
        for name in getattr(policy, field_name):
            if name.lower() not in known:
                raise UserError(f"policy {field_name}: the database has no table '{name}'.")
    for entry in policy.denied_columns:
        t, _, c = entry.rpartition(".")
        if t and t != "*":
            if t.lower() not in known:
                raise UserError(f"policy denied_columns: the database has no table '{t}' (in '{entry}').")
            if c.lower() not in {x.lower() for x in known[t.lower()]}:
                raise UserError(f"policy denied_columns: table '{t}' has no column '{c}'.")


def check_sql(sql: str, policy: Policy, *, dialect: str | None = None,
              schema: SchemaColumns | None = None) -> Verdict:
    """Check one statement against ``policy`` (see the module docstring); never raises for bad SQL."""
    try:
        tree = _parse_one(sql, dialect)
        notes: list[str] = []
        _check_structure(tree, policy)
        _check_tables_and_columns(tree, policy, schema, notes)
        _apply_limit(tree, policy.max_rows, notes)
        return Verdict(True, "", tree.sql(dialect=dialect), notes)
    except Refused as exc:
        return Verdict(False, str(exc), "", [])


def _parse_one(sql: str, dialect: str | None) -> exp.Expr:
    if not sql or not sql.strip():
        raise Refused("The query is empty.")
    try:
        trees = [t for t in sqlglot.parse(sql, read=dialect) if t is not None]
    except SqlglotError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise Refused(f"The query does not parse ({first}).") from None
    trees = [t for t in trees if not isinstance(t, exp.Semicolon)]
    if not trees:
        raise Refused("The query is empty.")
    if len(trees) > 1:
        raise Refused(f"Only one statement may run, and this text holds {len(trees)}.")
    return trees[0]


def _node_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return type(node).__name__.upper()


def _check_structure(tree: exp.Expr, policy: Policy) -> None:
    if not isinstance(tree, exp.Select | exp.SetOperation):
        raise Refused(f"Only SELECT queries may run, not {_node_name(tree)}.")
    extra = {f.lower() for f in policy.extra_functions} - NEVER_ALLOWED
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            what = "SELECT ... INTO" if isinstance(node, exp.Into) else (
                "FOR UPDATE/SHARE locks" if isinstance(node, exp.Lock) else _node_name(node))
            raise Refused(f"{what} is not allowed in a read-only query.")
        if isinstance(node, exp.Func):
            _check_function(node, extra)


def _check_function(node: exp.Func, extra: set[str]) -> None:
    if isinstance(node, exp.Connector | exp.Binary | exp.Unary):  # AND, OR, operators
        return
    if isinstance(node, exp.Anonymous):
        name = str(node.name).lower()
        if name in NEVER_ALLOWED or (name not in ALLOWED_FUNCTION_NAMES and name not in extra):
            raise Refused(f"The function {name}() is not on the allow-list.")
        return
    cls = type(node).__name__
    if cls not in ALLOWED_FUNCTION_CLASSES:
        names = {n.lower() for n in type(node).sql_names()}
        if not names & extra or names & NEVER_ALLOWED:
            shown = type(node).sql_names()[0].lower() if type(node).sql_names() else cls
            raise Refused(f"The function {shown}() is not on the allow-list.")


def _is_system_table(table: exp.Table) -> bool:
    name = table.name.lower()
    db = (table.db or "").lower()
    return db in _SYSTEM_SCHEMAS or name in _SYSTEM_SCHEMAS or name.startswith(_SYSTEM_PREFIXES)


def _real_tables(scope: Scope) -> dict[str, exp.Table]:
    """alias -> Table node for the sources of ``scope`` that are real tables (not CTEs/subqueries)."""
    return {alias: src for alias, src in scope.sources.items()
            if isinstance(src, exp.Table) and isinstance(src.this, exp.Identifier)}


def _check_table(table: exp.Table, policy: Policy, schema: SchemaColumns | None) -> str:
    name = table.name
    if _is_system_table(table):
        raise Refused(f"The system table {table.sql()} may not be read.")
    low = name.lower()
    if schema is not None and low not in {t.lower() for t in schema}:
        raise Refused(f"The database has no table '{name}'.")
    if any(low == t.lower() for t in policy.denied_tables):
        raise Refused(f"The table '{name}' is denied by the policy.")
    if policy.allowed_tables and not any(low == t.lower() for t in policy.allowed_tables):
        raise Refused(f"The table '{name}' is not in the policy's allowed tables.")
    return name


def _columns_of(schema: SchemaColumns | None, table: str) -> list[str] | None:
    if schema is None:
        return None
    for t, cols in schema.items():
        if t.lower() == table.lower():
            return cols
    return None


def _check_tables_and_columns(tree: exp.Expr, policy: Policy, schema: SchemaColumns | None,
                              notes: list[str]) -> None:
    try:
        scopes = traverse_scope(tree)
    except SqlglotError as exc:
        raise Refused(f"The query's structure cannot be checked ({exc}).") from None
    for scope in scopes:
        for table in _real_tables(scope).values():
            _check_table(table, policy, schema)
        _check_stars(scope, policy, schema, notes)
    if not policy.denied_columns:
        return
    by_node = {id(s.expression): s for s in traverse_scope(tree)}  # after any '*' expansion
    for column in tree.find_all(exp.Column):
        owner = _scope_of(column, by_node)
        if owner is not None:
            _check_column(column, owner, policy, schema)
        elif column.name.lower() in {e.rpartition(".")[2].lower() for e in policy.denied_columns}:
            raise Refused(f"The column '{column.name}' is denied by the policy.")  # no scope: be strict


def _scope_of(node: exp.Expr, by_node: dict[int, Scope]) -> Scope | None:
    """The innermost scope whose SELECT holds ``node``."""
    current: exp.Expr | None = node.parent
    while current is not None:
        found = by_node.get(id(current))
        if found is not None:
            return found
        current = current.parent
    return None


def _check_stars(scope: Scope, policy: Policy, schema: SchemaColumns | None, notes: list[str]) -> None:
    select = scope.expression
    if not isinstance(select, exp.Select) or not policy.denied_columns:
        return
    tables = _real_tables(scope)
    new_projections: list[exp.Expr] = []
    changed = False
    for proj in select.expressions:
        star_tables = _star_sources(proj, tables)
        hit = [(alias, t) for alias, t in star_tables
               if policy.denied_in(t.name, _columns_of(schema, t.name))]
        if not hit:
            new_projections.append(proj)
            continue
        alias, table = hit[0]
        denied = policy.denied_in(table.name, _columns_of(schema, table.name))
        if policy.star != "expand" or schema is None:
            raise Refused(f"'*' over table '{table.name}' would read its denied column "
                          f"'{denied[0]}'; name the columns instead.")
        for a, t in star_tables:
            cols = _columns_of(schema, t.name) or []
            new_projections += [exp.column(c, table=a, quoted=True) for c in cols
                                if not policy.is_denied_column(t.name, c)]
        notes.append(f"'*' over '{table.name}' expanded without {', '.join(denied)}")
        changed = True
    if changed:
        select.set("expressions", new_projections)


def _star_sources(proj: exp.Expr, tables: dict[str, exp.Table]) -> list[tuple[str, exp.Table]]:
    if isinstance(proj, exp.Star):
        return list(tables.items())
    if isinstance(proj, exp.Column) and isinstance(proj.this, exp.Star):
        alias = proj.table
        return [(alias, tables[alias])] if alias in tables else []
    return []


def _check_column(column: exp.Column, scope: Scope, policy: Policy, schema: SchemaColumns | None) -> None:
    if isinstance(column.this, exp.Star):
        return
    name = column.name
    qualifier = column.table
    current: Scope | None = scope
    while current is not None:
        tables = _real_tables(current)
        if qualifier:
            if qualifier in tables:
                _deny(tables[qualifier].name, name, policy)
                return
            if qualifier in current.sources:
                return  # a CTE/derived table's output: its own scope was checked
        else:
            for alias, table in tables.items():
                cols = _columns_of(schema, table.name)
                if cols is None or name.lower() in {c.lower() for c in cols}:
                    _deny(table.name, name, policy)
                if alias.lower() == name.lower() and (cols is None or name.lower() not in
                                                      {c.lower() for c in cols}) \
                        and policy.denied_in(table.name, cols):
                    raise Refused(f"A whole-row reference to '{table.name}' would read a denied column.")
        current = current.parent
    return


def _deny(table: str, column: str, policy: Policy) -> None:
    if policy.is_denied_column(table, column):
        raise Refused(f"The column '{table}.{column}' is denied by the policy.")


def _apply_limit(tree: exp.Expr, max_rows: int, notes: list[str]) -> None:
    limit = tree.args.get("limit")
    if limit is None:
        tree.set("limit", exp.Limit(expression=exp.Literal.number(max_rows)))
        notes.append(f"LIMIT {max_rows} added")
        return
    value = limit.expression
    current = int(value.this) if isinstance(value, exp.Literal) and value.is_int else None
    if current is None or current > max_rows:
        limit.set("expression", exp.Literal.number(max_rows))
        shown = current if current is not None else value.sql()
        notes.append(f"LIMIT {shown} lowered to {max_rows}")
