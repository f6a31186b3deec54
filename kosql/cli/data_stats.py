"""`kosql data stats FILE`: rows per db_id, SQL features, hardness, lengths, prompt tokens."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from kosql.cli.data_common import SOURCE_HELP, column_options, console, load_source, row_progress
from kosql.data.stats import Summary, compute_stats
from kosql.errors import DependencyError, UserError
from kosql.prompts import make_prompt


def load_tokenizer(path: str) -> Any:
    """A Hugging Face tokenizer from a local folder (transformers imported lazily)."""
    try:
        from transformers import AutoTokenizer
    except ImportError:
        raise DependencyError("transformers", "train", "Counting tokens with --tokenizer") from None
    try:
        return AutoTokenizer.from_pretrained(path)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")
        raise UserError(f"--tokenizer {path}: cannot load a tokenizer ({first}).") from None


@click.command(short_help="Rows per db_id, SQL features, hardness, lengths, prompt tokens.", help=f"Describe SOURCE ({SOURCE_HELP}): rows per db_id, SQL features, hardness, "
                    "question/answer length and prompt token length (estimated unless --tokenizer).")
@click.argument("source")
@click.option("--tokenizer", "tokenizer_path", default=None, help="Local tokenizer folder for exact token counts.")
@click.option("--top", default=10, show_default=True, help="How many db_ids to list.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), default=None, help="Also write the stats as JSON.")
@column_options
def command(source: str, tokenizer_path: str | None, top: int, json_out: str | None, **cols: Any) -> int:
    con = console()
    examples = load_source(source, cols)
    tokenizer = load_tokenizer(tokenizer_path) if tokenizer_path else None
    with row_progress(con, len(examples), "measuring") as on_row:
        stats = compute_stats(examples, prompt=make_prompt, tokenizer=tokenizer, on_row=on_row)

    con.print(f"{source}: {stats.rows} rows, {len(stats.db_counts)} db_ids", style="bold")

    dbs = Table()
    dbs.add_column("db_id")
    dbs.add_column("rows", justify="right")
    for db_id, n in list(stats.db_counts.items())[:top]:
        dbs.add_row(db_id, str(n))
    if len(stats.db_counts) > top:
        dbs.add_row(f"... {len(stats.db_counts) - top} more", "")
    con.print(dbs)

    con.print("SQL features and hardness", style="bold")

    feats = Table()
    feats.add_column("feature")
    feats.add_column("rows", justify="right")
    feats.add_column("share", justify="right")
    for name, n in [*stats.feature_counts.items(), *((f"hardness={h}", n) for h, n in stats.hardness_counts.items())]:
        feats.add_row(name, str(n), f"{n / max(1, stats.rows):.1%}")
    con.print(feats)

    con.print(f"lengths (tokens: {stats.token_method})", style="bold")

    lengths = Table()
    for name in ("measure", "min", "mean", "median", "p95", "max"):
        lengths.add_column(name, justify="right" if name != "measure" else "left")
    rows: list[tuple[str, Summary]] = [
        ("question chars", stats.question_chars), ("answer chars", stats.answer_chars),
        ("prompt chars", stats.prompt_chars), ("prompt tokens", stats.prompt_tokens),
        ("answer tokens", stats.answer_tokens),
    ]
    for name, s in rows:
        lengths.add_row(name, *(f"{v:g}" for v in (s.min, s.mean, s.median, s.p95, s.max)))
    con.print(lengths)
    if json_out:
        Path(json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(json_out).write_text(json.dumps(asdict(stats), ensure_ascii=False, indent=2), encoding="utf-8")
        con.print(f"stats written to {json_out}")
    return 0
