"""Side-by-side comparison of evaluated models (the seed's results table), from per-row results.

Input: for each model name, the per-row dicts written by ``kosql eval`` (``per_row.jsonl``):
``ex`` / ``ts_ex`` / ``em`` are True, False or None (None = not scorable, e.g. a gold error or no
database; such rows are left out of that metric's denominator and counted in ``n``).

Every pair of models is also compared row by row on the rows both scored (the exact McNemar test of
:mod:`kosql.evaluate.paired`): on the same rows, overlapping intervals do not mean "no difference".
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kosql.evaluate.paired import PAIRED_HEADER, PairedResult, format_p, paired_line, paired_test
from kosql.evaluate.stats import wilson_interval

METRICS: tuple[tuple[str, str], ...] = (("ex", "EX"), ("ts_ex", "TS-EX"), ("em", "EM"))
SPLITS: tuple[tuple[str, str], ...] = (("heldout_domain", "held-out domains"), ("in_domain", "in-domain"),
                                       ("handwritten", "hand-written"))
BUNDLED_SPLITS = ("heldout_domain", "in_domain")  # the "bundled test" slice when other sets are scored too
HARDNESS: tuple[str, ...] = ("easy", "medium", "hard", "extra")


def wilson(k: int, n: int) -> tuple[float, float]:
    """95 % Wilson score interval for k successes out of n ((0, 0) when n is 0)."""
    return wilson_interval(k, n)


@dataclass
class Cell:
    """One accuracy: k correct out of n scorable rows, with its 95 % Wilson interval."""

    k: int
    n: int

    @property
    def acc(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def ci(self) -> tuple[float, float]:
        return wilson(self.k, self.n)

    def text(self) -> str:
        if not self.n:
            return "—"
        lo, hi = self.ci
        return f"{100 * self.k / self.n:.1f} % [{100 * lo:.1f}, {100 * hi:.1f}] (n={self.n})"

    def short(self) -> str:
        return "—" if not self.n else f"{100 * self.k / self.n:.1f}"


def cell(rows: Iterable[dict[str, Any]], metric: str) -> Cell:
    values = [r.get(metric) for r in rows]
    scored = [v for v in values if v is not None]
    return Cell(k=sum(1 for v in scored if bool(v)), n=len(scored))


@dataclass
class Comparison:
    """Accuracies per model, overall and by slice (split, hardness)."""

    models: list[str]
    slices: list[tuple[str, str]]  # (slice id, label)
    cells: dict[tuple[str, str, str], Cell] = field(default_factory=dict)  # (model, slice, metric)
    paired: list[tuple[str, str, PairedResult]] = field(default_factory=list)  # (A, B, test) on all rows

    def get(self, model: str, slice_id: str, metric: str) -> Cell:
        return self.cells.get((model, slice_id, metric), Cell(0, 0))


def _slice_rows(rows: Sequence[dict[str, Any]], slice_id: str) -> list[dict[str, Any]]:
    if slice_id == "all":
        return list(rows)
    if slice_id == "bundled":
        return [r for r in rows if r.get("split") in BUNDLED_SPLITS]
    kind, _, value = slice_id.partition(":")
    return [r for r in rows if str(r.get(kind) or "") == value]


def compare(per_model: Mapping[str, Sequence[dict[str, Any]]]) -> Comparison:
    """Build the comparison of several models' per-row results."""
    slices: list[tuple[str, str]] = [("all", "all")]
    all_rows = [r for rows in per_model.values() for r in rows]
    if any(r.get("split") == "handwritten" for r in all_rows) and any(r.get("split") in BUNDLED_SPLITS
                                                                      for r in all_rows):
        slices.append(("bundled", "bundled test"))
    for value, label in SPLITS:
        if any(r.get("split") == value for r in all_rows):
            slices.append((f"split:{value}", label))
    for h in HARDNESS:
        if any(r.get("hardness") == h for r in all_rows):
            slices.append((f"hardness:{h}", h))
    comp = Comparison(models=list(per_model), slices=slices)
    for model, rows in per_model.items():
        for slice_id, _ in slices:
            sub = _slice_rows(rows, slice_id)
            for metric, _ in METRICS:
                comp.cells[(model, slice_id, metric)] = cell(sub, metric)
    names = list(per_model)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            for metric, _ in METRICS:
                res = paired_test(per_model[a], per_model[b], metric)
                if res.n:
                    comp.paired.append((a, b, res))
            for slice_id, label in slices:  # each set on its own when several were scored
                if slice_id in ("bundled", "split:handwritten"):
                    res = paired_test(_slice_rows(per_model[a], slice_id), _slice_rows(per_model[b], slice_id), "ex")
                    if res.n:
                        comp.paired.append((f"{a} [{label}]", f"{b} [{label}]", res))
    return comp


