"""``load_backend(kind, model, adapter=..., **opts)``: the one place that picks a backend."""

from __future__ import annotations

import importlib
from typing import Any, cast

from kosql.errors import UserError
from kosql.models.base import Backend

BACKEND_KINDS: tuple[str, ...] = ("hf", "llamacpp", "openai", "vllm", "fake")


def load_backend(kind: str, model: str, *, adapter: str | None = None, **opts: Any) -> Backend:
    """Build a backend of ``kind`` for ``model`` (heavy libraries are imported only here)."""
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
