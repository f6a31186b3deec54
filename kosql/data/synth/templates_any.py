"""Templates for any schema: the rows a user asks for, value lookups and aggregates over conditions.

:class:`AnyGen` is the bundled :class:`~kosql.data.synth.context.Gen` over a
:class:`~kosql.data.synth.infer.SchemaView`: a name that is Korean is always said in Korean, an
English one by its Korean reading, itself (``userName``) or both, never with its SQL quotes.

The templates follow what users mean:

- ``rows``: "…인 선수를 찾아줘 / 보여줘 / 알려줘" asks for the rows -> ``SELECT *``;
- ``lookup``: one asked-for column of the rows that meet 1-3 conditions, each value linked to its
  column ("한빛 FC에서 뛰던 선수는 어떤 포지션인가요?" -> ``SELECT "위치" … WHERE "소속 팀" = …``);
  the values come from one real row, so the conditions together always match;
- ``lookup_agg``: COUNT / MAX / MIN / SUM / AVG over the rows that meet 0-3 conditions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kosql.data.synth.context import Filter, Gen, conj, lit, qv
from kosql.data.synth.domains import ROLE_CAT, ROLE_DATE, ROLE_LABEL, ROLE_NUM, ROLE_TEXT, Column, Table
from kosql.data.synth.infer import ColumnHint
from kosql.data.synth.korean import ask_object, josa
from kosql.data.synth.naming import HANGUL
from kosql.data.synth.templates import Result, Template

_LINKABLE = (ROLE_CAT, ROLE_LABEL, ROLE_TEXT, ROLE_NUM, ROLE_DATE)


@dataclass
class AnyGen(Gen):
    """Gen over an inferred schema view (SQL spellings as names, raw names and hints beside)."""

    raw: dict[str, str] = field(default_factory=dict)
    hints: dict[tuple[str, str], ColumnHint] = field(default_factory=dict)

    def _say(self, sql_name: str, ko: str) -> str:
        raw = self.raw.get(sql_name, sql_name.strip('"'))
        if HANGUL.search(raw) or ko == raw or self.mode == "ko":
            return ko
        return raw if self.mode == "en" else f"{ko}({raw})"

    def T(self, table: Table) -> str:
        said = self._say(table.name, table.ko)
        return f"{said} 테이블" if self.mode == "en" and said != table.ko else said

    def C(self, col: Column) -> str:
        return self._say(col.name, col.ko)

    def threshold(self, value: Any) -> Any:
        """People compare with round numbers ("하루 요금이 10만 원 넘는"): half the time a value of three or
        more digits becomes the round number of one or two significant digits nearest to it."""
        if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) < 100 \
                or self.rng.random() < 0.5:
            return value
        step = 10 ** (len(str(int(abs(value)))) - self.rng.choice((1, 2)))
        return int(round(value / step) * step)


def _hint(g: Gen, table: Table, col: Column) -> ColumnHint:
    hints: dict[tuple[str, str], ColumnHint] = getattr(g, "hints", {})
    return hints.get((table.name, col.name), ColumnHint())


def _linkable(table: Table, exclude: tuple[str, ...] = ()) -> list[Column]:
    return [c for c in table.columns if c.role in _LINKABLE and c.name not in exclude]


def eq_filter(g: Gen, table: Table, col: Column, value: Any) -> Filter:
    """``col = value`` said as the column's own phrase when it has one ("{v}에서 뛰는")."""
    v = qv(value)
    ref = g.C(col)
    options = [f"{josa(ref, '이')} {v}인", f"{josa(ref, '이')} {v}인", f"{ref} {v}인"]
    if col.role == ROLE_DATE:
        options = [f"{josa(ref, '이')} {v}인"]
    adn = _hint(g, table, col).adn
    if adn:
        options += [p.format(v=v) for p in adn] * 2
    return Filter(g.rng.choice(options), f"{col.name} = {lit(value)}", col.name)


