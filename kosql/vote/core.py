"""The vote itself (pure): candidates with their results in, the chosen one and its share out.

Rules:

1. A candidate that failed (the schema check, the guard, the database, a time limit: ``error`` set,
   or a result that is not ``ok``) gets no vote.
2. The others are grouped by result with the evaluator's own comparison
   (:func:`kosql.sql.compare.results_match`): rows as a multiset, column order free, float tolerance;
   row order counts only when both queries have a top-level ``ORDER BY``.
3. The largest group wins; a tie goes to the group holding the greedy answer, else to the group whose
   first candidate came first. The answer is the group's greedy candidate, else its first one.
4. **Share** (the confidence) = the winning group's size / all candidates, failed ones included: 3
   of 5 agreeing is 60 %, and 1 of 5 running (4 failed) is 20 %. No candidate ran: no winner, share 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kosql.sql.compare import ResultLike, order_matters, results_match

GREEDY = "greedy"
SAMPLE = "sample"


@dataclass
class Candidate:
    """One SQL candidate and what running it gave."""

    sql: str
    result: ResultLike | None = None  # None: it did not run
    error: str | None = None  # why it got no vote (one line)
    origin: str = SAMPLE  # GREEDY | SAMPLE
    repair: dict[str, str] | None = None  # when repaired: {'how': 'transpiled'|'retried', 'sql': as
    # the model wrote it, 'error': why that failed}
    raw: str = ""  # the model's text

    @property
    def greedy(self) -> bool:
        return self.origin == GREEDY

    @property
    def ran(self) -> bool:
        return self.error is None and self.result is not None and bool(self.result.ok)


@dataclass(frozen=True)
class VoteResult:
    """The outcome of :func:`vote` over ``total`` candidates."""

    winner: int | None  # index of the chosen candidate; None when none ran
    groups: tuple[tuple[int, ...], ...]  # candidate indices by result, the winning group first
    share: float  # the winning group's size / total (0.0 when none ran)
    greedy_agreed: bool  # the greedy candidate is in the winning group
    total: int

    def group_of(self, index: int) -> int | None:
        """The group number (0 = the winner's) of candidate ``index``; None when it got no vote."""
        return next((g for g, members in enumerate(self.groups) if index in members), None)

    def confident(self, min_confidence: float) -> bool:
        """Whether the answer may be shown as the answer: a winner whose share reaches ``min_confidence``."""
        return self.winner is not None and self.share >= min_confidence - 1e-9


def same_result(a: Candidate, b: Candidate) -> bool:
    """Whether two candidates that ran return the same answer (the evaluator's comparison)."""
    if a.result is None or b.result is None:
        return False
    ordered = order_matters(a.sql) and order_matters(b.sql)
    return results_match(a.result, b.result, order_matters=ordered)


def vote(candidates: Sequence[Candidate]) -> VoteResult:
    """Group the candidates that ran by result and pick the winner (rules in the module docstring)."""
    groups: list[list[int]] = []
    for i, cand in enumerate(candidates):
        if not cand.ran:
            continue
        for members in groups:
            if same_result(candidates[members[0]], cand):
                members.append(i)
                break
        else:
            groups.append([i])
    greedy = next((i for i, c in enumerate(candidates) if c.greedy), None)
    groups.sort(key=lambda m: (-len(m), greedy not in m, m[0]))
    total = len(candidates)
    if not groups:
        return VoteResult(winner=None, groups=(), share=0.0, greedy_agreed=False, total=total)
    best = groups[0]
    winner = greedy if greedy in best else best[0]
    return VoteResult(winner=winner, groups=tuple(tuple(m) for m in groups), share=len(best) / total,
                      greedy_agreed=greedy in best, total=total)


def vote_record(candidates: Sequence[Candidate], outcome: VoteResult, k: int) -> dict[str, Any]:
    """The vote as JSON: ``k``, ``share``, ``greedy_agreed``, ``winner``, group sizes and each
    candidate's SQL, origin, repair, error and group (the predictions file's and the API's ``vote``)."""
    return {
        "k": k,
        "share": round(outcome.share, 4),
        "greedy_agreed": outcome.greedy_agreed,
        "winner": outcome.winner,
        "groups": [len(m) for m in outcome.groups],
        "candidates": [{"sql": c.sql, "origin": c.origin, "repair": c.repair, "error": c.error,
                        "group": outcome.group_of(i)} for i, c in enumerate(candidates)],
    }