def paired_table(comp: Comparison) -> str:
    """Markdown table of the paired tests (empty string when there is one model)."""
    if not comp.paired:
        return ""
    return "\n".join([PAIRED_HEADER] + [paired_line(a, b, res) for a, b, res in comp.paired])


def markdown_table(comp: Comparison, metric: str = "ex") -> str:
    """One Markdown table: models as rows, slices as columns, accuracy with CI."""
    head = "| model | " + " | ".join(label for _, label in comp.slices) + " |"
    sep = "|---" * (len(comp.slices) + 1) + "|"
    lines = [head, sep]
    for model in comp.models:
        vals = [comp.get(model, s, metric).text() for s, _ in comp.slices]
        lines.append(f"| {model} | " + " | ".join(vals) + " |")
    return "\n".join(lines)


def headline_table(comp: Comparison) -> str:
    """The seed-style results table: one row per model, EX / TS-EX / EM overall with 95 % CI."""
    lines = ["| model | " + " | ".join(name for _, name in METRICS) + " |", "|---|---|---|---|"]
    for model in comp.models:
        lines.append(f"| {model} | " + " | ".join(comp.get(model, "all", m).text() for m, _ in METRICS) + " |")
    return "\n".join(lines)


def plot_comparison(comp: Comparison, out_dir: Path) -> list[Path]:
    """Bar charts (PNG) of EX by split and by hardness for every model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths: list[Path] = []
    groups = {
        "ex_by_split.png": [s for s in comp.slices if s[0] == "all" or s[0].startswith("split:")],
        "ex_by_hardness.png": [s for s in comp.slices if s[0].startswith("hardness:")],
    }
    for name, slices in groups.items():
        if not slices:
            continue
        fig, ax = plt.subplots(figsize=(7, 3.6))
        width = 0.8 / max(1, len(comp.models))
        for i, model in enumerate(comp.models):
            xs: list[float] = []
            ys: list[float] = []
            errs: list[list[float]] = [[], []]
            for j, (sid, _) in enumerate(slices):
                c = comp.get(model, sid, "ex")
                acc = 100 * (c.acc or 0.0)
                lo, hi = c.ci
                xs.append(j + i * width)
                ys.append(acc)
                errs[0].append(max(0.0, acc - 100 * lo) if c.n else 0.0)
                errs[1].append(max(0.0, 100 * hi - acc) if c.n else 0.0)
            ax.bar(xs, ys, width=width, yerr=errs, capsize=3, label=model)
        ax.set_xticks([j + width * (len(comp.models) - 1) / 2 for j in range(len(slices))])
        ax.set_xticklabels([label for _, label in slices])
        ax.set_ylabel("execution accuracy (%)")
        ax.set_ylim(0, 105)
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        path = out_dir / name
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def write_comparison(comp: Comparison, out_dir: Path, *, title: str, notes: str = "") -> dict[str, Path]:
    """Write report.md, report.html and the PNG plots into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pngs = plot_comparison(comp, out_dir)
    md = [f"# {title}", ""]
    if notes:
        md += [notes, ""]
    md += ["## Results (95 % Wilson CI)", "", headline_table(comp), ""]
    if comp.paired:
        md += ["## Paired comparison (same rows, exact McNemar test)", "",
               "Rows scored for both models; only the rows where exactly one of them is right count. "
               "p < 0.05: the difference is unlikely to be chance.", "", paired_table(comp), ""]
    for metric, name in METRICS:
        md += [f"## {name} by split and hardness", "", markdown_table(comp, metric), ""]
    md += [f"![{p.stem}]({p.name})" for p in pngs]
    md_text = "\n".join(md) + "\n"
    (out_dir / "report.md").write_text(md_text, encoding="utf-8")
    body = [f"<h1>{html.escape(title)}</h1>"]
    if notes:
        body.append(f"<pre>{html.escape(notes)}</pre>")
    body.append(_html_table(comp, "all-metrics"))
    if comp.paired:
        body.append("<h2>Paired comparison (same rows, exact McNemar test)</h2>")
        body.append(_html_paired(comp))
    for metric, name in METRICS:
        body.append(f"<h2>{name} by split and hardness</h2>")
        body.append(_html_table(comp, metric))
    body += [f'<img src="{p.name}" alt="{p.stem}">' for p in pngs]
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>" + html.escape(title)
            + "</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child"
            "{text-align:left}</style></head><body>" + "\n".join(body) + "</body></html>\n")
    (out_dir / "report.html").write_text(page, encoding="utf-8")
    return {"md": out_dir / "report.md", "html": out_dir / "report.html",
            **{p.stem: p for p in pngs}}


