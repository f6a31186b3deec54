"""Write an evaluation's outputs: metrics.json, per_row.jsonl, report.md, report.html, PNG charts.

The HTML report is one self-contained file (the PNG bar charts are embedded as base64); the PNGs
are also written next to it. matplotlib runs with the Agg backend, imported only here.
"""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path
from typing import Any

from kosql.data.rows import write_jsonl

_EXAMPLES_PER_CATEGORY = 3
_CATEGORY_HELP = {
    "wrong_result": "ran, but returned a different result than gold",
    "empty_prediction": "no SQL was predicted",
    "extra_text": "SQL surrounded by other text (prose, code fences, a second statement)",
    "syntax_error": "SQLite could not parse it",
    "unknown_table": "names a table that does not exist",
    "unknown_column": "names a column that does not exist",
    "runtime_error": "failed while running (unknown function, type error, ...)",
    "timeout": "stopped at the time limit",
    "forbidden": "tries to write or change the database; never correct",
    "untranspilable": "could not be transpiled to SQLite for the test suite",
    "gold_error": "the gold query itself failed (not counted as a model error)",
    "unscored": "no database and no test suite: only exact match computed",
    "error": "the evaluator failed on this row",
    "generation_failed": "no answer was generated (the request failed); rerun kosql generate to retry it",
}


