"""The SQL guard: decide on the sqlglot AST whether a statement may run, and what exactly runs.

:func:`check_sql` parses one statement and refuses it unless all of these hold:

- exactly one statement, whose root is a ``SELECT`` or a set operation (``UNION`` ...);
- no write or control node anywhere (``INSERT/UPDATE/DELETE/MERGE`` inside a CTE too, DDL,
  ``SELECT ... INTO``, ``FOR UPDATE`` locks), and no ``Command`` node: what sqlglot cannot parse
  fully (``EXPLAIN ANALYZE``, ``VACUUM``, ``SHOW`` ...) is refused, as are PRAGMA, ATTACH, COPY, SET;
- every function is on the allow-list (:mod:`kosql.sql.guard_functions`);
- every table is allowed by the policy (and known, when a schema is given; system catalogs and
  other schemas never);
- no denied column is read anywhere (select list, WHERE, ORDER BY, subqueries, through an alias, a
  whole-row reference, a join's USING/NATURAL comparison or ``*``): ``*`` over a table with a denied
  column is refused or expanded without it (``Policy.star``). Names are resolved as the dialect
  folds them, and a qualifier that names nothing in scope is refused (:mod:`kosql.sql.guard_sources`).

The SQL that runs (:attr:`Verdict.sql`) is re-emitted from the checked AST, with ``LIMIT`` added or
lowered to ``Policy.max_rows``. Pure: no I/O except :func:`load_policy`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from kosql.errors import UserError
from kosql.messages import msg
from kosql.sql.guard_functions import ALLOWED_FUNCTION_CLASSES, ALLOWED_FUNCTION_NAMES, NEVER_ALLOWED
from kosql.sql.guard_policy import Policy
from kosql.sql.guard_sources import Refused, SchemaColumns, check_sources

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
__all__ = ["Policy", "Refused", "SchemaColumns", "Verdict", "check_policy_tables", "check_sql", "load_policy"]


@dataclass
class Verdict:
    """The guard's decision on one statement."""

    allowed: bool
    reason: str  # one sentence; "" when allowed
    sql: str  # the SQL that would run (re-emitted, LIMIT applied); "" when refused
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {"allowed": self.allowed, "reason": self.reason, "sql": self.sql, "notes": list(self.notes)}


def load_policy(path: str | Path | None, overrides: list[str] | None = None) -> Policy:
    """The policy in YAML file ``path`` (None = the built-in default policy), validated."""
    from kosql.config import load_config

    return load_config(Policy, path if path is not None else default_policy_path(), overrides)


def default_policy_path() -> Path:
    """The default policy shipped with kosql (kosql/configs/policies/default.yaml)."""
    return Path(__file__).resolve().parent.parent / "configs" / "policies" / "default.yaml"


def check_policy_tables(policy: Policy, schema: SchemaColumns) -> None:
    """Raise UserError when the policy names a table (or table.column) the database lacks (a schema
    prefix such as ``main.`` or ``public.`` is allowed)."""
    known = {t.lower(): cols for t, cols in schema.items()}
    for field_name in ("allowed_tables", "denied_tables"):
        for name in getattr(policy, field_name):
            if name.rpartition(".")[2].lower() not in known:
                raise UserError(f"policy {field_name}: the database has no table '{name}'.")
    for entry, (t, c) in zip(policy.denied_columns, policy.denied_entries(), strict=True):
        if t:
            shown_table, _, shown_column = entry.rpartition(".")
            if t not in known:
                raise UserError(f"policy denied_columns: the database has no table '{shown_table}' (in '{entry}').")
            if c not in {x.lower() for x in known[t]}:
                raise UserError(f"policy denied_columns: table '{shown_table}' has no column '{shown_column}'.")


def check_sql(sql: str, policy: Policy, *, dialect: str | None = None,
              schema: SchemaColumns | None = None) -> Verdict:
    """Check one statement against ``policy`` (see the module docstring); never raises for bad SQL."""
    try:
        tree = _parse_one(sql, dialect)
        notes: list[str] = []
        _check_structure(tree, policy)
        check_sources(tree, policy, schema, dialect, notes)
        _apply_limit(tree, policy.max_rows, notes)
        return Verdict(True, "", tree.sql(dialect=dialect), notes)
    except Refused as exc:
        return Verdict(False, exc.reason, "", [])


def _parse_one(sql: str, dialect: str | None) -> exp.Expr:
    if not sql or not sql.strip():
        raise Refused(msg("query_empty"))
    try:
        trees = [t for t in sqlglot.parse(sql, read=dialect) if t is not None]
    except SqlglotError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise Refused(msg("query_unparsable", error=first)) from None
    trees = [t for t in trees if not isinstance(t, exp.Semicolon)]
    if not trees:
        raise Refused(msg("query_empty"))
    if len(trees) > 1:
        raise Refused(msg("one_statement", count=len(trees)))
    return trees[0]


def _node_name(node: exp.Expr) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    return type(node).__name__.upper()


def _check_structure(tree: exp.Expr, policy: Policy) -> None:
    if not isinstance(tree, exp.Select | exp.SetOperation):
        raise Refused(msg("select_only", kind=_node_name(tree)))
    extra = {f.lower() for f in policy.extra_functions} - NEVER_ALLOWED
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            what = "SELECT ... INTO" if isinstance(node, exp.Into) else (
                "FOR UPDATE/SHARE locks" if isinstance(node, exp.Lock) else _node_name(node))
            raise Refused(msg("not_read_only", what=what))
        if isinstance(node, exp.Func):
            _check_function(node, extra)
            if isinstance(node.parent, exp.Dot) and node.arg_key == "expression":
                raise Refused(msg("function_schema", function=node.parent.sql()))


def _check_function(node: exp.Func, extra: set[str]) -> None:
    if isinstance(node, exp.Connector | exp.Binary | exp.Unary):  # AND, OR, operators
        return
    if isinstance(node, exp.Anonymous):
        name = str(node.name).lower()
        if name in NEVER_ALLOWED or (name not in ALLOWED_FUNCTION_NAMES and name not in extra):
            raise Refused(msg("function_not_allowed", name=name))
        return
    cls = type(node).__name__
    if cls not in ALLOWED_FUNCTION_CLASSES:
        names = {n.lower() for n in type(node).sql_names()}
        if not names & extra or names & NEVER_ALLOWED:
            shown = type(node).sql_names()[0].lower() if type(node).sql_names() else cls
            raise Refused(msg("function_not_allowed", name=shown))


def _apply_limit(tree: exp.Expr, max_rows: int, notes: list[str]) -> None:
    limit = tree.args.get("limit")
    if limit is None:
        tree.set("limit", exp.Limit(expression=exp.Literal.number(max_rows)))
        notes.append(msg("limit_added", n=max_rows))
        return
    value = limit.expression
    current = int(value.this) if isinstance(value, exp.Literal) and value.is_int else None
    if current is None or current > max_rows:
        limit.set("expression", exp.Literal.number(max_rows))
        shown = current if current is not None else value.sql()
        notes.append(msg("limit_lowered", shown=shown, n=max_rows))
