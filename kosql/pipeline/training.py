"""The training step of the quickstart and sweeps: the SFT config a run will use, and one resumable
``kosql train`` run into a folder of the pipeline's run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kosql.pipeline.steps import adapter_dir


def train_sft_run(config_path: str | None, overrides: list[str], output_dir: Path, *,
                  planned_seconds: float | None = None) -> tuple[Path, dict[str, Any]]:
    """Fine-tune with ``kosql train``'s machinery; returns (run folder, its metrics.json). The training
    re-projects its time from measured steps and compares it with ``planned_seconds``."""
    from kosql.config import load_config
    from kosql.train.config import SFTConfig
    from kosql.train.sft import train_sft

    cfg = load_config(SFTConfig, config_path, [*overrides, f"output_dir={output_dir}", "overwrite=true"])
    metrics_path = output_dir / "metrics.json"
    folder = adapter_dir(output_dir)
    if metrics_path.exists() and any((folder / f).exists() for f in ("adapter_config.json", "config.json")):
        run_dir = output_dir  # finished earlier: a rerun of the same run folder reuses it
    else:
        run_dir = Path(train_sft(cfg, resume=_has_checkpoint(output_dir), progress=True,
                                 planned_seconds=planned_seconds))
        metrics_path = run_dir / "metrics.json"
    metrics = json.loads(metrics_path.read_text(encoding="utf-8")) if metrics_path.exists() else {}
    return run_dir, metrics


def train_config(config_path: str | None, overrides: list[str]) -> Any:
    """The SFTConfig a training run with this config file and these overrides will use."""
    from kosql.config import load_config
    from kosql.train.config import SFTConfig

    return load_config(SFTConfig, config_path, list(overrides))


def train_prompt_format(config_path: str | None, overrides: list[str]) -> str:
    """The ``data.prompt_format`` a training run with this config and these overrides will use."""
    return str(train_config(config_path, overrides).data.prompt_format)


def _has_checkpoint(output_dir: Path) -> bool:
    return output_dir.exists() and any(output_dir.rglob("checkpoint-*"))
