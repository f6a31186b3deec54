"""Exact match by the component rules of Spider's official evaluator, on sqlglot ASTs (pure).

The official ``evaluation.py`` (taoyds/spider, test-suite-sql-eval) parses both queries into
components and compares them with values and ``DISTINCT`` disabled (its defaults). This module
rebuilds the same components from a sqlglot tree:

- ``SELECT``: the multiset of items (``agg(col)``, ``col op col``); ``DISTINCT`` ignored, also
  inside ``COUNT(DISTINCT x)``;
- ``FROM``: the multiset of tables and derived tables; ``JOIN ... ON`` conditions only count for
  the keywords (``or``/``not``/``in``/``like``), so ON order and ON columns do not matter;
- ``WHERE``: the multiset of conditions ``[NOT] left op value`` where every value that is not a
  subquery is dropped (a column on the right side included) and the set of AND/OR connectors;
- ``GROUP BY``: the multiset of column names without their table, and the ordered list of columns
  together with ``HAVING`` (in written order);
- ``ORDER BY``: the ordered items and one direction (the last one written), plus whether both have
  a ``LIMIT`` (its value is ignored); ``INTERSECT`` / ``UNION`` / ``EXCEPT`` recursively;
- the keyword set (where, group, having, order, asc/desc, limit, set operators, or, not, in, like).

Subqueries inside conditions and ``FROM`` are compared as the official script does, as a whole
(items in written order, DISTINCT kept; a LIMIT only present or absent, as test-suite-sql-eval's
parser reads every LIMIT value as 1). Columns are resolved to their table
through the aliases, and — with a schema (:class:`SpiderSchema`) — an unqualified column to the
first ``FROM`` table that has it; foreign-key columns count as the column they reference.

A query the official parser cannot read scores 0 there, so :func:`spider_signature` returns None
for it: select aliases, functions other than the five aggregates, CAST/CASE, ``IS NULL``,
``EXISTS``, ``LEFT/INNER JOIN``, comma joins, a table alias without ``AS``, ``<>``, parenthesised
conditions, IN lists of several values, ``UNION ALL``, CTEs, an unknown table or column.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from sqlglot import exp
from sqlglot.tokens import Tokenizer, TokenType

from kosql.sql.normalize import literalize_double_quoted, parse_sql

AGGREGATES: dict[type[exp.Expr], str] = {exp.Count: "count", exp.Max: "max", exp.Min: "min",
                                         exp.Sum: "sum", exp.Avg: "avg"}
_ARITH: dict[type[exp.Expr], str] = {exp.Sub: "-", exp.Add: "+", exp.Mul: "*", exp.Div: "/"}
_OPS: dict[type[exp.Expr], str] = {exp.EQ: "=", exp.NEQ: "!=", exp.GT: ">", exp.GTE: ">=", exp.LT: "<",
                                   exp.LTE: "<=", exp.Like: "like", exp.In: "in", exp.Between: "between"}


class Unsupported(Exception):
    """The query is outside what the official Spider parser reads."""


@dataclass(frozen=True)
class SpiderSchema:
    """Tables and columns (lower-case, declared order) and foreign-key pairs, as ``tables.json``."""

    tables: tuple[tuple[str, tuple[str, ...]], ...]
    foreign_keys: tuple[tuple[str, str], ...] = ()  # ("table.col", "ref_table.ref_col")

    @cached_property
    def columns(self) -> dict[str, frozenset[str]]:
        return {t: frozenset(cols) for t, cols in self.tables}

    @cached_property
    def all_columns(self) -> frozenset[str]:
        return frozenset(c for _, cols in self.tables for c in cols)

    @cached_property
    def fk_map(self) -> dict[str, str]:
        """Each foreign-key column -> the first column (in declared order) of its linked set."""
        order = {f"{t}.{c}": i for i, (t, c) in enumerate((t, c) for t, cols in self.tables for c in cols)}
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                x = parent[x]
            return x

        for a, b in self.foreign_keys:
            if a in order and b in order:
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[max(ra, rb, key=order.__getitem__)] = min(ra, rb, key=order.__getitem__)
        return {c: find(c) for c in parent}


@dataclass
class _Mode:
    """Top level (the official rebuild: values dropped, DISTINCT dropped, foreign keys mapped) or a
    nested query compared as a whole (``strict``)."""

    strict: bool
    drop_values: bool


class _Scope:
    def __init__(self, sel: exp.Select, schema: SpiderSchema | None, parent: _Scope | None) -> None:
        self.schema, self.parent = schema, parent
        self.aliases: dict[str, str] = {}
        self.tables: list[str] = []  # FROM tables in order (derived tables are not searched)
        from_ = sel.args.get("from_") or sel.args.get("from")
        for src in ([from_.this] if from_ is not None else []) + [j.this for j in sel.args.get("joins") or []]:
            if isinstance(src, exp.Table) and not isinstance(src.this, exp.Subquery):
                name = src.name.lower()
                if schema is not None and name not in schema.columns:
                    raise Unsupported(f"unknown table {name}")
                self.tables.append(name)
                self.aliases[name] = name
                if src.alias:
                    self.aliases[src.alias.lower()] = name

    def lookup(self, qualifier: str) -> str | None:
        scope: _Scope | None = self
        while scope is not None:
            if qualifier in scope.aliases:
                return scope.aliases[qualifier]
            scope = scope.parent
        if self.schema is not None and qualifier in self.schema.columns:
            return qualifier
        return None


def _col_id(col: exp.Column, scope: _Scope, mode: _Mode) -> str:
    if isinstance(col.this, exp.Star):
        if col.table:
            raise Unsupported("t.*")
        return "*"
    name = col.name.lower()
    schema = scope.schema
    if col.table:
        table = scope.lookup(col.table.lower())
        if table is None:
            if schema is not None:
                raise Unsupported(f"unknown alias {col.table}")
            table = col.table.lower()
    elif not scope.tables:
        raise Unsupported("a column without a FROM table")
    elif schema is not None:
        table = next((t for t in scope.tables if name in schema.columns[t]), "")
    else:
        table = scope.tables[0] if len(scope.tables) == 1 else "?"
    if schema is not None and (not table or name not in schema.columns.get(table, frozenset())):
        raise Unsupported(f"unknown column {name}")
    cid = f"{table}.{name}"
    if not mode.strict and schema is not None and table in scope.tables:
        cid = schema.fk_map.get(cid, cid)
    return cid


def _col_unit(node: exp.Expr, scope: _Scope, mode: _Mode) -> tuple[Any, ...]:
    if isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, (exp.Column, exp.Star)):
        col = node if isinstance(node, exp.Column) else exp.Column(this=exp.Star())
        return ("none", _col_id(col, scope, mode), False)
    agg = AGGREGATES.get(type(node))
    if agg is None:
        raise Unsupported(type(node).__name__)
    arg, distinct = node.this, False
    if isinstance(arg, exp.Distinct):
        if len(arg.expressions) != 1:
            raise Unsupported("DISTINCT of several columns")
        arg, distinct = arg.expressions[0], True
    if not isinstance(arg, (exp.Column, exp.Star)) or (isinstance(node, exp.Count) and node.expressions):
        raise Unsupported(f"{agg} of an expression")
    col = arg if isinstance(arg, exp.Column) else exp.Column(this=exp.Star())
    return (agg, _col_id(col, scope, mode), distinct and mode.strict)


def _val_unit(node: exp.Expr, scope: _Scope, mode: _Mode) -> tuple[Any, ...]:
    if isinstance(node, exp.Paren):
        node = node.this
    op = _ARITH.get(type(node))
    if op is not None:
        return (op, _col_unit(node.this, scope, mode), _col_unit(node.expression, scope, mode))
    return ("none", _col_unit(node, scope, mode), None)


def _value(node: exp.Expr | None, scope: _Scope, mode: _Mode) -> Any:
    if node is None:
        raise Unsupported("a missing value")
    if isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, (exp.Subquery, exp.Select, exp.SetOperation)):
        return ("sql", _query_sig(node, scope.schema, _Mode(True, mode.drop_values), scope))
    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        node = exp.Literal.number(f"-{node.this.this}")
    if isinstance(node, exp.Literal):
        if mode.drop_values:
            return None
        return str(node.this) if node.is_string else float(node.this)
    while isinstance(node, (exp.Sub, exp.Add, exp.Mul, exp.Div)):  # the leading column; the rest skipped
        node = node.this
    unit = _col_unit(node, scope, mode)
    return None if mode.drop_values else unit


def _cond_unit(node: exp.Expr, scope: _Scope, mode: _Mode, kw: set[str]) -> tuple[Any, ...]:
    negated = isinstance(node, exp.Not)
    if negated:
        node = node.this
        if not isinstance(node, (exp.In, exp.Like, exp.Between)):
            raise Unsupported("NOT before a condition")
        kw.add("not")
    op = _OPS.get(type(node))
    if op is None:
        raise Unsupported(type(node).__name__)
    if node.args.get("negate"):  # sqlglot's NOT LIKE / NOT IN written as a flag
        negated = True
        kw.add("not")
    if op in ("in", "like"):
        kw.add(op)
    left = _val_unit(node.this, scope, mode)
    if isinstance(node, exp.Between):
        return (negated, op, left, _value(node.args.get("low"), scope, mode),
                _value(node.args.get("high"), scope, mode))
    if isinstance(node, exp.In):
        query, items = node.args.get("query"), node.expressions
        if query is None and len(items) != 1:
            raise Unsupported("an IN list of several values")
        return (negated, op, left, _value(query if query is not None else items[0], scope, mode), None)
    return (negated, op, left, _value(node.expression, scope, mode), None)


def _condition(node: exp.Expr | None, scope: _Scope, mode: _Mode, kw: set[str]) -> list[Any]:
    """The official flat list ``[cond_unit, 'and'/'or', cond_unit, ...]`` (no parentheses allowed)."""
    if node is None:
        return []
    if isinstance(node, (exp.Where, exp.Having)):
        node = node.this
    if isinstance(node, (exp.And, exp.Or)):
        conn = "and" if isinstance(node, exp.And) else "or"
        if conn == "or":
            kw.add("or")
        return _condition(node.this, scope, mode, kw) + [conn] + _condition(node.expression, scope, mode, kw)
    if isinstance(node, exp.Paren):
        raise Unsupported("a parenthesised condition")
    return [_cond_unit(node, scope, mode, kw)]


def _sorted(items: list[Any]) -> tuple[Any, ...]:
    return tuple(sorted(items, key=repr))


def _order(sel: exp.Expr, scope: _Scope, mode: _Mode) -> tuple[Any, ...] | None:
    order = sel.args.get("order")
    if order is None:
        return None
    direction = "asc"
    units = []
    for o in order.expressions:
        units.append(_val_unit(o.this, scope, mode))
        if o.args.get("desc") is not None:
            direction = "desc" if o.args.get("desc") else "asc"
    return (direction, tuple(units))


def _limit(node: exp.Expr) -> int | None:
    limit = node.args.get("limit")
    if limit is None:
        return None
    value = limit.args.get("expression") or limit.this
    if not isinstance(value, exp.Literal) or value.is_string or not str(value.this).isdigit():
        raise Unsupported("a LIMIT that is not a number")
    return int(value.this)


def _from(sel: exp.Select, scope: _Scope, mode: _Mode, kw: set[str]) -> tuple[list[Any], list[Any]]:
    from_ = sel.args.get("from_") or sel.args.get("from")
    joins = sel.args.get("joins") or []
    units: list[Any] = []
    conds: list[Any] = []
    for i, src in enumerate(([from_.this] if from_ is not None else []) + [j.this for j in joins]):
        if i:
            join = joins[i - 1]
            if join.args.get("kind") or join.args.get("side") or join.args.get("using") or join.args.get("method"):
                raise Unsupported("a join other than plain JOIN")
            on = join.args.get("on")
            if on is not None:
                conds += (["and"] if conds else []) + _condition(on, scope, _Mode(mode.strict, True), kw)
        if isinstance(src, exp.Subquery):
            if src.alias:
                raise Unsupported("an alias of a derived table")
            units.append(("sql", _query_sig(src.this, scope.schema, _Mode(True, False), scope)))
        elif isinstance(src, exp.Table) and not src.args.get("db"):
            units.append(("table_unit", src.name.lower()))
        else:
            raise Unsupported(type(src).__name__)
    return units, conds


def _select_sig(sel: exp.Select, schema: SpiderSchema | None, mode: _Mode, parent: _Scope | None,
                set_op: tuple[str, Any] | None, tail: exp.Expr | None) -> tuple[Any, ...]:
    """Components of one SELECT; ``set_op`` is (operator, signature of the rest), ``tail`` the node
    whose ORDER BY / LIMIT apply (a set operation's, for its last query)."""
    for arg in ("with_", "with", "windows", "qualify", "into", "laterals", "pivots"):
        if sel.args.get(arg):
            raise Unsupported(arg)
    distinct = sel.args.get("distinct")
    if distinct is not None and distinct.args.get("on"):
        raise Unsupported("DISTINCT ON")
    scope = _Scope(sel, schema, parent)
    kw: set[str] = set()
    items = []
    for e in sel.expressions:
        if isinstance(e, exp.Alias):
            raise Unsupported("a select alias")
        items.append(_val_unit(e, scope, mode))
    units, from_conds = _from(sel, scope, mode, kw)
    where = _condition(sel.args.get("where"), scope, mode, kw)
    group = [_col_unit(g, scope, mode) for g in (sel.args["group"].expressions if sel.args.get("group") else [])]
    having = _condition(sel.args.get("having"), scope, mode, kw)
    src = tail if tail is not None else sel
    if tail is not None and (sel.args.get("order") or sel.args.get("limit")):
        raise Unsupported("ORDER BY inside a set operation")
    order = _order(src, scope, mode)
    limit = _limit(src)
    kw |= {k for k, present in (("where", where), ("group", group), ("having", having),
                                ("limit", limit is not None)) if present}
    if order is not None:
        kw |= {"order", order[0]}
    if set_op is not None:
        kw.add(set_op[0])
    if mode.strict:  # the official nested comparison: the parsed dict as a whole
        # test-suite-sql-eval's parser reads every LIMIT value as 1: only its presence counts here too
        return ("strict", bool(distinct), tuple(items), tuple(units), tuple(from_conds), tuple(where),
                tuple(group), order, tuple(having), limit is not None, set_op)
    connectors = frozenset(c for c in where if isinstance(c, str))
    return (
        ("select", _sorted(items)),
        ("where", _sorted([c for c in where if not isinstance(c, str)]), connectors),
        ("group_names", _sorted([g[1].split(".")[-1] for g in group])),
        ("group", (tuple(group), tuple(having)) if group else None),
        ("order", (order, limit is not None) if order is not None else None),
        ("set", set_op),
        ("keywords", frozenset(kw)),
        ("tables", _sorted(units)),
        ("limit", limit if not mode.drop_values else None),
    )


def _flatten(node: exp.Expr) -> tuple[list[exp.Select], list[str]]:
    while isinstance(node, exp.Subquery):
        node = node.this
    if isinstance(node, exp.SetOperation):
        if node.args.get("distinct") is False:
            raise Unsupported("UNION ALL")
        if node.args.get("with_") or node.args.get("with"):
            raise Unsupported("WITH")
        left, lops = _flatten(node.this)
        right, rops = _flatten(node.expression)
        return left + right, lops + [type(node).__name__.lower()] + rops
    if isinstance(node, exp.Select):
        return [node], []
    raise Unsupported(type(node).__name__)


def _query_sig(node: exp.Expr, schema: SpiderSchema | None, mode: _Mode, parent: _Scope | None) -> Any:
    """A query's signature; a set operation nests to the right as the official parser does
    (``a UNION b EXCEPT c``: ``a`` with ``union`` = ``b`` with ``except`` = ``c``)."""
    while isinstance(node, exp.Subquery):
        node = node.this
    selects, ops = _flatten(node)
    tail = node if isinstance(node, exp.SetOperation) else None
    sig: Any = None
    for i in range(len(selects) - 1, -1, -1):
        set_op = (ops[i], sig) if i < len(ops) else None
        sig = _select_sig(selects[i], schema, mode, parent, set_op, tail if i == len(selects) - 1 else None)
    return sig


_CLAUSE_END = {TokenType.WHERE, TokenType.GROUP_BY, TokenType.ORDER_BY, TokenType.HAVING, TokenType.LIMIT,
               TokenType.UNION, TokenType.INTERSECT, TokenType.EXCEPT, TokenType.SELECT}
_NAME = {TokenType.VAR, TokenType.IDENTIFIER}


def _token_problem(sql: str) -> str | None:
    """What the official tokenizer/parser rejects that sqlglot's tree no longer shows: ``<>``, a
    comma join, a table alias without AS."""
    try:
        tokens = Tokenizer().tokenize(sql)
    except Exception:  # sqlglot tokenizer errors: the parse already failed or will
        return "tokens"
    stack: list[dict[str, Any]] = [{"from": False, "prev": None}]
    for tok in tokens:
        state = stack[-1]
        tt = tok.token_type
        if tt == TokenType.NEQ and tok.text == "<>":
            return "<>"
        if tt == TokenType.L_PAREN:
            state["prev"] = tt
            stack.append({"from": False, "prev": None})
            continue
        if tt == TokenType.R_PAREN:
            if len(stack) > 1:
                stack.pop()
            stack[-1]["prev"] = tt
            continue
        if tt in (TokenType.FROM, TokenType.JOIN):
            state["from"] = True
        elif tt in _CLAUSE_END or tt == TokenType.ON:
            state["from"] = False
        elif state["from"] and tt == TokenType.COMMA:
            return "comma join"
        elif state["from"] and tt in _NAME and state["prev"] in _NAME | {TokenType.R_PAREN}:
            return "alias without AS"
        state["prev"] = tt
    return None


@lru_cache(maxsize=16384)
def spider_signature(sql: str, schema: SpiderSchema | None = None, ignore_values: bool = True) -> Any:
    """The official evaluator's components of ``sql`` (DISTINCT disabled; values too unless
    ``ignore_values`` is False), or None when its parser would not read the query (see the module
    docstring)."""
    parsed = parse_sql(sql)
    if parsed.tree is None or _token_problem(sql):
        return None
    tree = literalize_double_quoted(parsed.tree, schema.all_columns if schema is not None else None)
    try:
        return _query_sig(tree, schema, _Mode(False, ignore_values), None)
    except (Unsupported, ValueError, KeyError, AttributeError, TypeError):
        return None
