"""Generate with llama.cpp (``llama-cpp-python``) straight from an embedded model's 4-bit GGUF file.

On a CPU this is the fast engine: the quantized weights are read as they ship (no dequantized float
copy). A call's prompts and their samples decode together (:mod:`kosql.models.llamacpp_batch`):
up to ``parallel`` sequences per forward pass, each prompt computed once for all its samples, and a
prompt prefix (its schema) already in the cache, from this call or an earlier one, reused
(``prefix_cache = True`` makes the runner put prompts on one schema in one call). The context is
sized to the prompts; a prompt longer than the model's context fails alone, with the reason.
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
DRAFTS = ("none", "prompt-lookup")
DEFAULT_DRAFT = "none"
MODEL_CTX = 64  # the Llama object's own context (unused for decoding)


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
    """A Backend over llama.cpp that decodes a call's prompts and samples together
    (:mod:`kosql.models.llamacpp_batch`): k samples of a prompt cost one prompt computation, prompts
    on one schema compute it once, and up to ``parallel`` sequences share each forward pass."""

    prefix_cache = True
    beam_search = False  # schema-check candidates are sampled (kosql.models.runner.candidate_params)

    def __init__(self, model: str, *, adapter: str | None = None, n_ctx: int | None = None,
                 num_threads: int | None = None, parallel: int = 16, draft: str = DEFAULT_DRAFT,
                 **_: Any) -> None:
        """``n_ctx``: most tokens of context per sequence (default: the model's trained context; each
        call sizes it to its longest prompt); ``parallel``: sequences decoded together;
        ``draft``: 'none' or 'prompt-lookup' (speculative tokens copied from the prompt, greedy only)."""
        import importlib.util

        if importlib.util.find_spec("llama_cpp") is None:
            raise UserError(f"The llamacpp backend needs llama-cpp-python: run `{INSTALL_HINT}` "
                            f"(it compiles llama.cpp, a few minutes).")
        if draft not in DRAFTS:
            raise UserError(f"Unknown draft '{draft}': choose {' or '.join(DRAFTS)}.")
        if parallel < 1:
            raise UserError(f"parallel must be at least 1, not {parallel}.")
        import llama_cpp

        from kosql.models.llamacpp_batch import BatchEngine

        _quiet_llama_logs(llama_cpp)
        path = gguf_path(model)
        lora = _adapter_gguf(adapter, path) if adapter else None
        self.model_name = model
        self.name = model if adapter is None else f"{model}+{os.path.basename(os.path.normpath(adapter))}"
        threads = num_threads or default_threads()
        # The Llama object holds the weights, the tokenizer and the adapter; decoding runs in the
        # engine's own context, so this one stays small.
        self.llm = llama_cpp.Llama(model_path=str(path), lora_path=str(lora) if lora else None, n_ctx=MODEL_CTX,
                                   n_threads=threads, n_threads_batch=threads, verbose=False, seed=0)
        self.engine = BatchEngine(self.llm, threads=threads, parallel=parallel, max_context=n_ctx, draft=draft)
        meta = self.llm.metadata
        eos = self.llm.detokenize([self.llm.token_eos()]).decode("utf-8", "ignore")
        template = meta.get("tokenizer.chat_template", "")
        self.tokenizer = GGUFChatTokenizer(template, eos) if template else None

    def generate(self, prompts: Sequence[str], params: GenerationParams) -> list[Generation]:
        from kosql.models.llamacpp_batch import DecodeError

        n = max(1, params.num_return_sequences)
        start = time.perf_counter()
        order = sorted(range(len(prompts)), key=lambda i: prompts[i])  # shared schemas one after another
        tokens = [prompt_tokens(self.llm, prompts[i]) for i in order]
        try:
            outcomes = self.engine.run(tokens, n, params)
        except DecodeError as exc:
            return [Generation(text="", error=str(exc), seconds=time.perf_counter() - start)
                    for _ in range(len(prompts) * n)]
        share = (time.perf_counter() - start) / max(1, len(prompts) * n)
        results: list[list[Generation]] = [[] for _ in prompts]
        for i, group in zip(order, outcomes, strict=True):
            results[i] = [Generation(text=o.text, prompt_tokens=o.prompt_tokens, completion_tokens=o.completion_tokens,
                                     seconds=share, error=o.error) for o in group]
        return [g for group in results for g in group]


def prompt_tokens(llm: Any, prompt: str) -> list[int]:
    """``prompt``'s tokens as ``Llama.create_completion`` builds them (special tokens parsed; BOS and
    EOS where the model's tokenizer adds them)."""
    model = llm._model
    bos = model.token_cls() if model.token_cls() != -1 else llm.token_bos()
    sep = model.token_sep()
    head = [bos] if model.add_bos_token() and bos != -1 else []
    tail = [sep if sep != -1 else llm.token_eos()] if model.add_eos_token() or sep != -1 else []
    body = llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True) if prompt else []
    return head + list(body) + tail


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
