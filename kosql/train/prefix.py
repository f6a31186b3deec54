"""Shared-prefix batches: several questions on one schema trained in one sequence, exactly.

In Text2SQL most of a row's tokens are the prompt's instruction and schema, and many rows share
them (every question on one database). ``train.batching: shared_prefix`` puts up to ``batch_size``
rows with the same prompt prefix (everything up to ``### Question:``) into one sequence::

    [prefix] [question 1 + SQL 1 + EOS] [question 2 + SQL 2 + EOS] ...

with a block attention mask (each question sees the prefix and itself, never another question)
and position ids that restart after the prefix for every question. Each question's tokens then
get exactly the attention context and positions they get when trained alone (and at inference):
the same loss and gradients for ~half the tokens (the prefix is computed once per group). Rows
whose tokenization does not split cleanly at the prefix form groups of their own.

Pure functions over token ids plus a collator that builds torch tensors (torch imported lazily).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from kosql.train.data import Tokenizer, TrainRecord

PREFIX_MARK = "### Question:"


@dataclass
class PrefixGroup:
    """One training sequence: a shared prefix followed by one segment per row."""

    ids: list[str]
    input_ids: list[int]
    completion_mask: list[int]
    segments: list[int]  # token lengths: [prefix, row 1, row 2, ...]

    def to_features(self) -> dict[str, Any]:
        return {"id": ",".join(self.ids), "input_ids": self.input_ids, "completion_mask": self.completion_mask,
                "segments": self.segments, "length": len(self.input_ids)}


def prefix_length(record: TrainRecord, tokenizer: Tokenizer, add_special_tokens: bool,
                  cache: dict[str, list[int]] | None = None) -> int:
    """Tokens of ``record``'s prompt up to and including ``### Question:`` when they tokenize the same
    alone as inside the whole row, else up to the first token that differs (the split is exact either
    way: the prefix is the row's own first tokens); 0 when there is no clean split.
    ``cache`` keeps the token ids of prefix texts already seen."""
    cut = record.prompt.rfind(PREFIX_MARK)
    if cut < 0:
        return 0
    text = record.prompt[: cut + len(PREFIX_MARK)]
    ids = cache.get(text) if cache is not None else None
    if ids is None:
        ids = list(tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"])
        if cache is not None:
            cache[text] = ids
    n = len(ids)
    if record.input_ids[:n] != ids:
        # The mark's last token merged with the text after it (Qwen's BPE joins ':' and '\n'): split
        # before the first token that differs instead; the row's own tokens stay as they are.
        first_diff = next((i for i, (a, b) in enumerate(zip(ids, record.input_ids, strict=False)) if a != b), 0)
        n = first_diff if first_diff >= len(ids) - 2 else 0  # only the mark's own last tokens may merge
    if n == 0 or not any(record.completion_mask[n:]) or any(record.completion_mask[:n]):
        return 0
    return n


def prefix_lengths(records: list[TrainRecord], tokenizer: Tokenizer, add_special_tokens: bool) -> list[int]:
    """:func:`prefix_length` of every record, each distinct prefix text tokenized once."""
    cache: dict[str, list[int]] = {}
    return [prefix_length(r, tokenizer, add_special_tokens, cache) for r in records]


def group_records(records: list[TrainRecord], prefix_lengths: list[int], rows_per_group: int,
                  seed: int = 0) -> list[PrefixGroup]:
    """Rows with identical prefix tokens, shuffled (seeded) and cut into groups of ``rows_per_group``;
    a row without a prefix (length 0) is a group of one. Every row lands in exactly one group."""
    buckets: dict[tuple[int, ...], list[TrainRecord]] = {}
    singles: list[PrefixGroup] = []
    for rec, n in zip(records, prefix_lengths, strict=True):
        if n <= 0 or rows_per_group <= 1:
            singles.append(PrefixGroup([rec.id], list(rec.input_ids), list(rec.completion_mask), [0, len(rec.input_ids)]))
        else:
            buckets.setdefault(tuple(rec.input_ids[:n]), []).append(rec)
    rng = random.Random(seed)
    groups: list[PrefixGroup] = []
    for prefix, recs in buckets.items():
        rng.shuffle(recs)
        n = len(prefix)
        for i in range(0, len(recs), rows_per_group):
            chunk = recs[i:i + rows_per_group]
            ids, mask, segs = list(prefix), [0] * n, [n]
            for rec in chunk:
                ids += rec.input_ids[n:]
                mask += rec.completion_mask[n:]
                segs.append(len(rec.input_ids) - n)
            groups.append(PrefixGroup([r.id for r in chunk], ids, mask, segs))
    groups += singles
    rng.shuffle(groups)
    return groups


def segment_ids(segments: list[int]) -> list[int]:
    """Per token: 0 for the prefix, k for the k-th row's segment."""
    out: list[int] = []
    for k, n in enumerate(segments):
        out += [k] * n
    return out


def position_ids(segments: list[int]) -> list[int]:
    """Positions 0..P-1 for the prefix, then P, P+1, ... again for every row segment."""
    prefix = segments[0]
    out = list(range(prefix))
    for n in segments[1:]:
        out += list(range(prefix, prefix + n))
    return out


class SharedPrefixCollator:
    """Pads groups into a batch: ``input_ids``, ``labels`` (SQL + EOS only), ``position_ids`` and a 4D
    block attention mask (bool for sdpa, additive float for eager attention), plus ``token_count``."""

    def __init__(self, pad_token_id: int, *, additive_mask: bool = False) -> None:
        self.pad_token_id = pad_token_id
        self.additive_mask = additive_mask

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        length = max(len(f["input_ids"]) for f in features)
        b = len(features)
        ids = torch.full((b, length), self.pad_token_id, dtype=torch.long)
        labels = torch.full((b, length), -100, dtype=torch.long)
        pos = torch.zeros((b, length), dtype=torch.long)
        seg = torch.full((b, length), -1, dtype=torch.long)
        for i, f in enumerate(features):
            n = len(f["input_ids"])
            row = torch.tensor(f["input_ids"], dtype=torch.long)
            ids[i, :n] = row
            labels[i, :n] = torch.where(torch.tensor(f["completion_mask"], dtype=torch.bool), row, -100)
            pos[i, :n] = torch.tensor(position_ids(f["segments"]))
            seg[i, :n] = torch.tensor(segment_ids(f["segments"]))
        causal = torch.ones((length, length), dtype=torch.bool).tril()
        same = seg[:, :, None] == seg[:, None, :]
        to_prefix = (seg[:, None, :] == 0) & (seg[:, :, None] >= 0)
        allowed = (same | to_prefix) & causal
        if self.additive_mask:
            mask: Any = torch.zeros(allowed.shape, dtype=torch.float32).masked_fill(
                ~allowed, torch.finfo(torch.float32).min)[:, None]
        else:
            mask = allowed[:, None]
        return {"input_ids": ids, "attention_mask": mask, "position_ids": pos, "labels": labels,
                "token_count": torch.tensor(int((seg >= 0).sum()))}
