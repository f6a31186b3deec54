"""Sweeps: a grid of train -> generate -> eval points over any config fields (the seed's tables).

A sweep config (YAML) names the base SFT config and the fields to vary:

    grid:   {data.fraction: [0.2, 0.4, 0.6, 0.8, 1.0]}     # cartesian product
    zip:    {lora.r: [8, 16, 32, 64], lora.alpha: [16, 32, 64, 128]}   # varied together
    stage:  [sft, sft+dpo]                                  # optional, also part of the grid

Each point's overrides are applied to the base config exactly like ``kosql train key=value``.
Results are appended to ``results.csv`` as points finish; a rerun skips finished points.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kosql.errors import UserError

RESULT_FIELDS: tuple[str, ...] = (
    "point", "label", "stage", "ex", "ex_lo", "ex_hi", "ex_heldout", "ex_in_domain", "ts_ex", "em",
    "n", "train_seconds", "train_rows", "train_steps", "train_tokens", "final_loss", "run_dir",
    "dpo_pairs", "dpo_seconds", "dpo_final_loss",  # 'sft+dpo' points: the DPO stage on top of the SFT run
)


@dataclass
class SweepConfig:
    """A grid of experiments over SFT config fields."""

    name: str = field(metadata={"help": "Name of the sweep (used for the output folder)."})
    train_config: str = field(metadata={"help": "Path of the base SFT config every point starts from."})
    grid: dict[str, list[Any]] = field(default_factory=dict,
                                       metadata={"help": "Fields varied as a cartesian product."})
    zip: dict[str, list[Any]] = field(default_factory=dict,
                                      metadata={"help": "Fields varied together (equal-length lists)."})
    stage: list[str] = field(default_factory=lambda: ["sft"],
                             metadata={"help": "'sft' and/or 'sft+dpo' for each point ('sft+dpo' continues the "
                                               "'sft' point's run: trained once)."})
    train_overrides: list[str] = field(default_factory=list,
                                       metadata={"help": "key=value overrides applied to every point."})
    dpo_config: str | None = field(default=None, metadata={"help": "DPO config for 'sft+dpo' points."})
    test_data: str = field(default="bundled:small",
                           metadata={"help": "Test rows: a JSONL/CSV path or 'bundled:<size>'."})
    test_per_split: int = field(default=50, metadata={"help": "Test rows taken from each split."})
    max_new_tokens: int = field(default=96, metadata={"help": "Generation length limit."})
    batch_size: int = field(default=16, metadata={"help": "Generation batch size."})
    backend: str = field(default="hf", metadata={"help": "Generation backend: hf, vllm or fake."})
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
        if stage not in ("sft", "sft+dpo"):
            raise UserError(f"sweep field 'stage': unknown stage {stage!r} (use 'sft' or 'sft+dpo').")
    points = []
    for stage in cfg.stage:
        for combo in combos:
            for z in zipped:
                overrides = tuple(zip(grid_keys, combo, strict=True)) + tuple(z)
                points.append(SweepPoint(overrides=overrides, stage=stage))
    return points


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


def _f(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def summary_markdown(rows: list[dict[str, str]], cfg: SweepConfig) -> str:
    """Markdown table of all points (EX with CI, per split, EM, training time and loss; the DPO stage's
    pairs, seconds (sampling + training) and loss when the sweep has 'sft+dpo' points)."""
    varied = list(cfg.grid) + list(cfg.zip)
    dpo = any(r.get("stage") == "sft+dpo" for r in rows)
    head = varied + ["stage", "EX % [95 % CI]", "EX held-out %", "EX in-domain %", "EM %",
                     "train s", "final loss"] + (["DPO pairs", "DPO s", "DPO final loss"] if dpo else [])
    lines = [f"# Sweep: {cfg.name}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        ex, lo, hi = _f(r.get("ex")), _f(r.get("ex_lo")), _f(r.get("ex_hi"))
        ex_txt = "—" if ex is None else f"{100 * ex:.1f} [{100 * (lo or 0):.1f}, {100 * (hi or 0):.1f}]"
        cells = [str(r.get(k, "")) for k in varied] + [r.get("stage", ""), ex_txt]
        for k in ("ex_heldout", "ex_in_domain", "em"):
            v = _f(r.get(k))
            cells.append("—" if v is None else f"{100 * v:.1f}")
        t = _f(r.get("train_seconds"))
        cells.append("—" if t is None else f"{t:.0f}")
        loss = _f(r.get("final_loss"))
        cells.append("—" if loss is None else f"{loss:.3f}")
        if dpo:
            pairs, secs, dloss = _f(r.get("dpo_pairs")), _f(r.get("dpo_seconds")), _f(r.get("dpo_final_loss"))
            cells += ["—" if pairs is None else f"{pairs:.0f}", "—" if secs is None else f"{secs:.0f}",
                      "—" if dloss is None else f"{dloss:.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _point_name(r: Mapping[str, str]) -> str:
    stage = r.get("stage") or "sft"
    return f"{r.get('label') or r.get('point')}" + ("" if stage == "sft" else f" ({stage})")


def paired_markdown(rows: list[dict[str, str]], per_row: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """Every point against the first one, row by row on the same test rows (exact McNemar test of EX,
    :mod:`kosql.evaluate.paired`); ``per_row`` maps a point id to its per-row results. Empty when
    fewer than two points have them."""
    from kosql.evaluate.paired import PAIRED_HEADER, paired_line, paired_test

    have = [r for r in rows if r.get("point") in per_row]
    if len(have) < 2:
        return ""
    base = have[0]
    lines = ["## Paired comparison with the first point (same test rows, exact McNemar test of EX)", "",
             "Only the rows where exactly one of the two points is right count; p < 0.05: the "
             "difference is unlikely to be chance.", "", PAIRED_HEADER]
    for r in have[1:]:
        res = paired_test(per_row[r["point"]], per_row[base["point"]], "ex")
        lines.append(paired_line(_point_name(r), _point_name(base), res))
    return "\n".join(lines) + "\n"


def plot_sweep(rows: list[dict[str, str]], cfg: SweepConfig, out_dir: Path) -> list[Path]:
    """One PNG per varied field: EX (with CI) against the field's values, a line per stage for numbers,
    bars side by side for names (data files, models); a sweep that varies only the stage gets one
    bar chart by stage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    keys = [k for k in list(cfg.grid) + list(cfg.zip)[:1] if len({r.get(k) for r in rows}) > 1]
    if not keys and len({r.get("stage", "sft") for r in rows}) > 1:
        keys = ["stage"]
    for key in keys:
        fig, ax = plt.subplots(figsize=(6, 3.6))
        series = {stage: _points(rows, key, stage) for stage in cfg.stage}
        series = {stage: pts for stage, pts in series.items() if pts}
        if key == "stage":  # one bar per stage, side by side without a legend
            series = {"_stages": [p for pts in series.values() for p in pts]}
        numeric = all(isinstance(p[0], float) for pts in series.values() for p in pts)
        if numeric:
            for stage, pts in series.items():
                _line(ax, pts, stage, log2=key in cfg.zip or "lora.r" in key)
            _plot_loss(ax, rows, cfg, key)
        else:
            _bars(ax, series)
        ax.set_xlabel(key)
        ax.set_ylabel("execution accuracy (%)")
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="upper left")
        ax.set_title(f"{cfg.name}: EX by {key}")
        fig.tight_layout()
        path = out_dir / f"ex_by_{key.replace('.', '_')}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


