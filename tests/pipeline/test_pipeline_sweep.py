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


def test_plots_for_named_values_and_for_stages_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kosql.pipeline import sweep

    drawn: list[str] = []
    monkeypatch.setattr(sweep, "_bars", lambda ax, series: drawn.append("bars"))
    monkeypatch.setattr(sweep, "_line", lambda ax, pts, stage, log2: drawn.append("line"))

    def row(stage: str, ex: float, **kw: str) -> dict[str, str]:
        return {"stage": stage, "ex": str(ex), "ex_lo": str(ex - 0.1), "ex_hi": str(ex + 0.1), **kw}

    files = _cfg(grid={"data.train": ["a.jsonl", "b.jsonl"]})
    paths = plot_sweep([row("sft", 0.2, **{"data.train": "a.jsonl"}), row("sft", 0.3, **{"data.train": "b.jsonl"})],
                       files, tmp_path)
    assert [p.name for p in paths] == ["ex_by_data_train.png"] and drawn == ["bars"]
    stages = _cfg(stage=["sft", "sft+dpo"])
    paths = plot_sweep([row("sft", 0.2), row("sft+dpo", 0.25)], stages, tmp_path)
    assert [p.name for p in paths] == ["ex_by_stage.png"] and drawn == ["bars", "bars"]
    fractions = _cfg(grid={"data.fraction": [0.2, 1.0]})
    plot_sweep([row("sft", 0.1, **{"data.fraction": "0.2"}), row("sft", 0.3, **{"data.fraction": "1.0"})],
               fractions, tmp_path)
    assert drawn == ["bars", "bars", "line"]


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


def test_sft_and_sft_dpo_points_share_one_sft_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kosql.pipeline import sweep_run
    from kosql.pipeline.steps import EvalOutcome

    trained: list[Path] = []
    dpo_from: list[Path] = []

    def fake_train(config: str | None, overrides: list[str], out: Path) -> tuple[Path, dict[str, Any]]:
        if not (out / "metrics.json").exists():  # as train_sft_run: a finished run folder is reused
            trained.append(out)
            out.mkdir(parents=True)
            (out / "metrics.json").write_text("{}", encoding="utf-8")
        return out, {}

    def fake_dpo(cfg: SweepConfig, sft_run: Path, out_dir: Path) -> Path:
        dpo_from.append(sft_run)
        out_dir.mkdir(parents=True)
        (out_dir / "metrics.json").write_text(
            '{"pairs": 32, "sample_seconds": 200.5, "train_seconds": 100, "last_loss": 0.6871}', encoding="utf-8")
        return out_dir

    def fake_eval(rows: Any, out: Path, **kw: Any) -> EvalOutcome:
        return EvalOutcome(preds_path=out, eval_dir=out, rows=[{"ex": 1, "ts_ex": 1, "em": 0}], metrics={},
                           gen_seconds=0.0, completion_tokens=0)

    monkeypatch.setattr(sweep_run, "load_split", lambda *a, **k: [])
    monkeypatch.setattr(sweep_run, "pick_test_rows", lambda *a, **k: [])
    monkeypatch.setattr(sweep_run, "train_sft_run", fake_train)
    monkeypatch.setattr(sweep_run, "tuned_model", lambda run, name: ("m", str(run / "adapter")))
    monkeypatch.setattr(sweep_run, "_run_dpo", fake_dpo)
    monkeypatch.setattr(sweep_run, "generate_and_eval", fake_eval)
    from rich.console import Console

    cfg = _cfg(grid={"lora.r": [4, 8]}, stage=["sft", "sft+dpo"], dpo_config="d.yaml")
    rows = run_sweep(cfg, tmp_path, sweep_run.make_point_runner(cfg, Console(quiet=True)))
    assert len(rows) == 4
    assert len(trained) == 2  # one SFT run per grid value, not per stage
    sft_points = {p.overrides: p.point_id for p in expand_points(cfg) if p.stage == "sft"}
    assert sorted(trained) == sorted(tmp_path / "points" / i / "train" for i in sft_points.values())
    assert sorted(dpo_from) == sorted(trained)
    dpo_rows = [r for r in rows if r["stage"] == "sft+dpo"]
    assert [(r["dpo_pairs"], r["dpo_seconds"], r["dpo_final_loss"]) for r in dpo_rows] == [("32", "300.5", "0.6871")] * 2
    assert all(r["dpo_pairs"] == "" for r in rows if r["stage"] == "sft")
    md = summary_markdown(rows, cfg)
    assert "| DPO pairs | DPO s | DPO final loss |" in md and "| 32 | 300 | 0.687 |" in md
    assert "DPO pairs" not in summary_markdown([r for r in rows if r["stage"] == "sft"], cfg)


def test_results_of_an_older_header_get_the_union_of_columns(tmp_path: Path) -> None:
    from kosql.pipeline.sweep import RESULT_FIELDS, append_result

    path = tmp_path / "results.csv"
    path.write_text("point,label,stage,ex,old_col\np1,a,sft,0.5,x\n", encoding="utf-8")
    append_result(path, {"point": "p2", "label": "b", "stage": "sft+dpo", "ex": 0.6, "dpo_pairs": 32,
                         "lora.r": 8}, ["lora.r"])
    rows = read_results(path)
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:5] == ["point", "label", "stage", "ex", "old_col"]  # the old columns first, kept
    assert set(RESULT_FIELDS) | {"lora.r", "old_col"} == set(header) and len(header) == len(set(header))
    assert [r["point"] for r in rows] == ["p1", "p2"]
    assert rows[0]["old_col"] == "x" and rows[0]["dpo_pairs"] == "" and rows[0]["ex"] == "0.5"
    assert rows[1]["dpo_pairs"] == "32" and rows[1]["lora.r"] == "8" and rows[1]["old_col"] == ""
    before = path.read_text(encoding="utf-8")
    append_result(path, {"point": "p3", "label": "c", "stage": "sft", "ex": 0.7}, ["lora.r"])
    assert path.read_text(encoding="utf-8").startswith(before)  # same header: appended, not rewritten
    assert not list(tmp_path.glob("*.tmp"))