def _pct(acc: dict[str, Any] | None) -> str:
    if not acc or acc.get("acc") is None:
        return "–"
    lo, hi = acc["ci95"]
    return f"{100 * acc['acc']:.1f}% [{100 * lo:.1f}, {100 * hi:.1f}] (n={acc['n']})"


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _bar_chart(groups: dict[str, dict[str, Any]], title: str, path: Path) -> bool:
    items = [(name, g["exec"]) for name, g in groups.items() if g["exec"]["acc"] is not None]
    if not items:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n, _ in items]
    accs = [100 * a["acc"] for _, a in items]
    err_lo = [100 * (a["acc"] - a["ci95"][0]) for _, a in items]
    err_hi = [100 * (a["ci95"][1] - a["acc"]) for _, a in items]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(names) + 2), 3.6), dpi=100)
    ax.bar(range(len(names)), accs, yerr=[err_lo, err_hi], capsize=3, color="#4878a8")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels([f"{n}\n(n={a['n']})" for n, a in items], rotation=45 if len(names) > 6 else 0,
                       ha="right" if len(names) > 6 else "center", fontsize=8)
    ax.set_ylim(0, 100)
    ax.set_ylabel("execution accuracy (%)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return True


def worst_categories(rows: list[dict[str, Any]], limit: int = 6) -> list[tuple[str, int, list[dict[str, Any]]]]:
    """The most frequent non-correct categories with up to three example rows each."""
    counts: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("category") != "correct":
            counts.setdefault(str(r.get("category")), []).append(r)
    ranked = sorted(counts.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:limit]
    return [(c, len(rs), rs[:_EXAMPLES_PER_CATEGORY]) for c, rs in ranked]


def _table_md(title: str, groups: dict[str, dict[str, Any]]) -> list[str]:
    lines = [f"## {title}", "", "| group | rows | exec acc [95% CI] | EM |", "|---|---:|---|---|"]
    for name, g in groups.items():
        lines.append(f"| {name} | {g['rows']} | {_pct(g['exec'])} | {_pct(g['em'])} |")
    return lines + [""]


def render_markdown(rows: list[dict[str, Any]], metrics: dict[str, Any]) -> str:
    """The report as Markdown (charts referenced as PNG files next to it)."""
    o = metrics["overall"]
    lines = ["# kosql evaluation report", "",
             f"- rows: {o['rows']}",
             f"- **execution accuracy**: {_pct(o['exec'])}",
             f"- EX (rows with a database): {_pct(o['ex'])}",
             f"- test-suite EX (rows without one): {_pct(o['ts_ex'])}",
             f"- exact set match (values ignored): {_pct(o['em'])}",
             f"- normalized string match: {_pct(o['em_string'])}", ""]
    lines += ["## Categories", "", "| category | rows | meaning |", "|---|---:|---|"]
    for cat, n in sorted(metrics["categories"].items(), key=lambda kv: -kv[1]):
        lines.append(f"| {cat} | {n} | {_CATEGORY_HELP.get(cat, 'correct')} |")
    lines.append("")
    if "testsuite" in metrics:
        ts = metrics["testsuite"]
        lines += ["## Test suite", "", f"- rows: {ts['rows']}, gold errors: {ts['gold_error']}, "
                  f"untranspilable predictions: {ts['untranspilable']}",
                  f"- mean databases where gold returned rows: {ts['gold_nonempty_mean']}, "
                  f"rows where gold was always empty: {ts['gold_always_empty']}", ""]
    for title, key in (("By split", "by_split"), ("By hardness", "by_hardness"), ("By feature", "by_feature")):
        if metrics.get(key):
            lines += _table_md(title, metrics[key])
    lines += ["![accuracy by hardness](accuracy_by_hardness.png)", "",
              "![accuracy by feature](accuracy_by_feature.png)", "", "## Worst error categories", ""]
    for cat, n, examples in worst_categories(rows):
        lines += [f"### {cat} ({n} rows): {_CATEGORY_HELP.get(cat, '')}", ""]
        for r in examples:
            lines += [f"- `{r.get('id')}` {r.get('question') or ''}",
                      f"  - gold: `{_one_line(r.get('gold'))}`",
                      f"  - pred: `{_one_line(r.get('pred'))}`"]
            if r.get("error") or r.get("gold_error"):
                lines.append(f"  - error: {_one_line(r.get('error') or r.get('gold_error'))}")
        lines.append("")
    return "\n".join(lines)


def _one_line(text: Any, limit: int = 300) -> str:
    s = " ".join(str(text or "").split()).replace("`", "'")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def render_html(rows: list[dict[str, Any]], metrics: dict[str, Any], charts: dict[str, bytes]) -> str:
    """A self-contained HTML report with the charts embedded."""
    e = html.escape
    o = metrics["overall"]
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>kosql evaluation</title>",
             "<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}"
             "code{background:#f4f4f4}</style></head><body><h1>kosql evaluation report</h1><ul>"]
    for label, key in (("execution accuracy", "exec"), ("EX", "ex"), ("test-suite EX", "ts_ex"),
                       ("exact set match", "em"), ("normalized string match", "em_string")):
        parts.append(f"<li><b>{e(label)}</b>: {e(_pct(o[key]))}</li>")
    parts.append(f"<li>rows: {o['rows']}</li></ul><h2>Categories</h2><table><tr><th>category</th>"
                 "<th>rows</th><th>meaning</th></tr>")
    for cat, n in sorted(metrics["categories"].items(), key=lambda kv: -kv[1]):
        parts.append(f"<tr><td>{e(cat)}</td><td>{n}</td><td>{e(_CATEGORY_HELP.get(cat, 'correct'))}</td></tr>")
    parts.append("</table>")
    for name, data in charts.items():
        b64 = base64.b64encode(data).decode("ascii")
        parts.append(f"<h2>{e(name.replace('_', ' '))}</h2><img alt='{e(name)}' src='data:image/png;base64,{b64}'>")
    for title, key in (("By split", "by_split"), ("By hardness", "by_hardness"), ("By feature", "by_feature")):
        groups = metrics.get(key) or {}
        if not groups:
            continue
        parts.append(f"<h2>{title}</h2><table><tr><th>group</th><th>rows</th><th>exec acc [95% CI]</th>"
                     "<th>EM</th></tr>")
        for g, m in groups.items():
            parts.append(f"<tr><td>{e(g)}</td><td>{m['rows']}</td><td>{e(_pct(m['exec']))}</td>"
                         f"<td>{e(_pct(m['em']))}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Worst error categories</h2>")
    for cat, n, examples in worst_categories(rows):
        parts.append(f"<h3>{e(cat)} ({n} rows)</h3><p>{e(_CATEGORY_HELP.get(cat, ''))}</p><ul>")
        for r in examples:
            err = r.get("error") or r.get("gold_error")
            parts.append(f"<li><code>{e(str(r.get('id')))}</code> {e(str(r.get('question') or ''))}<br>"
                         f"gold: <code>{e(_one_line(r.get('gold')))}</code><br>"
                         f"pred: <code>{e(_one_line(r.get('pred')))}</code>"
                         + (f"<br>error: {e(_one_line(err))}" if err else "") + "</li>")
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(rows: list[dict[str, Any]], metrics: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write every output file into ``out_dir``; returns name -> path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"metrics": out / "metrics.json", "per_row": out / "per_row.jsonl",
             "markdown": out / "report.md", "html": out / "report.html"}
    _atomic_write(paths["metrics"], json.dumps(metrics, ensure_ascii=False, indent=2).encode("utf-8"))
    write_jsonl(paths["per_row"], rows)
    charts: dict[str, bytes] = {}
    for key, title, name in (("by_hardness", "Execution accuracy by hardness", "accuracy_by_hardness"),
                             ("by_feature", "Execution accuracy by SQL feature", "accuracy_by_feature")):
        png = out / f"{name}.png"
        if _bar_chart(metrics.get(key) or {}, title, png):
            charts[name] = png.read_bytes()
            paths[name] = png
    _atomic_write(paths["markdown"], render_markdown(rows, metrics).encode("utf-8"))
    _atomic_write(paths["html"], render_html(rows, metrics, charts).encode("utf-8"))
    return paths
