"""Prompt prefixes shared by the rows of a generation batch (their schema), found on token ids so
that each is computed once. Pure functions."""

from __future__ import annotations

from collections.abc import Sequence

MIN_SHARED_PREFIX = 16


def _lcp(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token rows."""
    k, limit = 0, min(len(a), len(b))
    while k < limit and a[k] == b[k]:
        k += 1
    return k


def common_prefix_len(rows: Sequence[Sequence[int]]) -> int:
    """Length of the token prefix shared by all rows, keeping at least one own token per row."""
    if not rows:
        return 0
    return max(min(min(_lcp(rows[0], r) for r in rows), min(len(r) for r in rows) - 1), 0)


def prefix_runs(rows: Sequence[Sequence[int]]) -> list[tuple[int, int, int]] | None:
    """Cut token rows (sorted, so rows on one schema are neighbours) into contiguous runs that each
    share a prompt prefix: ``[(start, end, shared), ...]``, each prefix to be computed once.

    The cut is the one of least estimated compute among "cut wherever neighbours share fewer than t
    tokens" for every t seen: ``runs x W + rows x S`` tokens (W the longest shared prefix, the
    prefixes' pass; S the longest rest of a row, the rows' pass), against ``rows x L`` for plain
    padded rows. None when no cut both shares a prefix of MIN_SHARED_PREFIX tokens and beats plain rows."""
    n = len(rows)
    if n < 2:
        return None
    adjacent = [_lcp(rows[i], rows[i + 1]) for i in range(n - 1)]
    plain = n * max(len(r) for r in rows)
    best: tuple[int, list[tuple[int, int, int]]] | None = None
    for t in sorted(set(adjacent)):
        runs: list[tuple[int, int, int]] = []
        start = 0
        for i in range(n):
            if i == n - 1 or adjacent[i] < t:
                runs.append((start, i + 1, common_prefix_len(rows[start:i + 1]) if i > start else len(rows[i]) - 1))
                start = i + 1
        width = max(shared for _s, _e, shared in runs)
        if width < MIN_SHARED_PREFIX:
            continue
        rest = max(len(rows[i]) - shared for s, e, shared in runs for i in range(s, e))
        cost = len(runs) * width + n * rest
        if cost < plain and (best is None or cost < best[0]):
            best = (cost, runs)
    return best[1] if best else None
