"""Literals of a gold query, mapped to the columns they are compared with.

``extract_literals(sql, schema)`` returns ``{(table, column): [values to plant]}``: for
``col = 'x'`` the value itself; for ``col LIKE '%gmail.com'`` strings that match the pattern; for
``col > 5`` the values 5, 6 and 4 (so ``>`` and ``>=`` differ); IN lists; BETWEEN bounds and the
values just outside; ``YEAR(col) = 2023`` / ``MONTH(col) = 5`` dates in that year/month; dates and
datetimes one day either side. Columns are resolved through table aliases; an unqualified column
goes to every table of the query that has it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlglot
from sqlglot import exp

from kosql.data.schema import Column, Schema

Literals = dict[tuple[str, str], list[Any]]
MAX_GROUP_SIZE = 200


@dataclass(frozen=True)
class Repeat:
    """Planted marker: ``count`` rows of the table share one value of the column (for
    ``GROUP BY col HAVING COUNT(*) >= count``); the database then needs ``count`` rows or more."""

    count: int

_COMPARE = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ)
_WRAPPERS = (exp.Lower, exp.Upper, exp.Trim, exp.Cast, exp.TsOrDsToDate, exp.Date, exp.Paren,
             exp.TsOrDsToTimestamp, exp.Avg, exp.Sum, exp.Max, exp.Min)


def _parse(sql: str, read: str | None) -> exp.Expr | None:
    dialects: list[str | None] = [read] if read else ["mysql", "postgres", None]
    for dialect in dialects:
        try:
            tree = sqlglot.parse_one(sql, read=dialect)
        except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError):
            continue
        if tree is not None:
            return tree
    return None


def _literal_value(node: exp.Expr) -> Any:
    """Python value of a literal node, or ``...`` (Ellipsis) when it is not a literal."""
    if isinstance(node, exp.Paren):
        return _literal_value(node.this)
    if isinstance(node, exp.Cast):
        return _literal_value(node.this)
    if isinstance(node, exp.Boolean):
        return int(bool(node.this))
    if isinstance(node, exp.Neg):
        inner = _literal_value(node.this)
        return -inner if isinstance(inner, (int, float)) else ...
    if isinstance(node, exp.Literal):
        if node.is_string:
            return str(node.this)
        text = str(node.this)
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return ...
    if isinstance(node, (exp.Date, exp.TsOrDsToDate)) and isinstance(node.this, exp.Literal):
        return str(node.this.this)
    return _relative_date(node)


_NOW_NAMES = {"NOW", "CURDATE", "SYSDATE", "CURRENT_DATE", "CURRENT_TIMESTAMP", "LOCALTIMESTAMP"}


def _relative_date(node: exp.Expr) -> Any:
    """Value of a column-free date expression such as ``NOW() - INTERVAL 30 DAY`` (else ``...``)."""
    if node.find(exp.Column) is not None or node.find(exp.Select) is not None:
        return ...
    has_now = node.find(exp.CurrentTimestamp, exp.CurrentDate) is not None or any(
        a.name.upper() in _NOW_NAMES for a in node.find_all(exp.Anonymous))
    if not has_now:
        return ...
    from kosql.data.transpile import TranspileError, transpile_to_sqlite

    try:
        sql = transpile_to_sqlite("SELECT " + node.sql(dialect="mysql"))
        with sqlite3.connect(":memory:") as conn:
            value = conn.execute(sql).fetchone()[0]
    except (TranspileError, sqlite3.Error, TypeError):
        return ...
    return value if isinstance(value, str) else ...


def _unwrap(node: exp.Expr) -> tuple[exp.Column | None, str | None]:
    """The column inside ``node`` and the date part applied to it ('year', 'month', ...)."""
    part: str | None = None
    while True:
        if isinstance(node, exp.Column):
            return node, part
        if isinstance(node, (exp.Year, exp.Month, exp.Day)):
            part = type(node).__name__.lower()
            node = node.this
        elif isinstance(node, exp.Extract):
            part = node.this.name.lower() if isinstance(node.this, exp.Expr) else None
            node = node.expression
        elif isinstance(node, exp.Anonymous) and node.name.upper() in ("YEAR", "MONTH", "DAY") and node.expressions:
            part = node.name.lower()
            node = node.expressions[0]
        elif isinstance(node, exp.TimeToStr) and isinstance(node.args.get("format"), exp.Literal):
            part = "fmt:" + str(node.args["format"].this)
            node = node.this
        elif (isinstance(node, exp.Anonymous) and node.name.upper() == "STRFTIME" and len(node.expressions) >= 2
              and isinstance(node.expressions[0], exp.Literal)):
            part = "fmt:" + str(node.expressions[0].this)
            node = node.expressions[1]
        elif isinstance(node, _WRAPPERS) or isinstance(node, exp.Anonymous) and node.expressions:
            node = node.this if not isinstance(node, exp.Anonymous) else node.expressions[0]
            if not isinstance(node, exp.Expr):
                return None, None
        else:
            return None, None


def _aliases(tree: exp.Expr, schema: Schema) -> tuple[dict[str, str], list[str]]:
    mapping: dict[str, str] = {}
    tables: list[str] = []
    for table in tree.find_all(exp.Table):
        found = schema.table(table.name)
        if found is None:
            continue
        mapping[table.alias_or_name.lower()] = found.name
        mapping[table.name.lower()] = found.name
        if found.name not in tables:
            tables.append(found.name)
    return mapping, tables


def _targets(col: exp.Column, schema: Schema, aliases: dict[str, str], tables: list[str]) -> list[tuple[str, Column]]:
    out: list[tuple[str, Column]] = []
    if col.table:
        tname = aliases.get(col.table.lower())
        candidates = [tname] if tname else []
    else:
        candidates = [t for t in tables if schema.table(t) and schema.table(t).column(col.name)]  # type: ignore[union-attr]
        if not candidates:
            candidates = [t for t in schema.table_names() if schema.tables[t].column(col.name)]
    for tname in candidates:
        table = schema.table(tname)
        column = table.column(col.name) if table else None
        if table is not None and column is not None:
            out.append((table.name, column))
    return out


def like_examples(pattern: str) -> list[str]:
    """Strings matching a SQL LIKE pattern: wildcards empty, then filled with short text."""
    def fill(percent: str, under: str) -> str:
        out, i = [], 0
        while i < len(pattern):
            ch = pattern[i]
            if ch == "\\" and i + 1 < len(pattern):
                out.append(pattern[i + 1])
                i += 2
                continue
            out.append(percent if ch == "%" else under if ch == "_" else ch)
            i += 1
        return "".join(out)
    return list(dict.fromkeys([fill("", "a"), fill("kim7", "b")]))


def _shift(value: Any, col: Column, step: int) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value + step
    if isinstance(value, float):
        return round(value + step * (0.5 if col.kind in ("real", "decimal") else 1), 6)
    if isinstance(value, str) and col.kind in ("date", "datetime"):
        text = value.strip()
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
            try:
                dt = datetime.strptime(text[:19] if len(fmt) > 8 else text[:10], fmt)
            except ValueError:
                continue
            moved = dt + timedelta(days=step)
            return moved.strftime(fmt) if col.kind == "date" or len(text) > 10 else moved.strftime("%Y-%m-%d")
    return None


def _date_parts_to_values(parts: dict[str, list[int]], col: Column) -> list[Any]:
    """Dates combining the year/month/day numbers compared with one column (first = all primaries)."""
    years = [y for y in parts.get("year", []) if 1900 < y < 2200]
    months = [m for m in parts.get("month", []) if 1 <= m <= 12]
    days_ = [d for d in parts.get("day", []) if 1 <= d <= 28]
    y0 = years[0] if years else date.today().year - 1
    m0 = months[0] if months else 3
    d0 = days_[0] if days_ else 15
    found = [date(y0, m0, d0)]
    found += [date(y, m0, d0) for y in years[1:]] + [date(y0, m, d0) for m in months[1:]]
    found += [date(y0, m0, d) for d in days_[1:]]
    if years:
        found += [date(y0, 11 if m0 != 11 else 2, d0), date(y0 - 1, 12, 31), date(y0 + 1, 1, 1)]
    if months:
        found += [date(y0 - 1, m0, 20 if d0 != 20 else 10), date(y0, m0 % 12 + 1, 5)]
    if days_:
        found += [date(y0, m0, d0 % 28 + 1)]
    unique = list(dict.fromkeys(found))
    if col.kind == "datetime":
        return [d.strftime("%Y-%m-%d 10:30:00") for d in unique]
    return [d.isoformat() for d in unique]


def _ordered_around(node: exp.Expr, value: Any, up: Any, down: Any) -> list[Any]:
    """``value`` and its neighbours, the one that satisfies the comparison first."""
    if isinstance(node, exp.GT):
        around = [up, value, down]
    elif isinstance(node, exp.LT):
        around = [down, value, up]
    elif isinstance(node, exp.LTE):
        around = [value, down, up]
    elif isinstance(node, (exp.EQ, exp.NEQ, exp.NullSafeEQ)):
        around = [value]
    else:
        around = [value, up, down]
    return [v for v in around if v is not None]


def _plant_values(node: exp.Expr, value: Any, col: Column) -> list[Any]:
    if isinstance(node, (exp.Like, exp.ILike)):
        return like_examples(str(value)) if isinstance(value, str) else []
    return _ordered_around(node, value, _shift(value, col, 1), _shift(value, col, -1))


def _format_parts(fmt: str, value: Any) -> dict[str, int]:
    """``('%Y-%m', '2024-01')`` -> ``{'year': 2024, 'month': 1}`` (empty when it does not parse)."""
    try:
        parsed = datetime.strptime(str(value), fmt)
    except ValueError:
        return {}
    out: dict[str, int] = {}
    if "%Y" in fmt or "%y" in fmt:
        out["year"] = parsed.year
    if "%m" in fmt or "%b" in fmt or "%B" in fmt:
        out["month"] = parsed.month
    if "%d" in fmt or "%e" in fmt:
        out["day"] = parsed.day
    return out


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def extract_literals(sql: str, schema: Schema, read: str | None = None) -> Literals:
    """``{(table, column): values}`` to plant so that the filters of ``sql`` select some rows."""
    tree = _parse(sql, read)
    if tree is None:
        return {}
    found = _Found(schema, *_aliases(tree, schema))
    _collect_is_null(tree, found)
    node: exp.Expr
    for node in tree.find_all(*_COMPARE, exp.Like, exp.ILike, exp.In, exp.Between):
        if isinstance(node, exp.In):
            _collect_in(node, found)
        elif isinstance(node, exp.Between):
            _collect_between(node, found)
        else:
            _collect_comparison(node, found)
    found.merge_date_parts()
    _collect_group_sizes(tree, found)
    return found.out


class _Found:
    """The values collected for one query: plain values per column, and date parts (year, month,
    ...) per column that :meth:`merge_date_parts` turns into whole dates at the end."""

    def __init__(self, schema: Schema, aliases: dict[str, str], tables: list[str]) -> None:
        self.schema, self.aliases, self.tables = schema, aliases, tables
        self.out: Literals = {}
        self.date_parts: dict[tuple[str, str], dict[str, list[int]]] = {}
        self.part_columns: dict[tuple[str, str], Column] = {}

    def column(self, col: exp.Column) -> Column | None:
        return _first(col, self.schema, self.aliases, self.tables)

    def targets(self, col: exp.Column) -> list[tuple[str, Column]]:
        return _targets(col, self.schema, self.aliases, self.tables)

    def add(self, col_node: exp.Column, values: list[Any], part: str | None = None) -> None:
        if part and part.startswith("fmt:"):  # strftime('%Y-%m', col) = '2024-01' -> year and month
            for value in values:
                for sub, number in _format_parts(part[4:], value).items():
                    self.add(col_node, [number], sub)
            return
        for tname, column in self.targets(col_node):
            key = (tname, column.name)
            if part:
                bucket = self.date_parts.setdefault(key, {}).setdefault(part, [])
                self.part_columns[key] = column
                values = [n for n in (_as_int(v) for v in values) if n is not None]
            else:
                bucket = self.out.setdefault(key, [])
            for v in values:
                if v not in bucket:
                    bucket.append(v)

    def merge_date_parts(self) -> None:
        for key, parts in self.date_parts.items():
            bucket = self.out.setdefault(key, [])
            bucket[:0] = [v for v in _date_parts_to_values(parts, self.part_columns[key]) if v not in bucket]


def _collect_is_null(tree: exp.Expr, found: _Found) -> None:
    """``col IS NULL`` -> a NULL planted in a nullable column."""
    for is_node in tree.find_all(exp.Is):
        col, _part = _unwrap(is_node.this)
        column = found.column(col) if col is not None else None
        if col is not None and column is not None and column.nullable and isinstance(is_node.expression, exp.Null):
            found.add(col, [None])


def _collect_in(node: exp.In, found: _Found) -> None:
    col, part = _unwrap(node.this)
    if col is not None:
        found.add(col, [v for v in (_literal_value(e) for e in node.expressions) if v is not ...], part)


def _collect_between(node: exp.Between, found: _Found) -> None:
    """Both bounds, and for a plain column the values just outside them and just inside the lower."""
    col, part = _unwrap(node.this)
    low, high = _literal_value(node.args["low"]), _literal_value(node.args["high"])
    if col is None or low is ... or high is ...:
        return
    column = found.column(col)
    if column is None:
        return
    if part:
        found.add(col, [low, high], part)
    else:
        values = [low, high, _shift(low, column, -1), _shift(high, column, 1), _shift(low, column, 1)]
        found.add(col, [v for v in values if v is not None])


_FLIPPED: dict[type, type[exp.Expr]] = {exp.GT: exp.LT, exp.LT: exp.GT, exp.GTE: exp.LTE, exp.LTE: exp.GTE}


def _collect_comparison(node: exp.Expr, found: _Found) -> None:
    """``col <op> value`` (or ``value <op> col``, flipped), LIKE and ILIKE."""
    left, right = node.this, node.expression
    col, part = _unwrap(left)
    value = _literal_value(right)
    if col is None or value is ...:
        col, part = _unwrap(right)
        value = _literal_value(left)
        if col is None or value is ...:
            return
        if type(node) in _FLIPPED:
            node = _FLIPPED[type(node)](this=col, expression=right)
    column = found.column(col)
    if column is None:
        return
    if part and part.startswith("fmt:"):
        found.add(col, [value], part)
    elif part:
        number = _as_int(value)
        if number is not None:
            found.add(col, _ordered_around(node, number, number + 1, number - 1), part)
    else:
        found.add(col, _plant_values(node, value, column))


def _collect_group_sizes(tree: exp.Expr, found: _Found) -> None:
    """``GROUP BY col HAVING COUNT(*) >= N`` -> N rows sharing a value of each non-unique group column."""
    for select in tree.find_all(exp.Select):
        size = _having_count(select)
        group = select.args.get("group")
        if size is None or group is None:
            continue
        for expr in group.expressions:
            if isinstance(expr, exp.Column):
                for tname, column in found.targets(expr):
                    if not column.unique and not column.primary_key:
                        found.out.setdefault((tname, column.name), []).append(Repeat(size))


def _having_count(select: exp.Select) -> int | None:
    """N when the HAVING clause needs a group of N rows (``COUNT(*) >= N`` / ``> N-1``), else None."""
    having = select.args.get("having")
    if having is None:
        return None
    for node in having.find_all(exp.GT, exp.GTE, exp.EQ):
        count, value = node.this, node.expression
        if not isinstance(count, exp.Count):
            count, value = value, count
            if isinstance(node, (exp.GT, exp.GTE)):  # N > COUNT(*): no big group needed
                continue
        number = _literal_value(value) if isinstance(count, exp.Count) else ...
        if isinstance(number, (int, float)) and not isinstance(number, bool):
            size = int(number) + (1 if isinstance(node, exp.GT) else 0)
            if 1 < size <= MAX_GROUP_SIZE:
                return size
    return None


def required_rows(literals: Literals) -> int:
    """Rows per table the planted values need (0 when any size will do)."""
    return 2 * max((v.count for values in literals.values() for v in values if isinstance(v, Repeat)), default=0)


def _first(col: exp.Column, schema: Schema, aliases: dict[str, str], tables: list[str]) -> Column | None:
    found = _targets(col, schema, aliases, tables)
    return found[0][1] if found else None