_Point = tuple[Any, float, float | None, float | None]  # x, EX, CI low, CI high


def _points(rows: list[dict[str, str]], key: str, stage: str) -> list[_Point]:
    """(x, EX, CI) of one stage's finished points; x a number when the value reads as one."""
    pts: list[_Point] = []
    for r in rows:
        ex = _f(r.get("ex"))
        if r.get("stage", "sft") != stage or ex is None:
            continue
        x: Any = stage if key == "stage" else _f(r.get(key))
        pts.append((x if x is not None else r.get(key, ""), ex, _f(r.get("ex_lo")), _f(r.get("ex_hi"))))
    return pts


def _errors(pts: list[_Point]) -> list[list[float]]:
    return [[100 * (p[1] - (p[2] if p[2] is not None else p[1])) for p in pts],
            [100 * ((p[3] if p[3] is not None else p[1]) - p[1]) for p in pts]]


def _line(ax: Any, pts: list[_Point], stage: str, *, log2: bool) -> None:
    pts = sorted(pts, key=lambda p: p[0])
    xs = [p[0] for p in pts]
    ax.errorbar(xs, [100 * p[1] for p in pts], yerr=_errors(pts), marker="o", capsize=3, label=stage)
    if log2:
        ax.set_xscale("log", base=2)
        ax.set_xticks(xs)
        ax.set_xticklabels([f"{x:g}" for x in xs])


def _bars(ax: Any, series: dict[str, list[_Point]]) -> None:
    """Bars with CI whiskers and value labels: one group per value, one bar per stage."""
    names = sorted({str(p[0]) for pts in series.values() for p in pts})
    width = 0.8 / max(1, len(series))
    for k, (stage, pts) in enumerate(series.items()):
        by_name = {str(p[0]): p for p in pts}
        xs = [i + (k - (len(series) - 1) / 2) * width for i, n in enumerate(names) if n in by_name]
        kept = [by_name[n] for n in names if n in by_name]
        ys = [100 * p[1] for p in kept]
        ax.bar(xs, ys, width * 0.9, yerr=_errors(kept), capsize=3, label=stage, alpha=0.85)
        for x, y in zip(xs, ys, strict=True):  # beside the whisker, at the bar's top
            ax.annotate(f"{y:.1f}", (x, y), xytext=(4, 2), textcoords="offset points", fontsize=8)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, fontsize=8)


def _plot_loss(ax: Any, rows: list[dict[str, str]], cfg: SweepConfig, key: str) -> None:
    """The final training loss of each point on a second axis (dashed), when recorded."""
    pts = [(_f(r.get(key)), _f(r.get("final_loss"))) for r in rows if r.get("stage", "sft") == cfg.stage[0]]
    pts = [(x, y) for x, y in pts if x is not None and y is not None]
    if not pts:
        return
    pts.sort()
    ax2 = ax.twinx()
    ax2.plot([p[0] for p in pts], [p[1] for p in pts], "--", color="tab:gray", marker="x",
             label=f"final training loss ({cfg.stage[0]})")
    ax2.set_ylabel("final training loss")
    ax2.set_ylim(bottom=0)
    ax2.legend(fontsize=8, loc="upper right")
