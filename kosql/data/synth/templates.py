"""Single-table question/SQL templates. Each returns ``(question, sql)`` or None when not applicable.

Every question states what the SQL needs: the returned columns (in SELECT order), filter values
(quoted exactly like the SQL literal), the sort column and direction, and the row limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kosql.data.synth.context import Gen, conj, lit, qv
from kosql.data.synth.domains import ROLE_BOOL, ROLE_CAT, ROLE_DATE, ROLE_LABEL, ROLE_NUM, Column, Table
from kosql.data.synth.korean import ask_object, join_list, josa

Result = tuple[str, str] | None


@dataclass(frozen=True)
class Template:
    name: str
    fn: Callable[[Gen], Result]
    tags: frozenset[str]  # feature tags the template can produce (for --focus)
    weight: float = 1.0


def cols_sql(cols: list[Column], alias: str = "") -> str:
    return ", ".join(f"{alias}.{c.name}" if alias else c.name for c in cols)


def cols_ko(g: Gen, cols: list[Column]) -> str:
    return join_list([g.C(c) for c in cols])


def _table_any(g: Gen) -> Table:
    return g.rng.choice(g.domain.tables)


def select_star(g: Gen) -> Result:
    tb = _table_any(g)
    if g.rng.random() < 0.5:
        f = g.any_filter(tb)
        if f is None:
            return None
        q = g.rng.choice((f"{f.adn} {g.T(tb)}의 모든 정보를 ", f"{f.adn} {g.T(tb)}의 전체 컬럼을 "))
        return q + g.rng.choice(("보여줘", "조회해 줘", "알려주세요")), f"SELECT * FROM {tb.name} WHERE {f.sql}"
    q = g.rng.choice((f"{g.T(tb)}의 모든 정보를 ", f"{g.T(tb)}에 있는 데이터를 전부 ", f"모든 {g.T(tb)} 정보를 "))
    return q + g.rng.choice(("보여줘", "조회해 줘", "조회해 주세요", "출력해줘")), f"SELECT * FROM {tb.name}"


def project(g: Gen) -> Result:
    tb = _table_any(g)
    cols = g.outputs(tb)
    obj = cols_ko(g, cols)
    form = g.rng.randrange(3)
    if form == 0:
        q = ask_object(g.rng, f"{g.T(tb)}의 {obj}")
    elif form == 1:
        q = ask_object(g.rng, f"모든 {g.T(tb)}의 {obj}")
    else:
        q = f"{g.T(tb)}에서 {ask_object(g.rng, obj)}"
    return q, f"SELECT {cols_sql(cols)} FROM {tb.name}"


def distinct(g: Gen) -> Result:
    tb = g.table_with(ROLE_CAT, ROLE_NUM)
    if tb is None:
        return None
    col = g.pick(tb.by_role(ROLE_CAT) or tb.by_role(ROLE_NUM))
    c = g.C(col)
    q = g.rng.choice((f"{g.T(tb)}의 {josa(c, '을')} 중복 없이 ", f"{g.T(tb)}에 있는 {c}의 종류를 중복 없이 ",
                      f"중복을 제거한 {g.T(tb)}의 {josa(c, '을')} "))
    return q + g.rng.choice(("보여줘", "알려줘", "나열해 주세요", "조회해 줘")), f"SELECT DISTINCT {col.name} FROM {tb.name}"


def where(g: Gen) -> Result:
    tb = _table_any(g)
    f = g.any_filter(tb)
    if f is None:
        return None
    cols = g.outputs(tb, exclude=(f.col,))
    obj = cols_ko(g, cols)
    form = g.rng.randrange(4)
    if form == 0:
        q = ask_object(g.rng, f"{f.adn} {g.T(tb)}의 {obj}")
    elif form == 1:
        q = f"{josa(f.adn + ' ' + g.T(tb), '을')} 찾아서 {ask_object(g.rng, obj)}"
    elif form == 2:
        q = f"{g.T(tb)} 중 {f.adn} 것의 {ask_object(g.rng, obj)}"
    else:
        q = f"{g.T(tb)}에서 {f.adn} 데이터의 {ask_object(g.rng, obj)}"
    return q, f"SELECT {cols_sql(cols)} FROM {tb.name} WHERE {f.sql}"


def and_or(g: Gen) -> Result:
    tb = _table_any(g)
    f1 = g.any_filter(tb)
    if f1 is None:
        return None
    f2 = g.any_filter(tb, exclude=(f1.col,))
    if f2 is None:
        return None
    op = g.rng.choice(("AND", "AND", "OR"))
    cols = g.outputs(tb, exclude=(f1.col, f2.col))
    cond = f"{conj(f1.adn, 'and' if op == 'AND' else 'or')} {f2.adn}"
    q = ask_object(g.rng, f"{cond} {g.T(tb)}의 {cols_ko(g, cols)}")
    return q, f"SELECT {cols_sql(cols)} FROM {tb.name} WHERE {f1.sql} {op} {f2.sql}"


def _order_words(g: Gen, col: Column) -> tuple[str, str]:
    """(Korean phrase for the sort, 'ASC'|'DESC')."""
    c = g.C(col)
    desc = g.rng.random() < 0.5
    if col.role == ROLE_NUM:
        word = g.rng.choice(("높은 순으로", "큰 순서대로", "내림차순으로")) if desc else \
            g.rng.choice(("낮은 순으로", "작은 순서대로", "오름차순으로"))
    elif col.role == ROLE_DATE:
        word = g.rng.choice(("최신 순으로", "최근 순으로", "내림차순으로")) if desc else \
            g.rng.choice(("오래된 순으로", "오름차순으로"))
    else:
        word = "내림차순으로" if desc else g.rng.choice(("오름차순으로", "사전 순으로"))
    return f"{c} {word}", "DESC" if desc else "ASC"


def order_by(g: Gen) -> Result:
    tb = g.table_with(ROLE_NUM, ROLE_DATE)
    if tb is None:
        return None
    key = g.pick(tb.by_role(ROLE_NUM, ROLE_DATE))
    cols = g.outputs(tb, exclude=(key.name,))
    if g.rng.random() < 0.5:
        cols = cols[:2] + [key]
    words, direction = _order_words(g, key)
    f = g.any_filter(tb, exclude=(key.name,)) if g.rng.random() < 0.4 else None
    head = f"{f.adn} {g.T(tb)}의" if f else f"{g.T(tb)}의"
    q = f"{head} {josa(cols_ko(g, cols), '을')} {words} {g.rng.choice(('보여줘', '정렬해줘', '나열해 주세요', '조회해 줘'))}"
    where_sql = f" WHERE {f.sql}" if f else ""
    return q, f"SELECT {cols_sql(cols)} FROM {tb.name}{where_sql} ORDER BY {key.name} {direction}"


def top_k(g: Gen) -> Result:
    tb = g.table_with(ROLE_NUM, ROLE_DATE)
    if tb is None:
        return None
    key = g.pick(tb.by_role(ROLE_NUM, ROLE_DATE))
    k = g.rng.choice((1, 3, 3, 5, 5, 10))
    desc = g.rng.random() < 0.6
    if key.role == ROLE_DATE:
        adj = "가장 최근인" if desc else "가장 오래된"
    else:
        adj = g.rng.choice(("가장 높은", "가장 큰")) if desc else g.rng.choice(("가장 낮은", "가장 작은"))
    cols = g.outputs(tb, exclude=(key.name,))
    if g.rng.random() < 0.4:
        cols = cols[:2] + [key]
    unit = f"{k}{tb.unit}"
    if key.role == ROLE_DATE or g.rng.random() < 0.5:
        subject = f"{josa(g.C(key), '이')} {adj} {g.T(tb)} {unit}"
    else:
        rank = "상위" if desc else "하위"
        subject = f"{g.C(key)} 기준 {rank} {unit} {g.T(tb)}"
    q = ask_object(g.rng, f"{subject}의 {cols_ko(g, cols)}")
    return q, f"SELECT {cols_sql(cols)} FROM {tb.name} ORDER BY {key.name} {'DESC' if desc else 'ASC'} LIMIT {k}"


def count(g: Gen) -> Result:
    tb = _table_any(g)
    f = g.any_filter(tb) if g.rng.random() < 0.75 else None
    subj = f"{f.adn} {g.T(tb)}" if f else f"전체 {g.T(tb)}"
    q = g.rng.choice((f"{josa(subj, '은')} 몇 {tb.unit}이야?", f"{subj} 수를 알려줘",
                      f"{subj}의 개수를 세어 주세요", f"{josa(subj, '은')} 모두 몇 {tb.unit}인가요?"))
    where_sql = f" WHERE {f.sql}" if f else ""
    return q, f"SELECT COUNT(*) FROM {tb.name}{where_sql}"


_AGGS = (("AVG", ("평균", "평균값")), ("SUM", ("합계", "총합")), ("MAX", ("최댓값", "최고값")),
         ("MIN", ("최솟값", "최저값")))


def aggregate(g: Gen) -> Result:
    tb = g.table_with(ROLE_NUM)
    if tb is None:
        return None
    col = g.pick(tb.by_role(ROLE_NUM))
    f = g.any_filter(tb, exclude=(col.name,)) if g.rng.random() < 0.5 else None
    head = f"{f.adn} {g.T(tb)}의" if f else f"{g.T(tb)}의"
    where_sql = f" WHERE {f.sql}" if f else ""
    if g.rng.random() < 0.25:
        (f1, w1), (f2, w2) = g.rng.sample(_AGGS, 2)
        obj = f"{g.C(col)} {josa(g.rng.choice(w1), '과')} {g.rng.choice(w2)}"
        return ask_object(g.rng, f"{head} {obj}", "value"), \
            f"SELECT {f1}({col.name}), {f2}({col.name}) FROM {tb.name}{where_sql}"
    fn, words = g.rng.choice(_AGGS)
    word = g.rng.choice(words)
    prefix = {"AVG": "평균", "SUM": "총", "MAX": "최대", "MIN": "최소"}[fn]
    obj = f"{g.C(col)} {word}" if g.rng.random() < 0.6 else f"{prefix} {g.C(col)}"
    return ask_object(g.rng, f"{head} {obj}", "value"), f"SELECT {fn}({col.name}) FROM {tb.name}{where_sql}"


def count_distinct(g: Gen) -> Result:
    tb = g.table_with(ROLE_CAT, ROLE_LABEL)
    if tb is None:
        return None
    col = g.pick(tb.by_role(ROLE_CAT, ROLE_LABEL))
    q = g.rng.choice((f"{g.T(tb)}에 있는 서로 다른 {g.C(col)}의 개수를 알려줘",
                      f"{g.T(tb)}의 {josa(g.C(col), '은')} 중복 없이 몇 종류야?",
                      f"중복을 제외한 {g.TC(tb, g.C(col))} 수를 구해줘"))
    return q, f"SELECT COUNT(DISTINCT {col.name}) FROM {tb.name}"


def group_count(g: Gen) -> Result:
    tb = g.table_with(ROLE_CAT)
    if tb is None:
        return None
    col = g.pick(tb.by_role(ROLE_CAT))
    c, tn = g.C(col), g.T(tb)
    sql = f"SELECT {col.name}, COUNT(*) FROM {tb.name} GROUP BY {col.name}"
    r = g.rng.random()
    if r < 0.35:
        direction = g.rng.random() < 0.6
        word = "많은 순으로" if direction else "적은 순으로"
        return (f"{c}별 {tn} 수를 {word} {g.rng.choice(('보여줘', '정렬해 주세요', '알려줘'))}",
                sql + f" ORDER BY COUNT(*) {'DESC' if direction else 'ASC'}")
    q = g.rng.choice((f"{c}별 {tn} 수를 알려줘", f"{c}마다 {josa(tn, '이')} 몇 {tb.unit}인지 보여줘",
                      f"{tn}의 {c}별 개수를 집계해 줘", f"{c}에 따른 {tn} 수를 조회해 주세요"))
    return q, sql


def group_agg(g: Gen) -> Result:
    tb = g.table_with(ROLE_CAT)
    if tb is None or not tb.by_role(ROLE_NUM):
        return None
    key, col = g.pick(tb.by_role(ROLE_CAT)), g.pick(tb.by_role(ROLE_NUM))
    fn, words = g.rng.choice(_AGGS)
    word = g.rng.choice(words)
    obj = f"{g.C(key)}별 {g.C(col)} {word}"
    q = ask_object(g.rng, f"{g.T(tb)}의 {obj}" if g.rng.random() < 0.5 else obj)
    return q, f"SELECT {key.name}, {fn}({col.name}) FROM {tb.name} GROUP BY {key.name}"


def group_top(g: Gen) -> Result:
    tb = g.table_with(ROLE_CAT)
    if tb is None:
        return None
    key = g.pick(tb.by_role(ROLE_CAT))
    k = g.rng.choice((1, 1, 2, 3))
    nums = tb.by_role(ROLE_NUM)
    if nums and g.rng.random() < 0.5:
        col = g.pick(nums)
        q = ask_object(g.rng, f"평균 {josa(g.C(col), '이')} 가장 높은 {g.C(key)} {k}개")
        return q, f"SELECT {key.name} FROM {tb.name} GROUP BY {key.name} ORDER BY AVG({col.name}) DESC LIMIT {k}"
    q = ask_object(g.rng, f"{g.T(tb)} 수가 가장 많은 {g.C(key)} {k}개")
    return q, f"SELECT {key.name} FROM {tb.name} GROUP BY {key.name} ORDER BY COUNT(*) DESC LIMIT {k}"


def having(g: Gen) -> Result:
    tb = g.table_with(ROLE_CAT)
    if tb is None:
        return None
    key = g.pick(tb.by_role(ROLE_CAT))
    nums = tb.by_role(ROLE_NUM)
    show_agg = g.rng.random() < 0.4
    if nums and g.rng.random() < 0.4:
        col = g.pick(nums)
        vals = sorted(g.values(tb, col))
        v = vals[len(vals) // 2 + g.rng.randint(-len(vals) // 5, len(vals) // 5)]
        if isinstance(v, float):
            v = round(v)
        cond = f"평균 {josa(g.C(col), '이')} {qv(v)} 이상인"
        sel = f"{key.name}, AVG({col.name})" if show_agg else key.name
        obj = f"{josa(g.C(key), '과')} 평균 {g.C(col)}" if show_agg else g.C(key)
        return (ask_object(g.rng, f"{cond} {obj}"),
                f"SELECT {sel} FROM {tb.name} GROUP BY {key.name} HAVING AVG({col.name}) >= {lit(v)}")
    counts = sorted(g.group_counts(tb, key).values())
    if not counts:
        return None
    n = g.pick(counts[len(counts) // 3:])
    op, word = g.rng.choice(((">=", "이상"), (">", "초과")))
    if op == ">" and n == counts[-1]:
        op, word = ">=", "이상"
    cond = f"{g.T(tb)} 수가 {n}{tb.unit} {word}인"
    sel = f"{key.name}, COUNT(*)" if show_agg else key.name
    obj = f"{josa(g.C(key), '과')} {g.T(tb)} 수" if show_agg else g.C(key)
    return ask_object(g.rng, f"{cond} {obj}"), \
        f"SELECT {sel} FROM {tb.name} GROUP BY {key.name} HAVING COUNT(*) {op} {n}"


def date_group(g: Gen) -> Result:
    tb = g.table_with(ROLE_DATE)
    if tb is None:
        return None
    col = g.pick(tb.by_role(ROLE_DATE))
    expr = f"strftime('%Y', {col.name})"
    if g.rng.random() < 0.3:
        expr = f"strftime('%Y-%m', {col.name})"
        unit = "연월"
    else:
        unit = "연도"
    q = ask_object(g.rng, f"{g.C(col)} {unit}별 {g.T(tb)} 수")
    return q, f"SELECT {expr}, COUNT(*) FROM {tb.name} GROUP BY {expr}"


_CASE_WORDS = (("높음", "낮음"), ("상", "하"), ("Y", "N"), ("이상", "미만"))


def case_when(g: Gen) -> Result:
    tb = g.table_with(ROLE_NUM, ROLE_BOOL)
    if tb is None:
        return None
    col = g.pick(tb.by_role(ROLE_NUM, ROLE_BOOL))
    out = g.outputs(tb, k=1, exclude=(col.name,))
    if col.role == ROLE_BOOL:
        a, b = g.rng.choice((("예", "아니오"), ("Y", "N"), ("O", "X")))
        cond_ko, cond_sql = f"{col.yes} 경우", f"{col.name} = 1"
    else:
        vals = sorted(g.values(tb, col))
        v = vals[len(vals) // 2]
        if isinstance(v, float):
            v = round(v)
        a, b = g.rng.choice(_CASE_WORDS)
        cond_ko, cond_sql = f"{josa(g.C(col), '이')} {qv(v)} 이상이면", f"{col.name} >= {lit(v)}"
    q = (f"{g.T(tb)}의 {josa(cols_ko(g, out), '과')} 함께, {cond_ko} '{a}', 아니면 {josa(qv(b), '으로')} 표시해서 "
         + g.rng.choice(("보여줘", "조회해 줘", "알려주세요")))
    return q, f"SELECT {cols_sql(out)}, CASE WHEN {cond_sql} THEN '{a}' ELSE '{b}' END FROM {tb.name}"


SINGLE_TEMPLATES: tuple[Template, ...] = (
    Template("select_star", select_star, frozenset({"select_star", "where"}), 0.5),
    Template("project", project, frozenset(), 0.8),
    Template("distinct", distinct, frozenset({"distinct"}), 0.5),
    Template("where", where, frozenset({"where", "like", "in", "between", "is_null", "date_filter"}), 3.0),
    Template("and_or", and_or, frozenset({"where", "and_or", "like", "in", "between", "is_null",
                                          "date_filter"}), 1.5),
    Template("order_by", order_by, frozenset({"order_by", "where"}), 1.0),
    Template("top_k", top_k, frozenset({"order_by", "limit"}), 1.0),
    Template("count", count, frozenset({"aggregate", "where"}), 1.0),
    Template("aggregate", aggregate, frozenset({"aggregate", "where"}), 1.0),
    Template("count_distinct", count_distinct, frozenset({"aggregate", "distinct"}), 0.4),
    Template("group_count", group_count, frozenset({"group_by", "aggregate", "order_by"}), 0.8),
    Template("group_agg", group_agg, frozenset({"group_by", "aggregate"}), 0.8),
    Template("group_top", group_top, frozenset({"group_by", "aggregate", "order_by", "limit"}), 0.6),
    Template("having", having, frozenset({"group_by", "aggregate", "having"}), 1.0),
    Template("date_group", date_group, frozenset({"group_by", "aggregate", "date_filter"}), 0.4),
    Template("case_when", case_when, frozenset({"case"}), 0.5),
)
