"""Compare two query results the way the Spider test-suite evaluator does (pure functions).

Rules (also in ``docs/evaluation.md``):

1. Either query failed (``ok`` is False) -> no match.
2. Both results empty (no rows) -> match, whatever the columns (as in the test-suite evaluator).
3. Row counts differ, or column counts differ -> no match. A result cut at the row cap
   (``truncated``) only matches another truncated result (the fetched rows are then compared).
4. **Rows are a multiset**: order is ignored and duplicates count (``[1, 1, 2]`` differs from
   ``[1, 2, 2]``), unless ``order_matters`` is True, which :func:`order_matters` sets only when the
   gold query has an ``ORDER BY`` at its top level (not inside a subquery or CTE).
5. **Column order may differ**: the predicted columns may be any permutation of the gold columns.
   Candidate permutations are restricted to those where each predicted column holds the same
   multiset of values as the gold column it is mapped to (like ``get_constraint_permutation`` of the
   test-suite evaluator); the identity is tried first. Column names are ignored.
6. **Values:** ``NULL`` equals only ``NULL``; booleans are integers; an integer equals a float with the
   same value (``3 == 3.0``); two floats (or float and int) are equal when
   ``|a - b| <= max(1e-9, 1e-6 * max(|a|, |b|))``; ``NaN`` equals ``NaN``. Strings are compared after
   Unicode NFC normalization (Korean text typed as decomposed jamo equals the composed form); a
   string never equals a number (``'1' != 1``). Bytes compare byte for byte.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any, Protocol

REL_TOL = 1e-6
ABS_TOL = 1e-9
_MAX_PERMUTATIONS = 2000


class ResultLike(Protocol):
    ok: bool
    rows: list[tuple[Any, ...]]
    truncated: bool


def canon_value(value: Any) -> Any:
    """A hashable canonical form: NFC strings, integral floats as ints, other floats rounded."""
    kind = type(value)
    if kind is int or value is None:
        return value
    if kind is str:
        return value if value.isascii() else unicodedata.normalize("NFC", value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return ("nan",)
        if value.is_integer() and abs(value) < 2**63:
            return int(value)
        return float(f"{value:.9g}")
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value) if not value.isascii() else value
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def values_equal(a: Any, b: Any) -> bool:
    """Equality of two canonical values with the float tolerance of the module docstring."""
    if a is None or b is None:
        return a is None and b is None
    num_a = isinstance(a, (int, float)) and not isinstance(a, bool)
    num_b = isinstance(b, (int, float)) and not isinstance(b, bool)
    if num_a and num_b:
        if a == b:
            return True
        if isinstance(a, int) and isinstance(b, int):
            return False
        fa, fb = float(a), float(b)
        return abs(fa - fb) <= max(ABS_TOL, REL_TOL * max(abs(fa), abs(fb)))
    if num_a != num_b:
        return False
    return bool(a == b)


def _rows_equal(r1: tuple[Any, ...], r2: tuple[Any, ...]) -> bool:
    return all(values_equal(a, b) for a, b in zip(r1, r2, strict=True))


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, tuple):  # NaN marker
        return (2, 0)
    if isinstance(value, str):
        return (3, value)
    if isinstance(value, bytes):
        return (4, value)
    return (5, repr(value))


def _columns_compatible(col1: list[Any], col2: list[Any]) -> bool:
    if Counter(col1) == Counter(col2):
        return True
    s1 = sorted(col1, key=_sort_key)
    s2 = sorted(col2, key=_sort_key)
    return all(values_equal(a, b) for a, b in zip(s1, s2, strict=True))


def _permutations(cands: list[list[int]]) -> Iterator[tuple[int, ...]]:
    """Bijections choosing, for predicted column j, a gold column in ``cands[j]``."""
    n = len(cands)
    chosen: list[int] = []
    used: set[int] = set()

    def walk(j: int) -> Iterator[tuple[int, ...]]:
        if j == n:
            yield tuple(chosen)
            return
        for i in cands[j]:
            if i in used:
                continue
            used.add(i)
            chosen.append(i)
            yield from walk(j + 1)
            chosen.pop()
            used.discard(i)

    yield from walk(0)


def _multiset_match(rows1: list[tuple[Any, ...]], rows2: list[tuple[Any, ...]]) -> bool:
    c1 = Counter(rows1)
    c2 = Counter(rows2)
    if c1 == c2:
        return True
    left1 = list((c1 - c2).elements())
    left2 = list((c2 - c1).elements())
    if len(left1) != len(left2) or not any(isinstance(v, float) for r in left1 + left2 for v in r):
        return False
    # tolerant matching of the leftovers (floats within tolerance): greedy over sorted rows
    left2_sorted = sorted(left2, key=lambda r: tuple(_sort_key(v) for v in r))
    for row in sorted(left1, key=lambda r: tuple(_sort_key(v) for v in r)):
        for k, other in enumerate(left2_sorted):
            if _rows_equal(row, other):
                del left2_sorted[k]
                break
        else:
            return False
    return True


def rows_match(gold_rows: Sequence[Sequence[Any]], pred_rows: Sequence[Sequence[Any]], *,
               order_matters: bool) -> bool:
    """Spider test-suite equality of two row lists (rules 2-6 of the module docstring)."""
    if not gold_rows and not pred_rows:
        return True
    if len(gold_rows) != len(pred_rows):
        return False
    ncols = len(gold_rows[0])
    if any(len(r) != ncols for r in gold_rows) or any(len(r) != ncols for r in pred_rows):
        return False
    g = [tuple(canon_value(v) for v in r) for r in gold_rows]
    p = [tuple(canon_value(v) for v in r) for r in pred_rows]
    if (g == p) if order_matters else _multiset_match(g, p):  # identity permutation first
        return True
    if ncols == 1:
        return False
    gold_cols = [[r[i] for r in g] for i in range(ncols)]
    pred_cols = [[r[j] for r in p] for j in range(ncols)]
    cands: list[list[int]] = []
    for j in range(ncols):
        options = [i for i in range(ncols) if _columns_compatible(gold_cols[i], pred_cols[j])]
        if not options:
            return False
        if j in options:  # identity first
            options.remove(j)
            options.insert(0, j)
        cands.append(options)
    for n, perm in enumerate(_permutations(cands)):
        if n >= _MAX_PERMUTATIONS:
            break
        # perm[j] = gold column for predicted column j -> reorder predicted rows into gold order
        inverse = [0] * ncols
        for j, i in enumerate(perm):
            inverse[i] = j
        permuted = p if perm == tuple(range(ncols)) else [tuple(r[inverse[i]] for i in range(ncols)) for r in p]
        if order_matters:
            if all(_rows_equal(a, b) for a, b in zip(g, permuted, strict=True)):
                return True
        elif _multiset_match(g, permuted):
            return True
    return False


def results_match(gold: ResultLike, pred: ResultLike, *, order_matters: bool) -> bool:
    """Whether ``pred`` (an ``ExecResult``) answers like ``gold`` (rules of the module docstring)."""
    if not gold.ok or not pred.ok:
        return False
    if bool(gold.truncated) != bool(pred.truncated):
        return False
    return rows_match(gold.rows, pred.rows, order_matters=order_matters)


@lru_cache(maxsize=8192)
def order_matters(gold_sql: str) -> bool:
    """True when the gold query has an ORDER BY at its top level (so row order is compared)."""
    from sqlglot import exp

    from kosql.sql.normalize import parse_sql

    if "order" not in gold_sql.lower():
        return False
    parsed = parse_sql(gold_sql)
    tree = parsed.tree
    if tree is None:
        return "order by" in " ".join(gold_sql.lower().split())
    node: exp.Expr = tree
    while isinstance(node, exp.Subquery):
        node = node.this
    return node.args.get("order") is not None


def explain_mismatch(gold: ResultLike, pred: ResultLike, *, order_matters: bool) -> str:
    """One sentence saying how ``pred`` differs from ``gold`` ('' when they match)."""
    if not gold.ok or not pred.ok:
        return "a query failed"
    if results_match(gold, pred, order_matters=order_matters):
        return ""
    g, p = gold.rows, pred.rows
    gcols = len(g[0]) if g else 0
    pcols = len(p[0]) if p else 0
    if bool(gold.truncated) != bool(pred.truncated):
        return "one result hit the row cap and the other did not"
    if len(g) != len(p):
        return f"returned {len(p)} rows × {pcols} columns; gold returned {len(g)} rows × {gcols} columns"
    if gcols != pcols:
        return f"returned {pcols} columns; gold returned {gcols}"
    if order_matters and rows_match(g, p, order_matters=False):
        return "same rows in a different order (gold has ORDER BY)"
    gset = Counter(tuple(canon_value(v) for v in r) for r in g)
    pset = Counter(tuple(canon_value(v) for v in r) for r in p)
    if set(gset) == set(pset):
        return "same distinct rows with different duplicate counts"
    return f"same shape ({len(g)} rows × {gcols} columns) but different values"
