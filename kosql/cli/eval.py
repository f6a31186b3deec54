"""`kosql eval`: score predictions by execution (EX), test-suite EX and exact match.

Thin: load the dataset (:func:`kosql.data.resolve.load_dataset`, so ``bundled:small`` works; ``db_path``
resolved against the data file's folder), read the predictions
(``--pred gold`` scores the gold SQL against itself), call
:func:`kosql.evaluate.api.evaluate_predictions`, write the outputs, print a summary table.
Never imports torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from kosql.errors import UserError


def _fmt(acc: dict[str, Any] | None) -> str:
    if not acc or acc.get("acc") is None:
        return "–"
    lo, hi = acc["ci95"]
    return f"{100 * acc['acc']:.1f}%  [{100 * lo:.1f}–{100 * hi:.1f}]  n={acc['n']}"


def print_summary(metrics: dict[str, Any], out_dir: Path | None) -> None:
    """Print the rich summary tables of an evaluation."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    o = metrics["overall"]
    table = Table(title="kosql eval", show_header=True)
    table.add_column("metric")
    table.add_column("accuracy [95% CI]")
    for label, key in (("execution accuracy", "exec"), ("EX (database)", "ex"),
                       ("test-suite EX (DDL only)", "ts_ex"), ("exact set match", "em"),
                       ("normalized string match", "em_string")):
        table.add_row(label, _fmt(o.get(key)))
    console.print(table)
    cats = Table(title="categories")
    cats.add_column("category")
    cats.add_column("rows", justify="right")
    for cat, n in sorted(metrics["categories"].items(), key=lambda kv: -kv[1]):
        cats.add_row(cat, str(n))
    console.print(cats)
    for title, key in (("by split", "by_split"), ("by hardness", "by_hardness")):
        groups = metrics.get(key) or {}
        if not groups:
            continue
        t = Table(title=title)
        t.add_column("group")
        t.add_column("rows", justify="right")
        t.add_column("exec accuracy [95% CI]")
        t.add_column("EM")
        for name, g in groups.items():
            t.add_row(name, str(g["rows"]), _fmt(g["exec"]), _fmt(g["em"]))
        console.print(t)
    s = metrics.get("settings", {})
    console.print(f"{o['rows']} rows in {s.get('seconds')} s ({s.get('rows_per_second')} rows/s, "
                  f"{s.get('workers')} workers)")
    if out_dir is not None:
        console.print(f"reports written to {out_dir}/ (metrics.json, per_row.jsonl, report.md, report.html)")


@click.command("eval")
@click.option("--data", "data", required=True,
              help="Dataset with gold SQL: a file (JSONL/CSV/...; db_path relative to its folder), a folder "
                   "with test.jsonl or 'bundled:<size>' (its test split).")
@click.option("--pred", "pred", required=True,
              help="Predictions JSONL (keys id + pred/sql/gen_sql), or 'gold' to score gold itself.")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Output folder for metrics.json, per_row.jsonl, report.md/html [default: "
                   "the --pred path with .eval for its extension, e.g. preds.eval/ for preds.jsonl; ./eval-gold/ "
                   "for gold].")
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds per query.")
@click.option("--k", "k", type=int, default=8, show_default=True,
              help="Test-suite databases per row (rows without a database).")
@click.option("--workers", type=int, default=2, show_default=True, help="Worker processes.")
@click.option("--no-testsuite", is_flag=True, help="Skip test-suite EX (rows without a database get EM only).")
@click.option("--max-rows", type=int, default=10000, show_default=True, help="Row cap per query result.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--spider-compat", is_flag=True,
              help="Execute gold and prediction with every DISTINCT removed (also in COUNT(DISTINCT ...)), "
                   "as the official Spider evaluator does by default; the default runs the SQL as written.")
@click.option("--compare", "compare_with", type=click.Path(path_type=Path), default=None,
              help="per_row.jsonl (or its eval folder) of another run on the same rows: a paired "
                   "exact McNemar test of the two runs' execution accuracy and EM.")
def command(data: str, pred: str, out: Path | None, timeout: float, k: int, workers: int,
            no_testsuite: bool, max_rows: int, quiet: bool, spider_compat: bool = False,
            compare_with: Path | None = None) -> int:
    """Score predictions by execution accuracy, test-suite EX and exact match."""
    from kosql.data.resolve import check_db_paths, load_dataset
    from kosql.evaluate.api import evaluate_predictions, write_eval_outputs
    from kosql.evaluate.predictions import gold_predictions, read_predictions

    if timeout <= 0 or k < 1 or workers < 1 or max_rows < 1:
        raise UserError("--timeout, --k, --workers and --max-rows must be positive.")
    examples = load_dataset(data, "test")
    check_db_paths(examples, data)
    if pred == "gold":
        preds = gold_predictions(examples)
        out_dir = out or Path("eval-gold")
    else:
        preds = read_predictions(pred, examples)
        out_dir = out or Path(pred).with_suffix(".eval")
    if preds.missing:
        click.echo(f"note: {len(preds.missing)} rows have no prediction (scored as empty_prediction).", err=True)
    if preds.unknown:
        click.echo(f"note: {len(preds.unknown)} predictions have ids not in the dataset (ignored).", err=True)
    if preds.failed:
        click.echo(f"note: {len(preds.failed)} rows failed to generate (category generation_failed, left out "
                   "of accuracy); rerun kosql generate to retry them.", err=True)
    report = evaluate_predictions(examples, preds.by_id, testsuite="never" if no_testsuite else "auto",
                                  k=k, timeout=timeout, workers=workers, progress=not quiet,
                                  max_rows=max_rows, failed=preds.failed, spider_compat=spider_compat)
    report.metrics["settings"].update(data=str(data), pred=str(pred), keyed_by=preds.keyed_by,
                                      missing_predictions=len(preds.missing),
                                      generation_failed=len(preds.failed))
    if compare_with is not None:
        report.metrics["paired"] = paired_with(report.rows, compare_with)
    write_eval_outputs(report, out_dir)
    print_summary(report.metrics, out_dir)
    for res in report.metrics.get("paired", {}).get("tests", []):
        click.echo(f"paired {res['metric']} vs {compare_with} on {res['n']} common rows: only this run right "
                   f"{res['a_only']}, only the other right {res['b_only']}, exact McNemar p = "
                   f"{res['p_value']:.3g}")
    return 0


def paired_with(rows: list[dict[str, Any]], other: Path) -> dict[str, Any]:
    """Paired tests (execution accuracy, EM) of ``rows`` against another run's per_row.jsonl."""
    from kosql.data.rows import iter_jsonl
    from kosql.evaluate.paired import paired_test

    path = other / "per_row.jsonl" if other.is_dir() else other
    if not path.is_file():
        raise UserError(f"--compare: {path} does not exist (a per_row.jsonl of kosql eval, or its folder).")
    theirs = list(iter_jsonl(path))
    tests = [paired_test(rows, theirs, m).to_dict() for m in ("exec", "em")]
    return {"other": str(path), "tests": [t for t in tests if t["n"]]}
