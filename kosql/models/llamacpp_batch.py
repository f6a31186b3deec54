"""Batched decoding on llama.cpp's low-level API: several sequences in one ``llama_decode`` call.

Each sequence decodes in its own slot of one llama.cpp context (a sequence id with its own KV
cache stream), one token per sequence per call, so the model's weights are read once for all of
them. A prompt is computed once: its k samples start from copies of its KV cache, and a prompt
whose beginning (its schema) is already cached in a slot, from this call or an earlier one,
computes only the rest. The context is sized to the longest prompt plus ``max_new_tokens`` (within
the model's trained context) and grown when a longer one comes; a prompt that does not fit the
trained context fails alone, with the reason.

Greedy decoding takes the highest logit (as llama.cpp's greedy sampler); sampling uses the sampler
chain of ``llama_cpp.Llama.create_completion`` (top-k 40, top-p, min-p 0.05, temperature, seed +
sample index), and :class:`~kosql.models.llamacpp_seq.SequenceText` applies its stop rules, so the
text equals one-at-a-time generation's. With ``draft="prompt-lookup"``, a greedy sequence decoding
alone is given the tokens that followed the last matching n-gram of its prompt (prompt-lookup
speculative decoding); the ones that agree with greedy decoding are kept.
"""

from __future__ import annotations

import ctypes
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kosql.models.base import GenerationParams
from kosql.models.llamacpp_seq import (
    MARGIN,
    ContextPlan,
    SequenceText,
    best_slot,
    cheapest_split,
    plan_context,
    token_budget,
)

N_BATCH = 512  # prompt tokens per llama_decode call (as llama_cpp.Llama's default)
COPY_MIN = 32  # copy a busy slot's cache only when it shares this many more prompt tokens
DRAFT_NGRAM, DRAFT_TOKENS = 2, 10  # prompt lookup: n-gram matched, tokens proposed
PROBE_SIZES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64)  # decode batch sizes timed once per context


class DecodeError(RuntimeError):
    """llama.cpp refused a batch (its return code is in the message)."""


@dataclass
class Outcome:
    """One finished sequence."""

    text: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    error: str | None = None


@dataclass
class DecodeStats:
    """What the engine did: decode calls, tokens computed, prompt tokens reused from the cache, draft
    tokens proposed and kept."""

    calls: int = 0
    prompt_computed: int = 0
    prompt_reused: int = 0
    drafted: int = 0
    accepted: int = 0
    probe: dict[int, float] = field(default_factory=dict)  # ms per decode call of n tokens, as measured


@dataclass
class _Seq:
    slot: int
    out: tuple[int, int]  # (prompt index, sample index)
    prompt: list[int]
    text: SequenceText
    sampler: Any | None  # llama.cpp sampler chain, None: greedy
    pending: int = -1  # sampled token whose KV is not cached yet


@dataclass
class _Unit:
    prompt: int
    first: int  # first sample index
    count: int


