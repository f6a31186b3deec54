"""`kosql data import-spider`: Spider tables.json + questions JSON -> ko_text2sql-style rows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from rich.table import Table

from kosql.cli.data_common import console
from kosql.data.save import refuse_overwrite, save_examples
from kosql.data.spider import import_spider


@click.command(short_help="Import Spider tables.json + questions as ko_text2sql rows.", help="Import a Spider-format dataset: DDL built from tables.json (with primary and "
                    "foreign keys), questions and gold SQL from the questions file (dev.json, "
                    "train_spider.json, ...), db_path set when DB_DIR/<db_id>/<db_id>.sqlite exists.")
@click.option("--tables", "tables", required=True, type=click.Path(dir_okay=False), help="Spider tables.json.")
@click.option("--questions", "questions", required=True, type=click.Path(dir_okay=False),
              help="Spider questions file, e.g. dev.json.")
@click.option("--db-dir", "db_dir", type=click.Path(file_okay=False), default=None,
              help="Folder holding <db_id>/<db_id>.sqlite (Spider's database/).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="Where to write the rows (JSONL, or CSV when it ends with .csv).")
def command(tables: str, questions: str, db_dir: str | None, out: str) -> int:
    con = console()
    refuse_overwrite([out], [tables, questions], "--out")
    rows = import_spider(tables, questions, db_dir)
    save_examples(Path(out), rows)
    per_db = Counter(ex.db_id for ex in rows)
    with_db = sum(1 for ex in rows if ex.db_path)
    con.print(f"imported {len(rows)} questions over {len(per_db)} databases", style="bold")
    table = Table()
    table.add_column("db_id")
    table.add_column("rows", justify="right")
    for db_id, n in per_db.most_common(10):
        table.add_row(db_id, str(n))
    con.print(table)
    con.print(f"{with_db} of {len(rows)} rows have a SQLite database; rows written to {out}")
    return 0
