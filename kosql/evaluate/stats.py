"""Accuracy with a 95 % Wilson score interval (pure functions)."""

from __future__ import annotations

import math
from typing import Any

Z95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``successes / n`` ((0, 0) when ``n == 0``)."""
    if n <= 0:
        return (0.0, 0.0)
    if not 0 <= successes <= n:
        raise ValueError(f"successes={successes} must be between 0 and n={n}")
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return (lo, hi)


def accuracy(successes: int, n: int) -> dict[str, Any]:
    """``{"n", "correct", "acc", "ci95": [lo, hi]}`` (acc is None when ``n == 0``)."""
    lo, hi = wilson_interval(successes, n)
    return {
        "n": n,
        "correct": successes,
        "acc": (successes / n) if n else None,
        "ci95": [round(lo, 6), round(hi, 6)],
    }


def _group_metrics(rows: list[dict[str, Any]], unscored: frozenset[str]) -> dict[str, Any]:
    scored = [r for r in rows if r.get("category") not in unscored]
    out: dict[str, Any] = {
        "rows": len(rows),
        "exec": accuracy(sum(r.get("category") == "correct" for r in scored), len(scored)),
    }
    for key in ("ex", "ts_ex", "em", "em_string"):
        vals = [bool(r[key]) for r in rows if r.get(key) is not None]
        out[key] = accuracy(sum(vals), len(vals))
    return out


def compute_metrics(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Accuracies with 95 % CIs overall and by split, hardness and feature, plus category counts.

    ``exec`` is the headline: rows in category ``correct`` over scored rows (``gold_error``,
    ``unscored`` and ``error`` rows are left out and counted under ``categories``). ``ex`` and
    ``ts_ex`` count rows scored by EX / test-suite EX; ``em`` / ``em_string`` every row.
    """
    from kosql.evaluate.categories import CATEGORIES, UNSCORED
    from kosql.sql.features import FEATURES, HARDNESS_LEVELS

    categories = {c: 0 for c in CATEGORIES}
    for r in rows:
        categories[str(r.get("category"))] = categories.get(str(r.get("category")), 0) + 1
    metrics: dict[str, Any] = {"overall": _group_metrics(rows, UNSCORED)}
    metrics["categories"] = {c: n for c, n in categories.items() if n}
    splits = sorted({str(r.get("split") or "all") for r in rows})
    metrics["by_split"] = {s: _group_metrics([r for r in rows if (r.get("split") or "all") == s], UNSCORED)
                           for s in splits}
    levels = [h for h in HARDNESS_LEVELS if any(r.get("hardness") == h for r in rows)]
    metrics["by_hardness"] = {h: _group_metrics([r for r in rows if r.get("hardness") == h], UNSCORED)
                              for h in levels}
    feats = [f for f in FEATURES if any(f in (r.get("features") or []) for r in rows)]
    extra = sorted({f for r in rows for f in (r.get("features") or [])} - set(FEATURES))
    metrics["by_feature"] = {f: _group_metrics([r for r in rows if f in (r.get("features") or [])], UNSCORED)
                             for f in feats + extra}
    ts_rows = [r for r in rows if r.get("method") == "testsuite" or r.get("ts_ex") is not None]
    if ts_rows:
        nonempty = [int(r["ts_nonempty"]) for r in ts_rows if isinstance(r.get("ts_nonempty"), int)]
        metrics["testsuite"] = {
            "rows": len(ts_rows),
            "gold_error": sum(r.get("category") == "gold_error" for r in ts_rows),
            "untranspilable": sum(r.get("category") == "untranspilable" for r in ts_rows),
            "gold_nonempty_mean": (sum(nonempty) / len(nonempty)) if nonempty else None,
            "gold_always_empty": sum(1 for v in nonempty if v == 0),
        }
    return metrics
