"""Running a sweep for real: each point trains (SFT, optionally + DPO), generates and evaluates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console

from kosql.pipeline.compare import Cell, cell
from kosql.pipeline.steps import (
    EvalTarget,
    GenerationSettings,
    adapter_dir,
    generate_and_eval,
    load_split,
    pick_test_rows,
    tuned_model,
)
from kosql.pipeline.sweep import (
    SweepConfig,
    SweepPoint,
    paired_markdown,
    plot_sweep,
    run_sweep,
    summary_markdown,
)
from kosql.pipeline.training import train_sft_run
from kosql.runinfo import read_json


def make_point_runner(cfg: SweepConfig, console: Console) -> Any:
    """A runner for :func:`run_sweep` bound to the sweep's test rows."""
    test_rows = pick_test_rows(load_split(cfg.test_data, "test.jsonl"), cfg.test_per_split, cfg.seed)
    settings = GenerationSettings(batch_size=cfg.batch_size, max_new_tokens=cfg.max_new_tokens)

    def runner(point: SweepPoint, point_dir: Path) -> dict[str, Any]:
        point_dir.mkdir(parents=True, exist_ok=True)
        (point_dir / "point.json").write_text(json.dumps(
            {"label": point.label, "overrides": point.override_args(), "stage": point.stage},
            ensure_ascii=False, indent=2), encoding="utf-8")
        run_dir, train_metrics = train_sft_run(cfg.train_config, point.override_args(cfg.train_overrides),
                                                sft_dir(point, point_dir))
        model, adapter = tuned_model(run_dir, _model_name(run_dir))
        dpo_metrics: dict[str, Any] = {}
        if point.stage == "sft+dpo":
            dpo_run = _run_dpo(cfg, run_dir, point_dir / "dpo")
            adapter = str(adapter_dir(dpo_run))
            dpo_metrics = read_json(dpo_run / "metrics.json")
        outcome = generate_and_eval(test_rows, point_dir / "gen", settings=settings,
                                    target=EvalTarget(model, adapter=adapter, backend=cfg.backend, label=point.label))
        row = summarize_point(outcome.rows, train_metrics, run_dir)
        if dpo_metrics:
            row.update(dpo_pairs=dpo_metrics.get("pairs"), dpo_final_loss=dpo_metrics.get("last_loss"),
                       dpo_seconds=round(float(dpo_metrics.get("sample_seconds") or 0)
                                         + float(dpo_metrics.get("train_seconds") or 0), 2))
        return row

    return runner


def point_rows(out_dir: Path, rows: list[dict[str, str]]) -> dict[str, list[dict[str, Any]]]:
    """The per-row results of every point of results.csv that has them (``points/<id>/gen/eval``)."""
    from kosql.data.rows import iter_jsonl

    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        path = out_dir / "points" / str(r.get("point")) / "gen" / "eval" / "per_row.jsonl"
        if path.is_file():
            out[str(r["point"])] = list(iter_jsonl(path))
    return out


def sft_dir(point: SweepPoint, point_dir: Path) -> Path:
    """Where ``point``'s SFT run lives: its own ``train/`` folder, except that an 'sft+dpo' point
    shares the one of the 'sft' point with the same overrides (same config, same run: trained once,
    whichever of the two runs first)."""
    if point.stage == "sft":
        return point_dir / "train"
    sibling = SweepPoint(overrides=point.overrides, stage="sft")
    return point_dir.parent / sibling.point_id / "train"


def summarize_point(rows: list[dict[str, Any]], train_metrics: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """The results.csv row of one point."""
    ex: Cell = cell(rows, "ex")
    lo, hi = ex.ci
    held = cell([r for r in rows if r.get("split") == "heldout_domain"], "ex")
    ind = cell([r for r in rows if r.get("split") == "in_domain"], "ex")
    return {
        "ex": ex.acc, "ex_lo": lo, "ex_hi": hi, "ex_heldout": held.acc, "ex_in_domain": ind.acc,
        "ts_ex": cell(rows, "ts_ex").acc, "em": cell(rows, "em").acc, "n": ex.n,
        "train_seconds": train_metrics.get("train_seconds"),
        "train_rows": train_metrics.get("rows_seen", train_metrics.get("rows_trained")),
        "train_steps": train_metrics.get("global_step"),
        "train_tokens": train_metrics.get("tokens_seen"),
        "final_loss": train_metrics.get("last_loss"),
        "run_dir": str(run_dir),
    }


def _model_name(run_dir: Path) -> str:
    cfg_path = run_dir / "config.yaml"
    if cfg_path.exists():
        import yaml

        data = yaml.safe_load(cfg_path.read_text(encoding="utf-8")) or {}
        name = (data.get("model") or {}).get("name")
        if name:
            return str(name)
    return "smollm2-135m"


def _run_dpo(cfg: SweepConfig, sft_run: Path, out_dir: Path) -> Path:
    from kosql.config import load_config
    from kosql.train.config import DPOConfig
    from kosql.train.dpo import train_dpo

    dcfg = load_config(DPOConfig, cfg.dpo_config, [f"sft_run={sft_run}", f"output_dir={out_dir}",
                                                   "overwrite=true"])
    return Path(train_dpo(dcfg, progress=True))


def validate_points(cfg: SweepConfig) -> None:
    """Load every point's SFT config before anything runs, so a bad field fails at once; a point that
    trains on the bundled dataset with Korean column comments and tests without them (or the reverse)
    is refused too: its test prompts would not look like its training prompts."""
    from kosql.config import load_config
    from kosql.errors import UserError
    from kosql.pipeline.sweep import expand_points
    from kosql.train.config import SFTConfig

    for point in expand_points(cfg):
        train = str(load_config(SFTConfig, cfg.train_config, point.override_args(cfg.train_overrides)).data.train)
        bundled = train.startswith("bundled:") and cfg.test_data.startswith("bundled:")
        if bundled and train.endswith("+comments") != cfg.test_data.endswith("+comments"):
            raise UserError(f"test_data: point '{point.label}' trains on {train} but tests on {cfg.test_data}; "
                            "use the same DDL style for both (set test_data, or data.train in train_overrides).")


def run_sweep_for_real(cfg: SweepConfig, out_dir: Path, console: Console | None = None) -> Path:
    """Run the sweep and write results.csv, summary.md and plots into ``out_dir``."""
    console = console or Console()

    def on_point(i: int, n: int, point: SweepPoint, state: str) -> None:
        console.rule(f"[bold]point {i}/{n}: {point.label}")
        console.print(f"[dim]{state}[/]")

    validate_points(cfg)
    rows = run_sweep(cfg, out_dir, make_point_runner(cfg, console), on_point)
    paired = paired_markdown(rows, point_rows(out_dir, rows))
    (out_dir / "summary.md").write_text(summary_markdown(rows, cfg) + "\n" + (paired + "\n" if paired else "")
                                        + "\n".join(f"![{p.stem}]({p.name})" for p in plot_sweep(rows, cfg, out_dir))
                                        + "\n", encoding="utf-8")
    console.print(summary_markdown(rows, cfg))
    if paired:
        console.print(paired)
    return out_dir
