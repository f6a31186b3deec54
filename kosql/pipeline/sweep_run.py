"""Running a sweep for real: each point trains (SFT, optionally + DPO), generates and evaluates."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console

from kosql.data.rows import Example
from kosql.models.registry import resolve_kind
from kosql.pipeline.compare import Cell, cell
from kosql.pipeline.steps import (
    EvalOutcome,
    EvalTarget,
    GenerationSettings,
    adapter_dir,
    generate_and_eval,
    load_split,
    pick_test_rows,
    tuned_model,
)
from kosql.pipeline.sweep import AUTO_CONFIG, SweepConfig, SweepPoint, point_train_config, run_sweep
from kosql.pipeline.sweep_report import paired_markdown, plot_sweep, summary_markdown
from kosql.pipeline.training import train_config, train_sft_run
from kosql.runinfo import read_json


def make_point_runner(cfg: SweepConfig, console: Console) -> Any:
    """A runner for :func:`run_sweep` bound to the sweep's test rows. A 'base' point scores the
    untrained model into ``base/<model>-<prompt format>-<backend>/``, once for all points that share it."""
    test_rows = pick_test_rows(load_split(cfg.test_data, "test.jsonl"), cfg.test_per_split, cfg.seed)
    settings = GenerationSettings(batch_size=cfg.batch_size, max_new_tokens=cfg.max_new_tokens)
    evaluated: dict[str, EvalOutcome] = {}  # base evaluations of this run, by folder

    def runner(point: SweepPoint, point_dir: Path) -> dict[str, Any]:
        point_dir.mkdir(parents=True, exist_ok=True)
        config = point_train_config(cfg, point)
        overrides = point.override_args(cfg.train_overrides)
        train = train_config(config, overrides)
        model, fmt = str(train.model.name), str(train.data.prompt_format)
        (point_dir / "point.json").write_text(json.dumps(
            {"label": point.label, "overrides": point.override_args(), "stage": point.stage, "train_config": config},
            ensure_ascii=False, indent=2), encoding="utf-8")
        info: dict[str, Any] = {"model": model, "prompt_format": fmt, "train_config": _config_label(cfg, config)}
        if point.stage == "base":
            backend = resolve_kind(cfg.backend, model)
            gen_dir = f"base/{_slug(f'{model}-{fmt}-{backend}')}"
            if gen_dir not in evaluated:
                evaluated[gen_dir] = generate_and_eval(test_rows, point_dir.parent.parent / gen_dir, settings=settings,
                                                       target=EvalTarget(model, backend=backend, prompt_format=fmt,
                                                                         label="base"))
            return {**summarize_point(evaluated[gen_dir].rows, {}, None), **info, "backend": backend,
                    "gen_seconds": round(evaluated[gen_dir].gen_seconds, 2), "gen_dir": gen_dir}
        return {**_trained_point(cfg, point, point_dir, config, overrides, model, fmt, test_rows, settings), **info}

    return runner


def _trained_point(cfg: SweepConfig, point: SweepPoint, point_dir: Path, config: str, overrides: list[str],
                   model: str, fmt: str, test_rows: Sequence[Example], settings: GenerationSettings) -> dict[str, Any]:
    """Train (SFT, and DPO on top for 'sft+dpo'), then generate with the tuned model and score it."""
    run_dir, train_metrics = train_sft_run(config, overrides, sft_dir(point, point_dir))
    name, adapter = tuned_model(run_dir, model)
    dpo_metrics: dict[str, Any] = {}
    if point.stage == "sft+dpo":
        dpo_run = _run_dpo(cfg, run_dir, point_dir / "dpo")
        adapter = str(adapter_dir(dpo_run))
        dpo_metrics = read_json(dpo_run / "metrics.json")
    backend = resolve_kind(cfg.backend, name, adapter)  # after training: the adapter (or model folder) exists
    outcome = generate_and_eval(test_rows, point_dir / "gen", settings=settings,
                                target=EvalTarget(name, adapter=adapter, backend=backend, prompt_format=fmt,
                                                  label=point.label))
    row = summarize_point(outcome.rows, train_metrics, run_dir)
    row.update(backend=backend, gen_seconds=round(outcome.gen_seconds, 2), gen_dir=f"points/{point.point_id}/gen")
    if dpo_metrics:
        row.update(dpo_pairs=dpo_metrics.get("pairs"), dpo_final_loss=dpo_metrics.get("last_loss"),
                   dpo_seconds=round(float(dpo_metrics.get("sample_seconds") or 0)
                                     + float(dpo_metrics.get("train_seconds") or 0), 2))
    return row


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "model"


def _config_label(cfg: SweepConfig, config: str) -> str:
    """How results.csv names a point's config: as the sweep gives it, or 'auto: <shipped file>'."""
    return f"{AUTO_CONFIG}: {Path(config).name}" if cfg.train_config == AUTO_CONFIG else config


