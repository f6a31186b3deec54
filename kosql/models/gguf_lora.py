"""Export a PEFT LoRA adapter as a GGUF LoRA adapter that llama.cpp applies at load time.

The embedded models are 4-bit GGUF files; transformers trains on their dequantized weights, so a
LoRA adapter trained by kosql applies exactly to the quantized weights llama.cpp serves. The GGUF
adapter format is llama.cpp's (``convert_lora_to_gguf.py``): ``general.type = adapter``,
``adapter.type = lora``, ``adapter.lora.alpha``, and for each adapted weight ``<gguf name>.lora_a``
(PEFT's A, shape r x in) and ``<gguf name>.lora_b`` (PEFT's B, shape out x r). Only Qwen2 is
exported: its GGUF keeps transformers' weight layout, while llama.cpp's Llama converter permutes the
query and key rows (SmolLM2), which an adapter would have to follow; other architectures are refused.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from kosql.errors import UserError

GGUF_ADAPTER_FILE = "adapter.gguf"
_LAYER = re.compile(r"(?:base_model\.model\.)?model\.layers\.(\d+)\.(self_attn|mlp)\.(\w+)\.lora_([AB])\.weight$")
_NAMES = {
    "q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_output",
    "gate_proj": "ffn_gate", "up_proj": "ffn_up", "down_proj": "ffn_down",
}
_ARCHITECTURES = {"qwen2": "qwen2"}


def gguf_tensor_name(peft_key: str) -> tuple[str, str] | None:
    """(GGUF tensor name, 'a' or 'b') for a PEFT LoRA weight key, or None when it is not a layer weight."""
    match = _LAYER.match(peft_key)
    if match is None or match.group(3) not in _NAMES:
        return None
    layer, _, module, ab = match.groups()
    return f"blk.{layer}.{_NAMES[module]}.weight.lora_{ab.lower()}", ab.lower()


def adapter_gguf_path(adapter_dir: str | Path, model_path: Path | None = None) -> Path:
    """Where the GGUF export of ``adapter_dir`` for the base GGUF ``model_path`` is cached: one file per
    base model (``adapter.<model file stem>.gguf``), so an export for one model is never reused for another."""
    folder = Path(adapter_dir)
    if model_path is None:
        return folder / GGUF_ADAPTER_FILE
    return folder / f"adapter.{model_path.stem}.gguf"


def export_lora_gguf(adapter_dir: str | Path, architecture: str, out: Path | None = None,
                     model_path: Path | None = None) -> Path:
    """Write the adapter's GGUF export next to the PEFT adapter (:func:`adapter_gguf_path`; once, reused
    while it is newer than the weights) and return it. With ``model_path`` (the base GGUF), every LoRA
    tensor must fit its layer, checked before a cached export is reused too: llama.cpp crashes the
    process on an adapter of another model, so that is refused here with one sentence."""
    folder = Path(adapter_dir)
    weights = folder / "adapter_model.safetensors"
    target = out or adapter_gguf_path(folder, model_path)
    if architecture not in _ARCHITECTURES:
        raise UserError(f"A LoRA adapter of a '{architecture}' model cannot be exported to GGUF; "
                        f"use --backend hf for it.")
    config = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    tensors = _gguf_tensors(weights)
    if model_path is not None:
        problem = shape_problem(tensors, model_path)
        if problem is not None:
            raise UserError(f"Adapter {folder} (base model '{config.get('base_model_name_or_path', '')}') does not "
                            f"fit the model {model_path.name}: {problem}.")
    if target.exists() and target.stat().st_mtime >= weights.stat().st_mtime:
        return target
    _write(target, _ARCHITECTURES[architecture], float(config.get("lora_alpha") or config.get("r") or 1), tensors)
    return target


def shape_problem(tensors: dict[str, Any], model_path: Path) -> str | None:
    """The first LoRA tensor that does not fit the base GGUF's layer, or None."""
    import gguf

    shapes = {t.name: [int(x) for x in t.shape] for t in gguf.GGUFReader(str(model_path)).tensors}
    for name, value in sorted(tensors.items()):
        base = name.rsplit(".lora_", 1)[0]
        if base not in shapes:
            return f"the model has no layer {base}"
        n_in, n_out = shapes[base][0], shapes[base][1]  # GGUF lists the fastest dimension first
        if name.endswith("lora_a") and value.shape[1] != n_in:
            return f"{name} has {value.shape[1]} inputs, the layer {n_in}"
        if name.endswith("lora_b") and value.shape[0] != n_out:
            return f"{name} has {value.shape[0]} outputs, the layer {n_out}"
    return None


def _gguf_tensors(weights: Path) -> dict[str, Any]:
    from safetensors.numpy import load_file

    out: dict[str, Any] = {}
    for key, value in load_file(str(weights)).items():
        named = gguf_tensor_name(key)
        if named is None:
            if ".lora_" in key:
                raise UserError(f"The adapter's weight {key} has no llama.cpp counterpart; use --backend hf.")
            continue
        out[named[0]] = value.astype("float32")
    if not out:
        raise UserError(f"{weights} holds no LoRA weights.")
    return out


def _write(target: Path, arch: str, alpha: float, tensors: dict[str, Any]) -> None:
    import gguf

    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    writer = gguf.GGUFWriter(str(tmp), arch=arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
    for name in sorted(tensors):
        writer.add_tensor(name, tensors[name])
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    os.replace(tmp, target)
