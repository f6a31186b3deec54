"""A sweep's report: the summary table, the paired comparisons and the plots, from results.csv rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kosql.pipeline.sweep import SweepConfig


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
    backend = any(r.get("backend") for r in rows)
    head = varied + ["stage", "EX % [95 % CI]", "EX held-out %", "EX in-domain %", "EM %",
                     "train s", "final loss"] + (["DPO pairs", "DPO s", "DPO final loss"] if dpo else []) \
        + (["backend"] if backend else [])
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
        if backend:
            cells.append(r.get("backend") or "—")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _point_name(r: Mapping[str, str]) -> str:
    stage, label = r.get("stage") or "sft", str(r.get("label") or r.get("point"))
    return label if stage == "sft" or label.endswith(stage) else f"{label} ({stage})"


def paired_markdown(rows: list[dict[str, str]], per_row: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """Row by row on the same test rows (exact McNemar test of EX, :mod:`kosql.evaluate.paired`):
    each trained point against its untrained model (a 'base' point with the same model and prompt
    format), and every trained point against the first one; ``per_row`` maps a point id to its per-row
    results. Empty when no pair has them."""
    have = [r for r in rows if r.get("point") in per_row]
    bases = {_base_key(r): r for r in have if r.get("stage") == "base"}
    trained = [r for r in have if r.get("stage") != "base"]
    vs_base = [(r, bases[_base_key(r)]) for r in trained if _base_key(r) in bases]
    group = trained or [r for r in have if r.get("stage") == "base"]  # a sweep of base points alone: among them
    vs_first = [(r, group[0]) for r in group[1:]]
    sections = [_paired_section("Fine-tuned vs base model", vs_base, per_row),
                _paired_section("Paired comparison with the first point", vs_first, per_row)]
    return "\n".join(s for s in sections if s)


def _base_key(r: Mapping[str, str]) -> tuple[str, str]:
    return str(r.get("model") or ""), str(r.get("prompt_format") or "")


def _paired_section(title: str, pairs: list[tuple[dict[str, str], dict[str, str]]],
                    per_row: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    from kosql.evaluate.paired import PAIRED_HEADER, paired_line, paired_test

    if not pairs:
        return ""
    lines = [f"## {title} (same test rows, exact McNemar test of EX)", "",
             "Only the rows where exactly one of the two points is right count; p < 0.05: the "
             "difference is unlikely to be chance.", "", PAIRED_HEADER]
    for a, b in pairs:
        res = paired_test(per_row[a["point"]], per_row[b["point"]], "ex")
        lines.append(paired_line(_point_name(a), _point_name(b), res))
    return "\n".join(lines) + "\n"


def plot_sweep(rows: list[dict[str, str]], cfg: SweepConfig, out_dir: Path) -> list[Path]:
    """One PNG per varied field: EX (with CI) against the field's values, a line per stage for numbers,
    bars side by side for names (data files, models); a sweep that varies only the stage gets one
    bar chart by stage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    keys = [k for k in list(cfg.grid) + list(cfg.zip)[:1] if len({r.get(k) for r in rows} - {None, ""}) > 1]
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
        if r.get("stage", "sft") != stage or ex is None or (key != "stage" and r.get(key) in (None, "")):
            continue  # another stage, unfinished, or a point without the field (a 'base' point of a training field)
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
    names = list(dict.fromkeys(str(p[0]) for pts in series.values() for p in pts))  # in the sweep's order
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
    stage = next((s for s in cfg.stage if s != "base"), "sft")
    pts = [(_f(r.get(key)), _f(r.get("final_loss"))) for r in rows if r.get("stage", "sft") == stage]
    pts = [(x, y) for x, y in pts if x is not None and y is not None]
    if not pts:
        return
    pts.sort()
    ax2 = ax.twinx()
    ax2.plot([p[0] for p in pts], [p[1] for p in pts], "--", color="tab:gray", marker="x",
             label=f"final training loss ({stage})")
    ax2.set_ylabel("final training loss")
    ax2.set_ylim(bottom=0)
    ax2.legend(fontsize=8, loc="upper right")
