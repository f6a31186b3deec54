"""Train/test splits with a leakage report (pure functions).

Two modes:

- ``db``: whole ``db_id``s go to the test side (the seed held out ``db_id`` 1: ``test_db_ids=["1"]``);
  without explicit ids, db_ids are drawn with the seed until the test side holds at least
  ``test_fraction`` of the rows. Test rows get ``split = "heldout_domain"``.
- ``random``: a seeded shuffle of rows. Test rows get ``split = "in_domain"``.

Train rows get ``split = "train"``; both sides keep the input order.

Leakage: a test row leaks when a train row has the same SQL after
:func:`kosql.sql.normalize.normalize_sql` and a near-same question: ``difflib.SequenceMatcher``
ratio of the normalized questions >= ``threshold`` (default 0.9: equal questions up to a word
ending or particle, e.g. "보여줘" vs "보여 줘", match; a different filter value usually does not).
``drop_leaks`` removes the leaking *train* rows so the test set stays fixed and comparable.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher

from kosql.data.rows import Example
from kosql.errors import UserError
from kosql.sql.normalize import normalize_question, normalize_sql

DEFAULT_LEAK_THRESHOLD = 0.9
SPLIT_MODES: tuple[str, ...] = ("db", "random")


@dataclass(frozen=True)
class LeakPair:
    """A test row with near-duplicates on the train side (``train_id`` is the closest one)."""

    test_id: str
    train_id: str
    similarity: float
    train_matches: int
    sql: str
    test_question: str
    train_question: str


@dataclass
class SplitResult:
    train: list[Example]
    test: list[Example]
    mode: str
    test_db_ids: list[str] = field(default_factory=list)
    leaks: list[LeakPair] = field(default_factory=list)
    leaked_train: list[int] = field(default_factory=list)  # positions in ``train`` before dropping
    dropped_train_ids: list[str] = field(default_factory=list)


def _natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text) if p)


def _tag(rows: list[Example], split: str) -> list[Example]:
    return [replace(ex, extra={**ex.extra, "split": split}) for ex in rows]


def choose_test_dbs(examples: list[Example], test_fraction: float, seed: int = 0) -> list[str]:
    """db_ids drawn with ``seed`` until they hold >= ``test_fraction`` of the rows (never all)."""
    counts: dict[str, int] = defaultdict(int)
    for ex in examples:
        counts[ex.db_id] += 1
    dbs = sorted(counts, key=_natural_key)
    if len(dbs) < 2:
        raise UserError(f"a db split needs at least two db_ids, but the data has {len(dbs)}; use --by random.")
    random.Random(seed).shuffle(dbs)
    chosen: list[str] = []
    total = 0
    for db in dbs[:-1]:
        if total >= test_fraction * len(examples) and chosen:
            break
        chosen.append(db)
        total += counts[db]
    return sorted(chosen, key=_natural_key)


def split_by_db(examples: list[Example], test_db_ids: list[str]) -> SplitResult:
    """Rows of ``test_db_ids`` go to test, the rest to train."""
    present = {ex.db_id for ex in examples}
    wanted = [str(d) for d in test_db_ids]
    missing = [d for d in wanted if d not in present]
    if missing:
        shown = ", ".join(sorted(present, key=_natural_key)[:20])
        raise UserError(f"test db_id {missing[0]!r} is not in the data (db_ids found: {shown}).")
    chosen = set(wanted)
    train = [ex for ex in examples if ex.db_id not in chosen]
    test = [ex for ex in examples if ex.db_id in chosen]
    if not train:
        raise UserError("the test db_ids hold every row, so nothing is left to train on.")
    return SplitResult(_tag(train, "train"), _tag(test, "heldout_domain"), "db", sorted(chosen, key=_natural_key))


def split_random(examples: list[Example], test_fraction: float, seed: int = 0) -> SplitResult:
    """A seeded random split; at least one row on each side when there are two or more."""
    if not 0 < test_fraction < 1:
        raise UserError(f"the test fraction must be between 0 and 1, not {test_fraction}.")
    n = len(examples)
    if n < 2:
        raise UserError(f"a split needs at least two rows, but the data has {n}.")
    n_test = min(n - 1, max(1, round(n * test_fraction)))
    order = list(range(n))
    random.Random(seed).shuffle(order)
    test_idx = set(order[:n_test])
    train = [ex for i, ex in enumerate(examples) if i not in test_idx]
    test = [ex for i, ex in enumerate(examples) if i in test_idx]
    return SplitResult(_tag(train, "train"), _tag(test, "in_domain"), "random")


def question_similarity(a: str, b: str) -> float:
    """difflib ratio of the normalized questions (1.0 = identical)."""
    na, nb = normalize_question(a), normalize_question(b)
    if na == nb:
        return 1.0
    return SequenceMatcher(None, na, nb, autojunk=False).ratio()


def find_leaks(
    train: list[Example], test: list[Example], *, threshold: float = DEFAULT_LEAK_THRESHOLD,
    dialect: str | None = None,
) -> tuple[list[LeakPair], list[int]]:
    """Leaking test rows (one LeakPair each) and the positions of all train rows they match."""
    by_sql: dict[str, list[tuple[int, Example, str]]] = defaultdict(list)
    for pos, ex in enumerate(train):
        by_sql[normalize_sql(ex.answer, dialect)].append((pos, ex, normalize_question(ex.question)))
    leaks: list[LeakPair] = []
    leaked_train: dict[int, None] = {}
    matcher = SequenceMatcher(None, autojunk=False)
    for ex in test:
        sql = normalize_sql(ex.answer, dialect)
        candidates = by_sql.get(sql)
        if not candidates:
            continue
        nq = normalize_question(ex.question)
        matcher.set_seq2(nq)  # the expensive index is built once per test row
        best: tuple[float, Example] | None = None
        matches = 0
        for pos, cand, cq in candidates:
            if cq == nq:
                score = 1.0
            else:
                total = len(cq) + len(nq)
                if total == 0 or 2.0 * min(len(cq), len(nq)) / total < threshold:
                    continue
                matcher.set_seq1(cq)
                if matcher.quick_ratio() < threshold:
                    continue
                score = matcher.ratio()
            if score >= threshold:
                matches += 1
                leaked_train.setdefault(pos, None)
                if best is None or score > best[0]:
                    best = (score, cand)
        if best is not None:
            leaks.append(LeakPair(ex.id, best[1].id, round(best[0], 4), matches, sql,
                                  ex.question, best[1].question))
    return leaks, sorted(leaked_train)


def split_examples(
    examples: list[Example],
    *,
    by: str = "db",
    test_db_ids: list[str] | None = None,
    test_fraction: float = 0.1,
    seed: int = 0,
    leak_threshold: float = DEFAULT_LEAK_THRESHOLD,
    drop_leaks: bool = False,
    dialect: str | None = None,
) -> SplitResult:
    """Split, report leakage, and optionally drop the leaking train rows."""
    if by == "db":
        dbs = test_db_ids or choose_test_dbs(examples, test_fraction, seed)
        result = split_by_db(examples, dbs)
    elif by == "random":
        result = split_random(examples, test_fraction, seed)
    else:
        raise UserError(f"unknown split mode {by!r}; use one of {', '.join(SPLIT_MODES)}.")
    result.leaks, result.leaked_train = find_leaks(result.train, result.test,
                                                   threshold=leak_threshold, dialect=dialect)
    if drop_leaks and result.leaked_train:
        drop = set(result.leaked_train)
        result.dropped_train_ids = [ex.id for i, ex in enumerate(result.train) if i in drop]
        result.train = [ex for i, ex in enumerate(result.train) if i not in drop]
    return result
