"""`kosql data split FILE --out-dir DIR`: held-out db_ids or a seeded random split, with leakage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.table import Table

from kosql.cli.data_common import SOURCE_HELP, column_options, console, load_source
from kosql.data.save import refuse_overwrite, save_examples, write_records
from kosql.data.split import DEFAULT_LEAK_THRESHOLD, SPLIT_MODES, split_examples


@click.command(short_help="Split by held-out db_id or at random, with a leakage report.", help=f"Split SOURCE ({SOURCE_HELP}) into train and test. --by db holds out whole "
                    "db_ids (the seed held out db_id 1: --test-db 1); --by random is a seeded row "
                    "split. Reports near-duplicate leakage (same normalized SQL and a near-same "
                    "question) and with --drop-leaks removes the leaking train rows. Writes "
                    "DIR/train.jsonl, DIR/test.jsonl and DIR/leaks.jsonl (.csv with --csv).")
@click.argument("source")
@click.option("--out-dir", "out_dir", required=True, type=click.Path(file_okay=False), help="Output folder.")
@click.option("--by", "by", type=click.Choice(SPLIT_MODES), default="db", show_default=True, help="Split mode.")
@click.option("--test-db", "test_dbs", multiple=True, help="db_id to hold out (repeatable; --by db).")
@click.option("--test-fraction", default=0.1, show_default=True,
              help="Test share of rows (random split, or db split without --test-db).")
@click.option("--seed", default=0, show_default=True, help="Random seed.")
@click.option("--leak-threshold", default=DEFAULT_LEAK_THRESHOLD, show_default=True,
              help="difflib ratio of normalized questions at or above which same-SQL rows leak.")
@click.option("--drop-leaks", is_flag=True, help="Drop train rows that leak into test.")
@click.option("--csv", "as_csv", is_flag=True, help="Write train/test as CSV instead of JSONL.")
@click.option("--dialect", default=None, help="SQL dialect of the answers for normalization.")
@column_options
def command(source: str, out_dir: str, by: str, test_dbs: tuple[str, ...], test_fraction: float, seed: int,
            leak_threshold: float, drop_leaks: bool, as_csv: bool, dialect: str | None, **cols: Any) -> int:
    con = console()
    folder = Path(out_dir)
    ext = ".csv" if as_csv else ".jsonl"
    train_p, test_p, leaks_p = folder / f"train{ext}", folder / f"test{ext}", folder / "leaks.jsonl"
    refuse_overwrite([train_p, test_p, leaks_p], [source], "--out-dir")
    examples = load_source(source, cols)
    result = split_examples(examples, by=by, test_db_ids=list(test_dbs) or None, test_fraction=test_fraction,
                            seed=seed, leak_threshold=leak_threshold, drop_leaks=drop_leaks, dialect=dialect)
    save_examples(train_p, result.train)
    save_examples(test_p, result.test)
    write_records(leaks_p, (vars(leak) for leak in result.leaks))

    con.print(f"{source}: {by} split (seed {seed})", style="bold")

    table = Table()
    table.add_column("part")
    table.add_column("rows", justify="right")
    table.add_column("db_ids", justify="right")
    for name, rows in (("train", result.train), ("test", result.test)):
        table.add_row(name, str(len(rows)), str(len({ex.db_id for ex in rows})))
    con.print(table)
    if result.test_db_ids:
        con.print(f"held-out db_ids: {', '.join(result.test_db_ids)}")
    con.print(f"leakage: {len(result.leaks)} test rows have {len(result.leaked_train)} near-duplicate "
              f"train rows (same SQL, question similarity >= {leak_threshold})"
              + (f"; dropped {len(result.dropped_train_ids)} train rows" if drop_leaks else ""))
    if result.leaks:
        con.print("closest leaks", style="bold")
        leaks = Table()
        for name in ("test id", "train id", "sim", "test question", "train question"):
            leaks.add_column(name)
        for leak in result.leaks[:5]:
            leaks.add_row(leak.test_id, leak.train_id, f"{leak.similarity:.2f}", leak.test_question, leak.train_question)
        con.print(leaks)
    con.print(f"wrote {train_p}, {test_p} and {leaks_p}")
    return 0
