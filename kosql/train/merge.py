"""Merge a run's LoRA adapter into its base model and save a standard Hugging Face folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kosql.compat import quiet_foreign_deprecations
from kosql.errors import UserError
from kosql.train.manifest import load_run, write_json
from kosql.train.modeling import require_torch, resolve_base


def merge_run(run_dir: str | Path, out_dir: str | Path, *, dtype: str | None = None,
              overwrite: bool = False) -> Path:
    """Merge ``<run>/adapter`` into the run's base model; writes safetensors + tokenizer to ``out_dir``.

    ``dtype`` ('float32', 'bfloat16', 'float16'; None = float32) is the dtype of the saved weights.
    The result loads with ``AutoModelForCausalLM.from_pretrained(out_dir)`` and with vLLM.
    """
    require_torch("Merging an adapter")
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    run, manifest = load_run(run_dir)
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise UserError(f"--out: '{out}' is not empty; choose another folder or pass --overwrite.")
    if manifest.get("method") == "full":
        raise UserError(f"--run: '{run.root}' is a full fine-tuning run; its adapter/ folder is already a full model.")
    dtypes = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16, None: torch.float32}
    if dtype not in dtypes:
        raise UserError(f"--dtype: must be one of float32, bfloat16, float16, got {dtype!r}.")
    base_name = str(manifest.get("base_model") or "")
    base_path = manifest.get("base_model_path")
    if not base_path or not Path(str(base_path)).is_dir():
        base_path = resolve_base(base_name, field_name="manifest base_model")
    base = AutoModelForCausalLM.from_pretrained(str(base_path), dtype=torch.float32)
    with quiet_foreign_deprecations():
        model: Any = PeftModel.from_pretrained(base, str(run.adapter))
    merged = model.merge_and_unload()
    merged = merged.to(dtypes[dtype])
    out.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(out), safe_serialization=True)
    tok_src = run.adapter if (run.adapter / "tokenizer_config.json").exists() else Path(str(base_path))
    AutoTokenizer.from_pretrained(str(tok_src)).save_pretrained(str(out))
    write_json(out / "kosql_merge.json", {"run": str(run.root), "base_model": base_name,
                                          "base_model_path": str(base_path), "dtype": dtype or "float32",
                                          "prompt_format": manifest.get("prompt_format"),
                                          "prompt_hash": manifest.get("prompt_hash")})
    return out
