"""The vLLM backend (CUDA, ``kosql[gpu]``): imported only when chosen."""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Sequence
from typing import Any

from kosql.errors import DependencyError, UserError
from kosql.models.base import Generation, GenerationParams
from kosql.models.resolve import read_adapter_config, resolve_model
from kosql.sql.extract import stop_index


class VLLMBackend:
    """Generate with vLLM's offline ``LLM`` engine, optionally with a LoRA adapter.

    ``beam_search = False``: ``num_beams`` is not used, so schema-check candidates are sampled."""

    beam_search = False

    def __init__(
        self,
        model: str,
        *,
        adapter: str | None = None,
        dtype: str = "auto",
        gpu_memory_utilization: float = 0.85,
        max_model_len: int = 2048,
        max_lora_rank: int = 64,
    ) -> None:
        if importlib.util.find_spec("vllm") is None:
            raise DependencyError("vllm", "gpu", "The vllm backend")
        from vllm import LLM

        self.name = model if adapter is None else f"{model}+{os.path.basename(os.path.normpath(adapter))}"
        self.path = resolve_model(model)
        self.adapter = adapter
        self._lora: Any = None
        if adapter is not None:
            cfg = read_adapter_config(adapter)
            rank = int(cfg.get("r", 8))
            max_lora_rank = max(max_lora_rank, rank)
            from vllm.lora.request import LoRARequest

            self._lora = LoRARequest("adapter", 1, os.path.abspath(adapter))
        try:
            self.llm = LLM(
                model=self.path, dtype=dtype, gpu_memory_utilization=gpu_memory_utilization,
                max_model_len=max_model_len, enable_lora=adapter is not None, max_lora_rank=max_lora_rank,
            )
        except (OSError, ValueError) as exc:
            raise UserError(f"vLLM cannot load model '{model}': {str(exc).splitlines()[0]}") from None
        self.tokenizer = self.llm.get_tokenizer()

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        from vllm import SamplingParams

        # ';' must not stop inside a string literal, so only the other stops go to vLLM; the
        # statement end is cut afterwards (vLLM batches continuously, the overrun is small).
        sp = SamplingParams(
            n=max(1, params.num_return_sequences),
            temperature=max(params.temperature, 0.0),
            top_p=params.top_p if not params.greedy else 1.0,
            max_tokens=params.max_new_tokens,
            stop=[s for s in params.stop if s != ";"] or None,
            seed=params.seed if not params.greedy else None,
        )
        t0 = time.perf_counter()
        outputs = self.llm.generate(list(prompts), sp, lora_request=self._lora, use_tqdm=False)
        seconds = (time.perf_counter() - t0) / max(1, len(prompts) * sp.n)
        gens: list[Generation] = []
        for out in outputs:
            for comp in out.outputs:
                text = comp.text
                cut = stop_index(text, tuple(params.stop)) if params.stop else None
                gens.append(Generation(
                    text=text if cut is None else text[:cut],
                    prompt_tokens=len(out.prompt_token_ids or []),
                    completion_tokens=len(comp.token_ids),
                    seconds=seconds,
                ))
        return gens
