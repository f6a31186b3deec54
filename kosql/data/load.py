"""Load Text2SQL rows from files (JSONL, CSV; more formats are added by the data layer)."""

from __future__ import annotations

import csv
from pathlib import Path

from kosql.data.rows import Example, read_jsonl
from kosql.errors import UserError


def load_examples(source: str | Path) -> list[Example]:
    """Load rows in the ko_text2sql format from ``source`` (.jsonl or .csv)."""
    path = Path(source)
    if not path.exists():
        raise UserError(f"{path}: no such file.")
    if path.suffix == ".jsonl":
        return read_jsonl(path)
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            return [Example.from_dict(r, i) for i, r in enumerate(csv.DictReader(fh))]
    raise UserError(f"{path}: unsupported file type {path.suffix!r}.")
