"""SQL feature tags and Spider-style hardness, computed from sqlglot ASTs (pure functions).

Feature tags (stable names used in datasets, stats and breakdowns):
``select_star, distinct, where, like, in, between, is_null, and_or, order_by, limit, aggregate,
group_by, having, join, join3, subquery, correlated_subquery, set_op, case, date_filter``.

Hardness follows the Spider evaluator (``count_component1`` / ``count_component2`` /
``count_others``) applied to the outermost query.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import sqlglot
from sqlglot import exp

FEATURES: tuple[str, ...] = (
    "select_star", "distinct", "where", "like", "in", "between", "is_null", "and_or",
    "order_by", "limit", "aggregate", "group_by", "having", "join", "join3", "subquery",
    "correlated_subquery", "set_op", "case", "date_filter",
)
HARDNESS_LEVELS: tuple[str, ...] = ("easy", "medium", "hard", "extra")

_AGGS = (exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max)
_DATE_FUNCS = (exp.Year, exp.Month, exp.StrToTime, exp.TimeToStr, exp.DateTrunc,
               exp.Extract, exp.CurrentDate, exp.CurrentTimestamp)


@lru_cache(maxsize=4096)
def parse_one(sql: str, dialect: str | None = None) -> exp.Expr | None:
    """Parse one statement; None when it does not parse (never raises)."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError):
        return None
    return tree


def _outer_select(tree: exp.Expr) -> exp.Select | None:
    node: exp.Expr | None = tree
    while isinstance(node, exp.SetOperation):
        node = node.this
    if isinstance(node, exp.Subquery):
        node = node.this
    return node if isinstance(node, exp.Select) else None


def _own_nodes(node: exp.Expr, kind: Any) -> list[exp.Expr]:
    """Nodes of ``kind`` inside ``node`` that do not belong to a nested SELECT."""
    out: list[exp.Expr] = []
    sub: exp.Expr
    for sub in node.find_all(kind):
        parent = sub.parent
        nested = False
        while parent is not None and parent is not node:
            if isinstance(parent, exp.Select):
                nested = True
                break
            parent = parent.parent
        if not nested:
            out.append(sub)
    return out


def _conditions(cond: exp.Expr | None) -> list[exp.Expr]:
    if cond is None:
        return []
    if isinstance(cond, (exp.And, exp.Or)):
        return _conditions(cond.left) + _conditions(cond.right)
    if isinstance(cond, exp.Paren):
        return _conditions(cond.this)
    return [cond]


def _or_count(cond: exp.Expr | None) -> int:
    return 0 if cond is None else len(_own_nodes(cond, exp.Or))


def _is_correlated(sub: exp.Select) -> bool:
    inner = {t.alias_or_name for t in sub.find_all(exp.Table)}
    for col in sub.find_all(exp.Column):
        if col.table and col.table not in inner:
            return True
    return False


def sql_features(sql: str, dialect: str | None = None) -> list[str]:
    """The feature tags of ``sql`` (empty list when it does not parse)."""
    tree = parse_one(sql, dialect)
    if tree is None:
        return []
    tags: set[str] = set()
    selects = list(tree.find_all(exp.Select))
    if isinstance(tree, exp.SetOperation) or tree.find(exp.SetOperation):
        tags.add("set_op")
    if any(isinstance(e, exp.Star) for s in selects for e in s.expressions):
        tags.add("select_star")
    if any(s.args.get("distinct") for s in selects) or tree.find(exp.Distinct):
        tags.add("distinct")
    if tree.find(exp.Where):
        tags.add("where")
    if tree.find(exp.Like) or tree.find(exp.ILike):
        tags.add("like")
    if tree.find(exp.In):
        tags.add("in")
    if tree.find(exp.Between):
        tags.add("between")
    if any(isinstance(i.expression, exp.Null) for i in tree.find_all(exp.Is)):
        tags.add("is_null")
    if tree.find(exp.And) or tree.find(exp.Or):
        tags.add("and_or")
    if tree.find(exp.Order):
        tags.add("order_by")
    if tree.find(exp.Limit):
        tags.add("limit")
    if tree.find(*_AGGS):
        tags.add("aggregate")
    if tree.find(exp.Group):
        tags.add("group_by")
    if tree.find(exp.Having):
        tags.add("having")
    max_tables = max((len(_own_nodes(s, exp.Table)) for s in selects), default=0)
    if any(s.args.get("joins") for s in selects) or max_tables > 1:
        tags.add("join")
    if max_tables >= 3:
        tags.add("join3")
    outer = _outer_select(tree)
    nested = [s for s in selects if s is not outer and not _is_setop_branch(s)]
    if nested:
        tags.add("subquery")
        if any(_is_correlated(s) for s in nested):
            tags.add("correlated_subquery")
    if tree.find(exp.Case) or tree.find(exp.If):
        tags.add("case")
    if tree.find(*_DATE_FUNCS) or _has_date_literal_filter(tree):
        tags.add("date_filter")
    return [f for f in FEATURES if f in tags]


