"""The transformers backend: batched, left-padded generation with SQL stop strings; the prompt prefix
rows share (their schema) is computed once per batch.

torch/transformers/peft are imported inside functions only.
"""

from __future__ import annotations

import inspect
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from kosql.compat import quiet_foreign_deprecations
from kosql.errors import DependencyError, UserError
from kosql.hub import hub_offline
from kosql.models.base import Generation, GenerationParams
from kosql.models.cpu import cpu_supports_bf16, default_threads
from kosql.models.prefix import prefix_runs
from kosql.models.resolve import (
    adapter_shape_problem,
    offline_error,
    read_adapter_config,
    resolve_model,
    same_base,
)
from kosql.sql.extract import stop_index

DTYPES = ("auto", "float32", "bfloat16", "float16")

def _output_cache(out: Any) -> Any:
    """The KV cache a forward pass returned (``cache`` in transformers 5.x, ``past_key_values`` before)."""
    return getattr(out, "cache", None) or out.past_key_values


def _make_stopping_criteria(tokenizer: Any, stops: Sequence[str], prompt_len: int, rows: int) -> Any:
    """A transformers StoppingCriteria that finishes each row once its text hits a stop string."""
    import torch
    from transformers import StoppingCriteria

    class StopOnText(StoppingCriteria):
        def __init__(self) -> None:
            self.done_at: list[int | None] = [None] * rows

        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            new = input_ids[:, prompt_len:]
            flags = []
            for row in range(new.shape[0]):
                if self.done_at[row] is None:
                    text = tokenizer.decode(new[row], skip_special_tokens=True)
                    if stop_index(text, tuple(stops)) is not None:
                        self.done_at[row] = int(new.shape[1])
                flags.append(self.done_at[row] is not None)
            return torch.tensor(flags, dtype=torch.bool, device=input_ids.device)

    return StopOnText()


