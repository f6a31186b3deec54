"""Dataset statistics (pure): rows per db_id, SQL features, hardness, lengths, prompt tokens.

Token counts use a real tokenizer when one is passed (anything with ``encode(text) -> list``),
otherwise :func:`estimate_tokens`: one token per 4 ASCII characters (as BPE tokenizers give on
English/SQL) plus one per non-ASCII character (a Hangul syllable is 1-3 byte-level tokens in
small English-centric tokenizers, so this is a lower-end estimate for Korean).
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from kosql.data.rows import Example
from kosql.sql.features import FEATURES, HARDNESS_LEVELS, sql_features, sql_hardness


class Encoder(Protocol):
    def encode(self, text: str, *args: Any, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class Summary:
    """Distribution of one length measure."""

    count: int
    min: float
    mean: float
    median: float
    p95: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> Summary:
        if not values:
            return cls(0, 0, 0, 0, 0, 0)
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
        return cls(len(values), ordered[0], round(statistics.fmean(values), 2),
                   statistics.median(ordered), p95, ordered[-1])


@dataclass
class DatasetStats:
    rows: int
    db_counts: dict[str, int]
    feature_counts: dict[str, int]
    hardness_counts: dict[str, int]
    question_chars: Summary
    answer_chars: Summary
    prompt_chars: Summary
    prompt_tokens: Summary
    answer_tokens: Summary
    token_method: str
    extra: dict[str, Any] = field(default_factory=dict)


def estimate_tokens(text: str) -> int:
    """Rough token count without a tokenizer (see the module docstring)."""
    ascii_chars = sum(1 for c in text if c.isascii() and not c.isspace())
    other = sum(1 for c in text if not c.isascii())
    return math.ceil(ascii_chars / 4) + other


def _counter(tokenizer: Encoder | None) -> tuple[Callable[[str], int], str]:
    if tokenizer is None:
        return estimate_tokens, "estimate (ASCII chars / 4 + non-ASCII chars)"

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False))

    name = getattr(tokenizer, "name_or_path", "") or type(tokenizer).__name__
    return count, f"tokenizer {name}"


def compute_stats(
    examples: Iterable[Example],
    *,
    prompt: Callable[[str, str], str],
    tokenizer: Encoder | None = None,
    on_row: Callable[[int], None] | None = None,
) -> DatasetStats:
    """Statistics of ``examples``; features/hardness come from the row when present, else sqlglot.

    ``prompt(ddl, question)`` renders the prompt whose length is measured (the CLI passes
    :func:`kosql.prompts.make_prompt`; the data layer does not import the prompt layer).
    """
    count_tokens, method = _counter(tokenizer)
    dbs: Counter[str] = Counter()
    feats: Counter[str] = Counter()
    hard: Counter[str] = Counter()
    q_chars: list[float] = []
    a_chars: list[float] = []
    p_chars: list[float] = []
    p_tokens: list[float] = []
    a_tokens: list[float] = []
    n = 0
    for i, ex in enumerate(examples):
        n += 1
        dbs[ex.db_id] += 1
        tags = ex.features if "features" in ex.extra else sql_features(ex.answer)
        feats.update(tags)
        hard[ex.hardness or sql_hardness(ex.answer)] += 1
        text = prompt(ex.context, ex.question)
        q_chars.append(len(ex.question))
        a_chars.append(len(ex.answer))
        p_chars.append(len(text))
        p_tokens.append(count_tokens(text))
        a_tokens.append(count_tokens(ex.answer))
        if on_row is not None:
            on_row(i)
    return DatasetStats(
        rows=n,
        db_counts=dict(sorted(dbs.items(), key=lambda kv: (-kv[1], kv[0]))),
        feature_counts={f: feats.get(f, 0) for f in FEATURES} | {k: v for k, v in feats.items() if k not in FEATURES},
        hardness_counts={h: hard.get(h, 0) for h in HARDNESS_LEVELS},
        question_chars=Summary.of(q_chars),
        answer_chars=Summary.of(a_chars),
        prompt_chars=Summary.of(p_chars),
        prompt_tokens=Summary.of(p_tokens),
        answer_tokens=Summary.of(a_tokens),
        token_method=method,
    )
