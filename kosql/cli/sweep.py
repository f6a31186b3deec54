"""`kosql sweep --config configs/sweeps/<name>.yaml`: a grid of train -> generate -> eval points."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path),
              help="Sweep config YAML (see configs/sweeps/).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: runs/sweeps/<name>); rerunning skips finished points.")
@click.option("--dry-run", is_flag=True, help="List the points and exit.")
@click.argument("overrides", nargs=-1)
def command(config_path: Path, out: Path | None, dry_run: bool, overrides: tuple[str, ...]) -> int:
    """Run every point of a sweep; results.csv, summary.md and plots go to the output folder.

    OVERRIDES are key=value settings of the sweep config itself, e.g. test_per_split=20.
    """
    from kosql.config import load_config
    from kosql.pipeline.sweep import AUTO_CONFIG, SweepConfig, expand_points, point_train_config
    from kosql.pipeline.sweep_run import run_sweep_for_real, validate_points

    cfg = load_config(SweepConfig, config_path, list(overrides))
    points = expand_points(cfg)
    if dry_run:
        validate_points(cfg)  # a bad field or a model without a shipped config fails here too
        for i, p in enumerate(points, 1):
            config = f"  [{Path(point_train_config(cfg, p)).name}]" if cfg.train_config == AUTO_CONFIG else ""
            click.echo(f"{i:>3}  {p.point_id}  {p.label}{config}")
        return 0

    run_sweep_for_real(cfg, out or Path("runs") / "sweeps" / cfg.name)
    return 0
