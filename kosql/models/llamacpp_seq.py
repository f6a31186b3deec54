"""The bookkeeping of llama.cpp's batched decoding, without llama.cpp: one sequence's text and stop
rule, the context each sequence needs, and which cache slot a prompt's prefix is found in. Pure.

:class:`SequenceText` ends a sequence exactly where ``llama_cpp.Llama.create_completion`` ends it
(end-of-generation token, the first stop string found, ``max_tokens``; no stop is looked for while
the text ends inside a multi-byte UTF-8 character), so batched and one-at-a-time decoding return the
same text and token counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

KV_CELLS_BUDGET = 32768  # KV cache cells (tokens) over all sequences: ~0.4 GB for the 0.5B model, ~0.9 GB for the 1.5B
CONTEXT_STEP = 256  # a sequence's context grows in steps of this many tokens
MARGIN = 8  # tokens beyond max_new_tokens: a stop is not looked for inside a multi-byte character


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the longest common prefix of two token lists."""
    k, limit = 0, min(len(a), len(b))
    while k < limit and a[k] == b[k]:
        k += 1
    return k


@dataclass
class SequenceText:
    """One sequence's completion: tokens, bytes, and whether (and why) it has ended."""

    stops: tuple[bytes, ...]
    max_tokens: int
    tokens: list[int] = field(default_factory=list)
    text: bytes = b""
    result: bytes | None = None  # the final text once ended
    finish: str = ""  # "stop" (end token or stop string) or "length"
    _multibyte: int = 0

    @classmethod
    def of(cls, stops: Sequence[str], max_tokens: int) -> SequenceText:
        return cls(tuple(s.encode("utf-8") for s in stops if s), max_tokens)

    @property
    def done(self) -> bool:
        return self.result is not None

    def push(self, token: int, piece: bytes, end_of_generation: bool) -> bool:
        """Add a sampled token (its detokenized ``piece``); True when the sequence has ended."""
        if end_of_generation:
            return self._end(self.text, "stop")
        self.tokens.append(token)
        self.text += piece
        tail = self.text[-3:]
        for k, char in enumerate(tail):  # as create_completion: wait for a character's last byte
            k = 3 - k
            for num, pattern in ((2, 192), (3, 224), (4, 240)):
                if num > k and pattern & char == pattern:
                    self._multibyte = num - k
        if self._multibyte > 0:
            self._multibyte -= 1
            return False
        found = [s for s in self.stops if s in self.text]
        if found:
            return self._end(self.text[: self.text.index(found[0])], "stop")
        if len(self.tokens) >= self.max_tokens:
            return self._end(self.text, "length")
        return False

    def cut(self) -> bool:
        """End the sequence where it is (its context is full)."""
        return self._end(self.text, "length")

    def _end(self, text: bytes, finish: str) -> bool:
        self.result, self.finish = text, finish
        return True

    def decoded(self) -> str:
        return (self.result if self.result is not None else self.text).decode("utf-8", errors="ignore")


@dataclass(frozen=True)
class ContextPlan:
    """How a context is laid out: sequences decoded together, and tokens of context each."""

    slots: int
    per_sequence: int


def token_budget(prompt_len: int, max_new_tokens: int, n_ctx_train: int) -> int:
    """New tokens a prompt may get: ``max_new_tokens`` within the model's trained context (< 1: the
    prompt does not fit)."""
    return min(max_new_tokens, n_ctx_train - prompt_len - MARGIN)


def plan_context(need: int, parallel: int, n_ctx_train: int, current: ContextPlan | None) -> ContextPlan:
    """The context for sequences of at most ``need`` tokens (prompt + new tokens + margin): the
    current one when it is large enough, else one whose per-sequence context is ``need`` rounded up,
    within the trained context, with as many sequences (up to ``parallel``) as the KV budget holds."""
    if current is not None and current.per_sequence >= need:
        return current
    per = min(n_ctx_train, -(-max(need, CONTEXT_STEP) // CONTEXT_STEP) * CONTEXT_STEP)
    if current is not None:
        per = max(per, current.per_sequence)
    return ContextPlan(slots=max(1, min(parallel, KV_CELLS_BUDGET // per)), per_sequence=per)


def best_slot(prompt: Sequence[int], cached: Sequence[Sequence[int]], candidates: Sequence[int]) -> tuple[int, int]:
    """(slot, shared tokens) of the candidate slot whose cached tokens share the longest prefix with
    ``prompt`` (the first such slot on ties; shared is 0 when none shares anything)."""
    best, shared = candidates[0], -1
    for slot in candidates:
        k = common_prefix(prompt, cached[slot])
        if k > shared:
            best, shared = slot, k
    return best, max(shared, 0)


def cheapest_split(n: int, costs: dict[int, float]) -> list[int]:
    """Split ``n`` tokens into decode calls of the measured sizes (``costs``: seconds per call of that
    many tokens) so that the calls take the least time in all; sizes largest first."""
    if not costs:
        return [n]
    best: list[tuple[float, int]] = [(0.0, 0)]  # (time for a tokens, size of the last call)
    for a in range(1, n + 1):
        best.append(min((best[a - k][0] + c, k) for k, c in costs.items() if k <= a))
    sizes, a = [], n
    while a:
        sizes.append(best[a][1])
        a -= best[a][1]
    return sorted(sizes, reverse=True)
