"""Sweeps: a grid of train -> generate -> eval points over any config fields (the seed's tables).

A sweep config (YAML) names the base SFT config and the fields to vary:

    grid:   {data.fraction: [0.2, 0.4, 0.6, 0.8, 1.0]}     # cartesian product
    zip:    {lora.r: [8, 16, 32, 64], lora.alpha: [16, 32, 64, 128]}   # varied together
    stage:  [base, sft, sft+dpo]                            # optional, also part of the grid

Each point's overrides are applied to the base config exactly like ``kosql train key=value``;
``train_config: auto`` starts each point from its model's shipped CPU config. A 'base' point scores
the untrained model (one per model and prompt format, whatever else the grid varies).
Results are appended to ``results.csv`` as points finish; a rerun skips finished points.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kosql.errors import UserError

RESULT_FIELDS: tuple[str, ...] = (
    "point", "label", "stage", "ex", "ex_lo", "ex_hi", "ex_heldout", "ex_in_domain", "ts_ex", "em",
    "n", "train_seconds", "train_rows", "train_steps", "train_tokens", "final_loss", "run_dir",
    "dpo_pairs", "dpo_seconds", "dpo_final_loss",  # 'sft+dpo' points: the DPO stage on top of the SFT run
    "model", "prompt_format", "backend", "train_config", "gen_seconds", "gen_dir",  # what generated, where
)
STAGES: tuple[str, ...] = ("base", "sft", "sft+dpo")
AUTO_CONFIG = "auto"  # train_config: each point's model's shipped CPU config
# The fields a 'base' point keeps of the grid: what the untrained model's evaluation depends on (its
# prompt format is its training config's; with train_config 'auto' the method picks that config).
BASE_FIELDS: tuple[str, ...] = ("model.name", "data.prompt_format")


@dataclass
class SweepConfig:
    """A grid of experiments over SFT config fields."""

    name: str = field(metadata={"help": "Name of the sweep (used for the output folder)."})
    train_config: str = field(metadata={"help": "Path of the base SFT config every point starts from, or 'auto': "
                                                "each point's model's shipped CPU config (its model.name)."})
    grid: dict[str, list[Any]] = field(default_factory=dict,
                                       metadata={"help": "Fields varied as a cartesian product."})
    zip: dict[str, list[Any]] = field(default_factory=dict,
                                      metadata={"help": "Fields varied together (equal-length lists)."})
    stage: list[str] = field(default_factory=lambda: ["sft"],
                             metadata={"help": "'base', 'sft' and/or 'sft+dpo' for each point ('base' scores the "
                                               "untrained model, once per model; 'sft+dpo' continues the 'sft' "
                                               "point's run: trained once)."})
    train_overrides: list[str] = field(default_factory=list,
                                       metadata={"help": "key=value overrides applied to every point."})
    dpo_config: str | None = field(default=None, metadata={"help": "DPO config for 'sft+dpo' points."})
    test_data: str = field(default="bundled:small",
                           metadata={"help": "Test rows: a JSONL/CSV path or 'bundled:<size>'."})
    test_per_split: int = field(default=50, metadata={"help": "Test rows taken from each split."})
    max_new_tokens: int = field(default=96, metadata={"help": "Generation length limit."})
    batch_size: int = field(default=16, metadata={"help": "Generation batch size."})
    backend: str = field(default="auto", metadata={"help": "Generation backend: auto (per point and adapter: llama.cpp "
                                                         "for the embedded Qwen models when installed, else hf), hf, "
                                                         "llamacpp, vllm or fake."})
    seed: int = field(default=0, metadata={"help": "Seed for the test subset."})


@dataclass(frozen=True)
class SweepPoint:
    """One experiment: the overrides applied to the base config, and the training stage."""

    overrides: tuple[tuple[str, Any], ...]
    stage: str = "sft"

    @property
    def point_id(self) -> str:
        blob = json.dumps([list(self.overrides), self.stage], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:10]

    @property
    def label(self) -> str:
        parts = [f"{k}={v}" for k, v in self.overrides]
        if self.stage != "sft":
            parts.append(self.stage)
        return ", ".join(parts) or "base config"

    def override_args(self, common: Sequence[str] = ()) -> list[str]:
        return [*common, *(f"{k}={_yaml_value(v)}" for k, v in self.overrides)]


def _yaml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def expand_points(cfg: SweepConfig) -> list[SweepPoint]:
    """All points of the sweep, in a stable order."""
    lengths = {len(v) for v in cfg.zip.values()}
    if len(lengths) > 1:
        raise UserError("sweep field 'zip': all lists must have the same length.")
    zipped: list[list[tuple[str, Any]]] = [[]]
    if cfg.zip:
        keys = list(cfg.zip)
        zipped = [list(zip(keys, vals, strict=True)) for vals in zip(*cfg.zip.values(), strict=True)]
    grid_keys = list(cfg.grid)
    for key, values in cfg.grid.items():
        if not isinstance(values, list) or not values:
            raise UserError(f"sweep field 'grid.{key}': expected a non-empty list of values.")
    combos = list(itertools.product(*(cfg.grid[k] for k in grid_keys))) if grid_keys else [()]
    for stage in cfg.stage:
        if stage not in STAGES:
            raise UserError(f"sweep field 'stage': unknown stage {stage!r} (use 'base', 'sft' or 'sft+dpo').")
    points: list[SweepPoint] = []
    for stage in cfg.stage:
        for combo in combos:
            for z in zipped:
                overrides = tuple(zip(grid_keys, combo, strict=True)) + tuple(z)
                point = SweepPoint(overrides=base_overrides(cfg, overrides) if stage == "base" else overrides,
                                   stage=stage)
                if point not in points:  # a 'base' point once per model (and prompt format)
                    points.append(point)
    return points


def base_overrides(cfg: SweepConfig, overrides: tuple[tuple[str, Any], ...]) -> tuple[tuple[str, Any], ...]:
    """The overrides a 'base' point keeps: those its evaluation depends on (:data:`BASE_FIELDS`, and
    model.method under ``train_config: auto``, since the method picks the config)."""
    keep = BASE_FIELDS + (("model.method",) if cfg.train_config == AUTO_CONFIG else ())
    return tuple((k, v) for k, v in overrides if k in keep)


def point_train_config(cfg: SweepConfig, point: SweepPoint) -> str:
    """The SFT config file ``point`` starts from: ``cfg.train_config``, or with 'auto' the CPU config
    shipped for the point's model.name (and model.method, when set; else the model's best method).

    Raises UserError naming 'train_config' when 'auto' has no model or no shipped config for it."""
    if cfg.train_config != AUTO_CONFIG:
        return cfg.train_config
    from kosql.pipeline.steps import CPU_CONFIGS, default_method, default_train_config

    given = {**dict(_split_override(o) for o in cfg.train_overrides), **{k: str(v) for k, v in point.overrides}}
    model = given.get("model.name")
    if not model:
        raise UserError("sweep field 'train_config': 'auto' takes each point's model's shipped config, so set "
                        "model.name in grid, zip or train_overrides (or name a config file).")
    method = given.get("model.method") or default_method(model)
    if (model, method) not in CPU_CONFIGS:
        shipped = ", ".join(f"{m} ({k})" for m, k in sorted(CPU_CONFIGS))
        raise UserError(f"sweep field 'train_config': 'auto' has no shipped CPU config for model '{model}' with "
                        f"method '{method}' (shipped: {shipped}); name a config file instead.")
    return default_train_config(model, method)


def _split_override(item: str) -> tuple[str, str]:
    key, _, value = item.partition("=")
    return key.strip(), value.strip()


def read_results(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _rewrite_with_fields(path: Path, fields: list[str]) -> None:
    """Rewrite results.csv with the header ``fields`` (a superset of its own), atomically; the rows
    already there keep their values and get empty cells in the new columns."""
    rows = read_results(path)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows({k: r.get(k) or "" for k in fields} for r in rows)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def append_result(path: Path, row: dict[str, Any], extra_fields: Sequence[str]) -> None:
    """Append one finished point to results.csv (header written once) and flush it to disk.

    A file begun with an older header (an older kosql, another sweep config) is first rewritten with
    the union of its columns and this version's, so no new column is dropped.
    """
    fields = list(RESULT_FIELDS) + [f for f in extra_fields if f not in RESULT_FIELDS]
    new = not path.exists() or path.stat().st_size == 0
    if not new:
        with path.open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh), [])
        union = header + [f for f in fields if f not in header]
        if header and union != header:
            _rewrite_with_fields(path, union)
        fields = union if header else fields
        new = not header
    with path.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow({k: row.get(k, "") for k in fields})
        fh.flush()


PointRunner = Callable[[SweepPoint, Path], dict[str, Any]]


def run_sweep(cfg: SweepConfig, out_dir: Path, runner: PointRunner,
              on_point: Callable[[int, int, SweepPoint, str], None] | None = None) -> list[dict[str, str]]:
    """Run every unfinished point with ``runner`` and return all rows of results.csv."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results_path = out_dir / "results.csv"
    done = {r["point"] for r in read_results(results_path)}
    points = expand_points(cfg)
    varied = sorted({k for p in points for k, _ in p.overrides})
    for i, point in enumerate(points, start=1):
        if point.point_id in done:
            if on_point:
                on_point(i, len(points), point, "skipped (already in results.csv)")
            continue
        if on_point:
            on_point(i, len(points), point, "running")
        row = runner(point, out_dir / "points" / point.point_id)
        row.update({"point": point.point_id, "label": point.label, "stage": point.stage})
        row.update({k: v for k, v in point.overrides})
        append_result(results_path, row, varied)
    return read_results(results_path)
