"""Read a predictions JSONL file into ``{row id: predicted SQL}``.

Each line is a JSON object with the SQL under ``pred`` (``kosql generate`` output), ``sql`` or
``gen_sql``. Lines are matched to dataset rows by ``id`` when every line has one, otherwise by line
order (line *i* is the prediction for row *i*). Rows without a prediction get ``""`` (scored as
``empty_prediction``). A line with ``"status": "failed"`` (``kosql generate`` could not get an answer,
e.g. the API ran out of retries) is a generation failure, kept apart from an empty answer
(``failed``: its error). ``kosql eval`` and ``kosql judge`` both read predictions here: a line
without a SQL key, a SQL value that is not a string, a repeated id (in the file or in the dataset)
or more id-less lines than dataset rows is a UserError naming the line or the ids; no line is dropped
or merged silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kosql.data.rows import Example, iter_jsonl
from kosql.errors import UserError

PRED_KEYS: tuple[str, ...] = ("pred", "sql", "gen_sql")


@dataclass
class Predictions:
    """Predictions keyed by row id, and what did not line up with the dataset."""

    by_id: dict[str, str]
    keyed_by: str  # 'id' | 'order' | 'gold'
    missing: list[str] = field(default_factory=list)  # dataset ids with no prediction
    unknown: list[str] = field(default_factory=list)  # prediction ids not in the dataset
    failed: dict[str, str] = field(default_factory=dict)  # dataset ids whose generation failed -> error

    def answered(self) -> dict[str, str]:
        """The predictions that are answers (generation failures left out)."""
        return {i: sql for i, sql in self.by_id.items() if i not in self.failed}


def repeated_ids(ids: Iterable[str | None]) -> list[str]:
    """The ids that occur more than once, in order of first occurrence (None is no id)."""
    counts = Counter(i for i in ids if i is not None)
    return [i for i, n in counts.items() if n > 1]


def _shown(ids: list[str], limit: int = 5) -> str:
    more = f" and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(repr(i) for i in ids[:limit]) + more


def check_unique_ids(examples: Iterable[Example], what: str = "The dataset") -> None:
    """UserError naming the ids that more than one row of ``examples`` has (they would be scored as one)."""
    dup = repeated_ids(ex.id for ex in examples)
    if dup:
        raise UserError(f"{what} has more than one row with the id {_shown(dup)}; every row needs its own "
                        "id to be scored apart.")


def gold_predictions(examples: list[Example]) -> Predictions:
    """The gold SQL as predictions (``--pred gold``): scores the evaluator against itself."""
    return Predictions({ex.id: ex.answer for ex in examples}, "gold")


def read_predictions(path: str | Path, examples: list[Example]) -> Predictions:
    """Read ``path`` and match it to ``examples`` (see the module docstring)."""
    p = Path(path)
    objs = list(iter_jsonl(p))
    texts: list[str] = []
    ids: list[str | None] = []
    errors: list[str | None] = []
    for lineno, obj in enumerate(objs, start=1):
        key = next((k for k in PRED_KEYS if k in obj), None)
        if key is None:
            raise UserError(f"{p}: line {lineno} has none of the keys {', '.join(PRED_KEYS)}.")
        value = obj[key]
        if value is not None and not isinstance(value, str):
            raise UserError(f"{p}: line {lineno} has a {type(value).__name__} under '{key}', not SQL text.")
        texts.append(value or "")
        raw_id = obj.get("id")
        ids.append(None if raw_id in (None, "") else str(raw_id))
        errors.append(str(obj.get("error") or "generation failed") if obj.get("status") == "failed" else None)
    check_unique_ids(examples)
    known = [ex.id for ex in examples]
    if objs and all(i is not None for i in ids):
        dup = repeated_ids(ids)
        if dup:
            raise UserError(f"{p}: has more than one prediction for the id {_shown(dup)}; keep one line per id.")
        by_id = {i: text for i, text in zip(ids, texts, strict=True) if i is not None}
        known_set = set(known)
        unknown = [i for i in by_id if i not in known_set]
        if by_id and len(unknown) == len(by_id):
            raise UserError(f"{p}: none of its ids match the dataset ids (first: {unknown[0]!r}).")
        missing = [i for i in known if i not in by_id]
        failed = {str(i): e for i, e in zip(ids, errors, strict=True) if e is not None and i in known_set}
        return Predictions({i: t for i, t in by_id.items() if i in known_set}, "id", missing, unknown, failed)
    if len(texts) > len(known):
        raise UserError(f"{p}: has {len(texts)} predictions without ids but the dataset has "
                        f"{len(known)} rows.")
    by_order = dict(zip(known, texts, strict=False))
    failed = {i: e for i, e in zip(known, errors, strict=False) if e is not None}
    return Predictions(by_order, "order", known[len(texts):], [], failed)
