"""Options and helpers shared by the `kosql data ...` commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.console import Console

from kosql.data.load import load_examples
from kosql.data.rows import Example
from kosql.progress import ProgressBar

F = TypeVar("F", bound=Callable[..., Any])

SOURCE_HELP = ".jsonl/.json/.csv/.tsv/.parquet file, datasets.save_to_disk folder or hf:NAME[:CONFIG[:SPLIT]]"


def column_options(func: F) -> F:
    """--question-col, --context-col, --answer-col, --db-id-col and --id-col."""
    options = [
        click.option("--id-col", default="id", show_default=True, help="Column with the row id (row number when absent)."),
        click.option("--db-id-col", default="db_id", show_default=True,
                     help="Column with the database id (a hash of the DDL when absent)."),
        click.option("--answer-col", default="answer", show_default=True, help="Column with the gold SQL."),
        click.option("--context-col", default="context", show_default=True, help="Column with the DDL."),
        click.option("--question-col", default="question", show_default=True, help="Column with the question."),
    ]
    for opt in options:
        func = opt(func)
    return func


def load_source(source: str, cols: dict[str, Any]) -> list[Example]:
    """``load_examples`` with the column options collected by :func:`column_options`."""
    return load_examples(
        source,
        question_col=cols["question_col"],
        context_col=cols["context_col"],
        answer_col=cols["answer_col"],
        db_id_col=cols["db_id_col"],
        id_col=cols["id_col"],
    )


def console() -> Console:
    """A console on the current stdout (made per call, so tests can capture it); no markup, so
    brackets in questions or paths print as they are."""
    return Console(soft_wrap=True, markup=False)


@contextmanager
def row_progress(con: Console, total: int, label: str) -> Iterator[Callable[[int], None]]:
    """A transient rich progress bar when stdout is a terminal; yields an ``on_row`` callback."""
    with ProgressBar(label, total, enabled=con.is_terminal and total >= 200, elapsed=True, console=con) as bar:
        yield lambda _i: bar.advance()