def point_rows(out_dir: Path, rows: list[dict[str, str]]) -> dict[str, list[dict[str, Any]]]:
    """The per-row results of every point of results.csv that has them (``<gen_dir>/eval``; before
    gen_dir was recorded, ``points/<id>/gen/eval``)."""
    from kosql.data.rows import iter_jsonl

    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        gen = out_dir / (r.get("gen_dir") or f"points/{r.get('point')}/gen")
        path = gen / "eval" / "per_row.jsonl"
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


def summarize_point(rows: list[dict[str, Any]], train_metrics: dict[str, Any], run_dir: Path | None) -> dict[str, Any]:
    """The results.csv row of one point (``run_dir`` None: a 'base' point, nothing trained)."""
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
        "run_dir": "" if run_dir is None else str(run_dir),
    }


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
    is refused too: its test prompts would not look like its training prompts. With ``train_config:
    auto`` a point whose model has no shipped config fails here, naming the field."""
    from kosql.errors import UserError
    from kosql.models.registry import BACKEND_CHOICES
    from kosql.pipeline.sweep import expand_points

    if cfg.backend not in BACKEND_CHOICES:
        raise UserError(f"sweep field 'backend': unknown backend {cfg.backend!r} (use {', '.join(BACKEND_CHOICES)}).")
    for point in expand_points(cfg):
        config = point_train_config(cfg, point)
        train = str(train_config(config, point.override_args(cfg.train_overrides)).data.train)
        bundled = train.startswith("bundled:") and cfg.test_data.startswith("bundled:")
        if bundled and train.endswith("+comments") != cfg.test_data.endswith("+comments"):
            raise UserError(f"test_data: point '{point.label}' trains on {train} but tests on {cfg.test_data}; "
                            "use the same DDL style for both (set test_data, or data.train in train_overrides).")


def check_models_installed(cfg: SweepConfig) -> None:
    """Refuse, before any point runs, an embedded model of the sweep whose PyPI package is not
    installed (with the pip command that installs it); the files themselves are checked on loading."""
    import importlib.util

    from kosql.errors import UserError
    from kosql.models.embedded import EMBEDDED_MODELS
    from kosql.pipeline.sweep import expand_points

    for point in expand_points(cfg):
        name = str(train_config(point_train_config(cfg, point), point.override_args(cfg.train_overrides)).model.name)
        model = EMBEDDED_MODELS.get(name.strip())
        if model is not None and importlib.util.find_spec(model.package) is None:
            raise UserError(f"The sweep's model {model.name} is not installed: run `{model.pip_install}`.")


def run_sweep_for_real(cfg: SweepConfig, out_dir: Path, console: Console | None = None) -> Path:
    """Run the sweep and write results.csv, summary.md and plots into ``out_dir``."""
    console = console or Console()

    def on_point(i: int, n: int, point: SweepPoint, state: str) -> None:
        console.rule(f"[bold]point {i}/{n}: {point.label}")
        console.print(f"[dim]{state}[/]")

    validate_points(cfg)
    check_models_installed(cfg)
    rows = run_sweep(cfg, out_dir, make_point_runner(cfg, console), on_point)
    paired = paired_markdown(rows, point_rows(out_dir, rows))
    (out_dir / "summary.md").write_text(summary_markdown(rows, cfg) + "\n" + (paired + "\n" if paired else "")
                                        + "\n".join(f"![{p.stem}]({p.name})" for p in plot_sweep(rows, cfg, out_dir))
                                        + "\n", encoding="utf-8")
    console.print(summary_markdown(rows, cfg))
    if paired:
        console.print(paired)
    return out_dir
