"""``load_backend(kind, model, adapter=..., **opts)``: the one place that picks a backend."""

from __future__ import annotations

import importlib
from typing import Any, cast

from kosql.errors import UserError
from kosql.models.base import Backend

BACKEND_KINDS: tuple[str, ...] = ("hf", "llamacpp", "openai", "vllm", "fake")
# What a command's --backend accepts: 'auto' is default_backend(model, adapter).
BACKEND_CHOICES: tuple[str, ...] = ("auto", *BACKEND_KINDS)


def resolve_kind(kind: str, model: str, adapter: str | None = None, base_url: str | None = None) -> str:
    """A command's --backend as a concrete kind: 'auto' is 'openai' with a --base-url, else
    :func:`default_backend`."""
    if kind != "auto":
        return kind
    return "openai" if base_url else default_backend(model, adapter)


def default_backend(model: str, adapter: str | None = None) -> str:
    """The backend that runs ``model`` (with ``adapter``) fastest here: llama.cpp for an embedded model
    whose engine it is, when llama-cpp-python is installed and the adapter (if any) is a LoRA adapter
    (a fully fine-tuned model folder has no GGUF form); transformers ('hf') otherwise."""
    import importlib.util
    import os

    from kosql.models.embedded import EMBEDDED_MODELS

    embedded = EMBEDDED_MODELS.get(model.strip())
    if embedded is None or embedded.engine != "llamacpp" or importlib.util.find_spec("llama_cpp") is None:
        return "hf"
    if adapter is not None and not os.path.exists(os.path.join(adapter, "adapter_config.json")):
        return "hf"
    return "llamacpp"


def load_backend(kind: str, model: str, *, adapter: str | None = None, **opts: Any) -> Backend:
    """Build a backend of ``kind`` for ``model`` (heavy libraries are imported only here); kind 'auto'
    is :func:`default_backend`."""
    if kind == "auto":
        kind = default_backend(model, adapter)
    if kind == "hf":
        from kosql.models.hf import HFBackend

        return HFBackend(model, adapter=adapter, **opts)
    if kind == "llamacpp":
        from kosql.models.llamacpp import LlamaCppBackend

        return LlamaCppBackend(model, adapter=adapter, **opts)
    if kind == "vllm":
        from kosql.models.vllm_backend import VLLMBackend

        return VLLMBackend(model, adapter=adapter, **opts)
    if kind == "fake":
        from kosql.models.fake import FakeBackend

        if adapter is not None:
            from kosql.models.resolve import read_adapter_config

            read_adapter_config(adapter)
        return FakeBackend(name=model, **opts)
    if kind == "openai":
        module = importlib.import_module("kosql.models.openai_backend")
        if adapter is not None:
            raise UserError("The openai backend cannot apply a LoRA adapter; serve the adapter on the endpoint instead.")
        factory = getattr(module, "load", None) or module.OpenAIBackend
        return cast(Backend, factory(model, **opts))
    raise UserError(f"Unknown backend '{kind}': choose one of {', '.join(BACKEND_KINDS)}.")
