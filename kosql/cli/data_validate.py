"""`kosql data validate FILE`: check every row; exit 0 clean, 1 problems found, 2 unreadable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from kosql.cli.data_common import SOURCE_HELP, column_options, console, load_source, row_progress
from kosql.data.save import refuse_overwrite, write_records
from kosql.data.validate import validate_examples


def default_problems_path(source: str) -> Path:
    """``<input>.problems.jsonl`` beside a local input, ``problems.jsonl`` here for hf: sources."""
    if source.startswith("hf:"):
        return Path("problems.jsonl")
    p = Path(source)
    return p.with_name(p.name + ".problems.jsonl")


@click.command(short_help="Check every row; exit 0 clean, 1 problems, 2 unreadable.", help=f"Check every row of SOURCE ({SOURCE_HELP}): required columns present and "
                    "non-empty, DDL parses, answer SQL parses, referenced tables/columns exist. "
                    "Exit code 0 when clean, 1 when problems were found, 2 when SOURCE cannot be read.")
@click.argument("source")
@click.option("--problems", "problems_path", type=click.Path(dir_okay=False),
              help="Where to write per-row problems as JSONL [default: SOURCE.problems.jsonl].")
@click.option("--dialect", default=None, help="SQL dialect of the answers (default: try default, MySQL, PostgreSQL).")
@click.option("--show", default=10, show_default=True, help="How many problems to print.")
@column_options
def command(source: str, problems_path: str | None, dialect: str | None, show: int, **cols: Any) -> int:
    con = console()
    examples = load_source(source, cols)
    out = Path(problems_path) if problems_path else default_problems_path(source)
    refuse_overwrite([out], [source], "--problems")
    with row_progress(con, len(examples), "validating") as on_row:
        report = validate_examples(examples, dialect=dialect, on_row=on_row)
    write_records(out, (p.to_dict() for p in report.problems))

    con.print(f"{source}: {report.rows} rows, {report.bad_rows} with problems", style="bold")

    table = Table()
    table.add_column("check")
    table.add_column("problems", justify="right")
    for kind, n in report.counts.items():
        table.add_row(kind, str(n), style="red" if n else None)
    con.print(table)
    if report.problems and show > 0:
        con.print(f"first {min(show, len(report.problems))} of {len(report.problems)} problems", style="bold")
        detail = Table()
        for name in ("row", "id", "column", "problem"):
            detail.add_column(name)
        for p in report.problems[:show]:
            detail.add_row(str(p.row), p.id, p.column, p.message)
        con.print(detail)
    con.print(f"per-row problems written to {out}")
    return 0 if report.ok else 1
