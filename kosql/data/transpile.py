"""MySQL / PostgreSQL query -> SQLite, with sqlglot plus a few AST rewrites for its gaps.

sqlglot already maps ``DATE_FORMAT``, ``CONCAT``, ``IFNULL``, ``ILIKE``, ``::`` casts, backticks,
``LIMIT a, b`` and typed division. This module rewrites what SQLite cannot run as written:

* ``NOW()``/``SYSDATE()`` -> ``CURRENT_TIMESTAMP``; interval arithmetic (``x - INTERVAL 30 DAY``,
  ``DATE_SUB``/``DATE_ADD``, PostgreSQL ``INTERVAL '1 year'``) -> ``DATETIME(x, '-30 day')``
  (``DATE(...)`` when ``x`` is a date);
* ``YEAR/MONTH/DAY/HOUR/MINUTE/SECOND/DAYOFWEEK/QUARTER/EXTRACT`` -> ``CAST(STRFTIME(..) AS INTEGER)``;
* ``TIMESTAMPDIFF`` -> a ``JULIANDAY`` difference; ``DATE_TRUNC`` -> ``STRFTIME``;
  ``LEFT/RIGHT`` -> ``SUBSTR``; ``UNIX_TIMESTAMP``/``FROM_UNIXTIME``; ``LAST_DAY``.

Functions with no SQLite equivalent (``SUBSTRING_INDEX``, ``REGEXP``, ``LPAD`` ...) are left as
calls and provided as Python functions by :func:`kosql.db.functions.register_sqlite_functions`.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import sqlglot
from sqlglot import exp

from kosql.errors import UserError

logging.getLogger("sqlglot").setLevel(logging.ERROR)

_PG_HINT = re.compile(r"::|\bILIKE\b|\bDATE_TRUNC\b|\bTO_CHAR\b|\bSTRING_AGG\b|\bSERIAL\b",
                      re.IGNORECASE)
_UNIT_ALIASES = {"DAYS": "DAY", "MONTHS": "MONTH", "YEARS": "YEAR", "HOURS": "HOUR",
                 "MINUTES": "MINUTE", "SECONDS": "SECOND", "WEEKS": "WEEK", "MINS": "MINUTE",
                 "MIN": "MINUTE", "SECS": "SECOND", "SEC": "SECOND", "QUARTERS": "QUARTER",
                 "DD": "DAY", "MM": "MONTH", "YY": "YEAR", "YYYY": "YEAR", "HH": "HOUR"}
_PART_FORMAT = {"YEAR": "%Y", "MONTH": "%m", "DAY": "%d", "HOUR": "%H", "MINUTE": "%M",
                "SECOND": "%S", "DOY": "%j", "DAYOFYEAR": "%j", "WEEK": "%W", "EPOCH": "%s",
                "DOW": "%w", "DAYOFWEEK": "%w", "DAYOFMONTH": "%d"}
_SECONDS = {"SECOND": 86400.0, "MINUTE": 1440.0, "HOUR": 24.0, "DAY": 1.0, "WEEK": 1 / 7,
            "MONTH": 1 / 30.436875, "QUARTER": 1 / 91.310625, "YEAR": 1 / 365.2425}
_TRUNC_FORMAT = {"YEAR": "%Y-01-01 00:00:00", "MONTH": "%Y-%m-01 00:00:00", "DAY": "%Y-%m-%d 00:00:00",
                 "HOUR": "%Y-%m-%d %H:00:00", "MINUTE": "%Y-%m-%d %H:%M:00", "SECOND": "%Y-%m-%d %H:%M:%S"}


class TranspileError(UserError):
    """A query cannot be read or written as SQLite (one sentence naming the problem)."""


def _fn(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def _unit(node: exp.Expr | None, default: str = "DAY") -> str:
    if node is None:
        return default
    name = (node.name if isinstance(node, (exp.Var, exp.Column, exp.Identifier, exp.Literal))
            else node.sql()).upper()
    return _UNIT_ALIASES.get(name, name.rstrip("S") if name.endswith("S") and name[:-1] in _SECONDS else name)


def _part(fmt: str, value: exp.Expr) -> exp.Expr:
    return exp.Cast(this=_fn("STRFTIME", exp.Literal.string(fmt), value),
                    to=exp.DataType.build("INTEGER"))


def _is_date(node: exp.Expr) -> bool:
    if isinstance(node, exp.Literal) and node.is_string:
        return re.fullmatch(r"\d{4}-\d{2}-\d{2}", node.this.strip()) is not None
    if isinstance(node, exp.CurrentDate):
        return True
    if isinstance(node, exp.Cast) and node.to.this == exp.DataType.Type.DATE:
        return True
    return isinstance(node, (exp.TsOrDsToDate, exp.Date)) or (
        isinstance(node, exp.Anonymous) and node.name.upper() == "DATE")


def _interval_parts(node: exp.Expr) -> tuple[exp.Expr, str] | None:
    """(amount, unit) of an INTERVAL; handles ``INTERVAL '30 days'`` and ``INTERVAL 30 DAY``."""
    if not isinstance(node, exp.Interval):
        return None
    amount = node.this
    unit = node.args.get("unit")
    if unit is None and isinstance(amount, exp.Literal) and amount.is_string:
        bits = amount.this.split()
        if len(bits) == 2:
            return exp.Literal.number(bits[0]), _unit(exp.Var(this=bits[1]))
        return None
    if amount is None:
        return None
    return amount, _unit(unit)


def _shift(base: exp.Expr, amount: exp.Expr, unit: str, sign: int) -> exp.Expr:
    factor = {"WEEK": 7, "QUARTER": 3}.get(unit, 1)
    unit = {"WEEK": "DAY", "QUARTER": "MONTH"}.get(unit, unit)
    if isinstance(amount, exp.Neg) and isinstance(amount.this, exp.Literal):
        amount, sign = amount.this, -sign
    if isinstance(amount, exp.Literal):
        try:
            value = float(amount.this) * sign * factor
        except ValueError:
            return base
        text = f"{value:+g} {unit.lower()}"
        modifier: exp.Expr = exp.Literal.string(text)
    else:
        if factor != 1:
            amount = exp.Mul(this=exp.Paren(this=amount), expression=exp.Literal.number(factor))
        signed = amount if sign > 0 else exp.Neg(this=exp.Paren(this=amount))
        modifier = exp.DPipe(this=exp.DPipe(this=exp.Literal.string(""), expression=signed),
                             expression=exp.Literal.string(f" {unit.lower()}"))
    date_only = _is_date(base) and unit in ("DAY", "MONTH", "YEAR")
    return _fn("DATE" if date_only else "DATETIME", base, modifier)


def _rewrite(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Anonymous):
        name = node.name.upper()
        args = node.expressions
        if name in ("NOW", "SYSDATE", "LOCALTIMESTAMP", "CURRENT_TIMESTAMP") and not args:
            return exp.CurrentTimestamp()
        if name in ("CURDATE", "CURRENT_DATE") and not args:
            return exp.CurrentDate()
        if name == "UNIX_TIMESTAMP":
            return _part("%s", args[0] if args else exp.Literal.string("now"))
        if name in ("DAYOFMONTH", "WEEKDAY") and len(args) == 1:
            if name == "WEEKDAY":  # MySQL: 0 = Monday
                return exp.Mod(this=exp.Paren(this=exp.Add(this=_part("%w", args[0]),
                                                           expression=exp.Literal.number(6))),
                               expression=exp.Literal.number(7))
            return _part("%d", args[0])
        return node
    if isinstance(node, (exp.Sub, exp.Add)):
        parts = _interval_parts(node.expression)
        if parts is not None:
            return _shift(node.this, parts[0], parts[1], -1 if isinstance(node, exp.Sub) else 1)
        if isinstance(node, exp.Add) and (parts := _interval_parts(node.this)) is not None:
            return _shift(node.expression, parts[0], parts[1], 1)
        return node
    if isinstance(node, (exp.DateSub, exp.DateAdd, exp.TsOrDsAdd)):
        sign = -1 if isinstance(node, exp.DateSub) else 1
        parts = _interval_parts(node.expression)
        if parts is None:
            parts = (node.expression, _unit(node.args.get("unit")))
        return _shift(node.this, parts[0], parts[1], sign)
    simple = {exp.Year: "%Y", exp.Month: "%m", exp.Day: "%d", exp.Hour: "%H", exp.Minute: "%M",
              exp.Second: "%S", exp.DayOfMonth: "%d", exp.DayOfYear: "%j", exp.Week: "%W",
              exp.WeekOfYear: "%W"}
    for cls, fmt in simple.items():
        if type(node) is cls:
            return _part(fmt, node.this)
    if isinstance(node, exp.DayOfWeek):  # MySQL DAYOFWEEK: 1 = Sunday
        return exp.Add(this=_part("%w", node.this), expression=exp.Literal.number(1))
    if isinstance(node, exp.Quarter):
        month_plus = exp.Paren(this=exp.Add(this=_part("%m", node.this), expression=exp.Literal.number(2)))
        return exp.Div(this=month_plus, expression=exp.Literal.number(3), typed=True)
    if isinstance(node, exp.Extract):
        unit = _unit(node.this)
        if unit == "QUARTER":
            return _rewrite(exp.Quarter(this=node.expression))
        part_fmt = _PART_FORMAT.get(unit)
        return _part(part_fmt, node.expression) if part_fmt else node
    if isinstance(node, exp.TimestampDiff):  # MySQL TIMESTAMPDIFF(unit, a, b) = b - a
        factor = _SECONDS.get(_unit(node.args.get("unit")), 1.0)
        diff = exp.Sub(this=_fn("JULIANDAY", node.this), expression=_fn("JULIANDAY", node.expression))
        scaled = exp.Mul(this=exp.Paren(this=diff), expression=exp.Literal.number(repr(factor)))
        return exp.Cast(this=exp.Paren(this=scaled), to=exp.DataType.build("INTEGER"))
    if isinstance(node, (exp.DateTrunc, exp.TimestampTrunc, exp.TimeTrunc)):
        unit_node = node.args.get("unit")
        trunc_fmt = _TRUNC_FORMAT.get(_unit(unit_node))
        if trunc_fmt:
            return _fn("STRFTIME", exp.Literal.string(trunc_fmt), node.this)
        return node
    if isinstance(node, exp.GroupConcat):
        return _group_concat(node)
    if isinstance(node, exp.Left):
        return _fn("SUBSTR", node.this, exp.Literal.number(1), node.expression)
    if isinstance(node, exp.Right):
        return _fn("SUBSTR", node.this, exp.Neg(this=node.expression))
    if isinstance(node, exp.UnixToTime):
        return _fn("DATETIME", node.this, exp.Literal.string("unixepoch"))
    if isinstance(node, exp.LastDay):
        return _fn("DATE", node.this, exp.Literal.string("start of month"), exp.Literal.string("+1 month"),
                   exp.Literal.string("-1 day"))
    if isinstance(node, exp.Timestamp) and not node.expression:
        return _fn("DATETIME", node.this)
    return node


def _group_concat(node: exp.GroupConcat) -> exp.Expr:
    """SQLite 3.40 has no ORDER BY inside an aggregate and no DISTINCT with a separator."""
    inner = node.this
    separator = node.args.get("separator")
    changed = False
    if isinstance(inner, exp.Order):
        inner, changed = inner.this, True
    if isinstance(inner, exp.Distinct) and separator is not None:
        sep = separator.this if isinstance(separator, exp.Literal) else None
        plain = exp.GroupConcat(this=inner)
        if sep == ",":
            return plain
        return _fn("REPLACE", plain, exp.Literal.string(","), separator)
    if not changed:
        return node
    return exp.GroupConcat(this=inner, separator=separator) if separator is not None else exp.GroupConcat(this=inner)


def _candidates(sql: str, read: str | None) -> list[str | None]:
    if read:
        return [read]
    return ["postgres", "mysql", None] if _PG_HINT.search(sql) else ["mysql", "postgres", None]


def _rewrite_all(tree: exp.Expr) -> exp.Expr:
    """Apply :func:`_rewrite` until nothing changes (``transform`` skips a new node's children)."""
    changed = [True]

    def visit(node: exp.Expr) -> exp.Expr:
        new = _rewrite(node)
        if new is not node:
            changed[0] = True
        return new

    for _ in range(6):
        if not changed[0]:
            break
        changed[0] = False
        tree = tree.transform(visit, copy=False)
    return tree


def _generate(tree: exp.Expr, level: sqlglot.ErrorLevel) -> str:
    return _rewrite_all(tree.copy()).sql(dialect="sqlite", unsupported_level=level)


@lru_cache(maxsize=8192)
def transpile_to_sqlite(sql: str, read: str | None = None) -> str:
    """Translate one query to SQLite; raises :class:`TranspileError` when it cannot."""
    text = sql.strip().rstrip(";").strip() if sql else ""
    if not text:
        raise TranspileError("the query is empty.")
    parsed: list[exp.Expr] = []
    first_error = ""
    for dialect in _candidates(text, read):
        try:
            trees = [t for t in sqlglot.parse(text, read=dialect) if t is not None]
        except (sqlglot.errors.ParseError, sqlglot.errors.TokenError, ValueError) as err:
            first_error = first_error or _short(err)
            continue
        if len(trees) != 1:
            raise TranspileError(f"the query has {len(trees)} statements, expected one.")
        tree = trees[0]
        if isinstance(tree, exp.Command):
            first_error = first_error or f"unsupported statement {tree.name!r}"
            continue
        parsed.append(tree)
        try:
            return _generate(tree, sqlglot.ErrorLevel.RAISE)
        except (sqlglot.errors.UnsupportedError, sqlglot.errors.SqlglotError, ValueError) as err:
            first_error = first_error or _short(err)
    if parsed:
        try:
            return _generate(parsed[0], sqlglot.ErrorLevel.IGNORE)
        except (sqlglot.errors.SqlglotError, ValueError) as err:
            first_error = first_error or _short(err)
    raise TranspileError(f"the query cannot be transpiled to SQLite ({first_error}).")


def _short(err: Exception) -> str:
    if isinstance(err, sqlglot.errors.ParseError) and err.errors:
        info = err.errors[0]
        return f"parse error near {str(info.get('highlight') or '').strip()[:40]!r}"
    return " ".join(str(err).split())[:120]
