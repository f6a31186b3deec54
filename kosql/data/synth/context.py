"""What a template sees while it is instantiated: the domain, its rows, a RNG and filter builders.

A :class:`Filter` is a WHERE condition with its Korean adnominal phrase ("도시가 '서울'인");
:func:`conj` turns that phrase into its "and"/"or" connective form ("도시가 '서울'이고").
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kosql.data.schema import quote_literal
from kosql.data.synth.domains import (
    ROLE_BOOL,
    ROLE_CAT,
    ROLE_DATE,
    ROLE_LABEL,
    ROLE_NUM,
    ROLE_TEXT,
    Column,
    Domain,
    Table,
)
from kosql.data.synth.korean import REF_MODES, col_ref, josa, table_ref
from kosql.data.synth.values import Rows


@dataclass(frozen=True)
class Filter:
    adn: str  # adnominal Korean phrase ("가격이 10000 이상인")
    sql: str  # condition ("price >= 10000")
    col: str


def conj(adn: str, kind: str) -> str:
    """The connective form of an adnominal phrase: kind 'and' (~이고/~고) or 'or' (~이거나/~거나)."""
    tail = "고" if kind == "and" else "거나"
    last = adn[-1]
    if last == "인":
        return adn[:-1] + "이" + tail
    if last in "는은":
        return adn[:-1] + tail
    code = ord(last) - 0xAC00
    if 0 <= code < 11172 and code % 28 == 4:  # final ㄴ (된, 한, 닌) -> drop it
        return adn[:-1] + chr(0xAC00 + code - 4) + tail
    return adn + " 것이" + tail


def lit(value: Any) -> str:
    """SQL literal for a value from the database."""
    if isinstance(value, str):
        return quote_literal(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def qv(value: Any) -> str:
    """How a value is written in the question (strings quoted exactly like the SQL literal)."""
    return lit(value)


@dataclass
class Gen:
    """Generation state for one domain."""

    domain: Domain
    rows: Rows
    rng: random.Random
    mode: str = "ko"
    _cache: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    def new_mode(self) -> None:
        self.mode = self.rng.choice(REF_MODES)

    # -- references -----------------------------------------------------------------
    def T(self, table: Table) -> str:
        return table_ref(table, self.mode)

    def C(self, col: Column) -> str:
        return col_ref(col, self.mode)

    def TC(self, table: Table, cols: str = "") -> str:
        """'<table> <cols>' without repeating the table term ('창고 창고 이름' -> '창고 이름')."""
        if not cols:
            return self.T(table)
        if cols.startswith(table.ko):
            return cols
        return f"{self.T(table)} {cols}"

    # -- data access ----------------------------------------------------------------
    def values(self, table: Table, col: Column) -> list[Any]:
        key = (table.name, col.name)
        if key not in self._cache:
            idx = [c.name for c in table.columns].index(col.name)
            vals = {r[idx] for r in self.rows[table.name] if r[idx] is not None}
            self._cache[key] = sorted(vals, key=lambda v: (str(type(v)), v))
        return self._cache[key]

    def column_rows(self, table: Table, col: Column) -> list[Any]:
        idx = [c.name for c in table.columns].index(col.name)
        return [r[idx] for r in self.rows[table.name]]

    def threshold(self, value: Any) -> Any:
        """The number a comparison is asked with, given a value of the column (here: the value itself)."""
        return value

    def pick(self, seq: list[Any] | tuple[Any, ...]) -> Any:
        return self.rng.choice(seq) if seq else None

    def table_with(self, *roles: str, min_count: int = 1) -> Table | None:
        options = [t for t in self.domain.tables if len(t.by_role(*roles)) >= min_count]
        return self.pick(options)

    def outputs(self, table: Table, k: int | None = None, exclude: tuple[str, ...] = ()) -> list[Column]:
        """1-3 displayable columns (label first when it exists), never the excluded ones."""
        cols = [c for c in table.columns if not c.pk and not c.fk and c.name not in exclude]
        if not cols:
            return [table.pk]
        k = k or self.rng.choice((1, 1, 2, 2, 3))
        k = min(k, len(cols))
        chosen = self.rng.sample(cols, k)
        label = table.label
        if label is not None and label in cols and label not in chosen and self.rng.random() < 0.5:
            chosen[0] = label
        return chosen

    def group_counts(self, table: Table, col: Column) -> Counter[Any]:
        return Counter(v for v in self.column_rows(table, col) if v is not None)

    # -- filters --------------------------------------------------------------------
    def filter(self, table: Table, col: Column, alias: str = "", kinds: tuple[str, ...] = ()) -> Filter | None:
        """A random condition on ``col`` using a value present in the database."""
        q = f"{alias}.{col.name}" if alias else col.name
        ref = josa(self.C(col), "이")
        vals = self.values(table, col)
        if not vals:
            return None
        role = col.role
        rng = self.rng
        options: list[str]
        if role == ROLE_CAT:
            options = ["eq", "eq", "eq", "neq", "in"]
        elif role == ROLE_LABEL:
            options = ["eq", "eq", "like"]
        elif role == ROLE_TEXT:
            options = ["eq", "like", "like"]
        elif role == ROLE_NUM:
            options = ["cmp", "cmp", "cmp", "between"]
        elif role == ROLE_DATE:
            options = ["year", "year", "month"] + (["dbetween"] if col.base_type == "DATE" else [])
        elif role == ROLE_BOOL:
            options = ["bool"]
        else:
            return None
        if col.nullable:
            options.append("null")
        if kinds:
            wanted = [o for o in options if o in kinds]
            options = wanted or options
        kind = rng.choice(options)
        if kind == "eq":
            v = rng.choice(vals)
            return Filter(f"{ref} {qv(v)}인", f"{q} = {lit(v)}", col.name)
        if kind == "neq":
            v = rng.choice(vals)
            return Filter(f"{ref} {josa(qv(v), '이')} 아닌", f"{q} != {lit(v)}", col.name)
        if kind == "in":
            k = min(len(vals), rng.choice((2, 2, 3)))
            if k < 2:
                return None
            picked = sorted(rng.sample(vals, k), key=str)
            rng.shuffle(picked)
            words = [qv(v) for v in picked]
            sql = f"{q} IN ({', '.join(lit(v) for v in picked)})"
            if rng.random() < 0.5:
                return Filter(f"{ref} {', '.join(words)} 중 하나인", sql, col.name)
            return Filter(f"{ref} {' 또는 '.join(words)}인", sql, col.name)
        if kind == "like":
            return self._like(col, q, ref, vals)
        if kind == "cmp":
            v = self.threshold(rng.choice(vals))
            op, word = rng.choice(((">=", "이상"), (">", "초과"), ("<=", "이하"), ("<", "미만"),
                                   (">", "보다 큰"), ("<", "보다 작은")))
            if word.startswith("보다"):
                return Filter(f"{ref} {qv(v)}{word}", f"{q} {op} {lit(v)}", col.name)
            return Filter(f"{ref} {qv(v)} {word}인", f"{q} {op} {lit(v)}", col.name)
        if kind == "between":
            a, b = sorted(rng.sample(vals, 2)) if len(vals) > 1 else (vals[0], vals[0])
            text = rng.choice((f"{qv(a)} 이상 {qv(b)} 이하인", f"{qv(a)}에서 {qv(b)} 사이인"))
            return Filter(f"{ref} {text}", f"{q} BETWEEN {lit(a)} AND {lit(b)}", col.name)
        if kind in ("year", "month"):
            v = str(rng.choice(vals))
            if kind == "year":
                return Filter(f"{ref} {v[:4]}년인", f"strftime('%Y', {q}) = '{v[:4]}'", col.name)
            return Filter(f"{ref} {v[:4]}년 {int(v[5:7])}월인", f"strftime('%Y-%m', {q}) = '{v[:7]}'", col.name)
        if kind == "dbetween":
            a, b = sorted(rng.sample(vals, 2)) if len(vals) > 1 else (vals[0], vals[0])
            text = rng.choice((f"{lit(a)}부터 {lit(b)}까지인", f"{lit(a)}에서 {lit(b)} 사이인"))
            return Filter(f"{ref} {text}", f"{q} BETWEEN {lit(a)} AND {lit(b)}", col.name)
        if kind == "bool":
            yes = rng.random() < 0.6
            return Filter(col.yes if yes else col.no, f"{q} = {1 if yes else 0}", col.name)
        if kind == "null":
            if rng.random() < 0.6:
                word = rng.choice(("없는", "비어 있는", "입력되지 않은", "NULL인"))
                return Filter(f"{ref} {word}", f"{q} IS NULL", col.name)
            word = rng.choice(("있는", "입력된", "NULL이 아닌"))
            return Filter(f"{ref} {word}", f"{q} IS NOT NULL", col.name)
        return None

    def _like(self, col: Column, q: str, ref: str, vals: list[Any]) -> Filter | None:
        v = str(self.rng.choice(vals))
        how = self.rng.choice(("start", "end", "contain"))
        seps = [ch for ch in "@_ -." if ch in v]
        if how == "start":
            part = v.split(seps[0])[0] if seps else v[: 1 if len(v) <= 3 else 2]
            return Filter(f"{ref} {josa(qv(part), '으로')} 시작하는", f"{q} LIKE '{part}%'", col.name)
        if how == "end":
            if "@" in v:
                part = v.split("@")[1]
            else:
                part = v.split(seps[-1])[-1] if seps else v[-2:]
            return Filter(f"{ref} {josa(qv(part), '으로')} 끝나는", f"{q} LIKE '%{part}'", col.name)
        words = [w for w in v.replace("@", " ").replace("_", " ").replace(".", " ").split() if len(w) >= 2]
        part = self.rng.choice(words) if len(words) > 1 else v[1:3] if len(v) > 3 else v
        return Filter(f"{ref} {josa(qv(part), '이')} 포함된", f"{q} LIKE '%{part}%'", col.name)

    def any_filter(self, table: Table, alias: str = "", exclude: tuple[str, ...] = (),
                   kinds: tuple[str, ...] = ()) -> Filter | None:
        cols = [c for c in table.columns if not c.pk and not c.fk and c.name not in exclude]
        col = self.pick(cols)
        return None if col is None else self.filter(table, col, alias, kinds)
