"""Sweep grid expansion, results.csv appending and skipping finished points (fake runner)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kosql.errors import UserError
from kosql.pipeline.sweep import (
    SweepConfig,
    SweepPoint,
    expand_points,
    plot_sweep,
    read_results,
    run_sweep,
    summary_markdown,
)


def _cfg(**kw: Any) -> SweepConfig:
    return SweepConfig(name="t", train_config="x.yaml", **kw)


def test_grid_times_zip_times_stage() -> None:
    cfg = _cfg(grid={"data.fraction": [0.2, 1.0]}, zip={"lora.r": [8, 16], "lora.alpha": [16, 32]},
               stage=["sft", "sft+dpo"])
    points = expand_points(cfg)
    assert len(points) == 2 * 2 * 2
    assert points[0].overrides == (("data.fraction", 0.2), ("lora.r", 8), ("lora.alpha", 16))
    assert len({p.point_id for p in points}) == len(points)
    assert points[1].override_args() == ["data.fraction=0.2", "lora.r=16", "lora.alpha=32"]


def test_bad_zip_and_stage_are_user_errors() -> None:
    with pytest.raises(UserError, match="same length"):
        expand_points(_cfg(zip={"lora.r": [8, 16], "lora.alpha": [16]}))
    with pytest.raises(UserError, match="unknown stage"):
        expand_points(_cfg(stage=["rlhf"]))


def test_rerun_skips_finished_points(tmp_path: Path) -> None:
    cfg = _cfg(grid={"data.fraction": [0.2, 0.6, 1.0]})
    calls: list[str] = []

    def runner(point: SweepPoint, point_dir: Path) -> dict[str, Any]:
        calls.append(point.point_id)
        frac = dict(point.overrides)["data.fraction"]
        if frac == 1.0 and len(calls) == 3 and not (tmp_path / "crashed").exists():
            (tmp_path / "crashed").touch()
            raise KeyboardInterrupt  # the third point is interrupted
        return {"ex": frac * 0.8, "ex_lo": frac * 0.7, "ex_hi": frac * 0.9, "n": 10}

    with pytest.raises(KeyboardInterrupt):
        run_sweep(cfg, tmp_path, runner)
    assert len(read_results(tmp_path / "results.csv")) == 2
    rows = run_sweep(cfg, tmp_path, runner)
    assert len(rows) == 3 and len(calls) == 4  # only the unfinished point ran again
    assert [r["data.fraction"] for r in rows] == ["0.2", "0.6", "1.0"]
    md = summary_markdown(rows, cfg)
    assert "| 0.6 | sft | 48.0 [42.0, 54.0]" in md
    assert plot_sweep(rows, cfg, tmp_path)[0].stat().st_size > 1000


@pytest.mark.parametrize("path", sorted((Path(__file__).resolve().parents[2] / "configs" / "sweeps").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_every_shipped_sweep_config_loads_and_its_points_validate(path: Path) -> None:
    from kosql.config import load_config
    from kosql.pipeline.sweep import expand_points
    from kosql.pipeline.sweep_run import validate_points

    cfg = load_config(SweepConfig, str(path), [])
    assert cfg.name == path.stem
    validate_points(cfg)
    assert len(expand_points(cfg)) >= 2


def test_a_point_training_with_comments_and_testing_without_is_refused() -> None:
    from kosql.errors import UserError
    from kosql.pipeline.sweep_run import validate_points

    config = str(Path(__file__).resolve().parents[2] / "configs" / "sft-cpu-smollm2-full.yaml")
    cfg = SweepConfig(name="x", train_config=config, grid={"train.learning_rate": [1e-4, 2e-4]},
                      test_data="bundled:small", train_overrides=["data.train=bundled:small+comments"])
    with pytest.raises(UserError, match="trains on bundled:small\\+comments but tests on bundled:small"):
        validate_points(cfg)
    validate_points(SweepConfig(name="x", train_config=config, grid=cfg.grid, test_data="bundled:small+comments",
                                train_overrides=cfg.train_overrides))
    validate_points(SweepConfig(name="x", train_config=config, grid=cfg.grid, test_data="bundled:full"))
