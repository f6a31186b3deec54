"""`kosql dpo --config configs/x.yaml [key=value ...]`: DPO from execution feedback on an SFT run."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="YAML config (see configs/dpo-*.yaml).")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.argument("overrides", nargs=-1)
def command(config_path: Path, no_progress: bool, overrides: tuple[str, ...]) -> int:
    """Preference-tune an SFT adapter with DPO: pairs = gold (or correct sample) vs wrong samples."""
    from rich.console import Console
    from rich.table import Table

    from kosql.config import load_config
    from kosql.train.config import DPOConfig
    from kosql.train.dpo import train_dpo
    from kosql.train.manifest import read_json

    cfg = load_config(DPOConfig, config_path, list(overrides))
    run = train_dpo(cfg, progress=not no_progress)
    metrics = read_json(run / "metrics.json")
    table = Table(title=f"kosql dpo -> {run}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("pairs", "global_step", "first_loss", "last_loss", "dev_ex_before", "dev_ex_after"):
        value = metrics.get(key)
        table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    Console().print(table)
    return 0
