"""Exact match (EM) of a predicted query against gold, Spider style, on sqlglot ASTs (pure).

:func:`exact_set_match` follows the official Spider evaluator (:mod:`kosql.sql.spider_match`)
whenever the gold query is one its parser reads: the same components, values and DISTINCT ignored,
JOIN ON conditions ignored, LIMIT values ignored, and 0 for a prediction outside its grammar. A
double-quoted name that is not a column of the schema is a string literal (Spider's convention).

For gold SQL outside that grammar (MySQL/PostgreSQL functions, CASE, LEFT JOIN ... in ko_text2sql
rows) it falls back to kosql's own clause-set comparison, each clause as a set (or multiset):

- ``SELECT``: the multiset of select items (aliases dropped) and the ``DISTINCT`` flag;
- ``FROM``: the multiset of tables (names, aliases resolved) and derived tables (compared
  recursively), plus the set of ``JOIN ... ON`` conditions;
- ``WHERE`` / ``HAVING``: the set of atomic conditions and the multiset of ``AND``/``OR`` connectors
  (as Spider does; ``a = b`` equals ``b = a``);
- ``GROUP BY``: the set of expressions; ``ORDER BY``: the ordered list of (expression, direction),
  where an ORDER BY on a select alias means the aliased expression;
- ``LIMIT``: the value, or only its presence when values are ignored;
- set operations (``UNION [ALL]``, ``INTERSECT``, ``EXCEPT``): the operator and both sides in order;
  CTEs by name; subqueries anywhere are compared recursively.

Identifiers are compared case-insensitively; a column's table qualifier is resolved through the
aliases, and dropped when the query reads from a single table. With ``ignore_values=True`` (the
Spider default) literal values are replaced by a placeholder. Unlike Spider, no schema is needed,
so an unqualified column is not resolved to its table.

:func:`exact_string_match` compares :func:`kosql.sql.normalize.normalize_sql` forms (keyword,
identifier and whitespace differences ignored).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlglot import exp

from kosql.sql.normalize import literalize_double_quoted, normalize_sql, parse_sql
from kosql.sql.spider_match import SpiderSchema, spider_signature

_QUERY_TYPES = (exp.Select, exp.SetOperation)


def _nested_queries(node: exp.Expr) -> list[exp.Expr]:
    """Queries directly inside ``node`` (not inside another nested query)."""
    out: list[exp.Expr] = []
    stack = list(node.iter_expressions())
    while stack:
        n = stack.pop()
        if isinstance(n, _QUERY_TYPES):
            out.append(n)
            continue
        stack.extend(n.iter_expressions())
    return out


class _Ctx:
    def __init__(self, aliases: dict[str, str], single: bool, ignore_values: bool,
                 select_aliases: dict[str, exp.Expr] | None = None) -> None:
        self.aliases = aliases
        self.single = single
        self.ignore_values = ignore_values
        self.select_aliases = select_aliases or {}


def _key(node: exp.Expr, ctx: _Ctx) -> str:
    """Canonical text of one expression (subqueries replaced by their signature)."""
    node = node.copy()
    if isinstance(node, exp.Alias):
        node = node.this
    if isinstance(node, exp.Ordered):
        node = node.this
    if isinstance(node, exp.Column) and not node.table and node.name.lower() in ctx.select_aliases:
        node = ctx.select_aliases[node.name.lower()].copy()
    for q in _nested_queries(node) if not isinstance(node, _QUERY_TYPES) else [node]:
        marker = exp.Var(this=f"<{_signature(q, ctx.ignore_values)!r}>")
        if q is node:
            return marker.this
        q.replace(marker)
    for col in list(node.find_all(exp.Column)):
        name = col.name.lower()
        table = col.table.lower()
        if not table and name in ctx.select_aliases:
            col.replace(ctx.select_aliases[name].copy())
            continue
        table = "" if ctx.single else ctx.aliases.get(table, table)
        col.set("table", exp.to_identifier(table) if table else None)
        col.set("this", exp.to_identifier(name) if not isinstance(col.this, exp.Star) else col.this)
    if ctx.ignore_values:
        for lit in list(node.find_all(exp.Literal)):
            lit.replace(exp.Var(this="value"))
    for ident in node.find_all(exp.Identifier):
        ident.set("this", ident.name.lower())
        ident.set("quoted", False)
    if isinstance(node, (exp.EQ, exp.NEQ)):
        left = node.left.sql(normalize_functions="lower")
        right = node.right.sql(normalize_functions="lower")
        return f"{type(node).__name__}({min(left, right)}, {max(left, right)})"
    return node.sql(normalize_functions="lower")


def _split_condition(cond: exp.Expr | None) -> tuple[list[exp.Expr], list[str]]:
    if cond is None:
        return [], []
    if isinstance(cond, exp.Paren):
        return _split_condition(cond.this)
    if isinstance(cond, (exp.And, exp.Or)):
        la, lc = _split_condition(cond.left)
        ra, rc = _split_condition(cond.right)
        return la + ra, lc + rc + ["and" if isinstance(cond, exp.And) else "or"]
    return [cond], []


def _condition_sig(cond: exp.Expr | None, ctx: _Ctx) -> tuple[Any, ...]:
    if isinstance(cond, (exp.Where, exp.Having)):
        cond = cond.this
    atoms, connectors = _split_condition(cond)
    return (tuple(sorted({_key(a, ctx) for a in atoms})), tuple(sorted(connectors)))


def _source_name(src: exp.Expr, ignore_values: bool) -> str:
    if isinstance(src, exp.Table) and not isinstance(src.this, _QUERY_TYPES):
        return src.name.lower()
    inner = src.this if isinstance(src, exp.Subquery) else src
    return f"<{_signature(inner, ignore_values)!r}>"


def _select_signature(sel: exp.Select, ignore_values: bool) -> tuple[Any, ...]:
    from_ = sel.args.get("from_") or sel.args.get("from")
    joins = sel.args.get("joins") or []
    sources = ([from_.this] if from_ is not None else []) + [j.this for j in joins]
    aliases: dict[str, str] = {}
    names: list[str] = []
    for src in sources:
        name = _source_name(src, ignore_values)
        names.append(name)
        if src.alias:
            aliases[src.alias.lower()] = name
        if isinstance(src, exp.Table):
            aliases.setdefault(src.name.lower(), name)
    select_aliases = {e.alias.lower(): e.this for e in sel.expressions if isinstance(e, exp.Alias)}
    ctx = _Ctx(aliases, len(sources) <= 1, ignore_values)
    order_ctx = _Ctx(aliases, len(sources) <= 1, ignore_values, select_aliases)
    on_atoms: set[str] = set()
    for j in joins:
        on = j.args.get("on")
        if on is not None:
            on_atoms.update(_condition_sig(on, ctx)[0])
    group = sel.args.get("group")
    order = sel.args.get("order")
    limit = sel.args.get("limit")
    withs = sel.args.get("with_") or sel.args.get("with")
    return (
        "select",
        bool(sel.args.get("distinct")),
        tuple(sorted(_key(e, ctx) for e in sel.expressions)),
        tuple(sorted(names)),
        tuple(sorted(on_atoms)),
        _condition_sig(sel.args.get("where"), ctx),
        tuple(sorted({_key(g, order_ctx) for g in group.expressions})) if group is not None else (),
        _condition_sig(sel.args.get("having"), order_ctx),
        _order_sig(order, order_ctx),
        _limit_sig(limit, ignore_values),
        _with_sig(withs, ignore_values),
    )


def _order_sig(order: exp.Expr | None, ctx: _Ctx) -> tuple[Any, ...]:
    if order is None:
        return ()
    return tuple((_key(o, ctx), bool(o.args.get("desc"))) for o in order.expressions)


def _limit_sig(limit: exp.Expr | None, ignore_values: bool) -> str:
    if limit is None:
        return ""
    if ignore_values:
        return "limit"
    value = limit.args.get("expression") or limit.this
    return value.sql() if isinstance(value, exp.Expr) else str(value)


def _with_sig(withs: exp.Expr | None, ignore_values: bool) -> tuple[Any, ...]:
    if withs is None:
        return ()
    return tuple(sorted((cte.alias.lower(), repr(_signature(cte.this, ignore_values)))
                        for cte in withs.expressions))


def _signature(node: exp.Expr, ignore_values: bool) -> tuple[Any, ...]:
    while isinstance(node, exp.Subquery):
        node = node.this
    if isinstance(node, exp.SetOperation):
        kind = type(node).__name__.lower() + ("" if node.args.get("distinct", True) else "_all")
        ctx = _Ctx({}, True, ignore_values)
        return (kind, _signature(node.left, ignore_values), _signature(node.right, ignore_values),
                _order_sig(node.args.get("order"), ctx), _limit_sig(node.args.get("limit"), ignore_values),
                _with_sig(node.args.get("with_") or node.args.get("with"), ignore_values))
    if isinstance(node, exp.Select):
        return _select_signature(node, ignore_values)
    return ("other", node.sql(normalize_functions="lower").lower())


@lru_cache(maxsize=8192)
def query_signature(sql: str, ignore_values: bool = True,
                    columns: frozenset[str] | None = None) -> tuple[Any, ...] | None:
    """kosql's clause-set signature of ``sql`` (None when it does not parse as one query);
    ``columns``: the schema's column names, for :func:`literalize_double_quoted`."""
    parsed = parse_sql(sql)
    if parsed.tree is None or not isinstance(parsed.tree, _QUERY_TYPES + (exp.Subquery,)):
        return None
    try:
        return _signature(literalize_double_quoted(parsed.tree, columns), ignore_values)
    except Exception:  # sqlglot AST shapes we do not know: not comparable, never a crash
        return None


