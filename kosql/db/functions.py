"""MySQL/PostgreSQL functions that SQLite lacks, as Python functions for a SQLite connection.

:func:`register_sqlite_functions` adds them to a connection; :data:`FUNCTION_NAMES` lists them
(lower case) so an authorizer can allow them. Every function returns NULL for a NULL argument or a
value it cannot read, like MySQL does, and never raises.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Callable
from datetime import date, datetime
from functools import lru_cache
from typing import Any

_DAYNAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MYSQL_TO_PY = {"%i": "%M", "%s": "%S", "%e": "%d", "%c": "%m", "%k": "%H", "%l": "%I", "%h": "%I",
                "%M": "%B", "%W": "%A", "%D": "%d", "%r": "%I:%M:%S %p", "%T": "%H:%M:%S", "%f": "%f"}


def _to_dt(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return None
    text = str(value).strip().replace("T", " ")
    for fmt, size in (("%Y-%m-%d %H:%M:%S", 19), ("%Y-%m-%d %H:%M", 16), ("%Y-%m-%d", 10)):
        try:
            return datetime.strptime(text[:size], fmt)
        except ValueError:
            continue
    return None


def _py_format(mysql_fmt: str) -> str:
    return re.sub(r"%[a-zA-Z]", lambda m: _MYSQL_TO_PY.get(m.group(0), m.group(0)), mysql_fmt)


def substring_index(text: Any, delim: Any, count: Any) -> str | None:
    """MySQL SUBSTRING_INDEX(str, delim, count)."""
    if text is None or delim is None or count is None:
        return None
    text, delim = str(text), str(delim)
    try:
        n = int(count)
    except (TypeError, ValueError):
        return None
    if n == 0 or not delim:
        return ""
    parts = text.split(delim)
    return delim.join(parts[:n]) if n > 0 else delim.join(parts[n:])


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def regexp(pattern: Any, value: Any) -> int | None:
    """``value REGEXP pattern`` (SQLite calls regexp(pattern, value))."""
    if pattern is None or value is None:
        return None
    compiled = _compile(str(pattern))
    return None if compiled is None else int(compiled.search(str(value)) is not None)


def _pad(left: bool) -> Callable[[Any, Any, Any], str | None]:
    def pad(text: Any, length: Any, fill: Any = " ") -> str | None:
        if text is None or length is None or fill is None:
            return None
        text, fill = str(text), str(fill)
        n = int(length)
        if len(text) >= n or not fill:
            return text[:n]
        extra = (fill * n)[: n - len(text)]
        return extra + text if left else text + extra
    return pad


def find_in_set(needle: Any, items: Any) -> int | None:
    if needle is None or items is None:
        return None
    parts = str(items).split(",")
    return parts.index(str(needle)) + 1 if str(needle) in parts else 0


def dayname(value: Any) -> str | None:
    dt = _to_dt(value)
    return None if dt is None else _DAYNAMES[dt.weekday()]


def monthname(value: Any) -> str | None:
    dt = _to_dt(value)
    return None if dt is None else dt.strftime("%B")


def date_format(value: Any, fmt: Any) -> str | None:
    dt = _to_dt(value)
    return None if dt is None or fmt is None else dt.strftime(_py_format(str(fmt)))


def str_to_date(value: Any, fmt: Any) -> str | None:
    if value is None or fmt is None:
        return None
    try:
        dt = datetime.strptime(str(value), _py_format(str(fmt)))
    except ValueError:
        return None
    has_time = any(code in str(fmt) for code in ("%H", "%i", "%s", "%T", "%k", "%h", "%r"))
    return dt.strftime("%Y-%m-%d %H:%M:%S") if has_time else dt.strftime("%Y-%m-%d")


def _part(attr: str) -> Callable[[Any], int | None]:
    def part(value: Any) -> int | None:
        dt = _to_dt(value)
        return None if dt is None else int(getattr(dt, attr))
    return part


def truncate(value: Any, digits: Any = 0) -> float | None:
    if value is None or digits is None:
        return None
    factor = 10 ** int(digits)
    return math.trunc(float(value) * factor) / factor


def concat(*args: Any) -> str | None:
    if any(a is None for a in args):
        return None
    return "".join(str(a) for a in args)


def concat_ws(sep: Any, *args: Any) -> str | None:
    if sep is None:
        return None
    return str(sep).join(str(a) for a in args if a is not None)


def split_part(text: Any, delim: Any, n: Any) -> str | None:
    if text is None or delim is None or n is None:
        return None
    parts = str(text).split(str(delim))
    i = int(n)
    return parts[i - 1] if 1 <= i <= len(parts) else ""


def _left(text: Any, n: Any) -> str | None:
    return None if text is None or n is None else str(text)[: max(int(n), 0)]


def _right(text: Any, n: Any) -> str | None:
    if text is None or n is None:
        return None
    k = int(n)
    return str(text)[-k:] if k > 0 else ""


def _now() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def _today() -> str:
    return date.today().isoformat()


class _Variance:
    """Sample variance aggregate (MySQL VAR_SAMP / PostgreSQL VARIANCE); ``root`` for STDDEV."""

    root = False
    sample = True

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: Any) -> None:
        if value is not None:
            try:
                self.values.append(float(value))
            except (TypeError, ValueError):
                pass

    def finalize(self) -> float | None:
        n = len(self.values)
        if n == 0 or (self.sample and n < 2):
            return None
        mean = sum(self.values) / n
        var = sum((v - mean) ** 2 for v in self.values) / (n - 1 if self.sample else n)
        return math.sqrt(var) if self.root else var


class _StdSample(_Variance):
    root = True


class _VarPop(_Variance):
    sample = False


class _StdPop(_Variance):
    root = True
    sample = False


_SCALARS: list[tuple[str, int, Callable[..., Any], bool]] = [
    ("substring_index", 3, substring_index, True),
    ("regexp", 2, regexp, True),
    ("lpad", 3, _pad(True), True), ("rpad", 3, _pad(False), True),
    ("lpad", 2, _pad(True), True), ("rpad", 2, _pad(False), True),
    ("find_in_set", 2, find_in_set, True),
    ("dayname", 1, dayname, True), ("monthname", 1, monthname, True),
    ("date_format", 2, date_format, True), ("str_to_date", 2, str_to_date, True),
    ("year", 1, _part("year"), True), ("month", 1, _part("month"), True), ("day", 1, _part("day"), True),
    ("hour", 1, _part("hour"), True), ("minute", 1, _part("minute"), True),
    ("second", 1, _part("second"), True),
    ("truncate", 2, truncate, True), ("truncate", 1, truncate, True),
    ("concat", -1, concat, True), ("concat_ws", -1, concat_ws, True),
    ("split_part", 3, split_part, True),
    ("left", 2, _left, True), ("right", 2, _right, True),
    ("now", 0, _now, False), ("curdate", 0, _today, False), ("sysdate", 0, _now, False),
]
_AGGREGATES: list[tuple[str, type]] = [
    ("stddev", _StdSample), ("stddev_samp", _StdSample), ("stdev", _StdSample), ("std", _StdPop),
    ("stddev_pop", _StdPop), ("variance", _Variance), ("var_samp", _Variance), ("var_pop", _VarPop),
    ("variance_pop", _VarPop), ("variance_samp", _Variance), ("std_pop", _StdPop),
]
FUNCTION_NAMES: frozenset[str] = frozenset([n for n, *_ in _SCALARS] + [n for n, _ in _AGGREGATES])


def register_sqlite_functions(conn: sqlite3.Connection) -> sqlite3.Connection:
    """Add the MySQL/PostgreSQL compatibility functions to ``conn``; returns ``conn``."""
    for name, nargs, fn, deterministic in _SCALARS:
        conn.create_function(name, nargs, fn, deterministic=deterministic)
    for name, cls in _AGGREGATES:
        conn.create_aggregate(name, 1, cls)
    return conn