class HFBackend:
    """Generate with a transformers causal LM (optionally with a LoRA adapter on top)."""

    def __init__(
        self,
        model: str,
        *,
        adapter: str | None = None,
        device: str = "auto",
        dtype: str = "auto",
        load_in_4bit: bool = False,
        cpu_bf16: bool | None = None,
        num_threads: int | None = None,
        merge_adapter: bool = True,
        prefix_cache: bool = True,
        drop_finished: bool = True,
    ) -> None:
        import torch

        if dtype not in DTYPES:
            raise UserError(f"Unknown dtype '{dtype}': choose one of {', '.join(DTYPES)}.")
        self.model_name = model
        self.prefix_cache = prefix_cache
        self.drop_finished = drop_finished  # greedy: finished rows leave the batch (HFBackend._greedy)
        self.name = model if adapter is None else f"{model}+{os.path.basename(os.path.normpath(adapter))}"
        torch.set_num_threads(num_threads or default_threads())
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        if load_in_4bit and not device.startswith("cuda"):
            raise UserError("4-bit loading (load_in_4bit) needs a CUDA GPU; this run is on the CPU.")
        adapter_cfg = read_adapter_config(adapter) if adapter is not None else None
        self.path = resolve_model(model)
        self.tokenizer = self._load_tokenizer()
        self.model = self._load_model(dtype, load_in_4bit)
        if adapter is not None and adapter_cfg is not None:
            self._apply_adapter(adapter, adapter_cfg, merge=merge_adapter and not load_in_4bit)
        self.model.eval()
        # bf16 autocast on CPU saved only ~3 % CPU time for generation on the 2-core AVX512-BF16
        # EPYC dev machine and changes greedy outputs, so it is opt-in (cpu_bf16=True); bf16
        # weights (dtype='bfloat16') save ~35 % but also change outputs.
        self.autocast_bf16 = bool(cpu_bf16) and device == "cpu" and cpu_supports_bf16()
        self.eos_ids = self._eos_ids()
        self._stop_tokens: dict[tuple[int, tuple[str, ...]], bool] = {}

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_loaded(cls, model: Any, tokenizer: Any, *, name: str = "in-memory", prefix_cache: bool = True) -> HFBackend:
        """A backend over a model already in memory (the one being trained), so training's dev EX and
        DPO's sampling decode exactly as ``kosql generate`` does (stop strings, prefix cache)."""
        self = cls.__new__(cls)
        self.model_name = self.name = self.path = name
        self.prefix_cache = prefix_cache
        self.drop_finished = True
        self.device = str(next(model.parameters()).device)
        self.tokenizer = tokenizer
        self.model = model
        self.autocast_bf16 = False
        self.eos_ids = self._eos_ids()
        self._stop_tokens = {}
        return self


    def _from_pretrained(self, loader: Any, **kwargs: Any) -> Any:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # the CLI shows a rich status line instead
        try:
            return loader.from_pretrained(self.path, **kwargs)
        except OSError as exc:
            if os.path.isdir(self.path):
                raise UserError(f"Model folder {self.path} cannot be loaded ({exc}).") from None
            if hub_offline() or "connect" in str(exc).lower() or "offline" in str(exc).lower():
                raise offline_error(self.model_name) from None
            raise UserError(f"Model '{self.model_name}' cannot be loaded from the hub ({exc}).") from None

    def _load_tokenizer(self) -> Any:
        from transformers import AutoTokenizer

        tok = self._from_pretrained(AutoTokenizer)
        tok.padding_side = "left"
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        return tok

    def _load_model(self, dtype: str, load_in_4bit: bool) -> Any:
        import torch
        from transformers import AutoModelForCausalLM

        if self.device.startswith("cuda"):
            auto = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        else:
            auto = torch.float32
        torch_dtype = auto if dtype == "auto" else getattr(torch, dtype)
        kwargs: dict[str, Any] = {"dtype": torch_dtype}
        if load_in_4bit:
            import importlib.util

            if importlib.util.find_spec("bitsandbytes") is None:
                raise DependencyError("bitsandbytes", "gpu", "4-bit loading")
            from transformers import BitsAndBytesConfig

            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True, bnb_4bit_compute_dtype=torch_dtype, bnb_4bit_quant_type="nf4"
            )
            kwargs["device_map"] = {"": 0}
        model = self._from_pretrained(AutoModelForCausalLM, **kwargs)
        if not load_in_4bit:
            model.to(self.device)
        return model

    def _apply_adapter(self, adapter: str, cfg: dict[str, Any], *, merge: bool) -> None:
        base = str(cfg.get("base_model_name_or_path") or "")
        problem = adapter_shape_problem(adapter, self.model)
        if problem is not None:
            raise UserError(
                f"Adapter {adapter} was trained on base model '{base}', which does not fit the model "
                f"'{self.model_name}' ({problem})."
            )
        if not same_base(base, self.model_name, self.path):
            print(f"Warning: adapter {adapter} names base model '{base}', not '{self.model_name}'; "
                  "its shapes fit, so it is applied.", file=sys.stderr)
        from peft import PeftModel

        try:
            with quiet_foreign_deprecations():
                model = PeftModel.from_pretrained(self.model, adapter)
        except (RuntimeError, ValueError, KeyError) as exc:
            raise UserError(
                f"Adapter {adapter} (base model '{base}') cannot be applied to '{self.model_name}': "
                f"{str(exc).splitlines()[0]}"
            ) from None
        self.model = model.merge_and_unload() if merge else model

    def _eos_ids(self) -> list[int]:
        ids: list[int] = []
        for value in (self.tokenizer.eos_token_id, getattr(self.model.generation_config, "eos_token_id", None)):
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, int) and v not in ids:
                    ids.append(v)
        return ids

    # ------------------------------------------------------------------ generation

    def encode(self, prompts: Sequence[str]) -> list[list[int]]:
        """Token ids of each prompt (a BOS is added only when the prompt lacks it)."""
        bos = self.tokenizer.bos_token
        out = []
        for p in prompts:
            add = not (bos and p.startswith(bos))
            out.append(self.tokenizer(p, add_special_tokens=add)["input_ids"])
        return out

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        import torch

        n = max(1, params.num_return_sequences)
        encoded = self.encode(prompts)
        # Prompts sorted by their tokens: rows sharing a schema (DDL) land in one batch, whose
        # common prefix is then computed once (prefix cache); else longest first.
        if self.prefix_cache and n == 1:
            order = sorted(range(len(prompts)), key=lambda i: encoded[i])
        else:
            order = sorted(range(len(prompts)), key=lambda i: len(encoded[i]), reverse=True)
        results: list[list[Generation]] = [[] for _ in prompts]
        if not params.greedy:
            torch.manual_seed(params.seed)
        size = max(1, params.batch_size)
        for start in range(0, len(order), size):
            idx = order[start:start + size]
            gens = self._generate_batch([encoded[i] for i in idx], params, n)
            for k, i in enumerate(idx):
                results[i] = gens[k * n:(k + 1) * n]
        return [g for group in results for g in group]

    def _autocast(self) -> Any:
        import contextlib

        import torch

        return torch.autocast("cpu", dtype=torch.bfloat16) if self.autocast_bf16 else contextlib.nullcontext()

    def _prefix_cached_inputs(self, batch: list[list[int]], runs: list[tuple[int, int, int]]) -> dict[str, Any]:
        """Inputs whose rows' shared prefixes (one per run of :func:`prefix_runs`) are already in a KV cache.

        Each distinct prefix is computed once (left-padded to the longest) and its cache rows are
        repeated for the rows of its run. Layout per row: left padding, the run's prefix, padding,
        the row's own suffix; the attention mask hides the padding and position ids follow the mask,
        so each row sees its exact prompt.
        """
        import torch

        pad = int(self.tokenizer.pad_token_id)
        width = max(shared for _s, _e, shared in runs)
        heads = [batch[s][:shared] for s, _e, shared in runs]
        suffixes = [batch[i][shared:] for s, e, shared in runs for i in range(s, e)]
        rest = max(len(x) for x in suffixes)
        device = self.model.device
        head_ids = torch.tensor([[pad] * (width - len(h)) + h for h in heads], device=device)
        head_mask = torch.tensor([[0] * (width - len(h)) + [1] * len(h) for h in heads], device=device)
        positions = (head_mask.cumsum(-1) - 1).masked_fill(head_mask == 0, 0)
        cache = self._cache_of(1, input_ids=head_ids, attention_mask=head_mask, position_ids=positions)
        cache.batch_select_indices(torch.tensor([k for k, (s, e, _) in enumerate(runs) for _ in range(s, e)],
                                                device=device))  # each prefix's rows, once per row of its run
        ids, mask = [], []
        row = 0
        for k, (s, e, _shared) in enumerate(runs):
            for _ in range(s, e):
                suf, head = suffixes[row], heads[k]
                ids.append([pad] * (width - len(head)) + head + [pad] * (rest - len(suf)) + suf)
                mask.append([0] * (width - len(head)) + [1] * len(head) + [0] * (rest - len(suf)) + [1] * len(suf))
                row += 1
        return {"input_ids": torch.tensor(ids, device=device),
                "attention_mask": torch.tensor(mask, device=device), "cache": cache}

    def _prefilled_inputs(self, batch: list[list[int]], expand: int) -> dict[str, Any]:
        """Padded inputs whose prompts, but for their last token, are already in a KV cache that is
        repeated ``expand`` times per row: the prompt is computed once, not once per beam or sample
        (``generate`` expands the ids and mask itself; a cache object it leaves as it is)."""

        enc = self.tokenizer.pad({"input_ids": batch}, padding=True, return_tensors="pt")
        ids, mask = enc["input_ids"].to(self.model.device), enc["attention_mask"].to(self.model.device)
        positions = (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 0)  # as generate() computes them
        cache = self._cache_of(expand, input_ids=ids[:, :-1], attention_mask=mask[:, :-1],
                               position_ids=positions[:, :-1])
        return {"input_ids": ids, "attention_mask": mask, "cache": cache}

    def _cache_of(self, repeat: int, **inputs: Any) -> Any:
        """The KV cache of one forward pass over ``inputs``, each of its rows repeated ``repeat`` times."""
        import torch

        with torch.inference_mode(), self._autocast():
            out = self.model(**inputs, use_cache=True)
            cache = _output_cache(out)
        cache.batch_repeat_interleave(repeat)
        return cache

    def _greedy(self, enc: dict[str, Any], params: GenerationParams) -> tuple[list[list[int]], list[int | None]]:
        """Greedy decoding that drops a row from the batch once it has ended (EOS or a stop string).

        ``generate`` keeps computing finished rows until the batch's longest answer ends; here each
        step runs only the rows still going (their KV cache rows selected), so a batch costs about
        its rows' total length, not rows x the longest. Each row's tokens are the argmax of its own
        logits given its own (unpadded) context, as in ``generate``; a stop string is looked for only
        after a token whose text holds a stop string's last character. Returns each row's new tokens
        and the count at which a stop string ended it (None when it did not).
        """
        import torch

        ids, mask = enc["input_ids"], enc["attention_mask"].long()
        cache = enc.get("cache")
        past = int(cache.get_seq_length()) if cache is not None else 0
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        step_ids, step_pos = ids[:, past:], positions[:, past:]
        rows = int(ids.shape[0])
        out: list[list[int]] = [[] for _ in range(rows)]
        done: list[int | None] = [None] * rows
        active = list(range(rows))
        stops = tuple(params.stop)
        eos = set(self.eos_ids)
        # transformers 5.x names the KV cache argument `cache` (`past_key_values` is deprecated)
        cache_kw = "cache" if "cache" in inspect.signature(self.model.forward).parameters else "past_key_values"
        with torch.inference_mode(), self._autocast():
            for _ in range(params.max_new_tokens):
                res = self.model(input_ids=step_ids, attention_mask=mask, position_ids=step_pos,
                                 use_cache=True, logits_to_keep=1, **{cache_kw: cache})
                cache = _output_cache(res)
                nxt = res.logits[:, -1].float().argmax(-1)
                keep: list[int] = []
                for k, tok in enumerate(nxt.tolist()):
                    row = active[k]
                    out[row].append(tok)
                    if tok in eos:
                        continue
                    if stops and self._may_end_stop(tok, stops) and stop_index(
                            self.tokenizer.decode(out[row], skip_special_tokens=True), stops) is not None:
                        done[row] = len(out[row])
                        continue
                    keep.append(k)
                if not keep:
                    break
                last = step_pos[:, -1:]
                if len(keep) < len(active):
                    index = torch.tensor(keep, device=mask.device)
                    cache.batch_select_indices(index)
                    mask, nxt, last = mask[index], nxt[index], last[index]
                    active = [active[k] for k in keep]
                mask = torch.cat([mask, mask.new_ones((len(active), 1))], dim=1)
                step_ids, step_pos = nxt[:, None], last + 1
        return out, done

    def _plain_logits(self) -> bool:
        """True when the model's generation config asks for no logits processing (repetition penalty,
        banned or forced tokens, a minimum length), so greedy decoding is the plain argmax that
        :meth:`_greedy` computes; else ``generate`` runs, which applies them."""
        gc = getattr(self.model, "generation_config", None)
        if gc is None:
            return True
        neutral = {"repetition_penalty": (None, 1.0), "no_repeat_ngram_size": (None, 0), "min_length": (None, 0),
                   "min_new_tokens": (None, 0), "encoder_repetition_penalty": (None, 1.0)}
        if any(getattr(gc, key, None) not in ok for key, ok in neutral.items()):
            return False
        absent = ("bad_words_ids", "suppress_tokens", "begin_suppress_tokens", "forced_bos_token_id",
                  "forced_eos_token_id", "sequence_bias", "force_words_ids", "constraints")
        return all(not getattr(gc, key, None) for key in absent)

    def _may_end_stop(self, token: int, stops: tuple[str, ...]) -> bool:
        """Whether ``token``'s text holds the last character of a stop string (cached per token)."""
        key = (token, stops)
        hit = self._stop_tokens.get(key)
        if hit is None:
            text = self.tokenizer.decode([token], skip_special_tokens=False)
            hit = any(stop[-1] in text for stop in stops if stop)
            self._stop_tokens[key] = hit
        return hit

    def _generate(self, enc: dict[str, Any], params: GenerationParams, n: int,
                  beams: int) -> tuple[list[list[int]], list[int | None]]:
        """transformers' ``generate`` (sampling, beams, several sequences, logits processors): each
        row's new tokens and the count at which a stop string ended it (None when it did not, and for
        beams, whose text is cut at a stop string afterwards)."""
        import torch
        from transformers import StoppingCriteriaList

        prompt_len = int(enc["input_ids"].shape[1])
        criteria = _make_stopping_criteria(self.tokenizer, params.stop, prompt_len, int(enc["input_ids"].shape[0]) * n)
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_new_tokens,
            "num_return_sequences": n,
            "pad_token_id": self.tokenizer.pad_token_id,
            "eos_token_id": self.eos_ids or None,
            # beam search reorders its rows, so the per-row stop tracking does not apply to it:
            # beams end at EOS (or the length limit) and the text is cut at a stop string below
            "stopping_criteria": StoppingCriteriaList([criteria]) if params.stop and beams == 1 else None,
        }
        if beams > 1:
            if n > beams:
                raise ValueError(f"num_return_sequences ({n}) cannot exceed num_beams ({beams})")
            kwargs.update(do_sample=False, num_beams=beams, early_stopping=True, temperature=None,
                          top_p=None, top_k=None)
        elif params.greedy:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=None)
        with torch.inference_mode(), self._autocast():
            out = self.model.generate(**enc, **kwargs)
        new = out[:, prompt_len:].tolist()
        return new, criteria.done_at if beams == 1 else [None] * len(new)

    def _generate_batch(self, batch: list[list[int]], params: GenerationParams, n: int) -> list[Generation]:
        t0 = time.perf_counter()
        beams = max(1, params.num_beams) if params.greedy else 1
        expand = beams if beams > 1 else n  # rows generate() makes of each prompt
        runs = prefix_runs(batch) if self.prefix_cache and expand == 1 else None
        if runs:
            enc = self._prefix_cached_inputs(batch, runs)
        elif self.prefix_cache and expand > 1 and min(len(row) for row in batch) > 1:
            enc = self._prefilled_inputs(batch, expand)
        else:
            enc = self.tokenizer.pad({"input_ids": batch}, padding=True, return_tensors="pt")
            enc = {k: v.to(self.model.device) for k, v in enc.items()}
        if self.drop_finished and beams == 1 and n == 1 and params.greedy and self._plain_logits():
            new, stopped_at = self._greedy(enc, params)
        else:
            new, stopped_at = self._generate(enc, params, n, beams)
        seconds = time.perf_counter() - t0
        gens: list[Generation] = []
        for row, tokens in enumerate(new):
            count = len(tokens)
            for j, tok in enumerate(tokens):
                if tok in self.eos_ids:
                    count = j + 1
                    break
            done_at = stopped_at[row]
            if done_at is not None:
                count = min(count, done_at)
            text = self.tokenizer.decode(tokens[:count], skip_special_tokens=True)
            cut = stop_index(text, tuple(params.stop)) if params.stop else None
            gens.append(Generation(
                text=text if cut is None else text[:cut],
                prompt_tokens=len(batch[row // n]),
                completion_tokens=count,
                seconds=seconds / len(new),
            ))
        return gens