def _is_setop_branch(sel: exp.Select) -> bool:
    node: exp.Expr | None = sel.parent
    while isinstance(node, exp.Subquery):
        node = node.parent
    return isinstance(node, exp.SetOperation)


def _has_date_literal_filter(tree: exp.Expr) -> bool:
    for lit in tree.find_all(exp.Literal):
        if lit.is_string and len(lit.this) >= 7 and lit.this[:4].isdigit() and lit.this[4] == "-":
            if lit.find_ancestor(exp.Where, exp.Having) is not None:
                return True
    for fn in tree.find_all(exp.Anonymous):
        if fn.name.lower() in {"strftime", "date", "datetime", "julianday", "date_format"}:
            return True
    return False


def _agg_count(nodes: list[exp.Expr]) -> int:
    return sum(len(_own_nodes(n, _AGGS)) + (1 if isinstance(n, _AGGS) else 0) for n in nodes)


def _component1(sel: exp.Select) -> int:
    count = 0
    where = sel.args.get("where")
    having = sel.args.get("having")
    if where is not None:
        count += 1
    if sel.args.get("group") is not None:
        count += 1
    if sel.args.get("order") is not None:
        count += 1
    if sel.args.get("limit") is not None:
        count += 1
    from_ = sel.args.get("from_") or sel.args.get("from")
    n_tables = (len(_own_nodes(from_, exp.Table)) if from_ is not None else 0)
    n_tables += len(sel.args.get("joins") or [])
    count += max(0, n_tables - 1)
    for cond in (where, having):
        count += _or_count(cond)
    join_conds = [j.args.get("on") for j in sel.args.get("joins") or [] if j.args.get("on")]
    for cond in [where, having, *join_conds]:
        if cond is not None:
            count += sum(1 for c in _conditions(cond.this if isinstance(cond, (exp.Where, exp.Having)) else cond)
                         if isinstance(c, exp.Like))
    return count


def _component2(tree: exp.Expr, outer: exp.Select) -> int:
    nested = 0
    if isinstance(tree, exp.SetOperation):
        nested += 1
    for cond_name in ("where", "having"):
        cond = outer.args.get(cond_name)
        if cond is not None:
            nested += len([s for s in cond.find_all(exp.Select)
                           if s.find_ancestor(exp.Select) is outer])
    return nested


def _others(sel: exp.Select) -> int:
    count = 0
    where = sel.args.get("where")
    group = sel.args.get("group")
    parts: list[exp.Expr] = list(sel.expressions)
    for name in ("where", "group", "order", "having"):
        node = sel.args.get(name)
        if node is not None:
            parts.append(node)
    if _agg_count(parts) > 1:
        count += 1
    if len(sel.expressions) > 1:
        count += 1
    if where is not None and len(_conditions(where.this)) > 1:
        count += 1
    if group is not None and len(group.expressions) > 1:
        count += 1
    return count


def sql_hardness(sql: str, dialect: str | None = None) -> str:
    """Spider hardness of ``sql``: 'easy', 'medium', 'hard' or 'extra' ('extra' if unparsable)."""
    tree = parse_one(sql, dialect)
    if tree is None:
        return "extra"
    outer = _outer_select(tree)
    if outer is None:
        return "extra"
    c1 = _component1(outer)
    c2 = _component2(tree, outer)
    others = _others(outer)
    if c1 <= 1 and others == 0 and c2 == 0:
        return "easy"
    if (others <= 2 and c1 <= 1 and c2 == 0) or (c1 <= 2 and others < 2 and c2 == 0):
        return "medium"
    if ((others > 2 and c1 <= 2 and c2 == 0) or (2 < c1 <= 3 and others <= 2 and c2 == 0)
            or (c1 <= 1 and others == 0 and c2 <= 1)):
        return "hard"
    return "extra"