def row_filters(g: Gen, table: Table, k: int, exclude: tuple[str, ...] = ()) -> list[Filter] | None:
    """``k`` equality conditions taken from one real row (so that they match together)."""
    rows = g.rows.get(table.name) or []
    if not rows:
        return None
    row = g.pick(rows)
    names = [c.name for c in table.columns]
    cols = [c for c in _linkable(table, exclude) if row[names.index(c.name)] is not None
            and (c.role != ROLE_TEXT or len(str(row[names.index(c.name)])) <= 40)]
    if len(cols) < k:
        return None
    chosen = g.rng.sample(cols, k)
    return [eq_filter(g, table, c, row[names.index(c.name)]) for c in chosen]


def _joined(filters: list[Filter]) -> str:
    """'A이고 B인' from the filters' adnominal phrases."""
    parts = [conj(f.adn[:-1] + "인" if f.adn.endswith("의") else f.adn, "and") for f in filters[:-1]]
    parts.append(filters[-1].adn)
    return " ".join(parts)


def _where(filters: list[Filter]) -> str:
    return " WHERE " + " AND ".join(f.sql for f in filters) if filters else ""


def rows(g: Gen) -> Result:
    """The rows themselves: "…인 선수를 찾아줘" -> SELECT *."""
    tb = g.rng.choice(g.domain.tables)
    k = g.rng.choice((1, 1, 1, 2))
    filters = row_filters(g, tb, k) if g.rng.random() < 0.7 else None
    if filters is None:
        f = g.any_filter(tb)
        if f is None:
            return None
        filters = [f]
    subj = f"{_joined(filters)} {g.T(tb)}"
    forms = [f"{josa(subj, '을')} 찾아줘", f"{josa(subj, '을')} 보여줘", f"{josa(subj, '을')} 알려줘",
             f"{subj} 목록을 보여줘", f"{subj} 정보를 전부 알려주세요", f"{josa(subj, '을')} 모두 조회해 주세요",
             f"{subj} 데이터 좀 뽑아줘", f"{josa(subj, '은')} 어떤 것들이 있나요?"]
    if tb.unit == "명":
        forms += [f"{josa(subj, '은')} 누구야?", f"{josa(subj, '은')} 누구누구인가요?"]
    return g.rng.choice(forms), f"SELECT * FROM {tb.name}{_where(filters)}"


def lookup(g: Gen) -> Result:
    """One asked-for column of the rows meeting 1-3 conditions (values linked to their columns)."""
    tb = g.rng.choice(g.domain.tables)
    outs = [c for c in tb.columns if c.role not in ("pk", "fk")]
    if len(outs) < 2:
        return None
    out = g.pick(outs)
    k = g.rng.choice((1, 1, 1, 2, 2, 3))
    filters = row_filters(g, tb, k, exclude=(out.name,))
    if filters is None:
        return None
    cond, name, o = _joined(filters), g.T(tb), g.C(out)
    qword = _hint(g, tb, out).qword
    forms = [ask_object(g.rng, f"{cond} {name}의 {o}"), f"{cond} {name}의 {josa(o, '은')} 무엇인가요?",
             f"{cond} {josa(name, '은')} 어떤 {o}인가요?", f"{cond} {name}의 {josa(o, '은')}?",
             f"{cond} {name}의 {josa(o, '이')} 궁금해요"]
    if qword:
        forms += [f"{cond} {name}의 {josa(o, '은')} {qword}인가요?", f"{cond} {name}의 {josa(o, '은')} {qword}야?"] * 2
    if out.role == ROLE_LABEL and tb.unit == "명":
        forms += [f"{cond} {josa(name, '은')} 누구인가요?", f"{cond} {josa(name, '은')} 누구야?"]
    return g.rng.choice(forms), f"SELECT {out.name} FROM {tb.name}{_where(filters)}"


