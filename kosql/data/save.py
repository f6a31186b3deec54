"""Write Examples as JSONL (default) or CSV, and refuse to write over an input file."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from kosql.data.rows import Example, write_jsonl
from kosql.errors import UserError

FIXED_COLUMNS: tuple[str, ...] = ("id", "db_id", "context", "question", "answer")


def _portable(row: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``db_path`` relative to the output folder when it is absolute (so a dataset folder moves)."""
    value = row.get("db_path")
    if value and os.path.isabs(str(value)):
        try:
            row["db_path"] = os.path.relpath(str(value), folder)
        except ValueError:  # another drive on Windows: keep it absolute
            pass
    return row


def save_examples(path: str | Path, examples: Iterable[Example]) -> int:
    """Write rows to ``path``: CSV when it ends with ``.csv``, JSONL otherwise; returns the count."""
    p = Path(path)
    folder = p.parent.resolve()
    rows = [_portable(ex.to_dict(), folder) for ex in examples]
    if p.suffix.lower() != ".csv":
        return write_jsonl(p, rows)
    columns = list(FIXED_COLUMNS)
    for row in rows:
        columns += [k for k in row if k not in columns]
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    os.replace(tmp, p)
    return len(rows)


def _cell(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


def write_records(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Write plain dicts (reports: problems, dropped rows, leaks) as JSONL."""
    return write_jsonl(path, records)


def refuse_overwrite(outputs: Sequence[str | Path], inputs: Sequence[str | Path], option: str = "--out") -> None:
    """UserError when an output path is one of the inputs, by path, link or hard link (data commands
    and ``kosql generate`` never write over their input)."""
    sources = {Path(i).resolve() for i in inputs if not str(i).startswith("hf:")}
    for out in outputs:
        target = Path(out).resolve()
        same = target in sources or (target.exists() and any(s.exists() and os.path.samefile(s, target)
                                                             for s in sources))
        if same:
            raise UserError(f"{option} {out} is the input file; kosql never writes over its input, so pick another path.")
