"""Generation picks the prompt format a model was trained with (from the run's manifest.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kosql.train.manifest import trained_prompt_format


def test_trained_prompt_format_from_adapter_or_run_folder(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "adapter").mkdir(parents=True)
    (run / "manifest.json").write_text(json.dumps({"prompt_format": "compact"}), encoding="utf-8")
    assert trained_prompt_format(run / "adapter") == "compact"
    assert trained_prompt_format(run) == "compact"
    assert trained_prompt_format(tmp_path / "elsewhere") is None
    assert trained_prompt_format(None) is None
    assert trained_prompt_format("smollm2-135m") is None
    (run / "manifest.json").write_text("{not json", encoding="utf-8")
    assert trained_prompt_format(run / "adapter") is None


def test_quickstart_picks_the_models_cpu_config() -> None:
    from kosql.config import load_config
    from kosql.errors import UserError
    from kosql.pipeline.steps import default_train_config
    from kosql.pipeline.training import train_prompt_format
    from kosql.train.config import SFTConfig

    smol, gemma = default_train_config(), default_train_config("gemma3-270m")
    assert smol is not None and smol.endswith("sft-cpu-smollm2-full.yaml")
    assert gemma is not None and gemma.endswith("sft-cpu-gemma3.yaml")
    lora = default_train_config("smollm2-135m", "lora")
    assert lora is not None and lora.endswith("sft-cpu-smollm2.yaml")
    assert default_train_config("/some/local/folder") == lora  # an unknown model may be large: LoRA
    assert load_config(SFTConfig, smol, []).model.method == "full"
    assert load_config(SFTConfig, lora, []).model.method == "lora"
    gemma_full = default_train_config("gemma3-270m", "full")
    assert gemma_full is not None and load_config(SFTConfig, gemma_full, []).model.method == "full"
    with pytest.raises(UserError, match="smollm2-135m with method 'qlora'"):
        default_train_config("smollm2-135m", "qlora")
    assert train_prompt_format(smol, []) == "compact"
    assert train_prompt_format(smol, ["data.prompt_format=seed"]) == "seed"
