"""QLoRA (4-bit base with bitsandbytes) trains a few steps on a CUDA GPU (skipped without one)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import write_dataset

pytestmark = [pytest.mark.gpu, pytest.mark.slow]


def test_qlora_few_steps(tmp_path: Path, base_model_dir: str) -> None:
    pytest.importorskip("bitsandbytes")
    from kosql.config import build_config
    from kosql.train.config import SFTConfig
    from kosql.train.sft import train_sft

    data = write_dataset(tmp_path / "data", n_train=8, n_dev=2)
    cfg = build_config(SFTConfig, {
        "data": {"train": str(data), "max_length": 256}, "output_dir": str(tmp_path / "run"),
        "model": {"method": "qlora"},
        "train": {"max_steps": 4, "batch_size": 2, "learning_rate": 2e-3, "warmup_ratio": 0.0, "logging_steps": 1},
    })
    run = train_sft(cfg, progress=False)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["global_step"] == 4 and metrics["last_loss"] < metrics["first_loss"]
    assert (run / "adapter" / "adapter_model.safetensors").exists()
