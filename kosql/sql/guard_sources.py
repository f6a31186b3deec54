"""The guard's table and column checks, with names resolved the way the database resolves them.

The checks run on a copy of the statement whose identifiers sqlglot folded as the dialect does
(:func:`sqlglot.optimizer.normalize_identifiers.normalize_identifiers`): SQLite compares every
identifier case-insensitively, quoted or not; PostgreSQL folds unquoted names to lower case and
keeps quoted ones exact. So ``U.phone`` over ``users u`` is ``u.phone`` on both, and ``"U".phone``
over ``users u`` names no table on PostgreSQL. Every column (and ``x.*``) is then resolved through
the scopes of :mod:`sqlglot.optimizer.scope` (tables, aliases, CTEs, subqueries, table functions,
correlated outer queries); a qualifier that names no source in scope is refused, since the checks
could not tell what it reads. Besides plain column references, a denied column is also read by
``JOIN ... USING``, ``NATURAL JOIN``, a table alias that renames columns (``users AS u(a, b, c)``),
``*`` / ``t.*`` (in the select list, where the policy may expand it, or inside an expression) and
a whole-row reference (``SELECT u FROM users u``). The statement that runs is the caller's tree:
only an expanded ``*`` is written back into it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.scope import Scope, traverse_scope

from kosql.messages import Message, Seq, msg
from kosql.sql.guard_policy import Policy

SchemaColumns = dict[str, list[str]]  # table name -> column names

_SYSTEM_PREFIXES = ("pg_", "sqlite_")
_SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "sqlite_master", "sqlite_temp_master",
                             "mysql", "performance_schema", "sys"})
_DEFAULT_SCHEMA = {"sqlite": "main", "duckdb": "main"}  # any other dialect: "public"


class Refused(Exception):
    """Raised inside the checks; becomes a refusing verdict whose reason is ``reason`` (a
    :class:`kosql.messages.Message`, said in English or Korean)."""

    def __init__(self, reason: Message) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Check:
    policy: Policy
    schema: SchemaColumns | None
    dialect: str | None
    notes: list[str]
    original: dict[int, exp.Expr] = field(default_factory=dict)  # id(folded node) -> the caller's node

    @property
    def case_insensitive(self) -> bool:
        return Dialect.get_or_raise(self.dialect).NORMALIZATION_STRATEGY is NormalizationStrategy.CASE_INSENSITIVE

    def shown(self, node: exp.Expr) -> str:
        """``node`` as the user wrote it."""
        return self.original.get(id(node), node).sql(dialect=self.dialect)

    def columns_of(self, table: str) -> list[str] | None:
        if self.schema is None:
            return None
        for t, cols in self.schema.items():
            if t.lower() == table.lower():
                return cols
        return None

    def has_column(self, table: str, column: str) -> bool:
        """Whether ``table`` may have ``column`` (True when the schema is not known)."""
        cols = self.columns_of(table)
        return cols is None or column.lower() in {c.lower() for c in cols}

    def denied_of(self, table: str) -> list[str]:
        return self.policy.denied_in(table, self.columns_of(table))

    def deny(self, table: str, column: str) -> None:
        if self.policy.is_denied_column(table, column):
            raise Refused(msg("column_denied", column=f"{table}.{column}"))


def check_sources(tree: exp.Expr, policy: Policy, schema: SchemaColumns | None, dialect: str | None,
                  notes: list[str]) -> None:
    """Refuse ``tree`` when it reads a table or column the policy does not allow (see the module
    docstring); expand a ``*`` in ``tree`` itself when ``policy.star`` is ``expand``."""
    folded = normalize_identifiers(tree.copy(), dialect=dialect)
    pairs = list(zip(folded.walk(), tree.walk(), strict=False))
    if len(pairs) != len(list(tree.walk())):
        raise Refused(msg("structure_unchecked"))
    check = _Check(policy, schema, dialect, notes, {id(a): b for a, b in pairs})
    try:
        scopes = traverse_scope(folded)
    except SqlglotError as exc:
        raise Refused(msg("structure_unchecked_why", error=str(exc))) from None
    for scope in scopes:
        for table in _real_tables(scope).values():
            _check_table(table, check)
        _check_joins(scope, check)
        _check_projected_stars(scope, check)
    owners = {id(s.expression): s for s in scopes}
    for column in folded.find_all(exp.Column):
        _check_column(column, _scope_of(column, owners), check)
    for star in folded.find_all(exp.Star):
        if not isinstance(star.parent, exp.Column):
            _check_nested_star(star, _scope_of(star, owners), check)


def _real_tables(scope: Scope) -> dict[str, exp.Table]:
    """alias -> Table node for the sources of ``scope`` that are real tables (not CTEs/subqueries)."""
    return {alias: src for alias, src in scope.sources.items()
            if isinstance(src, exp.Table) and isinstance(src.this, exp.Identifier)}


def _scope_of(node: exp.Expr, owners: dict[int, Scope]) -> Scope | None:
    """The innermost scope whose expression holds ``node``."""
    current: exp.Expr | None = node.parent
    while current is not None:
        found = owners.get(id(current))
        if found is not None:
            return found
        current = current.parent
    return None


def _source_named(qualifier: str, scope: Scope | None) -> exp.Table | Scope | None:
    """What ``qualifier`` names, looked up from ``scope`` outwards (None: nothing)."""
    current = scope
    while current is not None:
        source = current.sources.get(qualifier)
        if source is not None:
            return source
        for src in current.sources.values():  # an unaliased table function is named by its function
            if isinstance(src, exp.Table) and isinstance(src.this, exp.Func) and not src.alias \
                    and _function_name(src.this) == qualifier.lower():
                return src
        current = current.parent
    return None


def _function_name(func: exp.Func) -> str:
    return (func.name if isinstance(func, exp.Anonymous) else func.sql_name()).lower()


def _is_real_table(source: exp.Table | Scope | None) -> bool:
    return isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier)


def _is_system_table(table: exp.Table) -> bool:
    name = table.name.lower()
    db = (table.db or "").lower()
    return db in _SYSTEM_SCHEMAS or name in _SYSTEM_SCHEMAS or name.startswith(_SYSTEM_PREFIXES)


def _check_table(table: exp.Table, check: _Check) -> None:
    policy, name = check.policy, table.name
    if _is_system_table(table):
        raise Refused(msg("system_table", table=check.shown(table)))
    default_schema = _DEFAULT_SCHEMA.get(check.dialect or "", "public")
    if table.catalog or (table.db and table.db != default_schema):
        raise Refused(msg("other_schema", table=check.shown(table), schema=default_schema))
    if check.schema is not None and check.columns_of(name) is None:
        raise Refused(msg("no_such_table", table=name))
    if any(name.lower() == t.rpartition(".")[2].lower() for t in policy.denied_tables):
        raise Refused(msg("table_denied", table=name))
    if policy.allowed_tables and not any(_same_name(name, t.rpartition(".")[2], check)
                                         for t in policy.allowed_tables):
        raise Refused(msg("table_not_allowed", table=name))
    _check_renamed_columns(table, check)


def _same_name(folded: str, stored: str, check: _Check) -> bool:
    """Whether a folded identifier names the table the database stores as ``stored``."""
    return folded.lower() == stored.lower() if check.case_insensitive else folded == stored


def _check_renamed_columns(table: exp.Table, check: _Check) -> None:
    """``users AS u(a, b, c, d)`` (PostgreSQL) reads the first columns under new names."""
    alias = table.args.get("alias")
    if not isinstance(alias, exp.TableAlias) or not alias.columns:
        return
    renamed = len(alias.columns)
    cols = check.columns_of(table.name)
    denied = check.denied_of(table.name)
    hit = [c for c in cols[:renamed] if c in denied] if cols is not None else denied
    if hit:
        raise Refused(msg("renamed_denied", table=table.name, alias=check.shown(alias), column=hit[0]))


def _check_joins(scope: Scope, check: _Check) -> None:
    """``JOIN ... USING (col)`` compares ``col`` of both sides; ``NATURAL JOIN`` every shared column."""
    select = scope.expression
    if not isinstance(select, exp.Select):
        return
    tables = _real_tables(scope)
    for join in select.args.get("joins") or []:
        for ident in join.args.get("using") or []:
            for table in tables.values():
                if check.has_column(table.name, ident.name):
                    check.deny(table.name, ident.name)
        if str(join.args.get("method") or "").upper() == "NATURAL":
            for table in tables.values():
                denied = check.denied_of(table.name)
                if denied:
                    raise Refused(msg("natural_join_denied", table=table.name, column=denied[0]))


def _check_projected_stars(scope: Scope, check: _Check) -> None:
    """``*`` / ``t.*`` in a select list over a table with a denied column: refused or expanded."""
    select = scope.expression
    if not isinstance(select, exp.Select) or not check.policy.denied_columns:
        return
    new_projections: list[exp.Expr] = []
    changed = False
    for proj in select.expressions:
        star_tables = _star_tables(proj, scope)
        hit = [t for _, t in star_tables if check.denied_of(t.name)]
        if not hit:
            new_projections.append(check.original.get(id(proj), proj))
            continue
        table = hit[0]
        denied = check.denied_of(table.name)
        if check.policy.star != "expand" or check.schema is None:
            raise Refused(msg("star_denied", table=table.name, column=denied[0]))
        for alias, t in star_tables:
            qualifier = _alias_identifier(check.original.get(id(t), t), alias)
            new_projections += [exp.Column(this=exp.to_identifier(c, quoted=True), table=qualifier.copy())
                                for c in check.columns_of(t.name) or []
                                if not check.policy.is_denied_column(t.name, c)]
        check.notes.append(msg("star_expanded", table=table.name, columns=Seq(tuple(denied))))
        changed = True
    if changed:
        original = check.original.get(id(select), select)
        original.set("expressions", new_projections)


def _alias_identifier(table: exp.Expr, alias: str) -> exp.Identifier:
    """The identifier the query names ``table`` by (its alias, else its name), as written."""
    node = table.args.get("alias")
    ident = node.this if isinstance(node, exp.TableAlias) and node.this else table.this
    return ident if isinstance(ident, exp.Identifier) else exp.to_identifier(alias, quoted=True)


def _star_tables(proj: exp.Expr, scope: Scope) -> list[tuple[str, exp.Table]]:
    """(alias, table) of the real tables a select-list ``*`` or ``t.*`` reads in ``scope``."""
    if isinstance(proj, exp.Star):
        return list(_real_tables(scope).items())
    if isinstance(proj, exp.Column) and isinstance(proj.this, exp.Star):
        source = _source_named(proj.table, scope)
        return [(proj.table, source)] if isinstance(source, exp.Table) and _is_real_table(source) else []
    return []


def _check_nested_star(star: exp.Star, scope: Scope | None, check: _Check) -> None:
    """A bare ``*`` outside a select list (``count(*)`` is fine; ``concat(*)`` reads every column)."""
    if isinstance(star.parent, exp.Select) or isinstance(star.parent, exp.Count) or scope is None:
        return
    for table in _real_tables(scope).values():
        denied = check.denied_of(table.name)
        if denied:
            raise Refused(msg("star_denied", table=table.name, column=denied[0]))


def _check_column(column: exp.Column, scope: Scope | None, check: _Check) -> None:
    name, qualifier = column.name, column.table
    if qualifier:
        source = _source_named(qualifier, scope)
        if source is None:
            raise Refused(msg("unknown_qualifier", column=check.shown(column)))
        if not _is_real_table(source):
            return  # a CTE, subquery or table function: its own scope was checked
        assert isinstance(source, exp.Table)
        if isinstance(column.this, exp.Star):
            if not isinstance(column.parent, exp.Select) and check.denied_of(source.name):
                raise Refused(msg("row_reads_denied", column=check.shown(column), table=source.name,
                                  denied=check.denied_of(source.name)[0]))
            return
        check.deny(source.name, name)
        return
    if scope is None:  # no scope to resolve it in: be strict
        if any(name.lower() == c.lower() for _, c in check.policy.denied_entries()):
            raise Refused(msg("column_denied", column=name))
        return
    current: Scope | None = scope
    while current is not None:
        for alias, table in _real_tables(current).items():
            cols = check.columns_of(table.name)
            if cols is None or name.lower() in {c.lower() for c in cols}:
                check.deny(table.name, name)
            if alias.lower() == name.lower() and (cols is None or name.lower() not in {c.lower() for c in cols}) \
                    and check.denied_of(table.name):
                raise Refused(msg("whole_row_denied", table=table.name))
        current = current.parent
