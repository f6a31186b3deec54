"""Loading the base model / tokenizer for training, LoRA and precision settings (torch imported lazily)."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from typing import Any

from kosql.errors import DependencyError, UserError
from kosql.models.cpu import Precision, torch_precision


def resolve_base(name: str, *, field_name: str = "model.name") -> str:
    """A local folder for ``name`` via kosql.models.resolve (a local folder is used as is)."""
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    if importlib.util.find_spec("kosql.models.resolve") is None:
        raise UserError(f"{field_name}: cannot resolve '{name}' because kosql.models.resolve is not installed; "
                        "pass a local model folder instead.")
    from kosql.models.resolve import resolve_model

    return str(resolve_model(name))


def require_torch(purpose: str) -> None:
    for pkg in ("torch", "transformers", "peft", "trl"):
        if importlib.util.find_spec(pkg) is None:
            raise DependencyError(pkg, "train", purpose)


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def resolve_precision(precision: str, field_name: str = "train.precision") -> Precision:
    """This machine's mixed precision for a training run: the one decision of
    :func:`kosql.models.cpu.decide_precision` (bf16 only where the CPU or GPU has it natively)."""
    return torch_precision(precision, field_name=field_name)


def checkpointing_flag(args_class: Any, enabled: bool) -> dict[str, Any]:
    """Activation checkpointing as ``args_class`` (a TrainingArguments subclass) names it:
    ``activation_checkpointing`` in transformers >= 5.2x (``gradient_checkpointing`` is its deprecated
    alias there and warns), ``gradient_checkpointing`` before."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(args_class)}
    return {"activation_checkpointing" if "activation_checkpointing" in names else "gradient_checkpointing": enabled}


def thread_count(threads: int | None) -> int | None:
    """The torch CPU threads for training: the config's ``threads``, else ``KOSQL_THREADS`` when set
    (:func:`kosql.models.cpu.env_threads`, as inference reads it), else None (torch's default)."""
    from kosql.models.cpu import env_threads

    if threads:
        return int(threads)
    return env_threads()


def set_threads(threads: int | None) -> None:
    """Set torch's CPU threads to :func:`thread_count` of ``threads`` (nothing when that is None)."""
    count = thread_count(threads)
    if count:
        import torch

        torch.set_num_threads(count)


def warmup_args(ratio: float) -> dict[str, Any]:
    """``warmup_ratio`` (a fraction of the optimizer steps) as transformers >= 5 takes it.

    ``TrainingArguments`` has no ``warmup_ratio`` any more: ``warmup_steps`` below 1 is read as a
    ratio and 1 or more as a step count, so a ratio of 1.0 (every step warms up) is passed as the
    largest float below 1, which rounds up to all steps.
    """
    ratio = float(ratio)
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"warmup_ratio must be in [0, 1], not {ratio}")
    return {"warmup_steps": math.nextafter(1.0, 0.0) if ratio >= 1.0 else ratio}


def load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(path)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_model(path: str, *, method: str = "lora", precision: Precision | None = None,
               attn_implementation: str | None = None, field_name: str = "model.method") -> Any:
    """The base model for training: fp32 weights (mixed precision by autocast), or 4-bit for 'qlora'."""
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": torch.float32}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    if method == "qlora":
        if not torch.cuda.is_available():
            raise UserError(f"{field_name}: 'qlora' loads the base model in 4 bits with bitsandbytes, which needs a "
                            "CUDA GPU; use method 'lora' on this machine.")
        if importlib.util.find_spec("bitsandbytes") is None:
            raise DependencyError("bitsandbytes", "gpu", "QLoRA training")
        from transformers import BitsAndBytesConfig

        compute = torch.bfloat16 if precision is not None and precision.name == "bf16" else torch.float16
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=compute,
        )
        kwargs["dtype"] = compute
    try:
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    except OSError as exc:
        raise UserError(f"model.name: cannot load a model from '{path}' ({str(exc).splitlines()[0]}).") from None
    if method == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    return model


def decoder_layers(model: Any) -> Any:
    """The model's list of decoder layers: the ModuleList whose length is ``config.num_hidden_layers``."""
    import torch

    n = getattr(getattr(model, "config", None), "num_hidden_layers", None)
    for _name, module in model.named_modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) == n:
            return module
    raise UserError("model.freeze_layers: cannot find this model's decoder layers.")


def freeze(model: Any, *, embeddings: bool, layers: int, field_name: str = "model.freeze_layers") -> int:
    """Freeze the input embeddings (``embeddings``) and the lowest ``layers`` decoder layers of a model for
    full fine-tuning; returns the number of weights left trainable."""
    if layers:
        stack = decoder_layers(model)
        if layers >= len(stack):
            raise UserError(f"{field_name}: {layers} frozen layers leave nothing to train in a model of "
                            f"{len(stack)} layers.")
        for layer in list(stack)[:layers]:
            layer.requires_grad_(False)
    if embeddings:
        model.get_input_embeddings().requires_grad_(False)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def adapted_layers(top_layers: int, num_layers: int) -> list[int] | None:
    """The transformer layers that get adapters: the top ``top_layers`` of ``num_layers`` (None = all)."""
    if top_layers <= 0 or top_layers >= num_layers:
        return None
    return list(range(num_layers - top_layers, num_layers))


def linear_module_names(model: Any) -> list[str]:
    """The distinct names of the model's linear layers inside its transformer blocks (what peft's
    'all-linear' adapts), for a LoRA limited to some layers."""
    import torch

    names = {name.rsplit(".", 1)[-1] for name, mod in model.named_modules()
             if isinstance(mod, torch.nn.Linear) and ".layers." in f".{name}"}
    return sorted(names)


def lora_config(r: int, alpha: int, dropout: float, target_modules: list[str], *,
                layers: list[int] | None = None, linear_names: list[str] | None = None) -> Any:
    """A peft LoraConfig for causal LM; ['all-linear'] targets every linear layer but the output head
    (``linear_names`` when ``layers`` limits the adapters to those transformer layers)."""
    from peft import LoraConfig

    targets: str | list[str] = "all-linear" if target_modules in (["all-linear"], ["all"]) else list(target_modules)
    if layers is not None and isinstance(targets, str):
        targets = list(linear_names or [])
    return LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets, bias="none",
                      task_type="CAUSAL_LM", layers_to_transform=layers)


def is_main_process() -> bool:
    """True on the main process of an accelerate/torchrun launch (and when not launched)."""
    import os

    return os.environ.get("RANK", "0") == "0" and os.environ.get("LOCAL_RANK", "0") in ("0", "-1")
