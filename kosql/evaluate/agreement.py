"""How far an LLM judge agrees with execution accuracy (EX), and the Wilson interval.

EX verdicts come from ``kosql eval``'s ``per_row.jsonl`` (fields ``id`` and ``ex``: bool). Only rows
with a yes/no judge verdict and a boolean EX verdict are compared; the rest are counted.
Cohen's kappa is ``(p_o - p_e) / (1 - p_e)``; it is undefined (None) when ``p_e == 1`` (both
raters gave one and the same label to every row).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kosql.data.rows import iter_jsonl
from kosql.errors import UserError


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval for a proportion (95 % by default); (0, 0) when ``n == 0``."""
    if n <= 0:
        return 0.0, 0.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def cohens_kappa(both_yes: int, judge_yes_ex_no: int, judge_no_ex_yes: int, both_no: int) -> float | None:
    """Cohen's kappa of a 2x2 table; None when it is undefined (no rows, or ``p_e == 1``)."""
    n = both_yes + judge_yes_ex_no + judge_no_ex_yes + both_no
    if n == 0:
        return None
    p_o = (both_yes + both_no) / n
    judge_yes = (both_yes + judge_yes_ex_no) / n
    ex_yes = (both_yes + judge_no_ex_yes) / n
    p_e = judge_yes * ex_yes + (1 - judge_yes) * (1 - ex_yes)
    if p_e >= 1.0:
        return None
    return (p_o - p_e) / (1 - p_e)


@dataclass
class Agreement:
    """Judge vs EX on the rows both decided."""

    n: int
    both_yes: int
    judge_yes_ex_no: int
    judge_no_ex_yes: int
    both_no: int
    accuracy: float | None
    kappa: float | None
    judge_yes_rate: float | None
    ex_rate: float | None
    no_ex: int = 0
    judge_undecided: int = 0
    disagreements: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def matrix(self) -> list[list[int]]:
        """Rows: judge yes / judge no; columns: EX correct / EX wrong."""
        return [[self.both_yes, self.judge_yes_ex_no], [self.judge_no_ex_yes, self.both_no]]


def read_ex_verdicts(path: str | Path) -> dict[str, bool]:
    """``id -> ex`` from an eval ``per_row.jsonl``; rows without a boolean ``ex`` are skipped."""
    out: dict[str, bool] = {}
    seen_any = False
    for obj in iter_jsonl(path):
        seen_any = True
        if "id" not in obj:
            raise UserError(f"{path}: a row has no 'id' field; pass the per_row.jsonl written by kosql eval.")
        if isinstance(obj.get("ex"), bool):
            out[str(obj["id"])] = obj["ex"]
    if seen_any and not out:
        raise UserError(f"{path}: no row has a boolean 'ex' field; pass the per_row.jsonl written by kosql eval.")
    return out


def compare_with_ex(judge: Mapping[str, str | None], ex: Mapping[str, bool],
                    extra: Mapping[str, Mapping[str, Any]] | None = None) -> Agreement:
    """Confusion matrix, agreement, kappa and the disagreeing rows (sorted by id).

    ``judge`` maps row id -> 'yes'/'no'/other; ``extra`` may add fields (question, SQL, raw reply)
    to each disagreement.
    """
    counts = {"yy": 0, "yn": 0, "ny": 0, "nn": 0}
    disagreements: list[dict[str, Any]] = []
    no_ex = undecided = 0
    for row_id, verdict in judge.items():
        if verdict not in ("yes", "no"):
            undecided += 1
            continue
        if row_id not in ex:
            no_ex += 1
            continue
        j, e = verdict == "yes", ex[row_id]
        counts[("y" if j else "n") + ("y" if e else "n")] += 1
        if j != e:
            row = {"id": row_id, "judge": verdict, "ex": e}
            row.update(dict((extra or {}).get(row_id, {})))
            disagreements.append(row)
    n = sum(counts.values())
    disagreements.sort(key=lambda r: _id_key(str(r["id"])))
    return Agreement(
        n=n, both_yes=counts["yy"], judge_yes_ex_no=counts["yn"], judge_no_ex_yes=counts["ny"],
        both_no=counts["nn"],
        accuracy=(counts["yy"] + counts["nn"]) / n if n else None,
        kappa=cohens_kappa(counts["yy"], counts["yn"], counts["ny"], counts["nn"]),
        judge_yes_rate=(counts["yy"] + counts["yn"]) / n if n else None,
        ex_rate=(counts["yy"] + counts["ny"]) / n if n else None,
        no_ex=no_ex, judge_undecided=undecided, disagreements=disagreements,
    )


def _id_key(row_id: str) -> tuple[int, int | str]:
    return (0, int(row_id)) if row_id.isdigit() else (1, row_id)