def _squash(sql: str) -> str:
    return " ".join(sql.split()).rstrip(";").rstrip()


_normalized = lru_cache(maxsize=8192)(normalize_sql)


def exact_set_match(gold_sql: str, pred_sql: str, *, ignore_values: bool = True,
                    schema: SpiderSchema | None = None) -> bool:
    """Exact set match of ``pred_sql`` against ``gold_sql`` (False if either fails): the official
    Spider rules when the gold query is in Spider's grammar, else kosql's clause sets. ``schema``
    (:func:`kosql.evaluate.em_schema.spider_schema_from_ddl`) resolves unqualified columns, maps
    foreign keys and tells double-quoted columns from strings, as the official evaluator does."""
    if not pred_sql or not pred_sql.strip():
        return False
    spider_gold = spider_signature(gold_sql, schema, ignore_values)
    if spider_gold is not None:
        if _squash(gold_sql) == _squash(pred_sql):
            return True
        return bool(spider_signature(pred_sql, schema, ignore_values) == spider_gold)
    columns = schema.all_columns if schema is not None else None
    gold = query_signature(gold_sql, ignore_values, columns)
    if gold is None:
        return False
    if _squash(gold_sql) == _squash(pred_sql):
        return True
    pred = query_signature(pred_sql, ignore_values, columns)
    return pred is not None and gold == pred


def exact_string_match(gold_sql: str, pred_sql: str) -> bool:
    """Equality of the normalized texts (case, whitespace, quoting, trailing ';' ignored)."""
    if not pred_sql or not pred_sql.strip():
        return False
    if _squash(gold_sql) == _squash(pred_sql):
        return True
    return bool(_normalized(gold_sql) == _normalized(pred_sql))