def _html_paired(comp: Comparison) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("A", "B", "metric", "rows", "only A right", "only B right",
                                              "A − B", "McNemar p", "verdict"))
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
            a, b, res.metric, res.n, res.a_only, res.b_only,
            "—" if res.difference is None else f"{100 * res.difference:+.1f} pt", format_p(res.p_value),
            res.verdict())) + "</tr>" for a, b, res in comp.paired)
    return f"<table><tr>{head}</tr>{rows}</table>"


def _html_table(comp: Comparison, metric: str) -> str:
    if metric == "all-metrics":
        head = "".join(f"<th>{name}</th>" for _, name in METRICS)
        rows = "".join(
            f"<tr><td>{html.escape(m)}</td>"
            + "".join(f"<td>{html.escape(comp.get(m, 'all', k).text())}</td>" for k, _ in METRICS)
            + "</tr>" for m in comp.models)
        return f"<table><tr><th>model</th>{head}</tr>{rows}</table>"
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in comp.slices)
    rows = "".join(
        f"<tr><td>{html.escape(m)}</td>"
        + "".join(f"<td>{html.escape(comp.get(m, s, metric).text())}</td>" for s, _ in comp.slices)
        + "</tr>" for m in comp.models)
    return f"<table><tr><th>model</th>{head}</tr>{rows}</table>"


def print_comparison(comp: Comparison, *, title: str = "kosql results") -> None:
    """The same table on the terminal (rich): a row per model and slice, EX / TS-EX / EM columns."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    table.add_column("model")
    table.add_column("slice")
    for _, name in METRICS:
        table.add_column(f"{name} %", justify="right")
    table.add_column("n", justify="right")
    for model in comp.models:
        for i, (sid, label) in enumerate(comp.slices):
            cells = [comp.get(model, sid, metric) for metric, _ in METRICS]
            table.add_row(model if i == 0 else "", label, *[_rich_cell(c) for c in cells],
                          str(max(c.n for c in cells)), end_section=i == len(comp.slices) - 1)
    console = Console()
    console.print(table)
    for a, b, res in comp.paired:
        if res.metric == "ex" or not any(r.metric == "ex" for _, _, r in comp.paired):
            console.print(f"paired {res.metric}: {a} vs {b} on {res.n} rows: only A right {res.a_only}, "
                          f"only B right {res.b_only}, McNemar p = {format_p(res.p_value)} ({res.verdict()})")


def _rich_cell(c: Cell) -> str:
    if not c.n:
        return "—"
    lo, hi = c.ci
    return f"{100 * (c.acc or 0):.1f} [{100 * lo:.0f}–{100 * hi:.0f}]"
