"""`kosql data clean FILE --out OUT`: drop empty, broken and duplicate rows (never over the input)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from kosql.cli.data_common import SOURCE_HELP, column_options, console, load_source, row_progress
from kosql.data.clean import clean_examples
from kosql.data.save import refuse_overwrite, save_examples, write_records


@click.command(short_help="Drop empty, broken and duplicate rows.", help=f"Clean SOURCE ({SOURCE_HELP}): drop empty rows, rows whose SQL does not parse "
                    "or names unknown tables/columns, and exact or normalized duplicates (same "
                    "question + same SQL after sqlglot normalization). Deterministic: the first "
                    "occurrence is kept. Writes JSONL, or CSV when --out ends with .csv.")
@click.argument("source")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="Where to write the kept rows.")
@click.option("--dropped", "dropped_path", type=click.Path(dir_okay=False),
              help="Where to write the dropped rows with their reason [default: OUT.dropped.jsonl].")
@click.option("--no-sql-check", is_flag=True, help="Keep rows whose SQL/DDL does not parse or does not match.")
@click.option("--no-dedup", is_flag=True, help="Keep duplicate rows.")
@click.option("--dialect", default=None, help="SQL dialect of the answers (default: try default, MySQL, PostgreSQL).")
@column_options
def command(source: str, out: str, dropped_path: str | None, no_sql_check: bool, no_dedup: bool,
            dialect: str | None, **cols: Any) -> int:
    con = console()
    out_p = Path(out)
    dropped_p = Path(dropped_path) if dropped_path else out_p.with_name(out_p.stem + ".dropped.jsonl")
    refuse_overwrite([out_p], [source], "--out")
    refuse_overwrite([dropped_p], [source], "--dropped")
    examples = load_source(source, cols)
    with row_progress(con, len(examples), "cleaning") as on_row:
        result = clean_examples(examples, check_sql=not no_sql_check, dedup=not no_dedup,
                                dialect=dialect, on_row=on_row)
    save_examples(out_p, result.kept)
    write_records(dropped_p, ({"index": d.index, "row": d.index + 1, "id": d.id, "reason": d.reason,
                               "detail": d.detail} for d in result.dropped))

    con.print(f"{source}: kept {len(result.kept)} of {result.total} rows", style="bold")

    table = Table()
    table.add_column("reason")
    table.add_column("dropped", justify="right")
    for reason, n in result.counts.items():
        table.add_row(reason, str(n))
    table.add_row("kept", str(len(result.kept)), style="bold")
    con.print(table)
    con.print(f"kept rows written to {out_p}; dropped rows to {dropped_p}")
    return 0