@dataclass
class BatchEngine:
    """Decodes many sequences together on ``llm``'s model (and its LoRA adapter)."""

    llm: Any  # llama_cpp.Llama: the model, tokenizer and adapter
    threads: int
    parallel: int = 16
    max_context: int | None = None
    draft: str = "none"
    stats: DecodeStats = field(default_factory=DecodeStats)

    def __post_init__(self) -> None:
        import llama_cpp

        self._lc = llama_cpp
        self._model = self.llm._model.model
        self._vocab = llama_cpp.llama_model_get_vocab(self._model)
        self._n_vocab = int(llama_cpp.llama_vocab_n_tokens(self._vocab))
        trained = int(llama_cpp.llama_model_n_ctx_train(self._model))
        self.n_ctx_train = min(trained, self.max_context) if self.max_context else trained
        self._plan: ContextPlan | None = None
        self._ctx: Any = None
        self._batch: Any = None
        self._cached: list[list[int]] = []  # per slot: the tokens whose KV is in its cache
        self._pieces: dict[int, bytes] = {}
        self._costs: dict[int, float] | None = None

    # -- context -------------------------------------------------------------------------------

    def _ensure(self, plan: ContextPlan) -> None:
        if self._ctx is not None and plan == self._plan:
            return
        self.close()
        lc = self._lc
        params = lc.llama_context_params.from_buffer_copy(self.llm.context_params)
        params.n_ctx = plan.slots * plan.per_sequence
        params.n_batch = params.n_ubatch = N_BATCH
        params.n_seq_max = plan.slots
        params.kv_unified = False  # one stream per sequence: attention reads only its own tokens
        params.n_threads = params.n_threads_batch = self.threads
        ctx = lc.llama_init_from_model(self._model, params)
        if ctx is None:
            raise DecodeError(f"llama.cpp could not create a context of {plan.slots} x {plan.per_sequence} tokens")
        adapter = getattr(self.llm, "_lora_adapter", None)
        if adapter is not None:
            adapters = (lc.llama_adapter_lora_p_ctypes * 1)(adapter)
            scales = (ctypes.c_float * 1)(float(getattr(self.llm, "lora_scale", 1.0)))
            if lc.llama_set_adapters_lora(ctx, adapters, 1, scales):
                lc.llama_free(ctx)
                raise DecodeError("llama.cpp could not apply the LoRA adapter to the batch context")
        self._ctx, self._plan = ctx, plan
        self._mem = lc.llama_get_memory(ctx)
        self._batch = lc.llama_batch_init(max(N_BATCH, plan.slots * (DRAFT_TOKENS + 1)), 0, 1)
        self._cached = [[] for _ in range(plan.slots)]
        self._costs = None

    def close(self) -> None:
        """Free the context (the next call creates one)."""
        if self._batch is not None:
            self._lc.llama_batch_free(self._batch)
            self._batch = None
        if self._ctx is not None:
            self._lc.llama_free(self._ctx)
            self._ctx, self._plan = None, None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    # -- the loop ------------------------------------------------------------------------------

    def run(self, prompts: Sequence[list[int]], n: int, params: GenerationParams) -> list[list[Outcome]]:
        """``n`` sequences for each tokenized prompt: ``out[i][j]`` is prompt i's sample j."""
        out = [[Outcome(prompt_tokens=len(p)) for _ in range(n)] for p in prompts]
        budgets = [token_budget(len(p), params.max_new_tokens, self.n_ctx_train) for p in prompts]
        ok = []
        for i, (p, budget) in enumerate(zip(prompts, budgets, strict=True)):
            reason = _refusal(len(p), budget, self.n_ctx_train)
            if reason:
                out[i] = [Outcome(prompt_tokens=len(p), error=reason) for _ in range(n)]
            else:
                ok.append(i)
        if not ok:
            return out
        need = max(len(prompts[i]) + budgets[i] + MARGIN for i in ok)
        self._ensure(plan_context(need, self.parallel, self.n_ctx_train, self._plan))
        assert self._plan is not None
        slots = self._plan.slots
        units = deque(_Unit(i, j, min(slots, n - j)) for i in ok for j in range(0, n, slots))
        active: list[_Seq] = []
        try:
            while units or active:
                while units and slots - len(active) >= units[0].count:
                    unit = units.popleft()
                    self._admit(unit, prompts[unit.prompt], budgets[unit.prompt], params, active, out)
                if active:
                    self._step(active, out)
        except DecodeError:
            self.close()  # the cache's state is unknown: start afresh next time
            raise
        return out

    def _admit(self, unit: _Unit, prompt: list[int], budget: int, params: GenerationParams,
               active: list[_Seq], out: list[list[Outcome]]) -> None:
        """Compute ``prompt`` once (reusing a cached prefix) and start ``unit.count`` sequences on it."""
        lc, mem = self._lc, self._mem
        busy = {s.slot for s in active}
        free = [s for s in range(len(self._cached)) if s not in busy]
        slot, shared = best_slot(prompt, self._cached, free)
        if busy:
            src, src_shared = best_slot(prompt, self._cached, sorted(busy))
            if src_shared > shared + COPY_MIN:
                self._copy(src, slot)
                shared = src_shared
        shared = min(shared, len(prompt) - 1)  # at least one token computed: its logits
        lc.llama_memory_seq_rm(mem, slot, shared, -1)
        self._cached[slot] = list(prompt[:shared])
        last = self._prefill(slot, prompt, shared)
        self.stats.prompt_reused += shared
        self.stats.prompt_computed += len(prompt) - shared
        slots = [slot] + [s for s in free if s != slot][:unit.count - 1]
        for s in slots[1:]:
            self._copy(slot, s)
        for k, s in enumerate(slots):
            seq = _Seq(s, (unit.prompt, unit.first + k), prompt, SequenceText.of(params.stop, budget),
                       self._sampler(params, params.seed + unit.first + k))
            if self._accept(seq, self._sample(seq, last)):
                self._finish(seq, out)
            else:
                active.append(seq)

    def _copy(self, src: int, dst: int) -> None:
        """Make slot ``dst``'s cache a copy of slot ``src``'s (a whole stream: llama.cpp copies
        streams entirely)."""
        self._lc.llama_memory_seq_rm(self._mem, dst, -1, -1)
        self._lc.llama_memory_seq_cp(self._mem, src, dst, -1, -1)
        self._cached[dst] = list(self._cached[src])

    def _prefill(self, slot: int, prompt: list[int], start: int) -> int:
        """Decode ``prompt[start:]`` into ``slot``; returns the batch index of the last token's logits."""
        b = self._batch
        for begin in range(start, len(prompt), N_BATCH):
            chunk = prompt[begin:begin + N_BATCH]
            for j, token in enumerate(chunk):
                self._put(j, token, begin + j, slot, False)
            b.logits[len(chunk) - 1] = True
            self._decode(len(chunk))
            self._cached[slot].extend(chunk)
        return (len(prompt) - start - 1) % N_BATCH

    def _step(self, active: list[_Seq], out: list[list[Outcome]]) -> None:
        """One token for every active sequence, in the groups that decode fastest here (or a
        drafted run for a lone greedy one)."""
        if self.draft == "prompt-lookup" and len(active) == 1 and active[0].sampler is None:
            done = self._step_draft(active[0])
        else:
            done, start = [], 0
            for size in self._groups(len(active)):
                group = active[start:start + size]
                start += size
                for k, seq in enumerate(group):
                    self._put(k, seq.pending, len(self._cached[seq.slot]), seq.slot, True)
                self._decode(len(group))
                for k, seq in enumerate(group):
                    self._cached[seq.slot].append(seq.pending)
                    if self._accept(seq, self._sample(seq, k)):
                        done.append(seq)
        for seq in done:
            active.remove(seq)
            self._finish(seq, out)

    def _groups(self, n: int) -> list[int]:
        """How to split ``n`` sequences' next tokens into decode calls (sizes): the split of least
        measured time. On a CPU a forward pass of a few tokens can cost more per token than one of
        a single token (the kernels change with the batch), so small groups may decode one by one."""
        if n <= 1:
            return [n] if n else []
        if self._costs is None:
            self._costs = self._probe()
        return cheapest_split(n, self._costs)

    def _probe(self) -> dict[int, float]:
        """Seconds of one decode call of n tokens (n sequences, one token each), for a few n up to
        the slots: dummy tokens after each slot's cached ones, removed again (best of two)."""
        import time

        assert self._plan is not None
        room = [s for s in range(self._plan.slots) if len(self._cached[s]) + 1 < self._plan.per_sequence]
        if not room:
            return {}
        sizes = sorted({n for n in PROBE_SIZES if n <= len(room)} | {len(room)})
        costs: dict[int, float] = {}
        for n in sizes * 2:
            for k, slot in enumerate(room[:n]):
                self._put(k, 0, len(self._cached[slot]), slot, True)
            t0 = time.perf_counter()
            self._decode(n)
            costs[n] = min(costs.get(n, float("inf")), time.perf_counter() - t0)
            for slot in room[:n]:
                self._lc.llama_memory_seq_rm(self._mem, slot, len(self._cached[slot]), -1)
        self.stats.calls -= len(sizes) * 2
        self.stats.probe = {n: round(c * 1000, 1) for n, c in costs.items()}
        return costs

    def _step_draft(self, seq: _Seq) -> list[_Seq]:
        import numpy as np
        from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

        cached = self._cached[seq.slot]
        assert self._plan is not None
        room = min(DRAFT_TOKENS, seq.text.max_tokens - len(seq.text.tokens) - 1,
                   self._plan.per_sequence - len(cached) - 2)
        history = np.asarray(seq.prompt + seq.text.tokens, dtype=np.intc)
        draft = [int(t) for t in LlamaPromptLookupDecoding.find_candidate_pred_tokens(
            history, DRAFT_NGRAM, DRAFT_TOKENS)[:max(room, 0)]]
        for j, token in enumerate([seq.pending, *draft]):
            self._put(j, token, len(cached) + j, seq.slot, True)
        self._decode(len(draft) + 1)
        cached.append(seq.pending)
        self.stats.drafted += len(draft)
        j = 0
        while True:
            token = self._sample(seq, j)
            if self._accept(seq, token):
                break
            if j < len(draft) and token == draft[j]:  # its KV is already computed
                cached.append(token)
                self.stats.accepted += 1
                j += 1
                continue
            break
        self._lc.llama_memory_seq_rm(self._mem, seq.slot, len(cached), -1)
        return [seq] if seq.text.done else []

    # -- tokens --------------------------------------------------------------------------------

    def _put(self, i: int, token: int, pos: int, slot: int, logits: bool) -> None:
        b = self._batch
        b.token[i], b.pos[i], b.n_seq_id[i], b.logits[i] = token, pos, 1, logits
        b.seq_id[i][0] = slot

    def _decode(self, n_tokens: int) -> None:
        self._batch.n_tokens = n_tokens
        rc = self._lc.llama_decode(self._ctx, self._batch)
        self.stats.calls += 1
        if rc != 0:
            raise DecodeError(f"llama.cpp could not decode a batch of {n_tokens} tokens (llama_decode returned {rc})")

    def _sampler(self, params: GenerationParams, seed: int) -> Any | None:
        if params.greedy:
            return None
        from llama_cpp._internals import LlamaSampler

        chain = LlamaSampler()  # as Llama._init_sampler for create_completion's defaults
        chain.add_penalties(self._n_vocab, 64, 1.0, 0.0, 0.0)
        chain.add_top_k(40)
        chain.add_typical(1.0, 1)
        chain.add_top_p(params.top_p, 1)
        chain.add_min_p(0.05, 1)
        chain.add_temp(params.temperature)
        chain.add_dist(seed & 0xFFFFFFFF)
        return chain

    def _sample(self, seq: _Seq, index: int) -> int:
        if seq.sampler is not None:
            return int(self._lc.llama_sampler_sample(seq.sampler.sampler, self._ctx, index))
        import numpy as np

        logits = np.ctypeslib.as_array(self._lc.llama_get_logits_ith(self._ctx, index), shape=(self._n_vocab,))
        return int(np.argmax(logits))

    def _accept(self, seq: _Seq, token: int) -> bool:
        """Add ``token`` to ``seq``; True when the sequence has ended."""
        eog = bool(self._lc.llama_vocab_is_eog(self._vocab, token))
        if seq.text.push(token, b"" if eog else self._piece(token), eog):
            return True
        seq.pending = token
        assert self._plan is not None
        if len(self._cached[seq.slot]) + 1 >= self._plan.per_sequence:
            return seq.text.cut()
        return False

    def _piece(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            size = 64
            buf = ctypes.create_string_buffer(size)
            n = self._lc.llama_token_to_piece(self._vocab, token, buf, size, 0, False)
            if n < 0:
                size = -n
                buf = ctypes.create_string_buffer(size)
                n = self._lc.llama_token_to_piece(self._vocab, token, buf, size, 0, False)
            piece = self._pieces[token] = buf.raw[:max(n, 0)]
        return piece

    def _finish(self, seq: _Seq, out: list[list[Outcome]]) -> None:
        i, j = seq.out
        out[i][j] = Outcome(text=seq.text.decoded(), prompt_tokens=len(seq.prompt),
                            completion_tokens=len(seq.text.tokens))


def _refusal(prompt_len: int, budget: int, n_ctx: int) -> str | None:
    """Why a prompt cannot be generated for, or None."""
    if prompt_len == 0:
        return "The prompt is empty."
    if budget < 1:
        return (f"The prompt has {prompt_len} tokens, more than the model's context of {n_ctx} tokens "
                f"holds with room for an answer; shorten the schema (e.g. fewer tables).")
    return None
