"""Multi-table and nested templates: JOINs (2 and 3 tables), subqueries, set operations.

Aliases are always ``T1`` (the table holding the foreign key), ``T2`` and ``T3``, Spider style.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from kosql.data.synth.context import Gen, lit, qv
from kosql.data.synth.domains import ROLE_CAT, ROLE_LABEL, ROLE_NUM, Column, Table
from kosql.data.synth.korean import ask_object, join_list, josa
from kosql.data.synth.templates import _AGGS, Result, Template, cols_ko, cols_sql


@dataclass(frozen=True)
class Link:
    child: Table
    fk: Column
    parent: Table

    def on(self, c: str = "T1", p: str = "T2") -> str:
        return f"{c}.{self.fk.name} = {p}.{self.parent.pk.name}"


def links(g: Gen) -> list[Link]:
    return [Link(tb, col, g.domain.table(col.fk or "")) for tb in g.domain.tables for col in tb.fks()]


def _group_col(table: Table) -> Column | None:
    return table.label or next(iter(table.by_role(ROLE_CAT)), None)


def _distinct(g: Gen) -> tuple[str, str]:
    """Optionally DISTINCT, said in the question as '중복 없이'."""
    return ("DISTINCT ", "중복 없이 ") if g.rng.random() < 0.3 else ("", "")


def join_child(g: Gen) -> Result:
    """Children filtered by a condition on their parent."""
    ln = g.pick(links(g))
    f = g.any_filter(ln.parent, "T2") if ln else None
    if ln is None or f is None:
        return None
    cols = g.outputs(ln.child)
    dsql, dko = _distinct(g)
    head = g.rng.choice((f"{f.adn} {g.T(ln.parent)}의 {g.T(ln.child)}",
                         f"{f.adn} {josa(g.T(ln.parent), '과')} 연결된 {g.T(ln.child)}의"))
    q = f"{head} {josa(cols_ko(g, cols), '을')} {dko}{g.rng.choice(('보여줘', '알려줘', '조회해 주세요', '찾아줘'))}"
    return q, (f"SELECT {dsql}{cols_sql(cols, 'T1')} FROM {ln.child.name} AS T1 JOIN {ln.parent.name} AS T2 "
               f"ON {ln.on()} WHERE {f.sql}")


def join_parent(g: Gen) -> Result:
    """Parent columns of children that meet a condition."""
    ln = g.pick(links(g))
    f = g.any_filter(ln.child, "T1") if ln else None
    if ln is None or f is None:
        return None
    cols = g.outputs(ln.parent, k=g.rng.choice((1, 1, 2)))
    dsql, dko = _distinct(g)
    q = (f"{f.adn} {g.TC(ln.child)}의 {josa(g.TC(ln.parent, cols_ko(g, cols)), '을')} {dko}"
         + g.rng.choice(("보여줘", "알려줘", "조회해 줘", "나열해 주세요")))
    return q, (f"SELECT {dsql}{cols_sql(cols, 'T2')} FROM {ln.child.name} AS T1 JOIN {ln.parent.name} AS T2 "
               f"ON {ln.on()} WHERE {f.sql}")


def join_both(g: Gen) -> Result:
    ln = g.pick(links(g))
    if ln is None:
        return None
    ccols = g.outputs(ln.child, k=g.rng.choice((1, 2)))
    pcols = g.outputs(ln.parent, k=1)
    obj = f"{g.T(ln.child)}의 " + join_list([g.C(c) for c in ccols] + [f"해당 {g.T(ln.parent)}의 {g.C(pcols[0])}"])
    sql = (f"SELECT {cols_sql(ccols, 'T1')}, {cols_sql(pcols, 'T2')} FROM {ln.child.name} AS T1 "
           f"JOIN {ln.parent.name} AS T2 ON {ln.on()}")
    if g.rng.random() < 0.4:
        f = g.any_filter(ln.child, "T1")
        if f is None:
            return None
        obj = f"{f.adn} {obj}"
        sql += f" WHERE {f.sql}"
    return ask_object(g.rng, obj), sql


def join_group(g: Gen) -> Result:
    ln = g.pick(links(g))
    key = _group_col(ln.parent) if ln else None
    if ln is None or key is None:
        return None
    head = f"{g.TC(ln.parent, g.C(key))}별"
    gsql = f"GROUP BY T2.{key.name}"
    base = f"FROM {ln.child.name} AS T1 JOIN {ln.parent.name} AS T2 ON {ln.on()}"
    nums = ln.child.by_role(ROLE_NUM)
    if nums and g.rng.random() < 0.5:
        col = g.pick(nums)
        fn, words = g.rng.choice(_AGGS)
        q = ask_object(g.rng, f"{head} {g.T(ln.child)} {g.C(col)} {g.rng.choice(words)}")
        return q, f"SELECT T2.{key.name}, {fn}(T1.{col.name}) {base} {gsql}"
    q = ask_object(g.rng, f"{head} {g.T(ln.child)} 수")
    return q, f"SELECT T2.{key.name}, COUNT(*) {base} {gsql}"


def join_agg(g: Gen) -> Result:
    ln = g.pick(links(g))
    f = g.any_filter(ln.parent, "T2") if ln else None
    if ln is None or f is None:
        return None
    base = f"FROM {ln.child.name} AS T1 JOIN {ln.parent.name} AS T2 ON {ln.on()} WHERE {f.sql}"
    nums = ln.child.by_role(ROLE_NUM)
    if nums and g.rng.random() < 0.5:
        col = g.pick(nums)
        fn, words = g.rng.choice(_AGGS)
        q = ask_object(g.rng, f"{f.adn} {g.T(ln.parent)}의 {g.T(ln.child)} {g.C(col)} {g.rng.choice(words)}", "value")
        return q, f"SELECT {fn}(T1.{col.name}) {base}"
    subj = f"{f.adn} {g.T(ln.parent)}의 {g.T(ln.child)}"
    q = g.rng.choice((f"{josa(subj, '은')} 몇 {ln.child.unit}이야?", f"{subj} 수를 알려줘",
                      f"{subj} 개수를 구해 주세요"))
    return q, f"SELECT COUNT(*) {base}"


def join_having(g: Gen) -> Result:
    ln = g.pick(links(g))
    key = _group_col(ln.parent) if ln else None
    if ln is None or key is None:
        return None
    idx = [c.name for c in ln.child.columns].index(ln.fk.name)
    kidx = [c.name for c in ln.parent.columns].index(key.name)
    names = {r[0]: r[kidx] for r in g.rows[ln.parent.name]}
    counts = sorted(Counter(names[r[idx]] for r in g.rows[ln.child.name]).values())
    n = g.pick(counts[len(counts) // 2:])
    show = g.rng.random() < 0.4
    sel = f"T2.{key.name}, COUNT(*)" if show else f"T2.{key.name}"
    obj = f"{josa(g.TC(ln.parent, g.C(key)), '과')} {g.T(ln.child)} 수" if show else g.TC(ln.parent, g.C(key))
    q = ask_object(g.rng, f"{g.T(ln.child)} 수가 {n}{ln.child.unit} 이상인 {obj}")
    return q, (f"SELECT {sel} FROM {ln.child.name} AS T1 JOIN {ln.parent.name} AS T2 ON {ln.on()} "
               f"GROUP BY T2.{key.name} HAVING COUNT(*) >= {n}")


def join_top(g: Gen) -> Result:
    ln = g.pick(links(g))
    key = _group_col(ln.parent) if ln else None
    if ln is None or key is None:
        return None
    k = g.rng.choice((1, 3, 5))
    q = ask_object(g.rng, f"{g.T(ln.child)} 수가 가장 많은 {g.TC(ln.parent, g.C(key))} {k}개")
    return q, (f"SELECT T2.{key.name} FROM {ln.child.name} AS T1 JOIN {ln.parent.name} AS T2 ON {ln.on()} "
               f"GROUP BY T2.{key.name} ORDER BY COUNT(*) DESC LIMIT {k}")


def join3(g: Gen) -> Result:
    """Three tables: a bridge (one table with two foreign keys) or a chain (C -> B -> A)."""
    lk = links(g)
    bridges = [(a, b) for a in lk for b in lk if a.child is b.child and a.parent is not b.parent
               and a.fk.name < b.fk.name]
    chains = [(a, b) for a in lk for b in lk if a.parent is b.child]
    dsql, dko = _distinct(g)
    if bridges and (not chains or g.rng.random() < 0.5):
        a, b = g.pick(bridges)
        if g.rng.random() < 0.5:
            a, b = b, a
        f = g.any_filter(a.parent, "T2")
        if f is None:
            return None
        cols = g.outputs(b.parent, k=g.rng.choice((1, 1, 2)))
        q = (f"{g.T(a.child)} 기준으로, {f.adn} {g.T(a.parent)}의 {josa(g.TC(b.parent, cols_ko(g, cols)), '을')} "
             f"{dko}{g.rng.choice(('보여줘', '알려줘', '조회해 주세요'))}")
        return q, (f"SELECT {dsql}{cols_sql(cols, 'T3')} FROM {a.child.name} AS T1 JOIN {a.parent.name} AS T2 "
                   f"ON {a.on('T1', 'T2')} JOIN {b.parent.name} AS T3 ON {b.on('T1', 'T3')} WHERE {f.sql}")
    if not chains:
        return None
    low, mid = g.pick(chains)  # low: C -> B, mid: B -> A
    sql_from = (f"FROM {low.child.name} AS T1 JOIN {low.parent.name} AS T2 ON {low.on('T1', 'T2')} "
                f"JOIN {mid.parent.name} AS T3 ON {mid.on('T2', 'T3')}")
    if g.rng.random() < 0.5:
        f = g.any_filter(mid.parent, "T3")
        if f is None:
            return None
        cols = g.outputs(low.child, k=g.rng.choice((1, 2)))
        q = (f"{f.adn} {g.T(mid.parent)}의 {g.T(mid.child)}에 속한 {g.T(low.child)}의 "
             f"{josa(cols_ko(g, cols), '을')} {dko}{g.rng.choice(('보여줘', '알려줘', '조회해 줘'))}")
        return q, f"SELECT {dsql}{cols_sql(cols, 'T1')} {sql_from} WHERE {f.sql}"
    f = g.any_filter(low.child, "T1")
    if f is None:
        return None
    cols = g.outputs(mid.parent, k=1)
    q = (f"{f.adn} {josa(g.T(low.child), '이')} 속한 {g.T(mid.child)}의 {g.T(mid.parent)} "
         f"{josa(cols_ko(g, cols), '을')} {dko}{g.rng.choice(('보여줘', '알려줘', '조회해 줘'))}")
    return q, f"SELECT {dsql}{cols_sql(cols, 'T3')} {sql_from} WHERE {f.sql}"


def sub_in(g: Gen) -> Result:
    ln = g.pick(links(g))
    if ln is None:
        return None
    cols = g.outputs(ln.parent, k=g.rng.choice((1, 2)))
    pk = ln.parent.pk.name
    if g.rng.random() < 0.35:
        q = ask_object(g.rng, f"{josa(g.T(ln.child), '이')} 하나도 없는 {g.T(ln.parent)}의 {cols_ko(g, cols)}")
        return q, (f"SELECT {cols_sql(cols)} FROM {ln.parent.name} WHERE {pk} NOT IN "
                   f"(SELECT {ln.fk.name} FROM {ln.child.name})")
    f = g.any_filter(ln.child)
    if f is None:
        return None
    q = ask_object(g.rng, f"{f.adn} {josa(g.T(ln.child), '이')} 하나라도 있는 {g.T(ln.parent)}의 {cols_ko(g, cols)}")
    return q, (f"SELECT {cols_sql(cols)} FROM {ln.parent.name} WHERE {pk} IN "
               f"(SELECT {ln.fk.name} FROM {ln.child.name} WHERE {f.sql})")


def sub_scalar(g: Gen) -> Result:
    tb = g.table_with(ROLE_NUM)
    if tb is None:
        return None
    col = g.pick(tb.by_role(ROLE_NUM))
    cols = g.outputs(tb, exclude=(col.name,))
    c = josa(g.C(col), "이")
    r = g.rng.random()
    if r < 0.5:
        up = g.rng.random() < 0.5
        word = "평균보다 높은" if up else "평균보다 낮은"
        sql = f"WHERE {col.name} {'>' if up else '<'} (SELECT AVG({col.name}) FROM {tb.name})"
    else:
        up = g.rng.random() < 0.5
        word = "최대인" if up else "최소인"
        sql = f"WHERE {col.name} = (SELECT {'MAX' if up else 'MIN'}({col.name}) FROM {tb.name})"
    q = ask_object(g.rng, f"{c} {word} {g.T(tb)}의 {cols_ko(g, cols)}")
    return q, f"SELECT {cols_sql(cols)} FROM {tb.name} {sql}"


def correlated(g: Gen) -> Result:
    tb = g.table_with(ROLE_CAT)
    if tb is None or not tb.by_role(ROLE_NUM):
        return None
    key, col = g.pick(tb.by_role(ROLE_CAT)), g.pick(tb.by_role(ROLE_NUM))
    cols = g.outputs(tb, k=g.rng.choice((1, 2)), exclude=(col.name,))
    up = g.rng.random() < 0.6
    q = ask_object(g.rng, f"같은 {g.C(key)} 안에서 평균 {g.C(col)}보다 {josa(g.C(col), '이')} "
                   f"{'높은' if up else '낮은'} {g.T(tb)}의 {cols_ko(g, cols)}")
    return q, (f"SELECT {cols_sql(cols, 'T1')} FROM {tb.name} AS T1 WHERE T1.{col.name} {'>' if up else '<'} "
               f"(SELECT AVG(T2.{col.name}) FROM {tb.name} AS T2 WHERE T2.{key.name} = T1.{key.name})")


def set_op(g: Gen) -> Result:
    tb = g.table_with(ROLE_CAT, ROLE_LABEL, min_count=2)
    if tb is None:
        return None
    r = g.rng.random()
    if r < 0.4:
        f1, f2 = g.any_filter(tb), g.any_filter(tb)
        if f1 is None or f2 is None or f1.sql == f2.sql:
            return None
        cols = g.outputs(tb, k=1)
        c = cols_ko(g, cols)
        q = (f"{f1.adn} {g.T(tb)}의 {josa(c, '과')} {f2.adn} {g.T(tb)}의 {josa(c, '을')} 합쳐서 중복 없이 "
             + g.rng.choice(("보여줘", "알려줘", "조회해 주세요")))
        return q, (f"SELECT {cols_sql(cols)} FROM {tb.name} WHERE {f1.sql} UNION "
                   f"SELECT {cols_sql(cols)} FROM {tb.name} WHERE {f2.sql}")
    cats = tb.by_role(ROLE_CAT, ROLE_LABEL)
    key, out = g.rng.sample(cats, 2)
    vals = g.values(tb, key)
    if len(vals) < 2:
        return None
    a, b = g.rng.sample(vals, 2)
    ck = josa(g.C(key), "이")
    if r < 0.7:
        q = ask_object(g.rng, f"{ck} {qv(a)}인 {g.T(tb)}도 있고 {qv(b)}인 {g.T(tb)}도 있는 {g.C(out)}")
        op = "INTERSECT"
    else:
        q = ask_object(g.rng, f"{ck} {qv(a)}인 {josa(g.T(tb), '은')} 있지만 {qv(b)}인 {josa(g.T(tb), '은')} 없는 {g.C(out)}")
        op = "EXCEPT"
    return q, (f"SELECT {out.name} FROM {tb.name} WHERE {key.name} = {lit(a)} {op} "
               f"SELECT {out.name} FROM {tb.name} WHERE {key.name} = {lit(b)}")


MULTI_TEMPLATES: tuple[Template, ...] = (
    Template("join_child", join_child, frozenset({"join", "where", "distinct"}), 1.6),
    Template("join_parent", join_parent, frozenset({"join", "where", "distinct"}), 1.4),
    Template("join_both", join_both, frozenset({"join", "where"}), 1.0),
    Template("join_group", join_group, frozenset({"join", "group_by", "aggregate"}), 1.0),
    Template("join_agg", join_agg, frozenset({"join", "aggregate", "where"}), 0.8),
    Template("join_having", join_having, frozenset({"join", "group_by", "having", "aggregate"}), 0.8),
    Template("join_top", join_top, frozenset({"join", "group_by", "order_by", "limit"}), 0.5),
    Template("join3", join3, frozenset({"join", "join3", "where", "distinct"}), 1.4),
    Template("sub_in", sub_in, frozenset({"subquery", "in", "where"}), 1.0),
    Template("sub_scalar", sub_scalar, frozenset({"subquery", "aggregate", "where"}), 0.8),
    Template("correlated", correlated, frozenset({"subquery", "correlated_subquery", "aggregate"}), 0.5),
    Template("set_op", set_op, frozenset({"set_op", "where"}), 0.6),
)