_AGG_WORDS = {"AVG": ("평균", "평균값"), "SUM": ("합계", "총합", "합"), "MAX": ("최댓값", "최대", "가장 큰 값"),
              "MIN": ("최솟값", "최소", "가장 작은 값")}


def lookup_agg(g: Gen) -> Result:
    """COUNT / MAX / MIN / SUM / AVG of the rows meeting 0-3 conditions."""
    tb = g.rng.choice(g.domain.tables)
    nums = tb.by_role(ROLE_NUM)
    fn = g.rng.choice(("COUNT", "COUNT", "MAX", "MIN", "SUM", "AVG")) if nums else "COUNT"
    target = g.pick(nums) if fn != "COUNT" else None
    k = g.rng.choice((0, 1, 1, 2, 2, 3))
    exclude = (target.name,) if target is not None else ()
    filters = (row_filters(g, tb, k, exclude=exclude) or []) if k else []
    if k and not filters:
        return None
    head = f"{_joined(filters)} {g.T(tb)}" if filters else g.rng.choice((f"전체 {g.T(tb)}", g.T(tb)))
    if target is None:
        if g.rng.random() < 0.2:
            col = g.pick([c for c in tb.columns if c.role not in ("pk", "fk")])
            q = g.rng.choice((f"{head}의 {g.C(col)} 수는?", f"{head}의 {g.C(col)} 개수를 알려줘"))
            return q, f"SELECT COUNT({col.name}) FROM {tb.name}{_where(filters)}"
        q = g.rng.choice((f"{josa(head, '은')} 몇 {tb.unit}인가요?", f"{josa(head, '은')} 몇 {tb.unit}이야?",
                          f"{head} 수를 알려줘", f"{head}의 수는?", f"{josa(head, '이')} 몇 {tb.unit} 있어?"))
        return q, f"SELECT COUNT(*) FROM {tb.name}{_where(filters)}"
    word = g.rng.choice(_AGG_WORDS[fn])
    obj = f"{head}의 {g.C(target)} {word}"
    if fn in ("MAX", "MIN") and g.rng.random() < 0.4:
        adj = "가장 높은" if fn == "MAX" else "가장 낮은"
        q = f"{head}의 {adj} {josa(g.C(target), '은')} 얼마인가요?"
    else:
        q = g.rng.choice((ask_object(g.rng, obj, "value"), f"{josa(obj, '은')} 얼마인가요?", f"{josa(obj, '은')}?"))
    return q, f"SELECT {fn}({target.name}) FROM {tb.name}{_where(filters)}"


def columns_of_rows(g: Gen) -> Result:
    """Named columns only, of the rows meeting a mix of conditions (comparisons, LIKE, NULL …)."""
    tb = g.rng.choice(g.domain.tables)
    f1 = g.any_filter(tb)
    if f1 is None:
        return None
    filters = [f1]
    if g.rng.random() < 0.4:
        extra = row_filters(g, tb, 1, exclude=(f1.col,))
        if extra:
            filters += extra
    cols = g.outputs(tb, exclude=tuple(f.col for f in filters))
    obj = ", ".join(g.C(c) for c in cols) if len(cols) > 2 else " 및 ".join(g.C(c) for c in cols)
    q = g.rng.choice((ask_object(g.rng, f"{_joined(filters)} {g.T(tb)}의 {obj}"),
                      f"{g.T(tb)} 중 {_joined(filters)} 것의 {obj}만 보여줘"))
    return q, f"SELECT {', '.join(c.name for c in cols)} FROM {tb.name}{_where(filters)}"


ANY_TEMPLATES: tuple[Template, ...] = (
    Template("rows", rows, frozenset({"select_star", "where"}), 1.6),
    Template("lookup", lookup, frozenset({"where", "and_or"}), 3.0),
    Template("lookup_agg", lookup_agg, frozenset({"aggregate", "where", "and_or"}), 2.0),
    Template("columns_of_rows", columns_of_rows, frozenset({"where", "like", "between", "is_null"}), 1.0),
)
