"""Generate with llama.cpp (``llama-cpp-python``) straight from an embedded model's 4-bit GGUF file.

On a CPU this is the fast engine: the quantized weights are read as they ship (no dequantized float
copy), and llama.cpp keeps the previous prompt's KV cache, so prompts that share a schema reuse its
prefix when they come one after another (``prefix_cache = True`` makes the runner order them so).
A LoRA adapter trained by ``kosql train`` is exported once to GGUF (:mod:`kosql.models.gguf_lora`)
and applied by llama.cpp on the same quantized weights it was trained on. A fully fine-tuned model
has no GGUF form here: it runs with the ``hf`` backend.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kosql.errors import UserError
from kosql.models.base import Generation, GenerationParams
from kosql.models.cpu import default_threads
from kosql.models.embedded import EMBEDDED_MODELS, locate_gguf

INSTALL_HINT = "pip install llama-cpp-python==0.3.36"


class GGUFChatTokenizer:
    """The GGUF's own chat template, rendered like transformers' ``apply_chat_template``."""

    def __init__(self, template: str, eos_token: str, bos_token: str = "") -> None:
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = _raise
        self.chat_template = template
        self.eos_token = eos_token
        self.bos_token = bos_token
        self._template = env.from_string(template)

    def apply_chat_template(self, conversation: Any, **kwargs: Any) -> str:
        return str(self._template.render(messages=conversation, eos_token=self.eos_token, bos_token=self.bos_token,
                                         add_generation_prompt=bool(kwargs.get("add_generation_prompt"))))


def _raise(message: str) -> None:
    raise UserError(f"The model's chat template refused the prompt: {message}")


def gguf_path(model: str) -> Path:
    """The GGUF file of an embedded model name, or ``model`` itself when it is a ``.gguf`` file."""
    if model in EMBEDDED_MODELS:
        return locate_gguf(EMBEDDED_MODELS[model])
    path = Path(model).expanduser()
    if path.suffix == ".gguf" and path.is_file():
        return path
    raise UserError(f"The llamacpp backend runs GGUF models: '{model}' is neither an embedded model "
                    f"({', '.join(EMBEDDED_MODELS)}) nor a .gguf file (use --backend hf for it).")


class LlamaCppBackend:
    """A Backend over ``llama_cpp.Llama`` (one sequence at a time, KV prefix reused between prompts)."""

    prefix_cache = True
    beam_search = False  # schema-check candidates are sampled (kosql.models.runner.candidate_params)

    def __init__(self, model: str, *, adapter: str | None = None, n_ctx: int = 4096,
                 num_threads: int | None = None, **_: Any) -> None:
        import importlib.util

        if importlib.util.find_spec("llama_cpp") is None:
            raise UserError(f"The llamacpp backend needs llama-cpp-python: run `{INSTALL_HINT}` "
                            f"(it compiles llama.cpp, a few minutes).")
        import llama_cpp

        _quiet_llama_logs(llama_cpp)
        path = gguf_path(model)
        lora = _adapter_gguf(adapter, path) if adapter else None
        self.model_name = model
        self.name = model if adapter is None else f"{model}+{os.path.basename(os.path.normpath(adapter))}"
        threads = num_threads or default_threads()
        self.llm = llama_cpp.Llama(model_path=str(path), lora_path=str(lora) if lora else None, n_ctx=n_ctx,
                                   n_threads=threads, n_threads_batch=threads, verbose=False, seed=0)
        meta = self.llm.metadata
        eos = self.llm.detokenize([self.llm.token_eos()]).decode("utf-8", "ignore")
        template = meta.get("tokenizer.chat_template", "")
        self.tokenizer = GGUFChatTokenizer(template, eos) if template else None

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        n = max(1, params.num_return_sequences)
        order = sorted(range(len(prompts)), key=lambda i: prompts[i])  # shared schemas one after another
        results: list[list[Generation]] = [[] for _ in prompts]
        for i in order:
            results[i] = [self._one(prompts[i], params, params.seed + k) for k in range(n)]
        return [g for group in results for g in group]

    def _one(self, prompt: str, params: GenerationParams, seed: int) -> Generation:
        start = time.perf_counter()
        out: Any = self.llm.create_completion(
            prompt, max_tokens=params.max_new_tokens, temperature=max(0.0, params.temperature),
            top_p=params.top_p, stop=list(params.stop), seed=seed,
        )
        usage = out.get("usage", {})
        return Generation(text=out["choices"][0]["text"], prompt_tokens=int(usage.get("prompt_tokens", 0)),
                          completion_tokens=int(usage.get("completion_tokens", 0)),
                          seconds=time.perf_counter() - start)


_LOG_CALLBACK: Any = None


def _quiet_llama_logs(llama_cpp: Any) -> None:
    """Route llama.cpp's own log lines (loading notes, one per adapted tensor) to nowhere."""
    global _LOG_CALLBACK
    if _LOG_CALLBACK is None:
        import ctypes

        _LOG_CALLBACK = llama_cpp.llama_log_callback(lambda level, text, user_data: None)
        llama_cpp.llama_log_set(_LOG_CALLBACK, ctypes.c_void_p())


def _adapter_gguf(adapter: str, model_path: Path) -> Path:
    """The GGUF LoRA for a kosql adapter folder (exported once), or a ``.gguf`` adapter file as given."""
    path = Path(adapter).expanduser()
    if path.suffix == ".gguf" and path.is_file():
        return path
    if not path.is_dir():
        raise UserError(f"Adapter folder {path} does not exist.")
    if not (path / "adapter_config.json").exists():
        raise UserError(f"{path} is a fully fine-tuned model, not a LoRA adapter: run it with --backend hf "
                        f"(--model {path}).")
    from kosql.models.gguf_lora import export_lora_gguf

    return export_lora_gguf(path, _architecture(model_path), model_path=model_path)


def _architecture(model_path: Path) -> str:
    import gguf

    reader = gguf.GGUFReader(str(model_path))
    field = reader.fields["general.architecture"]
    return bytes(field.parts[field.data[0]]).decode("utf-8")
