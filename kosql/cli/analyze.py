"""`kosql analyze --run DIR`: where a model fails most, with examples."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--run", "run_dir", required=True, type=click.Path(path_type=Path),
              help="A run folder (quickstart, sweep point, eval --out) or a per_row.jsonl file.")
@click.option("--examples", default=3, show_default=True, help="Failing examples shown per group.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write the analysis as Markdown here (default: analysis.md beside each per_row.jsonl).")
def command(run_dir: Path, examples: int, out: Path | None) -> int:
    """Show the error categories, features and hardness levels where a model fails most."""
    from rich.console import Console
    from rich.table import Table

    from kosql.pipeline.analyze import analysis_markdown, analyze_rows, find_per_row_files, load_rows

    console = Console()
    for path in find_per_row_files(run_dir):
        a = analyze_rows(load_rows(path), path, n_examples=examples)
        table = Table(title=f"{path} ({a.n_rows} rows)")
        table.add_column("category")
        table.add_column("rows", justify="right")
        for cat, n in a.categories.most_common():
            table.add_row(cat, str(n))
        console.print(table)
        ftable = Table(title="weakest features")
        ftable.add_column("feature")
        ftable.add_column("EX (95 % CI)")
        ftable.add_column("failures", justify="right")
        for s in a.features[:8]:
            ftable.add_row(s.name, s.cell.text(), str(s.failures))
        console.print(ftable)
        if a.wording:
            wtable = Table(title="question wording (does the question spell schema names in Latin letters?)")
            wtable.add_column("question")
            wtable.add_column("EX (95 % CI)")
            wtable.add_column("failures", justify="right")
            for s in a.wording:
                wtable.add_row(s.name, s.cell.text(), str(s.failures))
            console.print(wtable)
        target = out if out is not None else path.with_name("analysis.md")
        target.write_text(analysis_markdown(a), encoding="utf-8")
        weak = a.weakest_features()
        if weak:
            console.print(f"Suggested: kosql data synth --focus {','.join(weak)} --out DIR")
        console.print(f"Wrote {target}")
    return 0
