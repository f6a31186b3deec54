"""The GGUF export of a LoRA adapter is cached per base model and shape-checked before any reuse
(tiny GGUF files written here; no real model needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kosql.errors import UserError

np = pytest.importorskip("numpy")
gguf = pytest.importorskip("gguf")
safetensors_numpy = pytest.importorskip("safetensors.numpy")

KEY = "base_model.model.model.layers.0.self_attn.q_proj"


def _base_gguf(path: Path, n_in: int, n_out: int) -> Path:
    """A GGUF holding one layer, blk.0.attn_q.weight, of ``n_in`` inputs and ``n_out`` outputs."""
    writer = gguf.GGUFWriter(str(path), arch="qwen2")
    writer.add_tensor("blk.0.attn_q.weight", np.zeros((n_out, n_in), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _adapter(folder: Path, n_in: int, n_out: int, r: int = 2) -> Path:
    folder.mkdir()
    safetensors_numpy.save_file({f"{KEY}.lora_A.weight": np.ones((r, n_in), np.float32),
                                 f"{KEY}.lora_B.weight": np.ones((n_out, r), np.float32)},
                                str(folder / "adapter_model.safetensors"))
    (folder / "adapter_config.json").write_text(json.dumps({"lora_alpha": 4, "r": r,
                                                            "base_model_name_or_path": "small"}))
    return folder


def test_a_cached_export_for_one_model_is_not_reused_for_another(tmp_path: Path) -> None:
    from kosql.models.gguf_lora import export_lora_gguf

    small = _base_gguf(tmp_path / "small-q4.gguf", 16, 8)
    large = _base_gguf(tmp_path / "large-q4.gguf", 24, 12)
    adapter = _adapter(tmp_path / "adapter", 16, 8)
    cached = export_lora_gguf(adapter, "qwen2", model_path=small)
    assert cached.is_file()
    with pytest.raises(UserError, match="does not fit the model large-q4.gguf"):
        export_lora_gguf(adapter, "qwen2", model_path=large)  # the cached export is checked first
    assert export_lora_gguf(adapter, "qwen2", model_path=small) == cached  # and still reused for its model


def test_the_export_is_cached_per_base_model(tmp_path: Path) -> None:
    from kosql.models.gguf_lora import adapter_gguf_path, export_lora_gguf

    one = _base_gguf(tmp_path / "one.gguf", 16, 8)
    two = _base_gguf(tmp_path / "two.gguf", 16, 8)
    adapter = _adapter(tmp_path / "adapter", 16, 8)
    first, second = (export_lora_gguf(adapter, "qwen2", model_path=m) for m in (one, two))
    assert first != second and first.is_file() and second.is_file()
    assert (first, second) == (adapter_gguf_path(adapter, one), adapter_gguf_path(adapter, two))
    reader = gguf.GGUFReader(str(first))
    assert sorted(t.name for t in reader.tensors) == ["blk.0.attn_q.weight.lora_a", "blk.0.attn_q.weight.lora_b"]
