"""Training rows -> tokenized prompt/completion records (loss on the SQL only, EOS appended).

Pure functions where possible: row sampling, record building (given a tokenizer), length checks,
data hashing. The edges: :func:`resolve_dataset` (files / the bundled dataset) and
:func:`check_gold_sql` (executes SQL on the rows' databases).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kosql.data.resolve import check_source, load_dataset, resolve_source
from kosql.data.rows import Example
from kosql.errors import UserError
from kosql.prompts import build_prompt, uses_bos


class Tokenizer(Protocol):
    """The part of a Hugging Face tokenizer used here."""

    eos_token: Any
    eos_token_id: Any

    def __call__(self, text: str, **kwargs: Any) -> Any: ...

    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> Any: ...


@dataclass
class TrainRecord:
    """One tokenized training row: the loss covers ``completion_mask == 1`` (SQL + EOS)."""

    id: str
    prompt: str
    completion: str
    input_ids: list[int]
    completion_mask: list[int]

    def to_features(self) -> dict[str, Any]:
        return {"id": self.id, "input_ids": self.input_ids, "completion_mask": self.completion_mask,
                "length": len(self.input_ids)}


@dataclass
class DroppedRow:
    """A row left out of training and why."""

    id: str
    reason: str
    tokens: int = 0


@dataclass
class GoldCheck:
    """Result of executing the gold SQL of every row that has a database."""

    checked: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    note: str | None = None

    @property
    def failed_ids(self) -> set[str]:
        return {row_id for row_id, _ in self.failures}


def check_dataset(spec: str, split: str, *, field_name: str = "data.train") -> None:
    """Raise the UserError :func:`resolve_dataset` would, without generating the bundled dataset
    (so a run can refuse a bad spec before any work)."""
    check_source(spec, split, field_name=field_name)


def resolve_dataset(spec: str, split: str, *, field_name: str = "data.train") -> str | Path:
    """What ``spec`` names (:func:`kosql.data.resolve.resolve_source`): a file, a folder's
    ``<split>.jsonl`` or the bundled dataset's (``bundled:<size>[+comments]``)."""
    return resolve_source(spec, split, field_name=field_name)


def load_rows(spec: str, split: str, *, field_name: str) -> list[Example]:
    """The rows of ``spec`` (:func:`kosql.data.resolve.load_dataset`; ``db_path`` made absolute by the loader)."""
    return load_dataset(spec, split, field_name=field_name)


def select_rows(rows: list[Example], *, fraction: float = 1.0, max_rows: int | None = None,
                seed: int = 0, pool_rows: int | None = None) -> list[Example]:
    """A reproducible subset: ``ceil(fraction * n)`` rows sampled with ``seed``, then at most ``max_rows``.

    With ``pool_rows`` the fraction is taken of a fixed seeded pool of that many rows instead of all
    ``n``; smaller fractions are subsets of larger ones either way (one shuffled order). The kept
    rows stay in their original order.
    """
    n = len(rows)
    base = n if pool_rows is None else min(n, pool_rows)
    keep = base if fraction >= 1.0 else max(1, math.ceil(fraction * base)) if base else 0
    if max_rows is not None:
        keep = min(keep, max_rows)
    if keep >= n:
        return list(rows)
    order = list(range(n))
    random.Random(seed).shuffle(order)
    chosen = sorted(order[:keep])
    return [rows[i] for i in chosen]


def make_prompt_completion(row: Example, fmt: str, tokenizer: Tokenizer | None, eos_token: str) -> tuple[str, str]:
    """``(prompt, completion)`` strings of a row: the generation prompt, and SQL + EOS."""
    prompt = build_prompt(row.context, row.question, fmt, tokenizer)
    return prompt, row.answer.strip() + eos_token


def tokenize_record(row_id: str, prompt: str, answer: str, tokenizer: Tokenizer, *, fmt: str) -> TrainRecord:
    """Tokenize prompt and answer separately (as at inference) and append the EOS id to the answer."""
    prompt_ids = list(tokenizer(prompt, add_special_tokens=uses_bos(fmt))["input_ids"])
    answer_ids = list(tokenizer(answer, add_special_tokens=False)["input_ids"])
    eos_id = tokenizer.eos_token_id
    if eos_id is None:
        raise UserError("the tokenizer has no EOS token, so the model could not learn to stop.")
    completion_ids = answer_ids + [int(eos_id)]
    return TrainRecord(
        id=row_id,
        prompt=prompt,
        completion=answer + str(tokenizer.eos_token),
        input_ids=prompt_ids + completion_ids,
        completion_mask=[0] * len(prompt_ids) + [1] * len(completion_ids),
    )


def build_records(rows: list[Example], tokenizer: Tokenizer, *, fmt: str = "seed", max_length: int = 512,
                  drop_ids: set[str] | None = None) -> tuple[list[TrainRecord], list[DroppedRow]]:
    """Tokenized records of ``rows``; rows with empty SQL, SQL cut off by ``max_length`` or in ``drop_ids``
    are dropped and returned with the reason."""
    records: list[TrainRecord] = []
    dropped: list[DroppedRow] = []
    drop_ids = drop_ids or set()
    for row in rows:
        if row.id in drop_ids:
            dropped.append(DroppedRow(row.id, "gold SQL fails to execute"))
            continue
        answer = row.answer.strip()
        if not answer:
            dropped.append(DroppedRow(row.id, "empty SQL"))
            continue
        prompt = build_prompt(row.context, row.question, fmt, tokenizer)
        rec = tokenize_record(row.id, prompt, answer, tokenizer, fmt=fmt)
        if len(rec.input_ids) > max_length:
            dropped.append(DroppedRow(row.id, f"{len(rec.input_ids)} tokens > max_length {max_length}",
                                      len(rec.input_ids)))
            continue
        records.append(rec)
    return records, dropped


def check_gold_sql(rows: list[Example], *, timeout: float = 5.0) -> GoldCheck:
    """Execute the gold SQL of each row that has an existing ``db_path``; failures are listed by row id."""
    with_db = [r for r in rows if r.db_path and Path(r.db_path).exists()]
    if not with_db:
        return GoldCheck(note="no row has an existing database, gold SQL not executed")
    if importlib.util.find_spec("kosql.db.execute") is None:
        return GoldCheck(note="kosql.db.execute is not available, gold SQL not executed")
    from kosql.db.execute import execute_sql

    out = GoldCheck()
    for row in with_db:
        res = execute_sql(str(row.db_path), row.answer, timeout=timeout, max_rows=1)
        out.checked += 1
        if not res.ok:
            reason = "timeout" if res.timeout else (res.error or res.error_kind or "error")
            out.failures.append((row.id, str(reason)))
    return out


def data_hash(records: list[TrainRecord]) -> str:
    """A short content hash of the training records (ids, prompts, completions)."""
    h = hashlib.sha256()
    for rec in records:
        h.update(json.dumps([rec.id, rec.prompt, rec.completion], ensure_ascii=False).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()[:16]


def length_stats(records: list[TrainRecord]) -> dict[str, float]:
    """Token-length summary of the records (for the manifest and the bench)."""
    if not records:
        return {"rows": 0, "tokens": 0, "mean": 0.0, "max": 0, "completion_tokens": 0}
    lengths = [len(r.input_ids) for r in records]
    return {
        "rows": len(records),
        "tokens": sum(lengths),
        "mean": round(sum(lengths) / len(lengths), 1),
        "max": max(lengths),
        "completion_tokens": sum(sum(r.completion_mask) for r in records),
    }
