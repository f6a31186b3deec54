"""Paired comparison of two models scored on the same rows: the exact McNemar test (pure functions).

Two accuracies measured on the same rows are not independent samples, so overlapping 95 %
intervals say little about whether one model is better. The rows where exactly one of the two is
correct decide: with ``b`` rows only model A got right and ``c`` rows only model B got right, the
exact (binomial) McNemar test asks how likely a split at least as lopsided as ``b : c`` would be if
either model were equally likely to win each such row: ``p = min(1, 2 * P[X <= min(b, c)])`` for
``X ~ Binomial(b + c, 1/2)``. Rows that a metric cannot score (``None``) on either side, and rows
present in only one run, are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from math import comb
from typing import Any


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for ``b`` and ``c`` discordant rows (1.0 when there are none)."""
    if b < 0 or c < 0:
        raise ValueError(f"discordant counts must be non-negative, got {b} and {c}")
    n = b + c
    if n == 0:
        return 1.0
    tail = Fraction(sum(comb(n, i) for i in range(min(b, c) + 1)), 2 ** n)
    return float(min(Fraction(1), 2 * tail))


@dataclass(frozen=True)
class PairedResult:
    """Model A against model B on the rows both runs scored for one metric."""

    metric: str
    n: int  # rows scored on both sides
    both: int
    a_only: int
    b_only: int
    neither: int
    p_value: float

    @property
    def difference(self) -> float | None:
        """Accuracy of A minus accuracy of B on these rows (None when there are none)."""
        return (self.a_only - self.b_only) / self.n if self.n else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "difference": self.difference}

    def verdict(self, alpha: float = 0.05) -> str:
        if self.n == 0:
            return "no common rows"
        if self.p_value >= alpha:
            return "no significant difference"
        return "A better" if self.a_only > self.b_only else "B better"


def metric_value(row: Mapping[str, Any], metric: str) -> Any:
    """A row's verdict for ``metric``; ``exec`` is EX where the row has a database, else test-suite EX
    (the "execution accuracy" of ``kosql eval``)."""
    if metric == "exec":
        return row.get("ex") if row.get("ex") is not None else row.get("ts_ex")
    return row.get(metric)


def _by_id(rows: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {str(r.get("id")): r for r in rows if r.get("id") is not None}


def paired_test(rows_a: Sequence[Mapping[str, Any]], rows_b: Sequence[Mapping[str, Any]],
                metric: str = "ex") -> PairedResult:
    """Exact McNemar test of ``metric`` (True/False/None per row) on the rows ids both runs scored."""
    a, b = _by_id(rows_a), _by_id(rows_b)
    counts = {"both": 0, "a_only": 0, "b_only": 0, "neither": 0}
    for row_id, ra in a.items():
        rb = b.get(row_id)
        if rb is None or metric_value(ra, metric) is None or metric_value(rb, metric) is None:
            continue
        va, vb = bool(metric_value(ra, metric)), bool(metric_value(rb, metric))
        key = "both" if va and vb else "a_only" if va else "b_only" if vb else "neither"
        counts[key] += 1
    return PairedResult(metric=metric, n=sum(counts.values()), **counts,
                        p_value=mcnemar_exact(counts["a_only"], counts["b_only"]))


def format_p(p: float) -> str:
    """A p-value for a table: three significant digits, ``< 0.001`` below that."""
    return "< 0.001" if p < 0.001 else f"{p:.3g}"


def paired_line(name_a: str, name_b: str, res: PairedResult) -> str:
    """One Markdown table row: A, B, metric, rows, A-only, B-only, difference, p, verdict."""
    diff = "—" if res.difference is None else f"{100 * res.difference:+.1f} pt"
    return (f"| {name_a} | {name_b} | {res.metric} | {res.n} | {res.a_only} | {res.b_only} | {diff} | "
            f"{format_p(res.p_value)} | {res.verdict()} |")


PAIRED_HEADER = ("| A | B | metric | rows | only A right | only B right | A − B | McNemar p | verdict |\n"
                 "|---|---|---|---:|---:|---:|---:|---:|---|")
