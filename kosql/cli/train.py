"""`kosql train --config configs/x.yaml [key=value ...] [--resume]`: supervised fine-tuning.

Runs under ``accelerate launch`` too: ``accelerate launch --num_processes 2 --cpu -m kosql.cli.train
--config configs/sft-cpu-smollm2.yaml``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="YAML config (see configs/sft-*.yaml).")
@click.option("--resume", is_flag=True, help="Continue an interrupted run from its newest checkpoint.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.argument("overrides", nargs=-1)
def command(config_path: Path, resume: bool, no_progress: bool, overrides: tuple[str, ...]) -> int:
    """Fine-tune a model with LoRA / QLoRA / full SFT (overrides: key=value, e.g. lora.r=8 train.max_steps=20)."""
    from kosql.config import load_config
    from kosql.train.config import SFTConfig
    from kosql.train.manifest import read_json
    from kosql.train.sft import train_sft

    cfg = load_config(SFTConfig, config_path, list(overrides))
    run = train_sft(cfg, resume=resume, progress=not no_progress)
    metrics_path = run / "metrics.json"
    if not metrics_path.exists():
        return 0
    _print_metrics(run, read_json(metrics_path))
    return 0


def _print_metrics(run: Path, metrics: dict[str, object]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"kosql train -> {run}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("global_step", "first_loss", "last_loss", "train_loss", "tokens_per_second", "train_seconds",
                "rows_trained", "rows_seen", "rows_dropped", "dev_ex"):
        if key in metrics and metrics[key] is not None:
            value = metrics[key]
            table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    Console().print(table)


def main() -> None:
    """Entry point for ``python -m kosql.cli.train`` (used by ``accelerate launch -m``)."""
    from kosql.cli.main import main as kosql_main

    sys.exit(kosql_main(["train", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
