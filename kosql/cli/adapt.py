"""`kosql adapt --db FILE|URL`: synthesize rows from your database -> LoRA fine-tune -> base vs adapted report."""

from __future__ import annotations

import time
from pathlib import Path

import click

from kosql.cli.options import verbalizer_options
from kosql.models.resolve import DEFAULT_MODEL
from kosql.pipeline.adapt import GENERAL_SHARE, GENERAL_SOURCE


def default_out(db: str) -> Path:
    """runs/adapt-<database name>-<date-time>."""
    from kosql.pipeline.synth_db import _db_id

    return Path("runs") / f"adapt-{_db_id(db)}-{time.strftime('%Y%m%d-%H%M%S')}"


@click.command()
@click.option("--db", required=True, help="Your database: a SQLite file or a PostgreSQL URL (opened read-only).")
@click.option("--names", type=click.Path(path_type=Path), default=None,
              help="Glossary file, one 'column: 한국어 이름' or 'table.column: 이름' a line.")
@click.option("--gold", type=click.Path(path_type=Path), default=None,
              help="Your own questions to measure on: JSONL with 'question' and 'answer' (the SQL) a line; "
                   "'context' is filled from the live schema when missing.")
@click.option("--feedback", type=click.Path(path_type=Path), default=Path("kosql-feedback.jsonl"),
              show_default=True, help="Corrections saved by `kosql serve`: its rows for this database are "
                                      "evaluated too when the file exists.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Run folder (default: runs/adapt-<db name>-<date-time>); an existing one is resumed.")
@click.option("--minutes", type=float, default=20.0, show_default=True,
              help="Time box of the whole run: the training steps are fitted to it (an estimate).")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Training steps, instead of --minutes.")
@click.option("--model", default=DEFAULT_MODEL, show_default=True, help="Base model to adapt.")
@click.option("--test-rows", type=click.IntRange(min=1), default=60, show_default=True,
              help="Synthetic held-out test rows evaluated (at most).")
@click.option("--max-queries", type=int, default=None,
              help="Queries to synthesize (default: 30 a table, between 60 and 600).")
@click.option("--seed", default=0, show_default=True, help="Seed of the synthesis and the test sample.")
@click.option("--general", default=GENERAL_SOURCE, show_default=True,
              help="Rows over many other schemas mixed into the training rows, so that the model keeps reading "
                   "the schema rather than learning your database's rows by heart: a dataset spec, or 'none'.")
@click.option("--general-share", type=float, default=GENERAL_SHARE, show_default=True,
              help="Share of the training rows drawn from --general (0 to below 1).")
@verbalizer_options
@click.argument("overrides", nargs=-1)
def command(db: str, names: Path | None, gold: Path | None, feedback: Path, out: Path | None, minutes: float,
            steps: int | None, model: str, test_rows: int, max_queries: int | None, seed: int,
            general: str, general_share: float, verbalizer_model: str | None, verbalizer_url: str | None,
            verbalize: int, overrides: tuple[str, ...]) -> int:
    """Adapt a model to your database: training rows from its live schema, a LoRA fine-tune in a time
    box, base vs adapted measured on held-out rows (and your questions), and the `kosql ask` line.

    OVERRIDES are key=value settings for the fine-tuning config, e.g. lora.r=8.
    """
    from kosql.pipeline.adapt import AdaptOptions, run_adapt

    opts = AdaptOptions(db=db, out=out or default_out(db), names=names, gold=gold, feedback=feedback,
                        minutes=minutes, steps=steps, model=model, train_overrides=list(overrides),
                        test_rows=test_rows, max_queries=max_queries, seed=seed, general=general,
                        general_share=general_share, verbalizer_model=verbalizer_model,
                        verbalizer_url=verbalizer_url, verbalize=verbalize)
    run_adapt(opts)
    return 0
